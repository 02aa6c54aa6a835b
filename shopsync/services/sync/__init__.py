"""The sync engine: one guarded pipeline for every mode (initial, incremental, populate, update, full).

Public API (everything else in this package is internal):
- `ensure_sync(...) -> EnsureResult(session, created)`: the only way to start a sync.
- `sync_session_run(session_id=..., task_id=...)`: run (or resume) a session; called by the task.
- `sync_watchdog()`, `sync_incremental_all_shops()`: the periodic jobs.
- `sync_session_clear(...)`: "clear stuck run" for admins.
- `retry_failed_batches(...) -> RetryFailedBatchesResult(retried_count, still_failed_count)`.
- `bulk_operation_finished(...)`: the `bulk_operations/finish` webhook's hook.
- `shop_connect(...)`: register a shop with an existing token (CLI).
"""

from shopsync.services.sync.bulk_events import bulk_operation_finished
from shopsync.services.sync.connect import shop_connect
from shopsync.services.sync.errors import SyncInputError, SyncStopped
from shopsync.services.sync.guard import EnsureResult, ensure_sync, sync_request_validate
from shopsync.services.sync.maintenance import (
    WatchdogReport,
    sync_incremental_all_shops,
    sync_session_clear,
    sync_session_fail_by_id,
    sync_watchdog,
)

# The run and the batch retry pull in the write path and the Shopify client: imported on first use,
# so importing the guard (install flow, webhooks) stays light.
_LAZY = {
    "RetryFailedBatchesResult": "shopsync.services.sync.failed_batches",
    "retry_failed_batches": "shopsync.services.sync.failed_batches",
    "sync_session_run": "shopsync.services.sync.runner",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EnsureResult",
    "RetryFailedBatchesResult",
    "SyncInputError",
    "SyncStopped",
    "WatchdogReport",
    "bulk_operation_finished",
    "ensure_sync",
    "retry_failed_batches",
    "shop_connect",
    "sync_incremental_all_shops",
    "sync_request_validate",
    "sync_session_clear",
    "sync_session_fail_by_id",
    "sync_session_run",
    "sync_watchdog",
]
