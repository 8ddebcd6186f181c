-- etcd peer of the config GET: a range read of one existing key through the JSON gateway
-- (POST /v3/kv/range). args: the key, base64-encoded.
function init(args)
  wrk.method = 'POST'
  wrk.headers['content-type'] = 'application/json'
  wrk.body = '{"key":"' .. args[1] .. '"}'
end
