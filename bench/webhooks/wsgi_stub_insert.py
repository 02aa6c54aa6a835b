"""The benchmark's application with the receiver's delivery insert replaced by a no-op (for
`breakdown.py --insert none` only): every delivery is answered as stored, nothing is written.
Measures the receiver's own work (HMAC, header checks, JSON parse, answer) without the durable row."""

from __future__ import annotations

from bench.webhooks.wsgi import application
from webhooks.services import receiving


def _stored_nowhere(sql: str, params: list) -> tuple[int, int]:
    return (1, 1)


receiving._fetch_one_idempotent = _stored_nowhere

__all__ = ["application"]
