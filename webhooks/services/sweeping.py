"""The safety net behind "never lost": queue stored deliveries that nobody is processing.

A delivery can be stored but never published (no relay running, or the relay died between its
claim and its publish), published but lost (the broker restarted), claimed by a worker that died,
or waiting for a Celery retry that was lost with its message. Beat runs `webhook_logs_sweep_task`
every minute; queueing a delivery twice is harmless because processing starts with a conditional
claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from webhooks.models import WebhookLog
from webhooks.selectors import webhook_logs_failed_stalled, webhook_logs_waiting
from webhooks.services.relaying import webhook_logs_publish

# Long enough for the normal path (the relay's publish, a worker claim) to have happened.
WAITING_AFTER = timedelta(seconds=10)
# Longer than the task's hard time limit (120 s): a claim this old belongs to a dead worker.
STUCK_AFTER = timedelta(minutes=5)
# Longer than Celery's whole retry schedule (backoff capped at 120 s, 5 retries).
FAILED_STALLED_AFTER = timedelta(minutes=15)
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class SweepResult:
    unstuck: int
    queued_ids: tuple[int, ...]
    enqueue_failures: int

    @property
    def queued(self) -> int:
        return len(self.queued_ids)


def webhook_logs_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    now = now or timezone.now()
    # A claim by a worker that died: hand the delivery back (its attempt still counts).
    unstuck = WebhookLog.objects.filter(
        status=WebhookLog.Status.PROCESSING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=WebhookLog.Status.RECEIVED, last_error="worker stopped while processing", updated_at=now)
    ids = webhook_logs_waiting(waiting_since=now - WAITING_AFTER, limit=batch_size)
    ids += webhook_logs_failed_stalled(failed_before=now - FAILED_STALLED_AFTER, limit=batch_size)
    if not ids:
        return SweepResult(unstuck=unstuck, queued_ids=(), enqueue_failures=0)
    # Stamped like a relay claim, so neither the relay nor the next sweep publishes them again
    # before WAITING_AFTER; a refused publish releases them.
    WebhookLog.objects.filter(pk__in=ids).update(queued_at=now)
    queued = webhook_logs_publish(webhook_log_ids=ids)
    return SweepResult(unstuck=unstuck, queued_ids=queued, enqueue_failures=len(ids) - len(queued))
