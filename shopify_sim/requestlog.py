"""Request log for the control API: per-endpoint counts and the most recent requests."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from typing import Any

RECENT = 2000
PATTERNS = (
    (re.compile(r"^/admin/api/[^/]+/"), "/admin/api/{version}/"),
    (re.compile(r"/\d+(\.json)?$"), r"/{id}\1"),
    (re.compile(r"^/_bulk/[^/]+$"), "/_bulk/{token}.jsonl"),
)


def endpoint_key(method: str, path: str) -> str:
    for pattern, replacement in PATTERNS:
        path = pattern.sub(replacement, path)
    return f"{method} {path}"


class RequestLog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        # GraphQL THROTTLED answers (HTTP 200) per shop; REST's 429s are in `statuses`.
        self.throttled: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)

    def record(
        self,
        method: str,
        path: str,
        shop: str | None,
        status: int,
        seconds: float,
        fault: str | None,
        range_header: str | None = None,
        body_bytes: int | None = None,
        throttled: bool = False,
    ) -> None:
        """`range_header` and `body_bytes` (the bytes of body promised, Content-Length) tell how much of a
        file download a client asked for and was sent: a resumed read shows as a `Range: bytes=N-`."""
        key = endpoint_key(method, path)
        with self.lock:
            self.counts[key] += 1
            self.statuses[str(status)] += 1
            if throttled:
                self.throttled[shop or ""] += 1
            self.recent.append(
                {
                    "at": time.time(),
                    "method": method,
                    "path": path,
                    "endpoint": key,
                    "shop": shop,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "fault": fault,
                    "range": range_header,
                    "bytes": body_bytes,
                }
            )

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.counts.values()),
                "counts": dict(self.counts),
                "statuses": dict(self.statuses),
                "throttled": dict(self.throttled),
                "recent": list(self.recent),
            }

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.statuses.clear()
            self.throttled.clear()
            self.recent.clear()
