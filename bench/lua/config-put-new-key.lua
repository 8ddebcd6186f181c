-- Every request creates a new key (version 0 → 201), so each one is a full durable write:
-- entry + change log + outbox. args: namespace, run prefix (unique per wrk run).
local thread_counter = 0
local counter = 0
local base

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set('thread_no', thread_counter)
end

function init(args)
  -- wrk.format replaces wrk.headers (the -H headers) when given a table: copy them in.
  headers = { ['content-type'] = 'application/json' }
  for name, value in pairs(wrk.headers) do headers[name] = value end
  base = '/api/v1/config/' .. args[1] .. '/' .. args[2] .. '-' .. thread_no .. '-'
end

function request()
  counter = counter + 1
  return wrk.format('PUT', base .. counter, headers,
    '{"value":{"max_connections":25,"enabled":true},"version":0,"description":"bench"}')
end
