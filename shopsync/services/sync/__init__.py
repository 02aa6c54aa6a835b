"""The sync engine: one guarded pipeline for every mode (initial, incremental, populate, update, full).

Public API (everything else in this package is internal):
- `ensure_sync(...) -> EnsureResult(session, created)`: the only way to start a sync.
- `sync_first_run_ensure(shop=...) -> EnsureResult | None`: the initial sync of a shop never synced
  (auto on first run: the dashboard calls it).
- `sync_session_run(session_id=..., task_id=...)`: run (or resume) a session; called by the task.
- `sync_watchdog()`, `sync_incremental_all_shops()`: the periodic jobs.
- `sync_session_clear(...)`: "clear stuck run" for admins.
- `sync_sessions_resume_orphaned(before=...)`: resume sessions a stopped process left (start-up).
- `retry_failed_batches(...) -> RetryFailedBatchesResult(retried_count, still_failed_count)`.
- `failed_batch_retry(item=...) -> bool`: retry one failed batch (the admin's "Retry now").
- `bulk_operation_finished(...)`: the `bulk_operations/finish` webhook's hook.
- `shop_connect(...)`: register a shop with an existing token (CLI).
- `records_fetch_by_ids(...) -> {shopify_id: unit}`: records from Shopify by id, children complete.
- `database_connection_lost(exc) -> bool`: whether an error means the database connection is gone.
"""

from shopsync.services.sync.bulk_events import bulk_operation_finished
from shopsync.services.sync.by_id import records_fetch_by_ids
from shopsync.services.sync.connect import shop_connect
from shopsync.services.sync.database import database_connection_lost
from shopsync.services.sync.errors import SyncInputError, SyncStopped
from shopsync.services.sync.failed_batches import (
    RetryFailedBatchesResult,
    failed_batch_retry,
    retry_failed_batches,
)
from shopsync.services.sync.first_run import sync_first_run_ensure
from shopsync.services.sync.guard import (
    SYNC_MAX_DAYS,
    SYNC_MAX_STALE_AFTER_MINS,
    EnsureResult,
    ensure_sync,
    sync_request_validate,
)
from shopsync.services.sync.maintenance import (
    OrphanReport,
    WatchdogReport,
    sync_incremental_all_shops,
    sync_session_clear,
    sync_session_fail_by_id,
    sync_sessions_resume_orphaned,
    sync_watchdog,
)
from shopsync.services.sync.runner import sync_session_run

__all__ = [
    "SYNC_MAX_DAYS",
    "SYNC_MAX_STALE_AFTER_MINS",
    "EnsureResult",
    "OrphanReport",
    "RetryFailedBatchesResult",
    "SyncInputError",
    "SyncStopped",
    "WatchdogReport",
    "bulk_operation_finished",
    "database_connection_lost",
    "ensure_sync",
    "failed_batch_retry",
    "records_fetch_by_ids",
    "retry_failed_batches",
    "shop_connect",
    "sync_first_run_ensure",
    "sync_incremental_all_shops",
    "sync_request_validate",
    "sync_session_clear",
    "sync_session_fail_by_id",
    "sync_session_run",
    "sync_sessions_resume_orphaned",
    "sync_watchdog",
]
