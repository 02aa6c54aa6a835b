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
    # Fair turns. The sync processes of the whole fleet: the sum of the concurrency (`-c`) of every
    # worker consuming the sync queues. The caps below are derived from it when left at 0, so they
    # grow with the fleet and never equal it where that would let one thing hold every process.
    "SYNC_WORKER_CONCURRENCY": 2,
    # Running sessions of one shop: max(1, processes - 1), so one shop never holds every process.
    "SYNC_MAX_RUNNING_PER_SHOP": 0,
    # Running sessions in the fleet: the processes (set lower to spare the database).
    "SYNC_MAX_RUNNING_TOTAL": 0,
    # Running bulk sessions (initial, full, populate): max(1, processes - 1), so even workers that
    # consume both sync queues always keep a process for incremental and update runs.
    "SYNC_MAX_RUNNING_BACKFILLS": 0,
    # A bulk run gives its process back after this long, at a committed batch (or while Shopify is
    # still preparing its export), and queues again behind the others (`slicing.py`).
    "SYNC_BACKFILL_SLICE_SECONDS": 60.0,
    # The same for incremental and update runs, at a committed page.
    "SYNC_DELTA_SLICE_SECONDS": 60.0,
    # Incremental runs start this far before the watermark: clock skew and same-second writes.
    "SYNC_INCREMENTAL_OVERLAP_SECONDS": 120,
    "SYNC_BULK_BATCH_SIZE": 2000,
    # First poll interval of a running bulk operation; later polls wait up to 5 % of the time waited
    # so far (at most 30 s), so a finished export is noticed at most 5 % late.
    "SYNC_BULK_POLL_INTERVAL_SECONDS": 1.0,
    "SYNC_BULK_TIMEOUT_SECONDS": 6 * 3600,
    "SYNC_PAGE_SIZE": 250,
    # An incremental or update job whose window holds at least this many records (Shopify's count)
    # reads it with a bulk query filtered on `updated_at` instead of pages (0: always pages).
    "SYNC_BULK_DELTA_THRESHOLD": 100,
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
    worker_concurrency: int
    max_running_per_shop: int
    max_running_total: int
    max_running_backfills: int
    backfill_slice_seconds: float
    delta_slice_seconds: float
    incremental_overlap_seconds: int
    bulk_batch_size: int
    bulk_poll_interval_seconds: float
    bulk_timeout_seconds: int
    page_size: int
    bulk_delta_threshold: int
    bulk_prefetch: int
    bulk_parse_process_min_lines: int
    analyze_after_rows: int
    write_attempts: int
    redispatch_after_seconds: int


def sync_config() -> SyncConfig:
    """Read at call time, so tests can override with pytest-django's `settings` fixture."""
    values = {name: type(default)(getattr(settings, name, default)) for name, default in DEFAULTS.items()}
    values.update(running_caps(
        worker_concurrency=values["SYNC_WORKER_CONCURRENCY"], per_shop=values["SYNC_MAX_RUNNING_PER_SHOP"],
        total=values["SYNC_MAX_RUNNING_TOTAL"], backfills=values["SYNC_MAX_RUNNING_BACKFILLS"],
    ))  # fmt: skip
    return SyncConfig(**{name.removeprefix("SYNC_").lower(): value for name, value in values.items()})


def running_caps(*, worker_concurrency: int, per_shop: int, total: int, backfills: int) -> dict[str, int]:
    """The caps as set, or (0) derived from the fleet's sync processes: a shop, and the backfills
    together, may hold all of them but one (with a single process, that one); the fleet all of them."""
    processes = max(1, worker_concurrency)
    short_of_all = max(1, processes - 1)
    return {
        "SYNC_MAX_RUNNING_PER_SHOP": per_shop or short_of_all,
        "SYNC_MAX_RUNNING_TOTAL": total or processes,
        "SYNC_MAX_RUNNING_BACKFILLS": backfills or short_of_all,
    }
