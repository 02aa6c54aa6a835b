"""Sync settings with their defaults (the lead merges the `SYNC_*` names into config/settings/base.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# The longest countdown of a sync task's retry (the runner tells the watchdog to wait that long).
SYNC_RETRY_BACKOFF_MAX_SECONDS = 600

DEFAULTS: dict[str, int | float] = {
    # A running session whose heartbeat is older than this is presumed dead and resumed by the watchdog.
    # The heartbeat comes from a thread of the worker process (`SessionPulse`) every
    # SYNC_HEARTBEAT_INTERVAL_SECONDS whatever the run does (a long HTTP request, a bulk poll sleep, a
    # big batch write), so this only has to outlast a few missed beats (a database hiccup): 6 by default.
    "SYNC_HEARTBEAT_TIMEOUT_SECONDS": 30,
    # The pulse thread beats this often (and the run's own waits stamp the heartbeat at most this often).
    "SYNC_HEARTBEAT_INTERVAL_SECONDS": 5,
    "SYNC_MAX_RUNNING_PER_SHOP": 2,
    "SYNC_MAX_RUNNING_TOTAL": 10,
    # Incremental runs start this far before the watermark: clock skew and same-second writes.
    "SYNC_INCREMENTAL_OVERLAP_SECONDS": 120,
    "SYNC_BULK_BATCH_SIZE": 2000,
    # First poll interval of a running bulk operation; later polls wait up to 5 % of the time waited
    # so far (at most 30 s), so a finished export is noticed at most 5 % late.
    "SYNC_BULK_POLL_INTERVAL_SECONDS": 1.0,
    "SYNC_BULK_TIMEOUT_SECONDS": 6 * 3600,
    "SYNC_PAGE_SIZE": 250,
    # 1: parse the next bulk batch in a thread while the current one is written (0 turns it off).
    "SYNC_BULK_PREFETCH": 1,
    # Exports of at least this many JSONL lines are parsed in a child process on PostgreSQL (both
    # cores: parsing there, writing in the worker); smaller ones in a thread. -1: never.
    "SYNC_BULK_PARSE_PROCESS_MIN_LINES": 40_000,
    # A bulk job refreshes its tables' planner statistics after this many rows written, then each
    # time its rows written double (a fast-growing table otherwise keeps a plan for a small one).
    "SYNC_ANALYZE_AFTER_ROWS": 10_000,
    # Tries of one batch write before it is stored as a failed batch.
    "SYNC_WRITE_ATTEMPTS": 3,
    # A queued session enqueued this long ago, while the sync queue is empty (its message is gone),
    # gets its task enqueued again by the watchdog (`sessions_lost`).
    "SYNC_REDISPATCH_AFTER_SECONDS": 60,
}


@dataclass(frozen=True, slots=True)
class SyncConfig:
    heartbeat_timeout_seconds: int
    heartbeat_interval_seconds: int
    max_running_per_shop: int
    max_running_total: int
    incremental_overlap_seconds: int
    bulk_batch_size: int
    bulk_poll_interval_seconds: float
    bulk_timeout_seconds: int
    page_size: int
    bulk_prefetch: int
    bulk_parse_process_min_lines: int
    analyze_after_rows: int
    write_attempts: int
    redispatch_after_seconds: int


def sync_config() -> SyncConfig:
    """Read at call time, so tests can override with pytest-django's `settings` fixture."""
    values = {name: type(default)(getattr(settings, name, default)) for name, default in DEFAULTS.items()}
    return SyncConfig(**{name.removeprefix("SYNC_").lower(): value for name, value in values.items()})
