-- Driven by bench/lib/wrk.ts through environment variables:
--   BENCH_BODY_FILE   the request body (static), or
--   BENCH_LINES_FILE  one body per line, taken in turn (distinct tokens)
--   BENCH_UNIQUE      "prefix|suffix": body = prefix .. counter .. suffix (distinct channels)
--   BENCH_EXPECT      every answer must start with this (counted as mismatches otherwise)
--   BENCH_HEADERS     extra headers, "name: value" separated by "\n"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local extra = os.getenv("BENCH_HEADERS") or ""
for name, value in extra:gmatch("([^:\n]+):%s*([^\n]+)") do wrk.headers[name] = value end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local body_file = os.getenv("BENCH_BODY_FILE")
local lines_file = os.getenv("BENCH_LINES_FILE")
local unique = os.getenv("BENCH_UNIQUE")
local expect = os.getenv("BENCH_EXPECT") or ""
local lines = {}
local prefix, suffix
if body_file then wrk.body = slurp(body_file) end
if lines_file then for line in io.lines(lines_file) do lines[#lines + 1] = line end end
if unique then prefix, suffix = unique:match("^(.*)|(.*)$") end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

local counter = 0
mismatches = 0
function request()
  counter = counter + 1
  if #lines > 0 then return wrk.format(nil, nil, nil, lines[(counter - 1) % #lines + 1]) end
  if prefix then return wrk.format(nil, nil, nil, prefix .. counter .. suffix) end
  return wrk.format()
end

if expect ~= "" then
  function response(status, headers, body)
    if status ~= 200 or body:sub(1, #expect) ~= expect then mismatches = mismatches + 1 end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("mismatches") or 0) end
  io.write(string.format("MISMATCHES %d\n", total))
  for _, p in ipairs({ 50, 99 }) do io.write(string.format("P%d_US %d\n", p, latency:percentile(p))) end
  io.write(string.format("REQUESTS %d\nDURATION_US %d\n", summary.requests, summary.duration))
  local e = summary.errors
  io.write(string.format("ERRORS %d\n", e.connect + e.read + e.write + e.status + e.timeout))
end
