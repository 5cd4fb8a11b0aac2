-- wrk script: replay the requests of a plan file, count the statuses, and
-- print the figures as one JSON line for bench/run.py.
--
--   wrk -t2 -c8 -d5s -s bench/wrk/plan.lua http://127.0.0.1:19000 -- PLAN THREADS MODE
--
-- PLAN has one request a line, five tab-separated fields ("-" for none):
--   method  path  bearer-token  idempotency-key  json-body
-- Thread i of THREADS takes the lines i, i + THREADS, ... and formats them
-- once, in init(), so that a request costs the client a table lookup.
-- MODE "cycle" starts again at its first line when it reaches its last;
-- MODE "once" sends each line once (a buyer checks out once) and stops the
-- thread when its lines are used up: the few requests already asked of it
-- repeat its last line, with the same idempotency key, and are counted in
-- "repeated" so that the harness can tell a pool that ran dry.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

local function format(f)
  -- wrk.format() leaves out the -H headers once it is given headers of its own.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  local body = nil
  if f[3] ~= "-" then headers["Authorization"] = "Bearer " .. f[3] end
  if f[4] ~= "-" then headers["Idempotency-Key"] = f[4] end
  if f[5] ~= "-" then
    headers["Content-Type"] = "application/json"
    body = f[5]
  end
  return wrk.format(f[1], f[2], headers, body)
end

function init(args)
  local plan, stride, mode = args[1], tonumber(args[2]), args[3]
  once = mode == "once"
  prepared = {}
  local line_number = 0
  for line in io.lines(plan) do
    if line ~= "" and line_number % stride == thread_index then
      table.insert(prepared, format(split(line)))
    end
    line_number = line_number + 1
  end
  if #prepared == 0 then
    -- Fewer lines than threads: every thread replays them all.
    for line in io.lines(plan) do
      if line ~= "" then
        table.insert(prepared, format(split(line)))
      end
    end
  end
  position = 0
  repeated = 0
  statuses = {}
end

function request()
  position = position + 1
  if position > #prepared then
    if once then
      repeated = repeated + 1
      wrk.thread:stop()
      return prepared[#prepared]
    end
    position = 1
  end
  return prepared[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counted = {}
  local total_repeated = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counted[status] = (counted[status] or 0) + count
    end
    total_repeated = total_repeated + thread:get("repeated")
  end
  local parts = {}
  for status, count in pairs(counted) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
      .. '"statuses": {%s}, "repeated": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    table.concat(parts, ", "), total_repeated
  ))
end
