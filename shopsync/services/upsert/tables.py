"""Which columns each resource writes, derived once from the record dataclasses and the models.

A record field maps to the model column of the same name (`shopsync.payloads.records` promises that);
anything not in the record (`id`, `shop`, `synced_at`, `deleted_at`, `is_historical`, `local_*`) is
the write path's own business.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.db import models

from shopsync.models import Customer, LineItem, Order, Product, ProductVariant
from shopsync.payloads.records import (
    CustomerRecord,
    LineItemRecord,
    OrderRecord,
    ProductRecord,
    Resource,
    VariantRecord,
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

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage(self) -> str:
        return f"_shopsync_stage_{self.model._meta.model_name}"


@dataclass(frozen=True)
class ParentTable:
    resource: Resource
    model: type[models.Model]
    columns: tuple[Column, ...]  # shopify_id first, then shopify_updated_at
    child: ChildTable | None
    # NOT NULL columns that are ours: their values on insert only, never updated.
    insert_only: tuple[tuple[str, str], ...] = ()
    computes_is_historical: bool = False
    values: Callable = operator.attrgetter("shopify_id")

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def stage(self) -> str:
        return f"_shopsync_stage_{self.model._meta.model_name}"


def _columns(record_type: type, model: type[models.Model], *, skip: set[str]) -> tuple[Column, ...]:
    names = [f.name for f in fields(record_type) if f.name not in skip]
    names.sort(key=lambda name: {"shopify_id": 0, "shopify_updated_at": 1}.get(name, 2))
    return tuple(Column(name, model._meta.get_field(name)) for name in names)


def _parent(resource: Resource, record_type: type, model: type[models.Model], **kwargs) -> ParentTable:
    child = kwargs.pop("child", None)
    skip = {child.records_attribute} if child else set()
    columns = _columns(record_type, model, skip=skip)
    return ParentTable(
        resource=resource,
        model=model,
        columns=columns,
        child=child,
        values=operator.attrgetter(*(c.name for c in columns)),
        **kwargs,
    )


def _child(record_type: type, model: type[models.Model], parent_column: str, attribute: str) -> ChildTable:
    return ChildTable(model, _columns(record_type, model, skip=set()), parent_column, attribute)


TABLES: dict[Resource, ParentTable] = {
    Resource.CUSTOMERS: _parent(
        Resource.CUSTOMERS,
        CustomerRecord,
        Customer,
        insert_only=(("local_notes", "''"), ("local_tags", "'[]'"), ("local_attributes", "'{}'")),
    ),
    Resource.ORDERS: _parent(
        Resource.ORDERS,
        OrderRecord,
        Order,
        child=_child(LineItemRecord, LineItem, "order_id", "line_items"),
        computes_is_historical=True,
    ),
    Resource.PRODUCTS: _parent(
        Resource.PRODUCTS,
        ProductRecord,
        Product,
        child=_child(VariantRecord, ProductVariant, "product_id", "variants"),
    ),
}
