-- etcd peer of config-put-new-key.lua: every request puts a key that did not exist (revision 1 of
-- that key), through etcd's JSON gateway (POST /v3/kv/put, key and value base64-encoded).
-- args: run prefix (unique per wrk run).
local thread_counter = 0
local counter = 0
local base
local value_b64

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set('thread_no', thread_counter)
end

local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = alphabet:sub(c1 + 1, c1 + 1) .. alphabet:sub(c2 + 1, c2 + 1)
      .. (b and alphabet:sub(c3 + 1, c3 + 1) or '=') .. (c and alphabet:sub(c4 + 1, c4 + 1) or '=')
  end
  return table.concat(out)
end

function init(args)
  headers = { ['content-type'] = 'application/json' }
  base = '/bench/' .. args[1] .. '-' .. thread_no .. '-'
  -- The same value the config PUT stores.
  value_b64 = base64('{"max_connections":25,"enabled":true}')
end

function request()
  counter = counter + 1
  return wrk.format('POST', '/v3/kv/put', headers,
    '{"key":"' .. base64(base .. counter) .. '","value":"' .. value_b64 .. '"}')
end
