"""The oracle: the simulator's truth (full REST records, parsed with the product's own REST parsers)
against our rows, field by field, every child the resource declarations list included (line items,
transactions, variants, options, images, a collection's members), and their children at any depth.

A child the REST record does not carry (an order's transactions: REST orders never embed them) is
read from the simulator's truth for that child (`truth/<child name>`), grouped by its parent's id."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopsync.models import CollectionProduct, InventoryLevel, Shop
from shopsync.payloads.catalogue import CollectionProductRecord
from shopsync.payloads.inventory import InventoryLevelRecord
from shopsync.payloads.types import to_utc
from shopsync.resources import DECLARATIONS, ChildDeclaration, ResourceDeclaration
from tests.order_truth import with_graphql_totals

RESOURCES = ("orders", "customers", "products", "collections", "locations")
# Fields left out of the comparison, each with its reason (none today; add one only with its reason).
KNOWN_GAPS: dict[str, set[str]] = {}
SIMULATOR_TYPES = {name: DECLARATIONS[name].graphql_type for name in RESOURCES}


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


def truth_records(
    control, *, shop_domain: str, resource: str, namespaces: list[str] | tuple[str, ...] = ()
) -> tuple[dict[int, dict], set[int]]:
    """{id: canonical dict of the parsed record}, deleted ids. One consistent snapshot per resource.
    `namespaces`: the shop's metafield namespaces (its records' metafields in those only)."""
    declaration = DECLARATIONS[resource]
    truth = control.truth(resource, full=True, shop=shop_domain)
    records = {row["id"]: declaration.parse_rest(row["record"]) for row in truth["records"]}
    for row in truth["records"]:
        beyond_rest(declaration, records[row["id"]], row.get("beyond_rest") or {})
    if resource == "orders":
        # The totals only GraphQL carries are not in the REST record (tests/order_truth.py).
        records = {row["id"]: with_graphql_totals(records[row["id"]], row) for row in truth["records"]}
    for child in declaration.children:
        if any(getattr(record, child.name) is None for record in records.values()):
            by_parent = _truth_children(
                control,
                shop_domain=shop_domain,
                child=child,
                owner=declaration.singular,
                namespaces=namespaces,
            )
            for shopify_id, record in records.items():
                if getattr(record, child.name) is None:
                    setattr(record, child.name, by_parent.get(shopify_id, []))
    canonical = {shopify_id: _canonical(record, resource) for shopify_id, record in records.items()}
    return canonical, set(truth["deleted_ids"])


def beyond_rest(declaration: ResourceDeclaration, record: Any, values: dict[str, Any]) -> None:
    """What the truth's REST record cannot say (a customer's locale, its whole address book): the
    simulator gives it beside the record, a child list in its REST shape."""
    children = {child.name: child for child in declaration.children}
    for name, value in values.items():
        child = children.get(name)
        setattr(record, name, [child.parse_rest(item) for item in value] if child else value)


def _truth_children(
    control, *, shop_domain: str, child: ChildDeclaration, owner: str, namespaces: list[str] | tuple[str, ...]
) -> dict[int, list]:
    """A child the parent's REST record does not embed, from the simulator's truth for it."""
    by_parent: dict[int, list] = defaultdict(list)
    if child.namespaced:
        # Metafields: the truth's of this owner type (REST `owner_resource`), in the shop's namespaces.
        if not namespaces:
            return by_parent
        for row in control.truth("metafields", full=True, shop=shop_domain)["records"]:
            metafield = row["record"]
            if metafield["owner_resource"] == owner and metafield["namespace"] in namespaces:
                by_parent[metafield["owner_id"]].append(child.parse_rest(metafield))
        return by_parent
    if child.model is CollectionProduct:
        # A collection's members (no REST collection carries them): the truth's memberships.
        for row in control.truth("collects", shop=shop_domain)["memberships"]:
            by_parent[row["collection_id"]] = [CollectionProductRecord(i) for i in row["product_ids"]]
        return by_parent
    if child.model is InventoryLevel:
        # A location's levels (no REST location carries them): the truth's levels, every quantity.
        for row in control.truth("inventory_levels", shop=shop_domain)["levels"]:
            by_parent[row["location_id"]].append(_truth_level(row))
        return by_parent
    for row in control.truth(child.name, full=True, shop=shop_domain)["records"]:
        by_parent[row["record"][child.rest_parent_key]].append(child.parse_rest(row["record"]))
    return by_parent


def _truth_level(row: dict[str, Any]) -> InventoryLevelRecord:
    return InventoryLevelRecord(
        shopify_id=row["inventory_item_id"],
        shopify_updated_at=to_utc(datetime.fromisoformat(row["updated_at"])),
        available=row["available"],
        on_hand=row["on_hand"],
        committed=row["committed"],
        incoming=row["incoming"],
    )


def our_records(*, shop: Shop, resource: str) -> tuple[dict[int, dict], set[int]]:
    """{id: canonical dict} of live rows, and the ids of soft-deleted rows."""
    declaration = DECLARATIONS[resource]
    names = _field_names(declaration)
    rows = list(declaration.model.objects.filter(shop=shop).values("pk", "deleted_at", *names))
    children = {child.name: _our_children(shop=shop, child=child) for child in declaration.children}
    live, deleted = {}, set()
    for row in rows:
        if row["deleted_at"] is not None:
            deleted.add(row["shopify_id"])
            continue
        record = {name: row[name] for name in names if name not in KNOWN_GAPS.get(resource, ())}
        for child in declaration.children:
            record[child.name] = sorted(children[child.name][row["pk"]], key=lambda c: c["shopify_id"])
        live[row["shopify_id"]] = record
    return live, deleted


def _our_children(*, shop: Shop, child: ChildDeclaration) -> dict[int, list[dict]]:
    """{parent row id: [child as a record dict]}, each child's own children (a refund's line items)
    nested in it, sorted by id, as the truth's parsed records hold them."""
    by_parent: dict[int, list[dict]] = defaultdict(list)
    nested = {grandchild.name for grandchild in child.children}
    child_names = [f.name for f in dataclasses.fields(child.record_type) if f.name not in nested]
    own = {grandchild.name: _our_children(shop=shop, child=grandchild) for grandchild in child.children}
    for row in child.model.objects.filter(shop=shop).values("pk", child.parent_column, *child_names):
        pk = row.pop("pk")
        for name, rows in own.items():
            row[name] = sorted(rows.get(pk, []), key=lambda c: c["shopify_id"])
        by_parent[row.pop(child.parent_column)].append(row)
    return by_parent


def mirror_compare(control, *, shop: Shop, resource: str, shop_domain: str = "") -> ResourceComparison:
    """Our rows of `shop` against the simulator's truth of `shop_domain` (by default the shop's own
    domain; a test shop on the shared session simulator names its store apart)."""
    truth, truth_deleted = truth_records(
        control, shop_domain=shop_domain or shop.domain, resource=resource,
        namespaces=tuple(shop.metafield_namespaces or ()),
    )  # fmt: skip
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


def _field_names(declaration: ResourceDeclaration) -> list[str]:
    children = {child.name for child in declaration.children}
    return [f.name for f in dataclasses.fields(declaration.record_type) if f.name not in children]


def _canonical(record: Any, resource: str) -> dict:
    data = dataclasses.asdict(record)
    for name in KNOWN_GAPS.get(resource, ()):
        data.pop(name)
    for child in DECLARATIONS[resource].children:
        data[child.name] = _sorted_children(data[child.name] or [], child)
    return data


def _sorted_children(items: list[dict], child: ChildDeclaration) -> list[dict]:
    for item in items:
        for grandchild in child.children:
            item[grandchild.name] = _sorted_children(item[grandchild.name] or [], grandchild)
    return sorted(items, key=lambda c: c["shopify_id"])


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
