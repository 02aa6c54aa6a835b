"""A batch encoded for the write path ahead of time, in PostgreSQL's COPY text format.

Validating, normalising and encoding a bulk export's records costs more CPU than writing them. On
PostgreSQL that work can run in another process than the writer (`shopsync.services.sync.parse_process`):
the writer then streams the encoded bytes into its stage tables and runs the same merge statements
as for records (`encoded_batch_upsert`), so the semantics are exactly those of `records_upsert`.

An encoded batch carries every child of every parent, for each child table of the resource (the
child merge joins the winners, so a loser's children are ignored there, as `records_upsert` ignores
them by not staging them). A batch
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

from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource
from shopsync.services.upsert.tables import TABLES, ChildTable, Column, ParentTable


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """`shopify_ids`: the batch's parents, unique and sorted (newest version per id kept). `parents`:
    their rows for the parent stage table (`ParentTable.columns`). `children`: per child table, in
    `ParentTable.flat_children` order, the rows for its stage table (`parent_shopify_id`, then
    `ChildTable.columns`), each child id once. `children_not_given`: per child table, the owners
    whose payload did not carry that child list (their stored children stay as they are); empty for
    bulk exports' connection children, which always carry them."""

    resource: Resource
    shopify_ids: tuple[int, ...]
    parents: bytes
    children: tuple[bytes, ...] = ()
    children_not_given: tuple[tuple[int, ...], ...] = ()

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


class ChildRecords:
    """A batch's records per child table (`ParentTable.flat_children` order): for each, the owners
    that carry the list (`given`), the ids of those that do not (`not_given`), and the child records
    themselves (the owners of the next level down)."""

    def __init__(self, spec: ParentTable, parents: Sequence[Any]) -> None:
        self.given: list[Sequence[Any]] = []
        self.not_given: list[tuple[int, ...]] = []
        self.records: list[list[Any]] = []
        for child, parent_index in spec.flat_children:
            owners = parents if parent_index < 0 else self.records[parent_index]
            attribute = child.records_attribute
            lists = [getattr(owner, attribute) for owner in owners]
            if None in lists:
                missing = tuple(
                    owner.shopify_id for owner, items in zip(owners, lists, strict=True) if items is None
                )
                owners = [owner for owner, items in zip(owners, lists, strict=True) if items is not None]
                lists = [items for items in lists if items is not None]
            else:
                missing = ()
            self.given.append(owners)
            self.not_given.append(missing)
            self.records.append([record for items in lists for record in items])


def child_rows(child: ChildTable, parents: Sequence[Any]) -> tuple[list[tuple], bool]:
    """(parent_shopify_id, *child values), one row per child id, in child id order, and whether some
    child was listed under two parents: it then stays with the newest parent (the later one on a
    tie; the unique key would otherwise be hit twice). Every parent must carry its children (a list)."""
    attribute = child.records_attribute
    if child.numbered_column:
        _number(child.numbered_column, attribute, parents)
    values = _values_getter(child.columns)
    rows = [
        (parent.shopify_id, *values(record)) for parent in parents for record in getattr(parent, attribute)
    ]
    if child.unique_per_parent:
        # Keyed by (parent, id): the same id under two parents is two rows (a product in two
        # collections); listed twice under one parent, it is one.
        return sorted(set(rows), key=_PARENT_AND_CHILD_ID), False
    if len({row[1] for row in rows}) == len(rows):  # the usual case: each child listed once
        rows.sort(key=_CHILD_ID)
        return rows, False
    owner: dict[int, tuple[Any, tuple]] = {}
    at = iter(rows)
    for parent in parents:
        # A child's own children have no clock: the later owner in the batch keeps a shared one.
        version = getattr(parent, "shopify_updated_at", None)
        for _ in getattr(parent, attribute):
            row = next(at)
            kept = owner.get(row[1])
            if kept is None or version is None or kept[0] is None or kept[0] <= version:
                owner[row[1]] = (version, row)
    return [owner[key][1] for key in sorted(owner)], True


_CHILD_ID = operator.itemgetter(1)
_PARENT_AND_CHILD_ID = operator.itemgetter(0, 1)


def _values_getter(columns: Sequence[Column]) -> Callable[[Any], tuple]:
    """A record's values of `columns`, always a tuple (attrgetter of one name gives the bare value:
    a collection member has only its id)."""
    if len(columns) == 1:
        name = columns[0].name
        return lambda record: (getattr(record, name),)
    return operator.attrgetter(*(c.name for c in columns))


def _number(column: str, attribute: str, parents: Sequence[Any]) -> None:
    """Each parent's children numbered 1, 2, ... in list order (their place in the parent's list)."""
    for parent in parents:
        for position, record in enumerate(getattr(parent, attribute), start=1):
            setattr(record, column, position)


def records_encode(*, resource: Resource | str, records: Iterable[AnyRecord]) -> EncodedBatch | None:
    """Encode a batch for `encoded_batch_upsert`; None when a child is listed under two parents."""
    spec = TABLES[Resource(resource)]
    batch = newest_per_id(records)
    children: list[bytes] = []
    split = ChildRecords(spec, batch)
    for index, (child, _) in enumerate(spec.flat_children):
        rows, shared = child_rows(child, split.given[index])
        if shared:
            return None
        children.append(_copy_text(adapted_rows(postgres_adapter, child.columns, rows, offset=1)))
    parents = _copy_text(adapted_rows(postgres_adapter, spec.columns, map(spec.values, batch)))
    return EncodedBatch(
        resource=spec.resource,
        shopify_ids=tuple(record.shopify_id for record in batch),
        parents=parents,
        children=tuple(children),
        children_not_given=tuple(split.not_given),
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
