-- Shared by the bench scripts (loaded with dofile from each of them, in every Lua state wrk makes).
--
-- wrk runs setup(thread) in its main Lua state once per thread, then init(args) in that thread's own
-- state; done() runs in the main state after all threads stopped. Counters are globals of the thread
-- states, read back in done() through thread:get(). done() prints one line:
--   BENCH_JSON {...}
-- that bench/run.py parses (latencies in microseconds).

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- per-thread counters (globals of each thread state)
ok = 0
non2xx = 0
starved = 0
unparsed = 0

function count(status)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    non2xx = non2xx + 1
  end
end

function read_lines(path)
  local lines = {}
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  file:close()
  return lines
end

-- This thread's share of lines: every nthreads-th line, starting at its tid (set in setup()).
function my_share(lines, nthreads)
  local share = {}
  for i, line in ipairs(lines) do
    if (i - 1) % nthreads == tid then
      table.insert(share, line)
    end
  end
  return share
end

-- GETs of wrk.path with "Authorization: Bearer <token>", cycling through a file of access tokens (one a
-- line); each thread starts at another token. Call load_bearer_tokens(path) from init().
local bearer_headers = {}
local bearer_index = 0

function load_bearer_tokens(path)
  for _, token in ipairs(read_lines(path)) do
    table.insert(bearer_headers, { Authorization = "Bearer " .. token })
  end
  assert(#bearer_headers > 0, "no access tokens in " .. path)
  bearer_index = tid
end

function get_with_next_token()
  bearer_index = bearer_index % #bearer_headers + 1
  return wrk.format("GET", wrk.path, bearer_headers[bearer_index])
end

local function int(x)
  return math.floor((x or 0) + 0.5)
end

function done(summary, latency, requests)
  local totals = { ok = 0, non2xx = 0, starved = 0, unparsed = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (tonumber(thread:get(name)) or 0)
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"ok":%d,"non2xx":%d,"starved":%d,"unparsed":%d,"threads":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    int(latency:percentile(50)), int(latency:percentile(90)), int(latency:percentile(99)),
    int(latency.max), int(latency.mean),
    e.connect, e.read, e.write, e.status, e.timeout,
    totals.ok, totals.non2xx, totals.starved, totals.unparsed, #threads))
  if on_done then
    on_done(threads)
  end
end
