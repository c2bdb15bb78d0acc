-- wrk script of the AFIRGen bench: rotates over request paths, stops each
-- thread after a request budget, prints a JSON summary at the end.
-- usage: wrk -s report.lua URL -- PATHS_FILE MAX_REQUESTS_PER_THREAD
local paths = {}
local budget = 0
local sent = 0
local answered = 0

function init(args)
  local file = io.open(args[1], "r")
  for line in file:lines() do
    if #line > 0 then table.insert(paths, line) end
  end
  file:close()
  budget = tonumber(args[2]) or 0
  sent = math.random(0, #paths)
end

function request()
  sent = sent + 1
  return wrk.format(nil, paths[(sent % #paths) + 1])
end

function response(status, headers, body)
  answered = answered + 1
  if budget > 0 and answered >= budget then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
