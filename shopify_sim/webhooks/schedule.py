"""Shopify's retry schedule since 2024-09-10: 8 retries over 4 hours, exponential backoff (§4.3).

The exact delays are not published; doubling delays that sum to 4 h give 56 s, 113 s, ... 2 h.
"""

from __future__ import annotations

RETRIES = 8
TOTAL_SECONDS = 4 * 3600
FIRST_DELAY = TOTAL_SECONDS / (2**RETRIES - 1)
RETRY_DELAYS = tuple(FIRST_DELAY * 2**n for n in range(RETRIES))
REMOVE_AFTER_CONSECUTIVE_FAILURES = 8
TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 1.0


def retry_delay(retry_number: int, time_scale: float) -> float:
    """Delay before retry `retry_number` (1-based), compressed by `time_scale` (1.0 = real time)."""
    return RETRY_DELAYS[retry_number - 1] * time_scale
