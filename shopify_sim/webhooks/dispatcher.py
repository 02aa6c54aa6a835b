"""Background delivery: a due-time heap, a few worker threads, retries on Shopify's schedule."""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import http.client
import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shopify_sim.webhooks import schedule

MAX_LOG = 5000


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def triggered_at(moment: float) -> str:
    # Shopify sends nanosecond precision with a Z, e.g. 2023-03-29T18:00:27.877041743Z.
    whole = int(moment)
    nanos = int((moment - whole) * 1e9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


@dataclass
class Delivery:
    shop: str
    topic: str
    address: str
    body: bytes
    secret: str
    api_version: str
    event_id: str
    triggered: float
    subscription_id: int | None
    time_scale: float
    timeout: float = schedule.TIMEOUT_SECONDS
    webhook_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    extra_headers: dict[str, str] = field(default_factory=dict)
    status: str = "pending"
    retries: int = 0
    attempts: list[dict[str, Any]] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    next_attempt_at: float | None = None
    duplicate: bool = False

    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": self.topic,
            "X-Shopify-Hmac-Sha256": sign(self.secret, self.body),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": self.webhook_id,
            "X-Shopify-Event-Id": self.event_id,
            "X-Shopify-Triggered-At": triggered_at(self.triggered),
            "User-Agent": "Shopify-Captain-Hook",
        }
        headers.update(self.extra_headers)
        return headers

    def summary(self, include_body: bool = False) -> dict[str, Any]:
        data = {
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "topic": self.topic,
            "address": self.address,
            "subscription_id": self.subscription_id,
            "status": self.status,
            "retries": self.retries,
            "duplicate": self.duplicate,
            "attempts": list(self.attempts),
            "triggered_at": triggered_at(self.triggered),
            "next_attempt_at": self.next_attempt_at,
            "body_bytes": len(self.body),
        }
        if include_body:
            data["body"] = self.body.decode()
        return data


def post(delivery: Delivery) -> tuple[int | None, str | None]:
    """One POST with Shopify's deadlines; redirects count as failures (never followed)."""
    parts = urlsplit(delivery.address)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=schedule.CONNECT_TIMEOUT_SECONDS)
    try:
        connection.connect()
        connection.sock.settimeout(delivery.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=delivery.body, headers=delivery.headers())
        response = connection.getresponse()
        response.read()
        return response.status, None
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


class Dispatcher:
    def __init__(self, workers: int = 4) -> None:
        self.heap: list[tuple[float, int, Delivery]] = []
        self.sequence = itertools.count()
        self.condition = threading.Condition()
        self.in_flight: dict[str, int] = {}
        self.logs: dict[str, deque[Delivery]] = {}
        self.running = True
        self.on_result: Callable[[Delivery, bool], None] = lambda d, ok: None
        self.threads = [
            threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = 0.0) -> list[threading.Thread]:
        """No more deliveries; wait up to `timeout` seconds for the ones being posted. Answers the
        workers still running."""
        with self.condition:
            self.running = False
            self.condition.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread for thread in self.threads if thread.is_alive()]

    def enqueue(self, delivery: Delivery, delay: float = 0.0) -> None:
        with self.condition:
            self.logs.setdefault(delivery.shop, deque(maxlen=MAX_LOG)).append(delivery)
            self._push(delivery, time.time() + delay)

    def _push(self, delivery: Delivery, due: float) -> None:
        delivery.next_attempt_at = due
        heapq.heappush(self.heap, (due, next(self.sequence), delivery))
        self.condition.notify()

    def _work(self) -> None:
        while True:
            with self.condition:
                delivery = self._next_due()
                if delivery is None:
                    return
                self.in_flight[delivery.shop] = self.in_flight.get(delivery.shop, 0) + 1
            try:
                self._attempt(delivery)
            finally:
                with self.condition:
                    self.in_flight[delivery.shop] -= 1
                    self.condition.notify_all()

    def _next_due(self) -> Delivery | None:
        while self.running:
            if self.heap and self.heap[0][0] <= time.time():
                delivery = heapq.heappop(self.heap)[2]
                if delivery.status in ("abandoned",):
                    continue
                return delivery
            timeout = max(0.0, self.heap[0][0] - time.time()) if self.heap else None
            self.condition.wait(timeout if timeout is None else min(timeout, 1.0))
        return None

    def _attempt(self, delivery: Delivery) -> None:
        started = time.time()
        status, error = post(delivery)
        ok = status is not None and 200 <= status < 300
        delivery.attempts.append(
            {
                "at": started,
                "status_code": status,
                "error": error,
                "ms": round((time.time() - started) * 1000, 1),
            }
        )
        if ok:
            delivery.status, delivery.next_attempt_at = "delivered", None
        elif delivery.retries >= schedule.RETRIES:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.retries += 1
            delivery.status = "retrying"
            with self.condition:
                self._push(
                    delivery, time.time() + schedule.retry_delay(delivery.retries, delivery.time_scale)
                )
        self.on_result(delivery, ok)

    def abandon_subscription(self, shop: str, subscription_id: int) -> None:
        with self.condition:
            for _, _, delivery in self.heap:
                if delivery.shop == shop and delivery.subscription_id == subscription_id:
                    delivery.status = "abandoned"
                    delivery.next_attempt_at = None

    def flush(self, shop: str, timeout: float = 30.0) -> int:
        """Make every pending delivery of `shop` due now and wait until none is pending or in flight."""
        deadline = time.time() + timeout
        with self.condition:
            items = [(due, seq, d) for due, seq, d in self.heap]
            self.heap = [(min(due, time.time()) if d.shop == shop else due, seq, d) for due, seq, d in items]
            heapq.heapify(self.heap)
            count = sum(1 for _, _, d in self.heap if d.shop == shop)
            self.condition.notify_all()
            while time.time() < deadline:
                due_now = any(
                    d.shop == shop and due <= time.time() and d.status != "abandoned"
                    for due, _, d in self.heap
                )
                if not due_now and not self.in_flight.get(shop):
                    break
                self.condition.wait(0.05)
        return count

    def deliveries(self, shop: str) -> list[Delivery]:
        with self.condition:
            return list(self.logs.get(shop, ()))

    def pending(self, shop: str) -> int:
        with self.condition:
            return sum(1 for _, _, d in self.heap if d.shop == shop and d.status != "abandoned")

    def clear_log(self, shop: str) -> None:
        with self.condition:
            self.logs.pop(shop, None)
