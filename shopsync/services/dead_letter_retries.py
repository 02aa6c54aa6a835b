"""Retrying dead letters (recorded by `shopsync.services.dead_letters`).

The beat task runs `dead_letters_retry_due`, the admin's "Retry now" `dead_letter_retry`; each retries
an item through the same write path it first failed in:

- order / customer / product: the stored raw payload is parsed again (REST or GraphQL shape, see
  `payload_shape`) and written with `records_upsert`. A payload that does not validate (Shopify
  served it malformed) is not retried as is: the item resolves when our row is already at least as
  new, else the record is fetched again by id (`records_fetch_by_ids`) and written, or soft-deleted if gone;
- webhook: the delivery is re-run by the webhooks app, whose retrier is registered here when it is
  ready (`dead_letter_retrier_register`): webhooks sits above shopsync, which never imports it;
- batch: the sync engine's `failed_batch_retry` re-writes that one batch.

The schedule is `shopsync.services.dead_letters.retry_delay`.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shopsync.models import FailedSyncItem
from shopsync.payloads import PayloadValidationError
from shopsync.payloads.errors import readable_id
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.resources import DECLARATIONS, Resource, declaration_for, declaration_for_singular
from shopsync.services.dead_letters import (
    dead_letter_mark_retry_failed,
    dead_letter_resolve_success,
    dead_letters_due,
)
from shopsync.services.sync import failed_batch_retry, records_fetch_by_ids
from shopsync.services.sync.units import node_parse, unit_parse
from shopsync.services.upsert import records_soft_delete, records_upsert
from shopsync.shopify.client import ShopifyClient

logger = logging.getLogger(__name__)

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


type Retrier = Callable[[FailedSyncItem, datetime], None]


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
        _retrier(item.entity_type)(item, now)
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


def _retry_record(item: FailedSyncItem, now: datetime) -> None:
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
    # The write and the resolution commit together: a resolved item always means the row is there.
    with transaction.atomic():
        records_upsert(shop=item.shop, resource=_resource(resource), records=[record])
        dead_letter_resolve_success(item=item, now=now)


def _heal_record(*, item: FailedSyncItem, resource: str, stored_error: Exception, now: datetime) -> None:
    """Resolve a record item whose stored payload does not validate:

    1. cheap pre-check: our row is at least as new as the payload's `updated_at` (when readable);
    2. otherwise fetch the record from Shopify by id and write it through the write path;
    3. gone from Shopify (null node): soft-delete our row.
    Anything else raises, which counts a failed retry on the normal schedule.
    """
    shopify_id = item.shopify_id or _payload_shopify_id(item.payload)
    if shopify_id is None:
        raise DeadLetterRetryError(f"{stored_error}; the record has no readable id to fetch it again")
    if _row_is_current(item=item, resource=resource, shopify_id=shopify_id):
        dead_letter_resolve_success(item=item, now=now,
                                    note="our row is already at least as new as the failed payload")  # fmt: skip
        return
    unit = _record_fetch(item=item, resource=resource, shopify_id=shopify_id)
    if unit is None:
        with transaction.atomic():
            _soft_delete_record(item=item, resource=resource, shopify_id=shopify_id, now=now)
            dead_letter_resolve_success(item=item, now=now,
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
    # One attempt chain, briefly: the dead-letter schedule is the retry policy here, and the admin's
    # "Retry now" runs inside a request.
    client = ShopifyClient.for_shop(item.shop, max_attempts=REFETCH_MAX_ATTEMPTS,
                                    throttle_budget_seconds=REFETCH_THROTTLE_BUDGET_SECONDS)  # fmt: skip
    units = records_fetch_by_ids(
        client=client, resource=resource, shopify_ids=[shopify_id], child_page_size=REFETCH_CHILD_PAGE_SIZE
    )
    return units.get(shopify_id)


def _parse_unit(*, resource: str, unit: dict[str, Any]) -> Any:
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
    if not isinstance(payload, dict) or not payload:
        raise DeadLetterRetryError("the stored payload is empty; nothing to retry with")
    declaration = declaration_for(resource)
    if payload_shape(payload) is PayloadShape.REST:
        return declaration.parse_rest(_without_hint(payload))
    if "node" not in payload:
        return parse_graphql_node(declaration, _without_hint(payload))
    # A unit from a paged query: its children gathered beside the node, or nested in it.
    return node_parse(resource, payload["node"], payload.get("children"))


def _without_hint(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "_shape"}


def _resource(name: str) -> Resource:
    return Resource(name)


def _retry_batch(item: FailedSyncItem, now: datetime) -> None:
    # The sync engine rewrites this one batch and records a failed try on the item itself: a batch
    # that fails again must not be counted twice here.
    if not failed_batch_retry(item=item):
        raise _FailureAlreadyRecorded("the batch failed again")


class _FailureAlreadyRecorded(DeadLetterRetryError):
    """The retrier recorded the failed retry on the item already."""


# Webhook deliveries are retried by the webhooks app, which sits above shopsync (R17): it adds its
# retrier when it is ready (webhooks/apps.py), through `dead_letter_retrier_register`.
# Every resource's records (their entity type is the declaration's singular name).
_RETRIERS: dict[str, Retrier] = {
    **{declaration.singular: _retry_record for declaration in DECLARATIONS.values()},
    FailedSyncItem.EntityType.BATCH: _retry_batch,
}


def dead_letter_retrier_register(*, entity_type: str, retrier: Retrier) -> None:
    """Retry dead letters of `entity_type` with `retrier(item, now)`, which resolves the item on
    success (`dead_letter_resolve_success`) and raises on failure (a failed retry is counted)."""
    _RETRIERS[FailedSyncItem.EntityType(entity_type)] = retrier


def _retrier(entity_type: str) -> Retrier:
    retrier = _RETRIERS.get(entity_type)
    if retrier is None:
        raise DeadLetterRetryError(f"nothing here retries {entity_type} dead letters")
    return retrier
