-- Paced GET of the url: each connection waits a random 0..2*delay_ms (mean delay_ms = args[1]) after
-- every answer, so the offered load stays below saturation and latency is measured without a queue
-- in front of the server. Random, not fixed: 64 connections on one fixed delay fire in bursts.
local delay_ms = 0

function init(args)
  delay_ms = tonumber(args[1]) or 0
end

function delay()
  return math.random(0, 2 * delay_ms)
end
