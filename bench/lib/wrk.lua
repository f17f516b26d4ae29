-- Driven by bench/lib/wrk.ts through environment variables:
--   BENCH_BODY_FILE      the request body (static), or
--   BENCH_LINES_FILE     one body per line, taken in turn (distinct tokens)
--   BENCH_UNIQUE         "prefix|suffix": body = prefix .. counter .. suffix (distinct channels)
--   BENCH_EXPECT_BODY    every answer must be exactly this, or
--   BENCH_EXPECT         every answer must start with this,
--   BENCH_EXPECT_CONTAINS  … and contain this
--   BENCH_HEADERS        extra headers, "name: value" separated by "\n"
-- Any other answer (or a status other than 200) is a mismatch; the first one is reported.
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
local expect_body = os.getenv("BENCH_EXPECT_BODY")
local expect = os.getenv("BENCH_EXPECT") or ""
local contains = os.getenv("BENCH_EXPECT_CONTAINS")
local lines = {}
local prefix, suffix
if body_file then wrk.body = slurp(body_file) end
if lines_file then for line in io.lines(lines_file) do lines[#lines + 1] = line end end
if unique then prefix, suffix = unique:match("^(.*)|(.*)$") end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

local counter = 0
mismatches = 0
checked = 0
first_mismatch = ""
function request()
  counter = counter + 1
  if #lines > 0 then return wrk.format(nil, nil, nil, lines[(counter - 1) % #lines + 1]) end
  if prefix then return wrk.format(nil, nil, nil, prefix .. counter .. suffix) end
  return wrk.format()
end

local function expected(status, body)
  if status ~= 200 then return false end
  if expect_body then return body == expect_body end
  if body:sub(1, #expect) ~= expect then return false end
  return contains == nil or body:find(contains, 1, true) ~= nil
end

function response(status, headers, body)
  checked = checked + 1
  if not expected(status, body) then
    mismatches = mismatches + 1
    if first_mismatch == "" then first_mismatch = status .. " " .. body:sub(1, 200) end
  end
end

function done(summary, latency, requests)
  local total, seen, sample = 0, 0, ""
  for _, t in ipairs(threads) do
    total = total + (t:get("mismatches") or 0)
    seen = seen + (t:get("checked") or 0)
    if sample == "" then sample = t:get("first_mismatch") or "" end
  end
  io.write(string.format("MISMATCHES %d\nCHECKED %d\n", total, seen))
  for _, p in ipairs({ 50, 99 }) do io.write(string.format("P%d_US %d\n", p, latency:percentile(p))) end
  io.write(string.format("REQUESTS %d\nDURATION_US %d\n", summary.requests, summary.duration))
  local e = summary.errors
  io.write(string.format("ERRORS %d\n", e.connect + e.read + e.write + e.status + e.timeout))
  io.write("FIRST_MISMATCH " .. sample:gsub("\n", " ") .. "\n")
end
