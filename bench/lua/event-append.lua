-- Each wrk thread appends to its own streams (expected_version -2 = any), rotating over
-- `streams per thread` of them request by request. args: stream prefix, events per request,
-- streams per thread (default 1).
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
  local per_thread = tonumber(args[3] or '1')
  stream_paths = {}
  for i = 1, per_thread do
    stream_paths[i] = '/api/v1/streams/' .. prefix .. '-' .. stream_no .. '-' .. i .. '/events'
  end
  next_stream = 0
  local events = {}
  for i = 1, per_request do
    events[i] = '{"event_type":"OrderPlaced","payload":{"order_id":"o-' .. i .. '","total":3000,"currency":"JPY","lines":[{"sku":"A-1","qty":2}]}}'
  end
  body = '{"expected_version":-2,"events":[' .. table.concat(events, ',') .. ']}'
end

function request()
  next_stream = next_stream % #stream_paths + 1
  return wrk.format('POST', stream_paths[next_stream], headers, body)
end
