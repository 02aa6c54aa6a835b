"""Periodic tasks of reconciliation, health and dead letters, for the lead to merge into settings:
`CELERY_BEAT_SCHEDULE.update(RECONCILIATION_BEAT_SCHEDULE)`. Plain data, so settings can import it.
All run on the `maintenance` queue; `expires` drops a run the workers could not start in time, since
the next one is coming anyway."""

from __future__ import annotations

from celery.schedules import crontab

RECONCILIATION_BEAT_SCHEDULE: dict[str, dict] = {
    "dead-letters-retry-due": {
        "task": "reconciliation.tasks.dead_letters_retry_due_task",
        "schedule": 5 * 60.0,
        "options": {"queue": "maintenance", "expires": 4 * 60},
    },
    "health-sample-all-shops": {
        "task": "reconciliation.tasks.health_sample_all_task",
        "schedule": 5 * 60.0,
        "options": {"queue": "maintenance", "expires": 4 * 60},
    },
    "reconciliation-daily": {
        "task": "reconciliation.tasks.reconciliation_run_all_task",
        # Quiet hours (UTC); a daily full comparison, one bulk export per shop and resource.
        "schedule": crontab(hour=3, minute=17),
        "options": {"queue": "maintenance", "expires": 6 * 3600},
    },
}
