"""A record's content as the write path stores it, against the stored rows: every declared column
and child at any depth (reconciliation's content sample, for changes Shopify makes without moving
`updated_at`, such as a deleted product's line items losing their ids).

The expected side is built by the write path's own row builders (`TABLES`, `ChildRecords`,
`child_rows`), so it holds exactly what a write of the record would store; the stored side is read
with the same column lists. Comparing them is pure (`content_differences`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from shopsync.models import Shop
from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource
from shopsync.services.upsert.encoding import ChildRecords, child_rows
from shopsync.services.upsert.tables import TABLES, Column, ParentTable

# Rows of one child table under one record: {(parent shopify_id, child shopify_id): column values}.
ChildRows = dict[tuple[int, int], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class ChildContent:
    """One child table's rows under a record. `parents`: the owners whose rows are compared (those
    whose payload carried the list; None on the stored side: every stored owner)."""

    rows: ChildRows
    parents: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class RecordContent:
    columns: dict[str, Any]
    children: tuple[ChildContent, ...]  # per `ParentTable.flat_children`


def record_content(*, resource: Resource | str, record: AnyRecord) -> RecordContent:
    """What a write of `record` would store (children not given by its payload are left out)."""
    spec = TABLES[Resource(resource)]
    columns = dict(zip((c.name for c in spec.columns), spec.values(record), strict=True))
    split = ChildRecords(spec, [record])
    children = []
    for index, (child, _) in enumerate(spec.flat_children):
        owners = split.given[index]
        rows, _ = child_rows(child, owners)
        children.append(
            ChildContent(
                rows={(row[0], row[1]): tuple(row[1:]) for row in rows},
                parents=frozenset(owner.shopify_id for owner in owners),
            )
        )
    return RecordContent(columns=columns, children=tuple(children))


def stored_content(
    *, shop: Shop, resource: Resource | str, shopify_ids: Iterable[int]
) -> dict[int, RecordContent]:
    """The stored, not deleted records among `shopify_ids`, with their children at any depth."""
    spec = TABLES[Resource(resource)]
    names = [c.name for c in spec.columns]
    rows = spec.model.objects.filter(shop=shop, shopify_id__in=list(shopify_ids), deleted_at__isnull=True)
    parents = {row[0]: row for row in rows.values_list("id", *names)}
    columns = {row[1]: dict(zip(names, row[1:], strict=True)) for row in parents.values()}
    # Per table: its rows' pk -> (own shopify_id, the root's shopify_id), for the level below.
    owners: list[dict[int, tuple[int, int]]] = []
    children: dict[int, list[ChildRows]] = {shopify_id: [] for shopify_id in columns}
    for child, parent_index in spec.flat_children:
        above = (
            {pk: (row[1], row[1]) for pk, row in parents.items()}
            if parent_index < 0
            else owners[parent_index]
        )
        child_names = [c.name for c in child.columns]
        found: dict[int, tuple[int, int]] = {}
        per_root: dict[int, ChildRows] = defaultdict(dict)
        query = child.model.objects.filter(shop=shop, **{f"{child.parent_column}__in": list(above)})
        for pk, parent_pk, *values in query.values_list("id", child.parent_column, *child_names):
            parent_shopify_id, root = above[parent_pk]
            per_root[root][(parent_shopify_id, values[0])] = tuple(values)
            found[pk] = (values[0], root)
        owners.append(found)
        for shopify_id in children:
            children[shopify_id].append(per_root.get(shopify_id, {}))
    return {
        shopify_id: RecordContent(
            columns=columns[shopify_id],
            children=tuple(ChildContent(rows=rows) for rows in children[shopify_id]),
        )
        for shopify_id in columns
    }


def content_differences(
    *, resource: Resource | str, expected: RecordContent, stored: RecordContent
) -> list[str]:
    """The columns and child lists (by their record attribute) whose stored content is not what a
    write of the record would store; [] when they agree. A column the payload did not carry
    (`kept_when_absent`, None) and a child list it did not carry are not judged. Timestamps compare
    to the second (Shopify's precision)."""
    spec = TABLES[Resource(resource)]
    differences = [
        column.name
        for column in spec.columns
        if not _unjudged(spec, column.name, expected.columns[column.name], stored.columns.get(column.name))
        and not _same(column, expected.columns[column.name], stored.columns.get(column.name))
    ]
    for (child, _), wanted, held in zip(spec.flat_children, expected.children, stored.children, strict=True):
        rows = held.rows
        if wanted.parents is not None:
            rows = {key: values for key, values in rows.items() if key[0] in wanted.parents}
        if not _same_rows(child.columns, wanted.rows, rows):
            differences.append(child.records_attribute)
    return differences


def _unjudged(spec: ParentTable, name: str, expected: Any, stored: Any) -> bool:
    return name in spec.kept_when_absent and (expected is None or stored is None)


def _same_rows(columns: Sequence[Column], expected: ChildRows, stored: ChildRows) -> bool:
    if expected.keys() != stored.keys():
        return False
    return all(
        all(_same(column, a, b) for column, a, b in zip(columns, expected[key], stored[key], strict=True))
        for key in expected
    )


def _same(column: Column, expected: Any, stored: Any) -> bool:
    if expected is None or stored is None:
        return expected is None and stored is None
    if column.is_json:
        # As stored: JSON types only (a datetime inside becomes its ISO text).
        return orjson.loads(orjson.dumps(expected)) == stored
    if isinstance(expected, datetime) and isinstance(stored, datetime):
        return int(expected.timestamp()) == int(stored.timestamp())
    return expected == stored
