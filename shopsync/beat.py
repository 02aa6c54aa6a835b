"""Periodic sync tasks, for the lead to merge into settings: `CELERY_BEAT_SCHEDULE.update(SYNC_BEAT_SCHEDULE)`.

Plain data (no Django imports), so settings can import it. django-celery-beat's DatabaseScheduler
seeds its tables from CELERY_BEAT_SCHEDULE on start. Both run on the `maintenance` queue: the
`sync` queue may be busy with hours-long backfills.
"""

from __future__ import annotations

SYNC_BEAT_SCHEDULE: dict[str, dict] = {
    "sync-incremental-all-shops": {
        "task": "shopsync.tasks.sync_incremental_all_shops_task",
        "schedule": 15 * 60.0,
        "options": {"queue": "maintenance", "expires": 14 * 60},
    },
    # With the 30 s heartbeat timeout, a dead worker's run is resumed 30-45 s after its last beat.
    "sync-watchdog": {
        "task": "shopsync.tasks.sync_watchdog_task",
        "schedule": 15.0,
        "options": {"queue": "maintenance", "expires": 14},
    },
}
