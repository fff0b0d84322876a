-- wrk script for bench/proxy: POSTs one fixed chat request, prints one machine-readable line.
--   wrk -t1 -c16 -d5s --latency -s post.lua http://127.0.0.1:PORT/v1/chat/completions -- BODY.json
-- The line starts with "WRKJSON " and holds the request count, the duration, the errors (socket
-- errors plus non-2xx/3xx answers) and latency percentiles in microseconds.

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"non2xx":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout + e.status, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
