"""Retrying write batches that failed during a sync (dead letters with entity_type=batch)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from shopsync.models import FailedSyncItem, Shop
from shopsync.resources import Resource
from shopsync.services.dead_letters import dead_letter_mark_retry_failed
from shopsync.services.sync.record_codec import batch_from_json
from shopsync.services.sync.writing import WRITE_ERRORS
from shopsync.services.upsert import UpsertMode, records_upsert

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryFailedBatchesResult:
    """`retried_count`: batches written now (resolved); `still_failed_count`: batches that failed again."""

    retried_count: int
    still_failed_count: int


def retry_failed_batches(
    *, shop: Shop, resources: Iterable[str] | None = None, limit: int = 100
) -> RetryFailedBatchesResult:
    """Write the shop's open failed batches again, oldest first. Each batch is its own transaction;
    one that fails again stays open with its retry count and error updated. Batches another caller
    is retrying right now are skipped (row locks with SKIP LOCKED)."""
    items = FailedSyncItem.objects.filter(
        shop=shop, entity_type=FailedSyncItem.EntityType.BATCH, resolved_at__isnull=True
    ).order_by("created_at")
    if resources is not None:
        items = items.filter(payload__resource__in=list(resources))
    retried = still_failed = 0
    for item_id in list(items.values_list("pk", flat=True)[:limit]):
        outcome = _retry_one(item_id=item_id, shop=shop)
        retried += outcome is True
        still_failed += outcome is False
    return RetryFailedBatchesResult(retried_count=retried, still_failed_count=still_failed)


def failed_batch_retry(*, item: FailedSyncItem) -> bool:
    """Write one failed batch again (the admin's "Retry now" on one item). True when it is written
    (resolved now, or already resolved by someone else meanwhile); False when it failed again, which
    is recorded on the item (retry count, error, next retry), or another worker is retrying it now."""
    if item.entity_type != FailedSyncItem.EntityType.BATCH:
        raise ValueError(f"dead letter {item.pk} is a {item.entity_type}, not a failed batch")
    outcome = _retry_one(item_id=item.pk, shop=item.shop)
    item.refresh_from_db()
    if outcome is None:
        return item.resolved_at is not None
    return outcome


def _retry_one(*, item_id: int, shop: Shop) -> bool | None:
    """True: written; False: failed again; None: someone else has it or it was resolved meanwhile."""
    error: Exception | None = None
    try:
        with transaction.atomic():
            item = (
                FailedSyncItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, resolved_at__isnull=True)
                .first()
            )
            if item is None:
                return None
            payload = item.payload or {}
            resource = Resource(payload["resource"])
            records = batch_from_json(resource, payload)
            with transaction.atomic():
                records_upsert(
                    shop=shop, resource=resource, records=records, mode=UpsertMode(payload["mode"])
                )
            now = timezone.now()
            # `retry_count` counts failed retries only (the dead-letter schedule's rule).
            FailedSyncItem.objects.filter(pk=item.pk).update(
                resolved_at=now, resolution=FailedSyncItem.Resolution.SUCCESS, last_retried_at=now,
                next_retry_at=None, updated_at=now,
            )  # fmt: skip
            return True
    except (*WRITE_ERRORS, KeyError, ValueError, TypeError) as exc:
        error = exc
    logger.warning("failed batch %s failed again: %s", item_id, error)
    item = FailedSyncItem.objects.filter(pk=item_id).first()
    if item is not None:
        dead_letter_mark_retry_failed(item=item, error=error)
    return False
