"""One API budget per shop for the whole fleet: the bucket estimate held in Redis (see `pacing.py` for
the algorithm and the in-process twin used when there is no Redis).

Each operation is one Lua script, so reserving is atomic across every process on every machine, and
the scripts read the clock with Redis's own `TIME`: the machines' clocks never enter the arithmetic.
A bucket nobody has used for `IDLE_EXPIRY_SECONDS` expires (it has long refilled by then); the next
request finds it unknown and *probes*: it goes alone while the others wait for its answer to say
where the bucket stands.

Redis unavailable: the budget falls back to this process's estimate (logged), so a Redis hiccup slows
the fleet's pacing accuracy rather than stopping its syncs.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings

from shopsync.shopify.pacing import GRAPHQL, POINT_EPSILON, ApiBudget, BucketStatus, CostBucket, query_key

logger = logging.getLogger(__name__)

KEY_PREFIX = "shopsync:budget"
# A bucket refills in 20 s; after this long unused its state says nothing a probe would not.
IDLE_EXPIRY_SECONDS = 600
# Others wait this long at most for a probe's answer (a request that vanished must not block the shop).
PROBE_SECONDS = 10.0
# ... asking again this often meanwhile.
PROBE_POLL_SECONDS = 0.2
REDIS_TIMEOUT_SECONDS = 2.0
# The requested cost of each query text, shared by the fleet (a query's cost does not depend on the
# shop): a process's first run of a query must not reserve nothing while the others drain the bucket.
COST_HINTS_KEY = f"{KEY_PREFIX}:requested-costs"
COST_HINTS_EXPIRY_SECONDS = 7 * 24 * 3600
FALLBACK_LOG_INTERVAL_SECONDS = 60.0

# KEYS[1] the bucket hash; ARGV: cost, idle expiry, probe seconds, probe poll, epsilon.
# Answers "0" when the cost was taken, else the seconds until it would fit (nothing taken).
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at', 'probe_until')
if not f[1] then
  local probing = tonumber(f[5] or '0')
  if probing > now then
    return string.format('%.6f', math.min(probing - now, tonumber(ARGV[4])))
  end
  redis.call('HSET', KEYS[1], 'probe_until', string.format('%.6f', now + tonumber(ARGV[3])))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return '0'
end
local maximum = tonumber(f[2])
local rate = tonumber(f[3])
local available = math.min(maximum, tonumber(f[1]) + rate * math.max(0, now - tonumber(f[4])))
local need = math.min(cost, maximum)
if need <= available + tonumber(ARGV[5]) then
  redis.call('HSET', KEYS[1], 'available', string.format('%.6f', available - cost),
             'at', string.format('%.6f', now))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return '0'
end
if rate <= 0 then
  return '1'
end
return string.format('%.6f', (need - available) / rate)
"""

# KEYS[1] the bucket hash; ARGV: reserved, charged, has status (1/0), maximum, available, restore
# rate, idle expiry. Answers the new estimate, or false when the bucket is still unknown.
SETTLE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local f = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at')
local maximum = tonumber(f[2])
local rate = tonumber(f[3])
local available = nil
if f[1] then
  available = math.min(maximum, tonumber(f[1]) + rate * math.max(0, now - tonumber(f[4])))
  available = available + tonumber(ARGV[1]) - tonumber(ARGV[2])
end
if ARGV[3] == '1' then
  maximum = tonumber(ARGV[4])
  rate = tonumber(ARGV[6])
  local reported = tonumber(ARGV[5])
  if available == nil or reported < available then
    available = reported
  end
end
redis.call('HDEL', KEYS[1], 'probe_until')
if available == nil then
  return false
end
available = math.min(maximum, available)
redis.call('HSET', KEYS[1], 'available', string.format('%.6f', available), 'maximum', tostring(maximum),
           'rate', tostring(rate), 'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], ARGV[7])
return string.format('%.6f', available)
"""


class RedisBudget(CostBucket):
    """A shop's bucket for one API, shared through Redis. It *is* a `CostBucket` too: that in-process
    estimate is used while Redis cannot be reached (and the query cost hints stay in process)."""

    def __init__(self, *, connection: redis.Redis, shop_key: str, api: str) -> None:
        super().__init__()
        self.key = f"{KEY_PREFIX}:{api}:{shop_key}"
        self._connection = connection
        self._reserve_script = connection.register_script(RESERVE_LUA)
        self._settle_script = connection.register_script(SETTLE_LUA)
        self._fallback_logged_at = -FALLBACK_LOG_INTERVAL_SECONDS

    def reserve(self, cost: float, *, at: float) -> float:
        args = [cost, IDLE_EXPIRY_SECONDS, PROBE_SECONDS, PROBE_POLL_SECONDS, POINT_EPSILON]
        try:
            return float(self._reserve_script(keys=[self.key], args=args))
        except redis.RedisError as exc:
            self._log_fallback(exc)
            return super().reserve(cost, at=at)

    def settle(self, *, reserved: float, charged: float, status: BucketStatus | None, at: float) -> None:
        reported = [1, status.maximum, status.available, status.restore_rate] if status else [0, 0, 0, 0]
        try:
            self._settle_script(keys=[self.key], args=[reserved, charged, *reported, IDLE_EXPIRY_SECONDS])
        except redis.RedisError as exc:
            self._log_fallback(exc)
        # The local twin follows every answer, so a fall-back starts from a recent estimate.
        super().settle(reserved=reserved, charged=charged, status=status, at=at)

    def requested_cost_hint(self, query: str) -> float | None:
        known = super().requested_cost_hint(query)
        if known is not None:
            return known
        try:
            shared = self._connection.hget(COST_HINTS_KEY, query_key(query))
        except redis.RedisError as exc:
            self._log_fallback(exc)
            return None
        if shared is None:
            return None
        super().remember_requested_cost(query, float(shared))
        return float(shared)

    def remember_requested_cost(self, query: str, requested: float) -> None:
        if super().requested_cost_hint(query) == requested:
            return  # the fleet already knows it (or this process told it): no write per call
        super().remember_requested_cost(query, requested)
        try:
            with self._connection.pipeline(transaction=False) as pipe:
                pipe.hset(COST_HINTS_KEY, query_key(query), repr(requested))
                pipe.expire(COST_HINTS_KEY, COST_HINTS_EXPIRY_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            self._log_fallback(exc)

    def _log_fallback(self, exc: redis.RedisError) -> None:
        now = time.monotonic()
        if now - self._fallback_logged_at >= FALLBACK_LOG_INTERVAL_SECONDS:
            self._fallback_logged_at = now
            logger.warning("Shopify budget %s: Redis unavailable (%s); pacing on this process's estimate",
                           self.key, exc)  # fmt: skip


_connections: dict[str, redis.Redis] = {}
_budgets: dict[tuple[str, str, str], ApiBudget] = {}
_lock = threading.Lock()


def budget_redis(url: str) -> redis.Redis:
    """One connection pool per URL per process; short timeouts, since a pacing call must not hang."""
    with _lock:
        connection = _connections.get(url)
        if connection is None:
            connection = _connections[url] = redis.Redis.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
        return connection


def shopify_budget_for(shop_key: str, *, api: str = GRAPHQL) -> ApiBudget:
    """The shop's budget for one API (`graphql` or `rest`): shared by the fleet through Redis when
    `SHOPIFY_BUDGET_REDIS_URL` is set (it defaults to a redis:// broker URL), else this process's
    estimate. One object per shop and API per process, so its clients share the cost hints too."""
    url = settings.SHOPIFY_BUDGET_REDIS_URL
    with _lock:
        budget = _budgets.get((url, shop_key, api))
    if budget is not None:
        return budget
    created: ApiBudget = (
        RedisBudget(connection=budget_redis(url), shop_key=shop_key, api=api) if url else CostBucket()
    )
    with _lock:
        return _budgets.setdefault((url, shop_key, api), created)
