"""Dead letters: records (or write batches, or webhook deliveries) that could not be written, kept
for retry. Sync, webhooks and reconciliation record them here (`dead_letter_record`). Retrying them
is `shopsync.services.dead_letter_retries`, which sits above the sync engine and the write path, so
that those can record here without an import circle.

Schedule: the first retry is due 1 minute after the failure, and after the n-th failed retry the
next is due 2^n minutes later (2, 4, 8, 16 ...). `retry_count` counts failed retries; at
`max_retries` the item stops (next_retry_at is cleared) and shows as exhausted until someone retries
it by hand, resolves it or abandons it.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from shopsync.models import FailedSyncItem, Shop

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000
MAX_TRACE_CHARS = 20000


@dataclass(frozen=True, slots=True)
class DeadLetterCounts:
    open: int
    exhausted: int


def retry_delay(retry_count: int) -> timedelta:
    """Exponential backoff: 2^n minutes after the n-th failed retry (1, 2, 4, 8, 16 ...)."""
    return timedelta(minutes=2**retry_count)


# --- recording ---------------------------------------------------------------------------------


def dead_letter_record(
    *,
    shop: Shop,
    entity_type: str,
    error: BaseException | str,
    shopify_id: int | None = None,
    payload: Any = None,
    source: str = FailedSyncItem.Source.SYNC,
    source_ref: str = "",
) -> FailedSyncItem:
    """Store a failure. A new failure of a record that already has an open item updates that item
    (payload, error) instead of adding a second one; the retry schedule is left as it was."""
    message, trace = _describe(error)
    values = {
        "payload": payload,
        "error_message": message,
        "error_trace": trace,
        "source": source,
        "source_ref": source_ref,
    }
    if shopify_id is None:
        return FailedSyncItem.objects.create(
            shop=shop, entity_type=entity_type, next_retry_at=timezone.now() + retry_delay(0), **values
        )
    open_items = FailedSyncItem.objects.filter(
        shop=shop, entity_type=entity_type, shopify_id=shopify_id, resolved_at__isnull=True
    )
    if open_items.update(**values, updated_at=timezone.now()):
        return open_items.get()
    try:
        with transaction.atomic():
            return FailedSyncItem.objects.create(
                shop=shop,
                entity_type=entity_type,
                shopify_id=shopify_id,
                next_retry_at=timezone.now() + retry_delay(0),
                **values,
            )
    except IntegrityError:
        # A concurrent writer opened the item between our update and insert: update theirs.
        open_items.update(**values, updated_at=timezone.now())
        return open_items.get()


def dead_letter_mark_retry_failed(
    *, item: FailedSyncItem, error: BaseException | str, now: datetime | None = None
) -> None:
    """Count a failed retry and schedule the next one 2^n minutes out, or none at `max_retries`."""
    message, trace = _describe(error)
    now = now or timezone.now()
    retry_count = item.retry_count + 1
    FailedSyncItem.objects.filter(pk=item.pk).update(
        retry_count=F("retry_count") + 1,
        last_retried_at=now,
        next_retry_at=None if retry_count >= item.max_retries else now + retry_delay(retry_count),
        error_message=message,
        error_trace=trace,
        updated_at=now,
    )


# --- resolving ---------------------------------------------------------------------------------


def dead_letter_resolve(*, item: FailedSyncItem, resolution: str, now: datetime | None = None) -> bool:
    """Close an open item by hand (manual: fixed elsewhere; abandoned: given up on). False when it
    was already resolved, so a double click changes nothing."""
    if resolution not in (FailedSyncItem.Resolution.MANUAL, FailedSyncItem.Resolution.ABANDONED):
        raise ValueError(f"resolution must be manual or abandoned, got {resolution!r}")
    return _resolve(item=item, resolution=resolution, now=now or timezone.now())


def dead_letter_resolve_success(*, item: FailedSyncItem, now: datetime, note: str = "") -> bool:
    """Close an item whose retry succeeded (a retrier's last step); `note` says how, when it was not
    by writing the stored payload. False when it was already resolved."""
    return _resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS, now=now, note=note)


def _resolve(*, item: FailedSyncItem, resolution: str, now: datetime, note: str = "") -> bool:
    retried = {"last_retried_at": now} if resolution == FailedSyncItem.Resolution.SUCCESS else {}
    if note:
        # No column of its own for how an item was resolved: the note leads the error text, and the
        # last error stays readable after it.
        logger.info("dead letter resolved item=%s: %s", item.pk, note)
        retried["error_message"] = f"Resolved: {note}. Last error: {item.error_message}"[:MAX_ERROR_CHARS]
    resolved = FailedSyncItem.objects.filter(pk=item.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolution=resolution, next_retry_at=None, updated_at=now, **retried
    )
    if resolved:
        item.refresh_from_db()
    return resolved == 1


def _describe(error: BaseException | str) -> tuple[str, str]:
    if isinstance(error, BaseException):
        trace = "".join(traceback.format_exception(error))
        return str(error)[:MAX_ERROR_CHARS] or type(error).__name__, trace[:MAX_TRACE_CHARS]
    return str(error)[:MAX_ERROR_CHARS], ""


# --- reads (selectors; here until shopsync grows a selectors package of its own) ----------------


def dead_letters_open() -> QuerySet[FailedSyncItem]:
    return FailedSyncItem.objects.filter(resolved_at__isnull=True)


def dead_letters_exhausted() -> QuerySet[FailedSyncItem]:
    return dead_letters_open().filter(retry_count__gte=F("max_retries"))


def dead_letters_due(*, now: datetime, limit: int) -> list[FailedSyncItem]:
    """Open, not exhausted, due by `now`; oldest schedule first (served by the partial index)."""
    return list(
        dead_letters_open()
        .filter(retry_count__lt=F("max_retries"), next_retry_at__lte=now)
        .select_related("shop")
        .order_by("next_retry_at", "pk")[:limit]
    )


def dead_letter_counts(*, shop: Shop) -> DeadLetterCounts:
    counts = FailedSyncItem.objects.filter(shop=shop, resolved_at__isnull=True).aggregate(
        open=Count("pk"), exhausted=Count("pk", filter=Q(retry_count__gte=F("max_retries")))
    )
    return DeadLetterCounts(open=counts["open"], exhausted=counts["exhausted"])


def dead_letter_counts_by_shop() -> dict[int, DeadLetterCounts]:
    """Open and exhausted counts for every shop that has open items (health and /metrics)."""
    rows = (
        dead_letters_open()
        .values("shop_id")
        .annotate(open=Count("pk"), exhausted=Count("pk", filter=Q(retry_count__gte=F("max_retries"))))
        .order_by()
    )
    return {row["shop_id"]: DeadLetterCounts(open=row["open"], exhausted=row["exhausted"]) for row in rows}
