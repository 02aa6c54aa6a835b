"""Dead letters: records (or write batches, or webhook deliveries) that could not be written, kept
for retry.

Sync and webhooks record into it (`dead_letter_record`); the beat task `dead_letters_retry_due`
retries what is due through the same write path the record first failed in:

- order / customer / product: the stored raw payload is parsed again (REST or GraphQL shape, see
  `payload_shape`) and written with `records_upsert`. A payload that does not validate (Shopify
  served it malformed) is not retried as is: the item resolves when our row is already at least as
  new, else the record is fetched again by id (`records_fetch_by_ids`) and written, or soft-deleted if gone;
- webhook: the delivery is re-run by the webhooks app (`webhook_log_reprocess`);
- batch: the sync engine's `failed_batch_retry` re-writes that one batch.

Schedule: the first retry is due 1 minute after the failure, and after the n-th failed retry the
next is due 2^n minutes later (2, 4, 8, 16 ...). `retry_count` counts failed retries; at
`max_retries` the item stops (next_retry_at is cleared) and shows as exhausted until someone retries
it by hand, resolves it or abandons it.
"""

from __future__ import annotations

import enum
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shopsync.models import FailedSyncItem, Shop
from shopsync.resources import Resource, ResourceDeclaration, declaration_for, declaration_for_singular

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000
MAX_TRACE_CHARS = 20000
# How long a claimed retry is hidden from other workers. A worker that dies mid-retry leaves the
# item due again after this, without counting a failed retry against it.
CLAIM_LEASE = timedelta(minutes=15)
RETRY_DUE_BATCH_SIZE = 100
# Refetching a record whose stored payload is broken: few client-level attempts (the item's own
# schedule retries later), and a large first page of children (one record per query).
REFETCH_MAX_ATTEMPTS = 2
REFETCH_THROTTLE_BUDGET_SECONDS = 30.0
REFETCH_CHILD_PAGE_SIZE = 100


class PayloadShape(enum.StrEnum):
    REST = "rest"
    GRAPHQL = "graphql"


class RetryOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # counted; another retry is scheduled
    EXHAUSTED = "exhausted"  # counted; that was the last automatic retry
    SKIPPED = "skipped"  # already resolved, or another worker holds it


class DeadLetterRetryError(Exception):
    """A retry could not run at all (its webhook log is gone, its payload is empty ...)."""


@dataclass(frozen=True, slots=True)
class RetryDueSummary:
    succeeded: int = 0
    failed: int = 0
    exhausted: int = 0
    skipped: int = 0


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


# --- retrying ----------------------------------------------------------------------------------


def dead_letter_retry(*, item: FailedSyncItem, now: datetime | None = None) -> RetryOutcome:
    """Retry one item now, whether or not it is due (the admin's "Retry now" uses this too).

    1. Claim it with a conditional UPDATE on the schedule we read, so the beat task and an admin
       clicking at the same moment do not both retry it.
    2. Run the retry for its entity type.
    3. Success resolves it (resolution=success); failure counts a retry and schedules the next.
    """
    now = now or timezone.now()
    if not _claim(item=item, now=now):
        return RetryOutcome.SKIPPED
    try:
        _RETRIERS.get(item.entity_type, _retry_record)(item, now)
    except Exception as exc:  # every failure is recorded on the item, whatever its kind
        logger.info("dead letter retry failed item=%s type=%s: %s", item.pk, item.entity_type, exc)
        if not isinstance(exc, _FailureAlreadyRecorded):
            dead_letter_mark_retry_failed(item=item, error=exc, now=now)
        item.refresh_from_db()
        return RetryOutcome.EXHAUSTED if item.is_exhausted else RetryOutcome.FAILED
    item.refresh_from_db()
    return RetryOutcome.SUCCEEDED


def dead_letters_retry_due(
    *, now: datetime | None = None, limit: int = RETRY_DUE_BATCH_SIZE
) -> RetryDueSummary:
    """Retry up to `limit` items whose next retry is due (the beat task, every 5 minutes)."""
    now = now or timezone.now()
    counts = dict.fromkeys(RetryOutcome, 0)
    for item in dead_letters_due(now=now, limit=limit):
        counts[dead_letter_retry(item=item, now=now)] += 1
    return RetryDueSummary(
        succeeded=counts[RetryOutcome.SUCCEEDED],
        failed=counts[RetryOutcome.FAILED],
        exhausted=counts[RetryOutcome.EXHAUSTED],
        skipped=counts[RetryOutcome.SKIPPED],
    )


def dead_letter_resolve(*, item: FailedSyncItem, resolution: str, now: datetime | None = None) -> bool:
    """Close an open item by hand (manual: fixed elsewhere; abandoned: given up on). False when it
    was already resolved, so a double click changes nothing."""
    if resolution not in (FailedSyncItem.Resolution.MANUAL, FailedSyncItem.Resolution.ABANDONED):
        raise ValueError(f"resolution must be manual or abandoned, got {resolution!r}")
    return _resolve(item=item, resolution=resolution, now=now or timezone.now())


def payload_shape(payload: Any) -> PayloadShape:
    """Which parser a stored payload needs. GraphQL comes as a sync "unit" (`{"node": ...,
    "children": [...]}`) or a bare node, whose id is a GID string (`gid://shopify/Order/1`); REST and
    webhook JSON carry a numeric id. An explicit `"_shape"` wins over detection."""
    if isinstance(payload, dict):
        explicit = payload.get("_shape")
        if explicit in PayloadShape.__members__.values():
            return PayloadShape(explicit)
        if isinstance(payload.get("node"), dict):
            return PayloadShape.GRAPHQL
        if isinstance(payload.get("id"), str) and payload["id"].startswith("gid://"):
            return PayloadShape.GRAPHQL
    return PayloadShape.REST


def _claim(*, item: FailedSyncItem, now: datetime) -> bool:
    claimed = FailedSyncItem.objects.filter(
        pk=item.pk,
        resolved_at__isnull=True,
        retry_count=item.retry_count,
        next_retry_at=item.next_retry_at,
    ).update(next_retry_at=now + CLAIM_LEASE, updated_at=now)
    return claimed == 1


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


# The retriers import their collaborators in the body: the write path, the sync engine and the
# webhooks app all import this module to record failures, so module-level imports would be a cycle.


def _retry_record(item: FailedSyncItem, now: datetime) -> None:
    from shopsync.payloads import PayloadValidationError

    # A record's dead letter is typed by its resource's singular name ("order").
    resource = declaration_for_singular(item.entity_type).name
    try:
        record = _parse_record(resource=resource, payload=item.payload)
    except (PayloadValidationError, DeadLetterRetryError) as exc:
        # What Shopify served once was broken; re-parsing it fails forever. The record itself may
        # well be fine by now (a later page, webhook or full sync may even have written it).
        _heal_record(item=item, resource=resource, stored_error=exc, now=now)
        return
    _write_and_resolve(item=item, resource=resource, record=record, now=now)


def _write_and_resolve(*, item: FailedSyncItem, resource: str, record: Any, now: datetime) -> None:
    from shopsync.services.upsert import records_upsert

    # The write and the resolution commit together: a resolved item always means the row is there.
    with transaction.atomic():
        records_upsert(shop=item.shop, resource=_resource(resource), records=[record])
        _resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS, now=now)


def _heal_record(*, item: FailedSyncItem, resource: str, stored_error: Exception, now: datetime) -> None:
    """Resolve a record item whose stored payload does not validate:

    1. cheap pre-check: our row is at least as new as the payload's `updated_at` (when readable);
    2. otherwise fetch the record from Shopify by id and write it through the write path;
    3. gone from Shopify (null node): soft-delete our row.
    Anything else raises, which counts a failed retry on the normal schedule.
    """
    from shopsync.payloads import PayloadValidationError

    shopify_id = item.shopify_id or _payload_shopify_id(item.payload)
    if shopify_id is None:
        raise DeadLetterRetryError(f"{stored_error}; the record has no readable id to fetch it again")
    if _row_is_current(item=item, resource=resource, shopify_id=shopify_id):
        _resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS, now=now,
                 note="our row is already at least as new as the failed payload")  # fmt: skip
        return
    unit = _record_fetch(item=item, resource=resource, shopify_id=shopify_id)
    if unit is None:
        with transaction.atomic():
            _soft_delete_record(item=item, resource=resource, shopify_id=shopify_id, now=now)
            _resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS, now=now,
                     note="the record no longer exists in Shopify; soft-deleted")  # fmt: skip
        return
    try:
        record = _parse_unit(resource=resource, unit=unit)
    except PayloadValidationError as exc:
        raise DeadLetterRetryError(f"fetched again from Shopify, still invalid: {exc}") from exc
    _write_and_resolve(item=item, resource=resource, record=record, now=now)


def _record_fetch(*, item: FailedSyncItem, resource: str, shopify_id: int) -> dict[str, Any] | None:
    """The record as Shopify serves it now, as a sync unit (`{"node": ..., "children": [...]}`),
    or None when Shopify says it does not exist. Shopify errors propagate (classified, R7)."""
    from shopsync.services.sync import records_fetch_by_ids
    from shopsync.shopify.client import ShopifyClient

    # One attempt chain, briefly: the dead-letter schedule is the retry policy here, and the admin's
    # "Retry now" runs inside a request.
    client = ShopifyClient.for_shop(item.shop, max_attempts=REFETCH_MAX_ATTEMPTS,
                                    throttle_budget_seconds=REFETCH_THROTTLE_BUDGET_SECONDS)  # fmt: skip
    units = records_fetch_by_ids(
        client=client, resource=resource, shopify_ids=[shopify_id], child_page_size=REFETCH_CHILD_PAGE_SIZE
    )
    return units.get(shopify_id)


def _parse_unit(*, resource: str, unit: dict[str, Any]) -> Any:
    from shopsync.services.sync.units import unit_parse

    return unit_parse(_resource(resource), unit)


def _row_is_current(*, item: FailedSyncItem, resource: str, shopify_id: int) -> bool:
    payload_updated_at = _payload_updated_at(item.payload)
    if payload_updated_at is None:
        return False
    model = _record_model(resource)
    return model.objects.filter(
        shop_id=item.shop_id,
        shopify_id=shopify_id,
        deleted_at__isnull=True,
        shopify_updated_at__gte=payload_updated_at,
    ).exists()


def _soft_delete_record(*, item: FailedSyncItem, resource: str, shopify_id: int, now: datetime) -> None:
    from shopsync.services.upsert import records_soft_delete

    records_soft_delete(
        shop=item.shop, resource=_resource(resource), shopify_ids=[shopify_id], deleted_at=now
    )


def _record_model(resource: str) -> Any:
    return declaration_for(resource).model


def _payload_node(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {}
    node = payload.get("node")
    return node if isinstance(node, dict) else payload


def _payload_shopify_id(payload: Any) -> int | None:
    from shopsync.payloads.errors import readable_id

    return readable_id(_payload_node(payload), "id", "legacyResourceId", "admin_graphql_api_id")


def _payload_updated_at(payload: Any) -> datetime | None:
    node = _payload_node(payload)
    raw = node.get("updatedAt", node.get("updated_at"))
    if not isinstance(raw, str):
        return None
    try:
        parsed = parse_datetime(raw)
    except ValueError:
        return None
    return parsed if parsed is not None and timezone.is_aware(parsed) else None


def _parse_record(*, resource: str, payload: Any) -> Any:
    from shopsync.payloads.graphql import parse_graphql_node
    from shopsync.services.sync.units import node_parse

    if not isinstance(payload, dict) or not payload:
        raise DeadLetterRetryError("the stored payload is empty; nothing to retry with")
    declaration: ResourceDeclaration = declaration_for(resource)
    if payload_shape(payload) is PayloadShape.REST:
        return declaration.parse_rest(_without_hint(payload))
    if "node" not in payload:
        return parse_graphql_node(declaration, _without_hint(payload))
    # A unit from a paged query: its children gathered beside the node, or nested in it.
    return node_parse(resource, payload["node"], payload.get("children"))


def _without_hint(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "_shape"}


def _resource(name: str) -> Any:
    return Resource(name)


def _retry_webhook(item: FailedSyncItem, now: datetime) -> None:
    from webhooks.models import WebhookLog
    from webhooks.services.processing import webhook_log_reprocess

    webhook_log = WebhookLog.objects.filter(pk=_as_int(item.source_ref), shop_id=item.shop_id).first()
    if webhook_log is None:
        raise DeadLetterRetryError(f"webhook log {item.source_ref!r} no longer exists")
    webhook_log_reprocess(webhook_log=webhook_log)
    _resolve(item=item, resolution=FailedSyncItem.Resolution.SUCCESS, now=now)


def _retry_batch(item: FailedSyncItem, now: datetime) -> None:
    from shopsync.services.sync import failed_batch_retry

    # The sync engine rewrites this one batch and records a failed try on the item itself: a batch
    # that fails again must not be counted twice here.
    if not failed_batch_retry(item=item):
        raise _FailureAlreadyRecorded("the batch failed again")


class _FailureAlreadyRecorded(DeadLetterRetryError):
    """The retrier recorded the failed retry on the item already."""


# Every other entity type is a resource's record (its declaration's singular name).
_RETRIERS: dict[str, Callable[[FailedSyncItem, datetime], None]] = {
    FailedSyncItem.EntityType.WEBHOOK: _retry_webhook,
    FailedSyncItem.EntityType.BATCH: _retry_batch,
}


def _as_int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


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
