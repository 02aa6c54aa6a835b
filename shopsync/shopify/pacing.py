"""A shop's API budget, so the client waits *before* it would be throttled.

Shopify keeps one leaky bucket per app per store and API (contract §1.3-1.5, §3.4): GraphQL cost
points (2,000 restoring 100/s on Standard) and REST requests (40 leaking 2/s). Every process of the
fleet spends from the same bucket, so the budget is held where they all see it: in Redis
(`shopsync/shopify/budget.py`; `shopify_budget_for` there picks the backend).
Without Redis (the embedded default: SQLite and a filesystem broker, one worker) the same algorithm
runs in process memory (`CostBucket`).

The algorithm, identical in both:
1. `reserve(cost)`: restore linearly by elapsed time (capped at the bucket size); if the cost fits,
   take it and answer 0; otherwise take nothing and answer how long until it would fit (the caller
   waits and asks again, so one slow process cannot hold points it is not using).
2. `settle(reserved, charged, status)` after the response: give back what was reserved but not
   charged (a THROTTLED answer charges nothing; a success charges `actualQueryCost`), then lower the
   estimate to what Shopify reports if that is less (someone outside the budget spent, or a query cost
   more than its hint). A higher report is *not* taken: requests reserved and not yet answered are
   missing from Shopify's figure but already spent here, so taking it would overspend.
3. Unknown bucket (nothing settled yet): the request goes; its answer teaches the bucket.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# A single query may not request more than this (contract §1.3), so no pacing wait needs to be longer
# than refilling this many points; anything longer means the estimate is wrong.
MAX_SINGLE_QUERY_COST = 1000.0
# Float slack when comparing a cost with what a wait of exactly (cost - available) / rate restored.
POINT_EPSILON = 1e-6
# REST buckets leak their size in 20 s: 40 at 2/s, 80 at 4/s, 400 at 20/s (contract §3.4). The
# `X-Shopify-Shop-Api-Call-Limit` header gives the size, never the leak rate.
REST_BUCKET_DRAIN_SECONDS = 20.0
GRAPHQL = "graphql"
REST = "rest"
_CALL_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class BucketStatus:
    """What Shopify reported about a bucket in one response."""

    maximum: float
    available: float
    restore_rate: float


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

    @property
    def status(self) -> BucketStatus:
        return BucketStatus(self.maximum_available, self.currently_available, self.restore_rate)

    def charged(self, *, reserved: float, throttled: bool) -> float:
        """Points this answer finally took from the bucket: none when throttled, else the actual cost
        (falling back to the requested cost, then to what was reserved)."""
        if throttled:
            return 0.0
        for value in (self.actual, self.requested):
            if value is not None:
                return value
        return reserved


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def rest_bucket_status(call_limit: str | None) -> BucketStatus | None:
    """`X-Shopify-Shop-Api-Call-Limit: 32/40` → 8 of 40 requests free, leaking 2/s."""
    match = _CALL_LIMIT.match(call_limit or "")
    if match is None:
        return None
    used, size = float(match[1]), float(match[2])
    if size <= 0:
        return None
    return BucketStatus(
        maximum=size, available=max(0.0, size - used), restore_rate=size / REST_BUCKET_DRAIN_SECONDS
    )


class ApiBudget(Protocol):
    """One shop's bucket for one API, as the client uses it (both backends implement it)."""

    def reserve(self, cost: float, *, at: float) -> float:
        """Take `cost` points and answer 0, or take nothing and answer the seconds until they fit."""
        ...

    def settle(self, *, reserved: float, charged: float, status: BucketStatus | None, at: float) -> None:
        """After a response: refund `reserved - charged`, then lower to Shopify's report if it is lower."""
        ...

    def remember_requested_cost(self, query: str, requested: float) -> None: ...

    def requested_cost_hint(self, query: str) -> float | None: ...


class CostHints:
    """The requested cost Shopify reported last time each query text ran, kept in process (pages of one
    connection reuse the text with new variables, so their cost barely changes)."""

    def __init__(self) -> None:
        self._hints_lock = threading.Lock()
        self._requested_costs: dict[str, float] = {}

    def remember_requested_cost(self, query: str, requested: float) -> None:
        with self._hints_lock:
            self._requested_costs[query_key(query)] = requested

    def requested_cost_hint(self, query: str) -> float | None:
        with self._hints_lock:
            return self._requested_costs.get(query_key(query))


class CostBucket(CostHints):
    """The in-process budget: thread-safe; times are whatever clock the caller uses (seconds, monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._available: float | None = None
        self._maximum: float = 0.0
        self._restore_rate: float = 0.0
        self._observed_at: float = 0.0

    def estimate(self, *, at: float) -> float | None:
        with self._lock:
            return self._restored(at)

    def _restored(self, at: float) -> float | None:
        if self._available is None:
            return None
        elapsed = max(0.0, at - self._observed_at)
        return min(self._maximum, self._available + self._restore_rate * elapsed)

    def reserve(self, cost: float, *, at: float) -> float:
        with self._lock:
            available = self._restored(at)
            if available is None:
                return 0.0
            self._available, self._observed_at = available, max(at, self._observed_at)
            need = min(cost, self._maximum)
            if need <= available + POINT_EPSILON:
                self._available = available - cost
                return 0.0
            if self._restore_rate <= 0:
                return 1.0  # a bucket that never restores: ask again, the next answer may fix it
            return (need - available) / self._restore_rate

    def settle(self, *, reserved: float, charged: float, status: BucketStatus | None, at: float) -> None:
        with self._lock:
            available = self._restored(at)
            if available is not None:
                available += reserved - charged
            if status is not None:
                self._maximum, self._restore_rate = status.maximum, status.restore_rate
                available = status.available if available is None else min(available, status.available)
            if available is not None:
                self._available = min(self._maximum, available)
                self._observed_at = max(at, self._observed_at)


def cost_key(query: str, variables: Mapping[str, Any] | None) -> str:
    """What a query's requested cost depends on: its text and its page sizes (`first: 5` and
    `first: 250` of one text cost 7 and 252 points), not its cursors or search strings. Integer
    variables count by value, list variables (`nodes(ids:)`) by length."""
    shape = {
        name: len(value) if isinstance(value, list) else value
        for name, value in sorted((variables or {}).items())
        if isinstance(value, list) or (isinstance(value, int) and not isinstance(value, bool))
    }
    return f"{query}\n# {json.dumps(shape, sort_keys=True)}" if shape else query


def query_key(query: str) -> str:
    """A short stable key for a query text (its cost hint's key, in process and in Redis)."""
    return hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()
