"""Healing what a reconciliation found: missing and stale records are fetched again by id and
written through the write path (last write wins, so a record a webhook updated meanwhile is not
overwritten with an older copy); extras are soft-deleted. A record that cannot be parsed goes to the
dead letters (source=reconciliation), like any other record that fails to write."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from django.utils import timezone

from shopsync.models import FailedSyncItem, Shop
from shopsync.payloads import PayloadValidationError
from shopsync.resources import Resource
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.sync import records_fetch_by_ids
from shopsync.services.sync.units import unit_parse
from shopsync.services.upsert import records_soft_delete, records_upsert
from shopsync.shopify.client import ShopifyClient

logger = logging.getLogger(__name__)

# Ids fetched (and written) together: Shopify's input array limit, and a bounded batch in memory.
REFETCH_CHUNK = 250
SOFT_DELETE_CHUNK = 1000
MAX_ERRORS_KEPT = 20


@dataclass(slots=True)
class HealResult:
    refetched: int = 0  # ids asked of Shopify again
    written: int = 0  # rows the write path created or updated
    not_found: int = 0  # gone from Shopify since the snapshot (soft-deleted if we had them)
    soft_deleted: int = 0  # extras plus not-found
    failed: int = 0  # unparseable: dead-lettered
    content_rewritten: int = 0  # the content sample's differing records, written at the same version
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reconciliation_heal(
    *, shop: Shop, resource: str, client: ShopifyClient, refetch_ids: Iterable[int], extra_ids: Iterable[int]
) -> HealResult:
    resource = Resource(resource)
    result = HealResult()
    for ids in _chunks(iter(refetch_ids), REFETCH_CHUNK):
        _heal_chunk(shop=shop, resource=resource, client=client, ids=ids, result=result)
    for chunk in _chunks(iter(extra_ids), SOFT_DELETE_CHUNK):
        result.soft_deleted += _soft_delete(shop=shop, resource=resource, shopify_ids=chunk)
    logger.info("reconciliation heal of %s %s: %s", shop.domain, resource, result.as_dict())
    return result


def _heal_chunk(
    *, shop: Shop, resource: Resource, client: ShopifyClient, ids: list[int], result: HealResult
) -> None:
    result.refetched += len(ids)
    units = records_fetch_by_ids(client=client, resource=resource, shopify_ids=ids)
    gone = [shopify_id for shopify_id in ids if shopify_id not in units]
    result.not_found += len(gone)
    result.soft_deleted += _soft_delete(shop=shop, resource=resource, shopify_ids=gone)
    records = []
    for shopify_id, unit in units.items():
        try:
            records.append(unit_parse(resource, unit))
        except PayloadValidationError as exc:
            result.failed += 1
            _keep_error(result, f"{shopify_id}: {exc}")
            dead_letter_record(
                shop=shop, entity_type=resource.singular, shopify_id=shopify_id, payload=unit, error=exc,
                source=FailedSyncItem.Source.RECONCILIATION,
            )  # fmt: skip
    if records:
        written = records_upsert(shop=shop, resource=resource, records=records)
        result.written += written.created + written.updated


def _soft_delete(*, shop: Shop, resource: Resource, shopify_ids: list[int]) -> int:
    if not shopify_ids:
        return 0
    return records_soft_delete(
        shop=shop, resource=resource, shopify_ids=shopify_ids, deleted_at=timezone.now()
    )


def _keep_error(result: HealResult, error: str) -> None:
    if len(result.errors) < MAX_ERRORS_KEPT:
        result.errors.append(error[:500])


def _chunks(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    while chunk := list(islice(ids, size)):
        yield chunk
