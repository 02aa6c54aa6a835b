"""Reconciliation's content sample: some records both sides hold at the same `updated_at` are fetched
again by id and compared column by column, child by child, with our rows.

Shopify changes some records without moving their `updated_at`: deleting a product clears the
product and variant ids on the line items that sold it, and the orders stay at their version. The
mirror clears them itself when it learns of the delete; this sample finds what it could not learn
(a delete it never heard of, an order written from a copy older than the delete at the same version)
and, when healing, writes Shopify's copy through the write path. At the same version that write
goes through: ties win there ("a refetch of the same version is authoritative"), a differing column
is rewritten and the children of a record at the staged version are replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shopsync.models import Shop
from shopsync.payloads import PayloadValidationError
from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource
from shopsync.services.sync import records_fetch_by_ids
from shopsync.services.sync.units import unit_parse
from shopsync.services.upsert import records_upsert
from shopsync.services.upsert.content import content_differences, record_content, stored_content
from shopsync.shopify.client import ShopifyClient

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ContentSampleResult:
    checked: int = 0  # compared at the same version
    differing: list[int] = field(default_factory=list)  # ids whose content differs
    # What differed, per id (column names, child lists), for the log.
    differences: dict[int, list[str]] = field(default_factory=dict)
    rewritten: int = 0  # healed: rows the write path rewrote


def content_sample_check(
    *, shop: Shop, resource: str, client: ShopifyClient, shopify_ids: Sequence[int], heal: bool
) -> ContentSampleResult:
    """Fetch `shopify_ids` by id (`nodes(ids:)`, the cost-aware by-id path) and compare each with our
    row where both are at the same version; with `heal`, write the differing ones."""
    resource = Resource(resource)
    result = ContentSampleResult()
    if not shopify_ids:
        return result
    units = records_fetch_by_ids(client=client, resource=resource, shopify_ids=shopify_ids)
    stored = stored_content(shop=shop, resource=resource, shopify_ids=list(units))
    differing: list[AnyRecord] = []
    for shopify_id, unit in units.items():
        try:
            record = unit_parse(resource, unit)
        except PayloadValidationError:
            continue  # unreadable: the next sync or heal dead-letters it with its payload
        held = stored.get(shopify_id)
        if held is None or not _same_second(record.shopify_updated_at, held.columns["shopify_updated_at"]):
            continue  # changed since the snapshot, or deleted here: not this check's business
        result.checked += 1
        differences = content_differences(resource=resource, expected=record_content(resource=resource, record=record),
                                          stored=held)  # fmt: skip
        if differences:
            result.differing.append(shopify_id)
            result.differences[shopify_id] = differences
            differing.append(record)
    if result.differing:
        logger.warning("content sample of %s %s: %s", shop.domain, resource, result.differences)
    if heal and differing:
        written = records_upsert(shop=shop, resource=resource, records=differing)
        result.rewritten = written.created + written.updated
    return result


def _same_second(ours: datetime | None, theirs: datetime | None) -> bool:
    return ours is not None and theirs is not None and int(ours.timestamp()) == int(theirs.timestamp())
