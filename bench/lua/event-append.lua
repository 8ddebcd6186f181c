-- Each wrk thread appends to its own stream (expected_version -2 = any), so -t16 -c16 gives 16
-- writers on 16 streams. args: stream prefix, events per request.
local body
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set('stream_no', thread_counter)
end

function init(args)
  -- wrk.format replaces wrk.headers (the -H headers) when given a table: copy them in.
  headers = { ['content-type'] = 'application/json' }
  for name, value in pairs(wrk.headers) do headers[name] = value end
  local prefix = args[1]
  local per_request = tonumber(args[2])
  stream_path = '/api/v1/streams/' .. prefix .. '-' .. stream_no .. '/events'
  local events = {}
  for i = 1, per_request do
    events[i] = '{"event_type":"OrderPlaced","payload":{"order_id":"o-' .. i .. '","total":3000,"currency":"JPY","lines":[{"sku":"A-1","qty":2}]}}'
  end
  body = '{"expected_version":-2,"events":[' .. table.concat(events, ',') .. ']}'
end

function request()
  return wrk.format('POST', stream_path, headers, body)
end
