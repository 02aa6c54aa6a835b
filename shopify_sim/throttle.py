"""Leaky buckets: GraphQL cost points (restore per second) and REST request counts (leak per second)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class CostBucket:
    """GraphQL: `maximum` points, refilled at `restore_rate` points/s; a query needs its requested cost."""

    maximum: float
    restore_rate: float
    available: float = -1.0
    stamp: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        if self.available < 0:
            self.available = self.maximum
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore_rate)
        self.stamp = now

    def take(self, cost: float) -> bool:
        with self._lock:
            self._refill()
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self.available = min(self.maximum, self.available + max(0.0, points))

    def current(self) -> int:
        with self._lock:
            self._refill()
            return int(self.available)

    def reconfigure(self, maximum: float, restore_rate: float) -> None:
        with self._lock:
            self._refill()
            self.maximum, self.restore_rate = maximum, restore_rate
            self.available = min(self.available, maximum)

    def status(self) -> dict[str, float | int]:
        # Real responses: maximumAvailable/restoreRate floats, currentlyAvailable an integer (§1.2).
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": self.current(),
            "restoreRate": float(self.restore_rate),
        }


@dataclass
class RequestBucket:
    """REST: `size` requests, leaking `leak_rate`/s; a request that does not fit gets 429."""

    size: int
    leak_rate: float
    used: float = 0.0
    stamp: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.stamp = time.monotonic()

    def _leak(self) -> None:
        now = time.monotonic()
        self.used = max(0.0, self.used - (now - self.stamp) * self.leak_rate)
        self.stamp = now

    def add(self) -> tuple[bool, int]:
        """(accepted, used after) — used is what `X-Shopify-Shop-Api-Call-Limit` shows."""
        with self._lock:
            self._leak()
            if self.used + 1 > self.size:
                return False, self.size
            self.used += 1
            return True, max(1, int(self.used + 0.999))

    def reconfigure(self, size: int, leak_rate: float) -> None:
        with self._lock:
            self._leak()
            self.size, self.leak_rate = size, leak_rate
