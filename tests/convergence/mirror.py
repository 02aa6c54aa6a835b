"""The oracle: the simulator's truth (full REST records, parsed with the product's own REST parsers)
against our rows, field by field, children (line items, variants) included."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from shopsync.models import Customer, LineItem, Order, Product, ProductVariant, Shop
from shopsync.payloads import parse_customer_rest, parse_order_rest, parse_product_rest
from shopsync.payloads.records import (
    CustomerRecord,
    LineItemRecord,
    OrderRecord,
    ProductRecord,
    VariantRecord,
)

RESOURCES = ("orders", "customers", "products")
PARSERS = {"orders": parse_order_rest, "customers": parse_customer_rest, "products": parse_product_rest}
MODELS = {"orders": Order, "customers": Customer, "products": Product}
RECORD_TYPES = {"orders": OrderRecord, "customers": CustomerRecord, "products": ProductRecord}
# resource -> (child model, its FK to the parent, the parent record's attribute, the child record type)
CHILDREN = {
    "orders": (LineItem, "order_id", "line_items", LineItemRecord),
    "products": (ProductVariant, "product_id", "variants", VariantRecord),
}
# Fields left out of the comparison, each with its reason (none today; add one only with its reason).
KNOWN_GAPS: dict[str, set[str]] = {}
SIMULATOR_TYPES = {"orders": "Order", "customers": "Customer", "products": "Product"}


@dataclass
class ResourceComparison:
    resource: str
    truth_live: int
    truth_deleted: int
    ours_live: int
    ours_soft_deleted: int
    missing: list[int] = field(default_factory=list)  # live in Shopify, absent or deleted here
    not_deleted: list[int] = field(default_factory=list)  # deleted in Shopify, live here
    unknown: list[int] = field(default_factory=list)  # live here, never existed in Shopify
    unknown_deleted: list[int] = field(default_factory=list)  # soft-deleted here, never existed there
    stale: list[int] = field(default_factory=list)  # another updated_at
    different: dict[int, dict[str, Any]] = field(default_factory=dict)  # same updated_at, other content

    @property
    def differing_ids(self) -> set[int]:
        return {
            *self.missing, *self.not_deleted, *self.unknown, *self.unknown_deleted, *self.stale,
            *self.different,
        }  # fmt: skip

    @property
    def is_exact(self) -> bool:
        return not self.differing_ids

    def summary(self) -> str:
        return (
            f"{self.resource:9} truth live={self.truth_live} deleted={self.truth_deleted} | ours live="
            f"{self.ours_live} soft-deleted={self.ours_soft_deleted} | missing={len(self.missing)} "
            f"not_deleted={len(self.not_deleted)} unknown={len(self.unknown)} "
            f"unknown_deleted={self.unknown_deleted[:5]} stale={len(self.stale)} "
            f"different={len(self.different)}"
        ) + "".join(f"\n      {shopify_id}: {diff}" for shopify_id, diff in list(self.different.items())[:3])


def truth_records(control, *, shop_domain: str, resource: str) -> tuple[dict[int, dict], set[int]]:
    """{id: canonical dict of the parsed record}, deleted ids. One consistent snapshot per resource."""
    truth = control.truth(resource, full=True, shop=shop_domain)
    records = {row["id"]: _canonical(PARSERS[resource](row["record"]), resource) for row in truth["records"]}
    return records, set(truth["deleted_ids"])


def our_records(*, shop: Shop, resource: str) -> tuple[dict[int, dict], set[int]]:
    """{id: canonical dict} of live rows, and the ids of soft-deleted rows."""
    names = _field_names(resource)
    rows = list(MODELS[resource].objects.filter(shop=shop).values("pk", "deleted_at", *names))
    children: dict[int, list[dict]] = defaultdict(list)
    if resource in CHILDREN:
        model, parent_column, _, record_type = CHILDREN[resource]
        child_names = [f.name for f in dataclasses.fields(record_type)]
        for child in model.objects.filter(shop=shop).values(parent_column, *child_names):
            children[child.pop(parent_column)].append(child)
    live, deleted = {}, set()
    for row in rows:
        if row["deleted_at"] is not None:
            deleted.add(row["shopify_id"])
            continue
        record = {name: row[name] for name in names if name not in KNOWN_GAPS.get(resource, ())}
        if resource in CHILDREN:
            record[CHILDREN[resource][2]] = sorted(children[row["pk"]], key=lambda c: c["shopify_id"])
        live[row["shopify_id"]] = record
    return live, deleted


def mirror_compare(control, *, shop: Shop, resource: str) -> ResourceComparison:
    truth, truth_deleted = truth_records(control, shop_domain=shop.domain, resource=resource)
    ours, ours_deleted = our_records(shop=shop, resource=resource)
    comparison = ResourceComparison(
        resource=resource,
        truth_live=len(truth),
        truth_deleted=len(truth_deleted),
        ours_live=len(ours),
        ours_soft_deleted=len(ours_deleted),
        missing=sorted(truth.keys() - ours.keys()),
        not_deleted=sorted((ours.keys() - truth.keys()) & truth_deleted),
        unknown=sorted(ours.keys() - truth.keys() - truth_deleted),
        unknown_deleted=sorted(ours_deleted - truth.keys() - truth_deleted),
    )
    for shopify_id in sorted(truth.keys() & ours.keys()):
        expected, actual = truth[shopify_id], ours[shopify_id]
        if expected["shopify_updated_at"] != actual["shopify_updated_at"]:
            comparison.stale.append(shopify_id)
        elif expected != actual:
            comparison.different[shopify_id] = _field_diff(expected, actual)
    return comparison


def _field_names(resource: str) -> list[str]:
    skip = {CHILDREN[resource][2]} if resource in CHILDREN else set()
    return [f.name for f in dataclasses.fields(RECORD_TYPES[resource]) if f.name not in skip]


def _canonical(record: Any, resource: str) -> dict:
    data = dataclasses.asdict(record)
    for name in KNOWN_GAPS.get(resource, ()):
        data.pop(name)
    if resource in CHILDREN:
        attribute = CHILDREN[resource][2]
        data[attribute] = sorted(data[attribute], key=lambda c: c["shopify_id"])
    return data


def _field_diff(expected: dict, actual: dict) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    for name in expected:
        if expected[name] == actual.get(name):
            continue
        if isinstance(expected[name], list) and expected[name] and isinstance(expected[name][0], dict):
            diff[name] = _children_diff(expected[name], actual.get(name) or [])
        else:
            diff[name] = {"truth": expected[name], "ours": actual.get(name)}
    return diff


def _children_diff(expected: list[dict], actual: list[dict]) -> dict[str, Any]:
    ours = {child["shopify_id"]: child for child in actual}
    theirs = {child["shopify_id"]: child for child in expected}
    return {
        "missing": sorted(theirs.keys() - ours.keys()),
        "extra": sorted(ours.keys() - theirs.keys()),
        "fields": {
            child_id: {k: (v, ours[child_id].get(k)) for k, v in child.items() if ours[child_id].get(k) != v}
            for child_id, child in theirs.items()
            if child_id in ours and ours[child_id] != child
        },
    }
