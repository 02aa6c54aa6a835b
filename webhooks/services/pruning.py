"""Retention: finished deliveries are deleted once they are older than the retention period.

Every delivery is stored with its raw body (up to WEBHOOK_MAX_BODY_BYTES), so without this the
table grows by every webhook a shop ever sent. Only deliveries that are done with are deleted:
processed or ignored ones. Received, processing and failed deliveries are still owed work (the
sweeper's), and dead ones back an open dead letter (retried from the admin by their id), so
those stay whatever their age.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import PrivacyRequest, WebhookLog

FINISHED_STATUSES = (WebhookLog.Status.PROCESSED, WebhookLog.Status.IGNORED)
BATCH_SIZE = 2000
# A run stops starting batches after this long (the task's time limit is above it); the next
# hourly run goes on from where it stopped, so a first run over years of deliveries cannot
# hold a worker for hours.
TIME_BUDGET_SECONDS = 45.0


def webhook_logs_prune(
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget_seconds: float = TIME_BUDGET_SECONDS,
) -> int:
    """Delete finished deliveries received more than WEBHOOK_LOG_RETENTION_DAYS ago; returns how
    many. Batches go oldest id first, each in its own short transaction, so concurrent receipts
    and processing are never held up behind a large delete."""
    retention_days = settings.WEBHOOK_LOG_RETENTION_DAYS
    if retention_days <= 0:
        return 0  # kept forever
    cutoff = (now or timezone.now()) - timedelta(days=retention_days)
    started = time.monotonic()
    deleted = 0
    while time.monotonic() - started < time_budget_seconds:
        batch = _delete_batch(cutoff=cutoff, batch_size=batch_size)
        deleted += batch
        if batch < batch_size:
            break
    return deleted


def _delete_batch(*, cutoff: datetime, batch_size: int) -> int:
    # Oldest ids first through the primary key: old deliveries are at its head, so each batch is a
    # short index scan, and no extra index on received_at is needed (one would cost every receipt).
    ids = list(
        WebhookLog.objects.filter(status__in=FINISHED_STATUSES, received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return 0
    with transaction.atomic():
        # A privacy request outlives its delivery: it is the record that we complied.
        PrivacyRequest.objects.filter(webhook_log_id__in=ids).update(webhook_log=None)
        # One DELETE by id. QuerySet.delete() would first load every row (bodies included, up to
        # 5 MB each) to apply the privacy request's SET_NULL in Python, done just above instead.
        return WebhookLog.objects.filter(pk__in=ids, status__in=FINISHED_STATUSES)._raw_delete(
            WebhookLog.objects.db
        )
