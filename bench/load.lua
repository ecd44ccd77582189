-- wrk script of the benchmark (bench/run.py): cycles through the paths in BENCH_PATHS (one per
-- line), counts every answer that is not 2xx as an error (wrk itself counts only >= 400), and
-- prints one JSON line of figures at the end.
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^\n]+") do
  table.insert(paths, p)
end

local threads = {}
local id = 0

setup = function(thread)
  thread:set("offset", id)
  id = id + 1
  table.insert(threads, thread)
end

init = function(args)
  counter = offset or 0
  bad = 0
end

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

response = function(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    non2xx, e.connect + e.read + e.write + e.timeout
  ))
end
