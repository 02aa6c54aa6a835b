"""Which columns each resource writes, derived once from the resource declarations
(`shopsync.resources`): their record dataclasses and models.

A record field maps to the model column of the same name (`shopsync.payloads.records` promises that);
a field that is a declared child list is the child's table; anything not in the record (`id`, `shop`,
`synced_at`, `deleted_at`, `is_historical`, `local_*`) is the write path's own business.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.db import models

from shopsync.resources import (
    DECLARATIONS,
    ChildDeclaration,
    DeletedReference,
    Ordering,
    Resource,
    ResourceDeclaration,
)


@dataclass(frozen=True)
class Column:
    name: str
    field: models.Field

    @property
    def is_json(self) -> bool:
        return isinstance(self.field, models.JSONField)


@dataclass(frozen=True)
class ChildTable:
    model: type[models.Model]
    columns: tuple[Column, ...]  # shopify_id first
    parent_column: str  # "order_id"
    records_attribute: str  # "line_items" on the parent record
    children: tuple[ChildTable, ...] = ()  # children of children, written after this table
    # Keyed by (shop, parent, shopify_id) rather than (shop, shopify_id): see ChildDeclaration.
    unique_per_parent: bool = False
    numbered_column: str = ""
    # Cleared elsewhere when one of these rows goes (`ChildDeclaration.deleted_references`).
    deleted_references: tuple[DeletedReference, ...] = ()
    # Only rows in the shop's chosen metafield namespaces are written (`ChildDeclaration.namespaced`).
    namespace_column: str = ""
    # Ordering.UPDATED_AT children: a stored row newer than the incoming one stays.
    updated_at_wins: bool = False
    kept_when_absent: frozenset[str] = frozenset()

    @property
    def conflict_columns(self) -> str:
        """The unique key its upserts conflict on."""
        if self.unique_per_parent:
            return f"shop_id, {self.parent_column}, shopify_id"
        return "shop_id, shopify_id"

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage(self) -> str:
        return f"_shopsync_stage_{self.model._meta.model_name}"

    @property
    def parent_map(self) -> str:
        """The stage table of (parent shopify_id, parent row id) this table's rows join."""
        return f"_shopsync_stage_parent_{self.model._meta.model_name}"


@dataclass(frozen=True)
class ParentTable:
    resource: Resource
    model: type[models.Model]
    columns: tuple[Column, ...]  # shopify_id first, then shopify_updated_at
    children: tuple[ChildTable, ...] = ()
    # NOT NULL columns that are ours: their values on insert only, never updated.
    insert_only: tuple[tuple[str, str], ...] = ()
    computes_is_historical: bool = False
    # An incoming NULL keeps the stored value (`ResourceDeclaration.kept_when_absent`: a column only
    # some payload shapes carry).
    kept_when_absent: frozenset[str] = frozenset()
    values: Callable = operator.attrgetter("shopify_id")
    # Cleared elsewhere when a record is deleted (`ResourceDeclaration.deleted_references`).
    deleted_references: tuple[DeletedReference, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage(self) -> str:
        return f"_shopsync_stage_{self.model._meta.model_name}"

    @property
    def flat_children(self) -> tuple[tuple[ChildTable, int], ...]:
        """Every child table at any depth, parents before their children: (table, the index of its
        parent table in this tuple, or -1 for the resource's own children)."""
        return _flatten(self.children, -1, ())

    def all_tables(self) -> list[str]:
        return [self.table, *(child.table for child, _ in self.flat_children)]


def _flatten(
    children: tuple[ChildTable, ...], parent_index: int, done: tuple[tuple[ChildTable, int], ...]
) -> tuple[tuple[ChildTable, int], ...]:
    level = done + tuple((child, parent_index) for child in children)
    flat = level
    for offset, child in enumerate(children):
        flat = _flatten(child.children, len(done) + offset, flat)
    return flat


def _columns(record_type: type, model: type[models.Model], *, skip: set[str]) -> tuple[Column, ...]:
    names = [f.name for f in fields(record_type) if f.name not in skip]
    names.sort(key=lambda name: {"shopify_id": 0, "shopify_updated_at": 1}.get(name, 2))
    return tuple(Column(name, model._meta.get_field(name)) for name in names)


def _child(declaration: ChildDeclaration) -> ChildTable:
    skip = {child.name for child in declaration.children}
    return ChildTable(
        declaration.model,
        _columns(declaration.record_type, declaration.model, skip=skip),
        declaration.parent_column,
        declaration.name,
        tuple(_child(child) for child in declaration.children),
        unique_per_parent=declaration.unique_per_parent,
        numbered_column=declaration.numbered_column,
        deleted_references=declaration.deleted_references,
        namespace_column=declaration.namespace_column if declaration.namespaced else "",
        updated_at_wins=declaration.ordering is Ordering.UPDATED_AT,
        kept_when_absent=frozenset(declaration.kept_when_absent),
    )


def _parent(declaration: ResourceDeclaration) -> ParentTable:
    skip = {child.name for child in declaration.children}
    columns = _columns(declaration.record_type, declaration.model, skip=skip)
    return ParentTable(
        resource=Resource(declaration.name),
        model=declaration.model,
        columns=columns,
        children=tuple(_child(child) for child in declaration.children),
        insert_only=declaration.insert_only,
        computes_is_historical=declaration.computes_is_historical,
        kept_when_absent=frozenset(declaration.kept_when_absent),
        values=operator.attrgetter(*(c.name for c in columns)),
        deleted_references=declaration.deleted_references,
    )


TABLES: dict[Resource, ParentTable] = {
    Resource(name): _parent(declaration) for name, declaration in DECLARATIONS.items()
}
