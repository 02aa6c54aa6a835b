"""Reacting to Shopify's `bulk_operations/finish` webhook."""

from __future__ import annotations

import logging

from django.utils import timezone

from shopsync.models import Shop, SyncJob

logger = logging.getLogger(__name__)


def bulk_operation_finished(*, shop: Shop, bulk_operation_id: str, status: str) -> int:
    """Wake the run waiting on this bulk operation: its wait loop polls `bulk_finished_at` between
    polls of Shopify, so the webhook only shortens the wait (polling stays the fallback, since
    webhook delivery is not guaranteed). Returns how many jobs were waiting on it (0 for an operation
    that is not ours, e.g. one started by hand or already consumed)."""
    now = timezone.now()
    woken = SyncJob.objects.filter(
        shop=shop, bulk_operation_id=bulk_operation_id, bulk_finished_at__isnull=True
    ).update(bulk_finished_at=now, bulk_status=status.upper()[:16], updated_at=now)
    logger.info(
        "bulk operation finished shop_id=%s id=%s status=%s jobs=%s",
        shop.pk,
        bulk_operation_id,
        status,
        woken,
    )
    return woken
