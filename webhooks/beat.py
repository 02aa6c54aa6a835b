"""Periodic webhook tasks kept as plain data, merged into CELERY_BEAT_SCHEDULE by settings (the
sweeper, older, is scheduled by migration 0002). On the `maintenance` queue: the `webhooks`
queue is for deliveries."""

from __future__ import annotations

WEBHOOK_BEAT_SCHEDULE: dict[str, dict] = {
    "webhook-logs-prune": {
        "task": "webhooks.tasks.webhook_logs_prune_task",
        "schedule": 60 * 60.0,
        "options": {"queue": "maintenance", "expires": 55 * 60},
    },
}
