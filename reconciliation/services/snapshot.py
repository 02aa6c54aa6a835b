"""Shopify's side of a reconciliation: every id of a resource with its `updatedAt`, as a bulk export
of just those two fields (no cost limit, no paging), streamed line by line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.utils import timezone

from reconciliation import conf
from shopsync.resources import ChildDeclaration, declaration_for
from shopsync.services.sync.graphql_queries import Namespaces, shop_namespaces
from shopsync.shopify.bulk import (
    BulkOperationInProgress,
    bulk_operation_wait,
    bulk_query_start,
    bulk_result_lines,
)
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.queries import gid_to_id, gid_type

logger = logging.getLogger(__name__)

# The shop's bulk slots may be held by a sync (one slot before API 2026-01): wait for it, a while.
START_ATTEMPTS = 20
START_RETRY_SECONDS = 30.0
WAIT_TIMEOUT_SECONDS = 4 * 3600.0


class SnapshotError(Exception):
    """The export did not complete (FAILED, CANCELED, EXPIRED) or a line is unreadable."""


# (shopify_id, updated_at, ((reconciled child name, child shopify_id[, child updated_at]), ...)): the
# child's own `updatedAt` for children compared by version (`ChildDeclaration.version_column`).
SnapshotRow = tuple[int, datetime, tuple[tuple, ...]]


@dataclass(frozen=True, slots=True)
class SnapshotExport:
    # When the export began, by Shopify's clock when it says so: later changes are not judged.
    started_at: datetime
    rows: Iterator[SnapshotRow]


def snapshot_query(resource: str, namespaces: Namespaces = ()) -> str:
    """Ids and `updatedAt`, plus the ids of the children the declaration reconciles: an inline list
    comes in the root's own line (`transactions { id }`), a connection as child lines after it, each
    with `__parentId` (`addressesV2 { edges { node { id } } }`; a collection's members
    `products { edges { node { id } } }`). Metafields only in the shop's namespaces (`namespaces`),
    with their namespace, as the sync reads them (`ChildDeclaration.namespaced`)."""
    children = "".join(
        f" {child.graphql_field}{_arguments(child, namespaces)}"
        f" {{ edges {{ node {{ id{_namespace(child)}{_key_selection(child)}{_version(child)} }} }} }}"
        if child.is_connection
        else f" {child.graphql_field} {{ id }}"
        for child in _reconciled(resource, namespaces)
    )
    declaration = declaration_for(resource)
    arguments = f"({declaration.root_arguments})" if declaration.root_arguments else ""
    return f"{{ {resource}{arguments} {{ edges {{ node {{ id updatedAt{children} }} }} }} }}"


def _key_selection(child) -> str:
    """A child keyed by another object's id (an inventory level by its item) selects that object."""
    return f" {child.key_field} {{ id }}" if child.key_field else ""


def _arguments(child: ChildDeclaration, namespaces: Namespaces) -> str:
    arguments = child.graphql_arguments(namespaces)
    return f"({arguments})" if arguments else ""


def _version(child: ChildDeclaration) -> str:
    """A child compared by version too (a metafield) selects its own `updatedAt`."""
    return " updatedAt" if child.version_column else ""


def _namespace(child: ChildDeclaration) -> str:
    return f" {child.namespace_column}" if child.namespaced else ""


def _reconciled(resource: str, namespaces: Namespaces = ()) -> list:
    return [
        child
        for child in declaration_for(resource).children
        if child.reconciled and child.is_selected(namespaces)
    ]


def snapshot_export(
    *, client: ShopifyClient, resource: str, sleep: Callable[[float], None] | None = None
) -> SnapshotExport:
    requested_at = timezone.now()
    namespaces = shop_namespaces(client.shop)
    operation = _start(client=client, query=snapshot_query(resource, namespaces), sleep=sleep or time.sleep)
    operation = bulk_operation_wait(
        client,
        operation.id,
        timeout=WAIT_TIMEOUT_SECONDS,
        poll_interval=conf.reconciliation_bulk_poll_seconds(),
    )
    if operation.status != "COMPLETED":
        raise SnapshotError(f"bulk export {operation.id} ended {operation.status} ({operation.error_code})")
    logger.info(
        "reconciliation snapshot of %s %s: %s ids", client.shop, resource, operation.root_object_count
    )
    started_at = min(operation.created_at or requested_at, requested_at)
    # No url: nothing matched, the store has none of this resource.
    reconciled = _reconciled(resource, namespaces)
    inline = [(child.name, child.graphql_field) for child in reconciled if not child.is_connection]
    connections = {
        child.graphql_type: (child.name, child.key_field) for child in reconciled if child.is_connection
    }
    lines = bulk_result_lines(operation.url) if operation.url else iter(())
    rows = _rows(lines, inline, connections, frozenset(namespaces)) if operation.url else iter(())
    return SnapshotExport(started_at=started_at, rows=rows)


def _start(*, client: ShopifyClient, query: str, sleep: Callable[[float], None]) -> object:
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return bulk_query_start(client, query)
        except BulkOperationInProgress:
            if attempt == START_ATTEMPTS:
                raise
            logger.info(
                "bulk slot of %s busy, retrying the snapshot in %.0fs", client.shop, START_RETRY_SECONDS
            )
            sleep(START_RETRY_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _rows(
    lines: Iterator[bytes],
    children: list[tuple[str, str]],
    connections: dict[str, tuple[str, str]] | None = None,
    namespaces: frozenset[str] = frozenset(),
) -> Iterator[SnapshotRow]:
    """One row per root. A connection's child lines follow their root (a bulk export is grouped,
    contract §2.6), so a root is complete when the next root line, or the end, comes. A child line
    with a `namespace` outside `namespaces` is not ours (several namespaces are read unfiltered)."""
    connections = connections or {}
    pending: tuple[int, datetime, list[tuple]] | None = None
    for line in lines:
        try:
            node = orjson.loads(line)
            if "__parentId" in node:
                parent_id = gid_to_id(node["__parentId"])
                if pending is None or pending[0] != parent_id:
                    raise ValueError(f"child line of {parent_id} not after its parent")
                if "namespace" in node and node["namespace"] not in namespaces:
                    continue
                name, key_field = connections[gid_type(node["id"])]
                key = node[key_field]["id"] if key_field else node["id"]
                if "updatedAt" in node:
                    pending[2].append((name, gid_to_id(key), datetime.fromisoformat(node["updatedAt"])))
                else:
                    pending[2].append((name, gid_to_id(key)))
                continue
            ids = [(name, gid_to_id(item["id"])) for name, field in children for item in node[field] or ()]
            root = (gid_to_id(node["id"]), datetime.fromisoformat(node["updatedAt"]), ids)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"unreadable export line {line[:200]!r}: {exc}") from exc
        if pending is not None:
            yield pending[0], pending[1], tuple(pending[2])
        pending = root
    if pending is not None:
        yield pending[0], pending[1], tuple(pending[2])
