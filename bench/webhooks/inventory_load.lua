-- wrk script: POST pre-signed inventory_levels/update deliveries at a target rate.
-- Usage: wrk -t T -c C -d Ds -s inventory_load.lua URL -- DELIVERY_FILE SHOP_DOMAIN TOPIC RUN_ID RATE T
-- DELIVERY_FILE: one delivery a line, "index TAB signature TAB body" (inventory_deliveries.py).
-- Thread t of T sends lines t, t+T, t+2T, ... in order, each thread paced to RATE / T a second:
-- every request claims the thread's next slot and waits for it (delay()), so with enough
-- connections the load is the target rate, not the server's pace (a slow answer does not slow the
-- schedule while other connections are free). A thread that has sent all its lines goes quiet.
-- X-Shopify-Triggered-At is the sending time (not signed: Shopify's header, contract 4.1).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } invbench_timeval;
  int gettimeofday(invbench_timeval *tv, void *tz);
]]
local timeval = ffi.new("invbench_timeval")

local function now_ms()
  ffi.C.gettimeofday(timeval, nil)
  return tonumber(timeval.tv_sec) * 1000 + tonumber(timeval.tv_usec) / 1000
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

function init(args)
  local mine = {}
  local lineno = 0
  local file = assert(io.open(args[1], "rb"))
  for line in file:lines() do
    if lineno % tonumber(args[6]) == tid - 1 then
      local index, signature, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
      table.insert(mine, { index, signature, body })
    end
    lineno = lineno + 1
  end
  file:close()
  deliveries = mine
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Shopify-Shop-Domain"] = args[2]
  wrk.headers["X-Shopify-Topic"] = args[3]
  wrk.headers["X-Shopify-API-Version"] = "2026-01"
  run_id = args[4]
  interval_ms = 1000 * tonumber(args[6]) / tonumber(args[5])
  next_slot = nil
  sent = 0
  ok = 0
  refused = 0
end

function delay()
  if sent >= #deliveries then
    return 3600000 -- this thread's deliveries are all out
  end
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  if wait < 0 then
    return 0
  end
  return math.floor(wait)
end

function request()
  sent = sent + 1
  local delivery = deliveries[sent]
  if delivery == nil then
    delivery = deliveries[#deliveries] -- never reached: delay() holds the thread back first
  end
  local id = run_id .. "-" .. delivery[1]
  wrk.headers["X-Shopify-Hmac-Sha256"] = delivery[2]
  wrk.headers["X-Shopify-Event-Id"] = "ev-" .. id
  wrk.headers["X-Shopify-Webhook-Id"] = "wh-" .. id
  wrk.headers["X-Shopify-Triggered-At"] = os.date("!%Y-%m-%dT%H:%M:%S.000000000Z")
  return wrk.format(nil, nil, nil, delivery[3])
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local accepted, not_accepted, lines = 0, 0, 0
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("ok")
    not_accepted = not_accepted + thread:get("refused")
    lines = lines + thread:get("sent")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "sent": %d, "accepted": %d, "not_accepted": %d, "socket_errors": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, lines, accepted, not_accepted,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
