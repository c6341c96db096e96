-- wrk script for bench/http_bench.py: rotate over the requests listed in a file and check every status.
--
-- Usage:
--   wrk -t2 -c32 -d10s --latency -s bench/wrk/rotate.lua http://127.0.0.1:PORT -- URLS_FILE [EXPECTED_STATUS]
--
-- URLS_FILE has one request a line: a path with its query ("/articles/x"), optionally followed by a tab and an
-- If-None-Match value (the conditional GETs of workload G). Each thread walks the whole list in a loop from its
-- own starting offset, so consecutive requests ask for different resources and a single cached response
-- cannot flatter the result; a one-line file gives the single-URL case.
--
-- A response whose status is not EXPECTED_STATUS (default 200) counts as unexpected. done() prints one line,
-- "WRK_RESULT " followed by a JSON object (requests, seconds, rps, latency percentiles in ms, errors by kind,
-- unexpected statuses), which the harness parses instead of wrk's human-readable text.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  expected = tonumber(args[2] or "200")
  requests = {}
  for line in io.lines(file) do
    local path, etag = line:match("^([^\t]+)\t?(.*)$")
    if path ~= nil then
      local headers = {}
      if etag ~= "" then
        headers["If-None-Match"] = etag
      end
      table.insert(requests, wrk.format("GET", path, headers))
    end
  end
  if #requests == 0 then
    error("no requests in " .. file)
  end
  -- Threads start half a list apart (with 2 threads), so they do not ask for the same resource in lockstep.
  cursor = (thread_index * math.floor(#requests / 2)) % #requests
  unexpected = 0
  bad_statuses = ""
end

function request()
  cursor = cursor % #requests + 1
  return requests[cursor]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    -- keep the first few distinct statuses for the report
    local code = tostring(status)
    if #bad_statuses < 40 and not string.find(" " .. bad_statuses .. " ", " " .. code .. " ", 1, true) then
      bad_statuses = (bad_statuses == "" and code) or (bad_statuses .. " " .. code)
    end
  end
end

function done(summary, latency, requests_stats)
  local unexpected_total, statuses = 0, {}
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
    local seen = thread:get("bad_statuses") or ""
    if seen ~= "" then
      table.insert(statuses, seen)
    end
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "seconds": %.6f, "rps": %.3f, "bytes": %d, '
      .. '"p50_ms": %.4f, "p90_ms": %.4f, "p99_ms": %.4f, "max_ms": %.4f, "mean_ms": %.4f, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx_3xx": %d, '
      .. '"unexpected": %d, "unexpected_statuses": "%s"}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    unexpected_total, table.concat(statuses, " ")
  ))
end
