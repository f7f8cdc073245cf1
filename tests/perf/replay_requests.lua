-- Replays pre-built, pre-signed HTTP requests with wrk, one per line of the file
-- named by REPLAY_FILE:  METHOD <tab> PATH <tab> Header: v <US> Header: v <tab> BODY
-- (<US> is the unit separator, byte 0x1f). The requests are formatted once, when a
-- thread starts, so the load generator spends its time sending, not building.
-- After the run, done() prints one "REPLAY key=value ..." line for the benchmark.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local requests = {}
local position = 0
issued = 0
answered_ok = 0
answered_other = 0

local function read_headers(field)
  local headers = {}
  for item in string.gmatch(field, "[^\31]+") do
    local name, value = string.match(item, "^([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    end
  end
  return headers
end

function init(args)
  local path = os.getenv("REPLAY_FILE")
  if not path then
    error("REPLAY_FILE is not set")
  end
  for line in io.lines(path) do
    local method, target, header_field, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      requests[#requests + 1] = wrk.format(method, target, read_headers(header_field), body)
    end
  end
  if #requests == 0 then
    error("no requests in " .. path)
  end
end

function request()
  position = position % #requests + 1
  issued = issued + 1
  return requests[position]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    answered_ok = answered_ok + 1
  else
    answered_other = answered_other + 1
  end
end

function done(summary, latency, requests_stats)
  local sent, ok, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("issued")
    ok = ok + thread:get("answered_ok")
    other = other + thread:get("answered_other")
  end
  local seconds = summary.duration / 1e6
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "REPLAY issued=%d ok=%d non_2xx=%d completed=%d socket_errors=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d\n",
    sent, ok, other, summary.requests, socket_errors, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99)))
end
