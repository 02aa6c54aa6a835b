"""A batch encoded for the write path ahead of time, in PostgreSQL's COPY text format.

Validating, normalising and encoding a bulk export's records costs more CPU than writing them. On
PostgreSQL that work can run in another process than the writer (`shopsync.services.sync.parse_process`):
the writer then streams the encoded bytes into its stage tables and runs the same merge statements
as for records (`encoded_batch_upsert`), so the semantics are exactly those of `records_upsert`.

An encoded batch carries every child of every parent (the child merge joins the winners, so a
loser's children are ignored there, as `records_upsert` ignores them by not staging them). A batch
in which one child is listed under two parents cannot be encoded ahead: which parent keeps it depends
on which parents win the merge, so such a (rare) batch stays records and takes the records path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

# The driver's own COPY text row encoder (C in psycopg-binary), used without a connection.
from psycopg._copy_base import format_row_text
from psycopg.adapt import Transformer

from shopsync.payloads.records import AnyRecord, Resource
from shopsync.services.upsert.tables import TABLES, ChildTable, Column


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """`shopify_ids`: the batch's parents, unique and sorted (newest version per id kept). `parents`:
    their rows for the parent stage table (`ParentTable.columns`). `children`: the rows for the child
    stage table (`parent_shopify_id`, then `ChildTable.columns`), each child id once.
    `children_not_given`: parents whose payload did not carry their children (their stored children
    stay as they are); empty for bulk exports, which always carry them."""

    resource: Resource
    shopify_ids: tuple[int, ...]
    parents: bytes
    children: bytes = b""
    children_not_given: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.shopify_ids)


def record_ids(records: Sequence[AnyRecord] | EncodedBatch) -> list[int]:
    """The parents' Shopify ids of a batch, records or encoded."""
    if isinstance(records, EncodedBatch):
        return list(records.shopify_ids)
    return [record.shopify_id for record in records]


def newest_per_id(records: Iterable[AnyRecord]) -> list[AnyRecord]:
    """Duplicate ids collapse to the newest `shopify_updated_at` (the later one on a tie), sorted by id."""
    newest: dict[int, AnyRecord] = {}
    for record in records:
        kept = newest.get(record.shopify_id)
        if kept is None or kept.shopify_updated_at <= record.shopify_updated_at:
            newest[record.shopify_id] = record
    return [newest[shopify_id] for shopify_id in sorted(newest)]


def children_not_given(child: ChildTable | None, parents: Sequence[AnyRecord]) -> list[int]:
    """The parents whose children are `None` (not in their payload), in the parents' order."""
    if child is None:
        return []
    attribute = child.records_attribute
    return [parent.shopify_id for parent in parents if getattr(parent, attribute) is None]


def child_rows(child: ChildTable, parents: Sequence[AnyRecord]) -> tuple[list[tuple], bool]:
    """(parent_shopify_id, *child values), one row per child id, in child id order, and whether some
    child was listed under two parents: it then stays with the newest parent (the later one on a
    tie; the unique key would otherwise be hit twice). Every parent must carry its children (a list)."""
    attribute = child.records_attribute
    values = operator.attrgetter(*(c.name for c in child.columns))
    rows = [
        (parent.shopify_id, *values(record)) for parent in parents for record in getattr(parent, attribute)
    ]
    if len({row[1] for row in rows}) == len(rows):  # the usual case: each child listed once
        rows.sort(key=_CHILD_ID)
        return rows, False
    owner: dict[int, tuple[Any, tuple]] = {}
    at = iter(rows)
    for parent in parents:
        for _ in getattr(parent, attribute):
            row = next(at)
            kept = owner.get(row[1])
            if kept is None or kept[0] <= parent.shopify_updated_at:
                owner[row[1]] = (parent.shopify_updated_at, row)
    return [owner[key][1] for key in sorted(owner)], True


_CHILD_ID = operator.itemgetter(1)


def records_encode(*, resource: Resource | str, records: Iterable[AnyRecord]) -> EncodedBatch | None:
    """Encode a batch for `encoded_batch_upsert`; None when a child is listed under two parents."""
    spec = TABLES[Resource(resource)]
    batch = newest_per_id(records)
    children = b""
    not_given = children_not_given(spec.child, batch)
    if spec.child is not None:
        skipped = set(not_given)
        given = [record for record in batch if record.shopify_id not in skipped] if skipped else batch
        rows, shared = child_rows(spec.child, given)
        if shared:
            return None
        children = _copy_text(adapted_rows(postgres_adapter, spec.child.columns, rows, offset=1))
    parents = _copy_text(adapted_rows(postgres_adapter, spec.columns, map(spec.values, batch)))
    return EncodedBatch(
        resource=spec.resource,
        shopify_ids=tuple(record.shopify_id for record in batch),
        parents=parents,
        children=children,
        children_not_given=tuple(not_given),
    )


def postgres_adapter(column: Column) -> Callable[[Any], Any] | None:
    """How a record value becomes a PostgreSQL COPY value beyond the driver's own adaptation."""
    return _json_text if column.is_json else None


def adapted_rows(
    adapter_for: Callable[[Column], Callable[[Any], Any] | None],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    offset: int = 0,
) -> Iterable[Sequence[Any]]:
    adapters = [(i + offset, fn) for i, column in enumerate(columns) if (fn := adapter_for(column))]
    if not adapters:
        return rows
    return (_adapt(row, adapters) for row in rows)


def _adapt(row: Sequence[Any], adapters: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    values = list(row)
    for index, adapt in adapters:
        values[index] = adapt(values[index])
    return values


def _copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    out = bytearray()
    transformer = Transformer()
    for row in rows:
        format_row_text(row, transformer, out)
    return bytes(out)


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
