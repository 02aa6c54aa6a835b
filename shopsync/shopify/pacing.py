"""A per-shop estimate of Shopify's GraphQL cost bucket, so the client waits *before* it would be throttled.

Shopify reports the bucket after every GraphQL response (`extensions.cost.throttleStatus`): how many
points are available now, the bucket size, and how many points come back per second. Between responses
the estimate restores linearly. Before a query is sent its requested cost is reserved, so threads of one
process sharing a shop do not all spend the same points. Other processes share the real bucket too, so
the estimate can be optimistic; a THROTTLED answer then corrects it (the client waits that out as well).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

# A single query may not request more than this (contract §1.3), so no pacing wait needs to be longer
# than refilling this many points; anything longer means the estimate is wrong.
MAX_SINGLE_QUERY_COST = 1000.0


@dataclass(frozen=True, slots=True)
class QueryCost:
    requested: float | None
    actual: float | None
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Any) -> QueryCost | None:
        """Parse `extensions.cost`; None when the response carries no usable cost block."""
        if not isinstance(extensions, dict):
            return None
        cost = extensions.get("cost")
        if not isinstance(cost, dict):
            return None
        status = cost.get("throttleStatus")
        if not isinstance(status, dict):
            return None
        try:
            return cls(
                requested=_optional_float(cost.get("requestedQueryCost")),
                actual=_optional_float(cost.get("actualQueryCost")),
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


class CostBucket:
    """Thread-safe; times are whatever clock the caller uses (seconds, monotonic)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._available: float | None = None
        self._maximum: float = 0.0
        self._restore_rate: float = 0.0
        self._observed_at: float = 0.0
        self._requested_costs: dict[str, float] = {}

    def observe(self, cost: QueryCost, *, at: float) -> None:
        with self._lock:
            self._available = cost.currently_available
            self._maximum = cost.maximum_available
            self._restore_rate = cost.restore_rate
            self._observed_at = at

    def estimate(self, *, at: float) -> float | None:
        with self._lock:
            return self._estimate_locked(at)

    def _estimate_locked(self, at: float) -> float | None:
        if self._available is None:
            return None
        restored = self._available + self._restore_rate * (at - self._observed_at)
        return min(self._maximum, restored)

    def reserve(self, requested_cost: float, *, at: float) -> float:
        """Reserve `requested_cost` points; returns how many seconds to wait before sending (0 if none).

        Unknown bucket (no response seen yet) or unknown restore rate: send at once.
        """
        with self._lock:
            available = self._estimate_locked(at)
            if available is None or self._restore_rate <= 0:
                return 0.0
            shortfall = requested_cost - available
            wait = 0.0
            if shortfall > 0:
                wait = min(shortfall, MAX_SINGLE_QUERY_COST) / self._restore_rate
            # The points are spent at `at + wait`; later reservations queue behind this one.
            self._available = max(0.0, available + self._restore_rate * wait - requested_cost)
            self._observed_at = at + wait
            return wait

    def remember_requested_cost(self, query: str, requested: float) -> None:
        with self._lock:
            self._requested_costs[_query_key(query)] = requested

    def requested_cost_hint(self, query: str) -> float | None:
        """The requested cost Shopify reported last time this exact query text ran (pages of one
        connection reuse the text with new variables, so their cost barely changes)."""
        with self._lock:
            return self._requested_costs.get(_query_key(query))


def _query_key(query: str) -> str:
    return hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()


_buckets: dict[str, CostBucket] = {}
_buckets_lock = threading.Lock()


def cost_bucket_for(shop_key: str) -> CostBucket:
    """The process-wide bucket estimate for one shop (the bucket is per app per store)."""
    with _buckets_lock:
        bucket = _buckets.get(shop_key)
        if bucket is None:
            bucket = _buckets[shop_key] = CostBucket()
        return bucket
