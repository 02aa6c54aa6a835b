"""Timestamps: the store keeps UTC epoch seconds; renderers format them per API."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def now() -> int:
    return int(time.time())


def iso_z(ts: int | None) -> str | None:
    """GraphQL `DateTime`: UTC with a Z, second precision."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def iso_offset(ts: int | None, offset_minutes: int) -> str | None:
    """REST and webhook timestamps: the shop's UTC offset, e.g. 2021-12-31T19:00:00-05:00."""
    if ts is None:
        return None
    local = time.gmtime(ts + offset_minutes * 60)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f"{sign}{hours:02d}:{minutes:02d}"


def parse_offset(text: str) -> int:
    """'-05:00' -> -300 (minutes)."""
    text = text.strip()
    if text in ("Z", "z", "UTC", "+00:00", ""):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-").replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def parse_iso(value: str, default_offset_minutes: int = 0) -> tuple[float, bool]:
    """Parse an ISO-8601 timestamp or date; returns (epoch seconds, was_date_only).

    A value without an offset is read in the shop's time zone, as Shopify does for search terms.
    """
    match = _ISO_RE.match(value.strip())
    if not match:
        raise ValueError(f"invalid timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = default_offset_minutes if zone is None else parse_offset(zone)
    moment = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
    )
    seconds = moment.timestamp() - offset * 60
    if fraction:
        seconds += float("0." + fraction)
    return seconds, hour is None


def day_start_utc(ts: float) -> int:
    return int(ts // 86400 * 86400)


def tz_from_minutes(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))
