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
from shopsync.resources import declaration_for
from shopsync.shopify.bulk import (
    BulkOperationInProgress,
    bulk_operation_wait,
    bulk_query_start,
    bulk_result_lines,
)
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.queries import gid_to_id

logger = logging.getLogger(__name__)

# The shop's bulk slots may be held by a sync (one slot before API 2026-01): wait for it, a while.
START_ATTEMPTS = 20
START_RETRY_SECONDS = 30.0
WAIT_TIMEOUT_SECONDS = 4 * 3600.0


class SnapshotError(Exception):
    """The export did not complete (FAILED, CANCELED, EXPIRED) or a line is unreadable."""


# (shopify_id, updated_at, ((reconciled child name, child shopify_id), ...))
SnapshotRow = tuple[int, datetime, tuple[tuple[str, int], ...]]


@dataclass(frozen=True, slots=True)
class SnapshotExport:
    # When the export began, by Shopify's clock when it says so: later changes are not judged.
    started_at: datetime
    rows: Iterator[SnapshotRow]


def snapshot_query(resource: str) -> str:
    """Ids and `updatedAt`, plus the ids of the children the declaration reconciles: an inline list
    comes in the root's own line (`transactions { id }`), a connection as child lines carrying
    `__parentId` (`products { edges { node { id } } }`: a collection's members)."""
    children = "".join(
        f" {child.graphql_field} {{ edges {{ node {{ id }} }} }}"
        if child.is_connection
        else f" {child.graphql_field} {{ id }}"
        for child in _reconciled(resource)
    )
    return f"{{ {resource} {{ edges {{ node {{ id updatedAt{children} }} }} }} }}"


def _reconciled(resource: str) -> list:
    return [child for child in declaration_for(resource).children if child.reconciled]


def snapshot_export(
    *, client: ShopifyClient, resource: str, sleep: Callable[[float], None] | None = None
) -> SnapshotExport:
    requested_at = timezone.now()
    operation = _start(client=client, query=snapshot_query(resource), sleep=sleep or time.sleep)
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
    reconciled = _reconciled(resource)
    children = [(child.name, child.graphql_field) for child in reconciled if not child.is_connection]
    connection = next((child.name for child in reconciled if child.is_connection), None)
    lines = bulk_result_lines(operation.url) if operation.url else iter(())
    rows = _rows(lines, children, connection)
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
    lines: Iterator[bytes], children: list[tuple[str, str]], connection: str | None = None
) -> Iterator[SnapshotRow]:
    """One row per root line. With a reconciled connection (at most one: its lines are told from the
    roots' by `__parentId`), a root's row is held until the next root line, gathering the child
    lines that follow it (a bulk export writes a root's children right after it, §2.6; a child line
    that does not follow its parent fails the snapshot rather than be misjudged)."""
    held: tuple[int, datetime, list[tuple[str, int]]] | None = None
    for line in lines:
        try:
            node = orjson.loads(line)
            if connection is not None and "__parentId" in node:
                if held is None or held[0] != gid_to_id(node["__parentId"]):
                    raise ValueError("a child line does not follow its parent")
                held[2].append((connection, gid_to_id(node["id"])))
                continue
            ids = [(name, gid_to_id(item["id"])) for name, field in children for item in node[field] or ()]
            row = (gid_to_id(node["id"]), datetime.fromisoformat(node["updatedAt"]), ids)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"unreadable export line {line[:200]!r}: {exc}") from exc
        if held is not None:
            yield held[0], held[1], tuple(held[2])
        held = row
    if held is not None:
        yield held[0], held[1], tuple(held[2])
