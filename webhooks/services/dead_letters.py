"""Retrying a webhook delivery's dead letter: run the stored delivery again.

Dead letters live in shopsync, below webhooks (R17), so shopsync cannot call in here: webhooks adds
this retrier to shopsync's when it is ready (`webhooks.apps`), and the beat task and the admin's
"Retry now" reach it through `dead_letter_retry` like any other."""

from __future__ import annotations

from datetime import datetime

from shopsync.models import FailedSyncItem
from shopsync.services.dead_letter_retries import DeadLetterRetryError
from shopsync.services.dead_letters import dead_letter_resolve_success
from webhooks.models import WebhookLog
from webhooks.services.processing import webhook_log_reprocess


def webhook_dead_letter_retry(item: FailedSyncItem, now: datetime) -> None:
    """Re-run the delivery `item.source_ref` names, and resolve the item. Raises if the delivery is
    gone or fails again (the caller counts a failed retry)."""
    webhook_log_id = int(item.source_ref) if item.source_ref.isdigit() else None
    webhook_log = WebhookLog.objects.filter(pk=webhook_log_id, shop_id=item.shop_id).first()
    if webhook_log is None:
        raise DeadLetterRetryError(f"webhook log {item.source_ref!r} no longer exists")
    webhook_log_reprocess(webhook_log=webhook_log)
    dead_letter_resolve_success(item=item, now=now)
