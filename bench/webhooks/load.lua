-- wrk script: POST one fixed, signed webhook body; every request carries its own
-- X-Shopify-Event-Id and X-Shopify-Webhook-Id (the HMAC covers only the body, so the signature
-- stays valid). Usage: wrk ... -s load.lua URL -- BODY_FILE HMAC SHOP_DOMAIN TOPIC RUN_ID
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Shopify-Hmac-Sha256"] = args[2]
  wrk.headers["X-Shopify-Shop-Domain"] = args[3]
  wrk.headers["X-Shopify-Topic"] = args[4]
  wrk.headers["X-Shopify-API-Version"] = "2026-01"
  wrk.headers["X-Shopify-Triggered-At"] = "2025-01-01T00:00:00.000000000Z"
  run_id = args[5]
  counter = 0
  ok = 0
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", run_id, tid, counter)
  wrk.headers["X-Shopify-Event-Id"] = "ev-" .. id
  wrk.headers["X-Shopify-Webhook-Id"] = "wh-" .. id
  return wrk.format()
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local accepted = 0
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("ok")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "accepted": %d, "errors": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, accepted,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status,
    summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
