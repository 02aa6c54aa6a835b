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
from shopsync.payloads import PayloadValidationError, Resource
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.sync.graphql_queries import SHAPES, children_query, query_cost_from_error
from shopsync.services.sync.units import unit_parse
from shopsync.services.upsert import records_soft_delete, records_upsert
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyPermanentError
from shopsync.shopify.queries import gid_to_id

logger = logging.getLogger(__name__)

MAX_IDS_PER_QUERY = 250  # Shopify's input array limit
MAX_QUERY_COST = 1000
CHILD_PAGE_SIZE = 20
# Starting ids per `nodes(ids:)` query; a MAX_COST_EXCEEDED answer shrinks it to fit.
IDS_PER_QUERY = {Resource.ORDERS: 5, Resource.PRODUCTS: 5, Resource.CUSTOMERS: 100}
SOFT_DELETE_CHUNK = 1000
MAX_ERRORS_KEPT = 20
GRAPHQL_TYPES = {Resource.ORDERS: "Order", Resource.CUSTOMERS: "Customer", Resource.PRODUCTS: "Product"}


@dataclass(slots=True)
class HealResult:
    refetched: int = 0  # ids asked of Shopify again
    written: int = 0  # rows the write path created or updated
    not_found: int = 0  # gone from Shopify since the snapshot (soft-deleted if we had them)
    soft_deleted: int = 0  # extras plus not-found
    failed: int = 0  # unparseable: dead-lettered
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reconciliation_heal(
    *, shop: Shop, resource: str, client: ShopifyClient, refetch_ids: Iterable[int], extra_ids: Iterable[int]
) -> HealResult:
    resource = Resource(resource)
    result = HealResult()
    fetcher = _NodeFetcher(client=client, resource=resource)
    for chunk in _chunks(iter(refetch_ids), MAX_IDS_PER_QUERY):
        for ids in fetcher.split(chunk):
            _heal_chunk(shop=shop, resource=resource, fetcher=fetcher, ids=ids, result=result)
    for chunk in _chunks(iter(extra_ids), SOFT_DELETE_CHUNK):
        result.soft_deleted += _soft_delete(shop=shop, resource=resource, shopify_ids=chunk)
    logger.info("reconciliation heal of %s %s: %s", shop.domain, resource, result.as_dict())
    return result


def _heal_chunk(
    *, shop: Shop, resource: Resource, fetcher: _NodeFetcher, ids: list[int], result: HealResult
) -> None:
    result.refetched += len(ids)
    units = fetcher.fetch(ids)
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


class _NodeFetcher:
    """`nodes(ids:)` with each root's first page of children, then `children_query` for the rest.
    Returns units (`{"node": ..., "children": [...]}`), the shape the sync engine's parser takes."""

    def __init__(self, *, client: ShopifyClient, resource: Resource) -> None:
        self.client = client
        self.resource = resource
        self.shape = SHAPES[resource]
        self.ids_per_query = IDS_PER_QUERY[resource]

    def split(self, ids: list[int]) -> Iterator[list[int]]:
        start = 0
        while start < len(ids):
            size = self.ids_per_query
            yield ids[start : start + size]
            start += size

    def fetch(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        gids = [f"gid://shopify/{GRAPHQL_TYPES[self.resource]}/{shopify_id}" for shopify_id in ids]
        try:
            variables = {"ids": gids} | (
                {"childFirst": CHILD_PAGE_SIZE} if self.shape.child_connection else {}
            )
            data = self.client.graphql(self._nodes_query(), variables)
        except ShopifyPermanentError as exc:
            if exc.code != "MAX_COST_EXCEEDED" or len(ids) == 1:
                raise
            self._shrink(str(exc), len(ids))
            return {k: v for part in self.split(ids) for k, v in self.fetch(part).items()}
        units = {}
        for node in data.get("nodes") or []:
            if node and node.get("id"):
                units[gid_to_id(node["id"])] = self._unit(node)
        return units

    def _shrink(self, message: str, asked: int) -> None:
        cost = query_cost_from_error(message) or MAX_QUERY_COST * 2
        self.ids_per_query = max(1, min(asked - 1, asked * MAX_QUERY_COST * 9 // (cost * 10)))
        logger.info(
            "nodes query for %s cost %s: now %s ids per query", self.resource, cost, self.ids_per_query
        )

    def _nodes_query(self) -> str:
        children, variables = "", "$ids: [ID!]!"
        if self.shape.child_connection:
            variables += ", $childFirst: Int!"
            children = (
                f"{self.shape.child_connection}(first: $childFirst) {{ pageInfo {{ hasNextPage endCursor }} "
                f"nodes {{ {_flat(self.shape.child_fields)} }} }}"
            )
        return (
            f"query ReconciliationNodes({variables}) {{ nodes(ids: $ids) {{ "
            f"... on {GRAPHQL_TYPES[self.resource]} {{ {_flat(self.shape.fields)} {children} }} }} }}"
        )

    def _unit(self, node: dict[str, Any]) -> dict[str, Any]:
        connection_name = self.shape.child_connection
        if not connection_name:
            return {"node": node, "children": None}
        connection = node.get(connection_name) or {}
        children = list(connection.get("nodes") or [])
        page_info = connection.get("pageInfo") or {}
        if page_info.get("hasNextPage"):
            children += self._remaining_children(node["id"], page_info.get("endCursor"))
        return {"node": {k: v for k, v in node.items() if k != connection_name}, "children": children}

    def _remaining_children(self, gid: str, after: str | None) -> list[dict[str, Any]]:
        children: list[dict[str, Any]] = []
        while after:
            data = self.client.graphql(
                children_query(self.resource), {"id": gid, "first": MAX_IDS_PER_QUERY, "after": after}
            )
            connection = (data.get(self.shape.single) or {}).get(self.shape.child_connection) or {}
            children += connection.get("nodes") or []
            page_info = connection.get("pageInfo") or {}
            after = page_info.get("endCursor") if page_info.get("hasNextPage") else None
        return children


def _flat(fields: str | None) -> str:
    return " ".join((fields or "").split())
