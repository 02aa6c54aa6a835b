"""Dead letters: records (or write batches) that could not be written, kept for retry.

Issue #6 grows this module (retry scheduling, admin actions); sync and webhooks already record into it.
"""

from __future__ import annotations

import traceback
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shopsync.models import FailedSyncItem, Shop

MAX_ERROR_CHARS = 4000
MAX_TRACE_CHARS = 20000


def retry_delay(retry_count: int) -> timedelta:
    """Exponential backoff: 2^n minutes after the n-th failed retry (1, 2, 4, 8, 16 ...)."""
    return timedelta(minutes=2**retry_count)


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


def dead_letter_mark_retry_failed(*, item: FailedSyncItem, error: BaseException | str) -> None:
    message, trace = _describe(error)
    now = timezone.now()
    FailedSyncItem.objects.filter(pk=item.pk).update(
        retry_count=F("retry_count") + 1,
        last_retried_at=now,
        next_retry_at=now + retry_delay(item.retry_count + 1),
        error_message=message,
        error_trace=trace,
        updated_at=now,
    )


def _describe(error: BaseException | str) -> tuple[str, str]:
    if isinstance(error, BaseException):
        trace = "".join(traceback.format_exception(error))
        return str(error)[:MAX_ERROR_CHARS] or type(error).__name__, trace[:MAX_TRACE_CHARS]
    return str(error)[:MAX_ERROR_CHARS], ""
