"""Shopify search syntax (contract §1.7) -> SQL over the store's columns.

Supported: whitespace/AND-joined terms, `-`/NOT negation, `field:value`, `field:>v`, `:>=`, `:<`, `:<=`,
quoted ('..' or "..") or bare values, ISO timestamps, dates (YYYY, YYYY-MM, YYYY-MM-DD, read in the
shop's time zone) and `now`. Unknown fields are ignored, as Shopify ignores them (with a warning).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shopify_sim.timeutil import parse_iso

TERM_RE = re.compile(r"""(-?)([A-Za-z_]+):(<=|>=|<|>)?('[^']*'|"[^"]*"|\S+)|(\S+)""")
COMPARATORS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", None: "="}


class SearchError(ValueError):
    pass


@dataclass
class Filter:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else ""


def parse_time(value: str, offset_minutes: int) -> tuple[float, float]:
    """A value -> [start, end) in epoch seconds (a timestamp is a zero-length range)."""
    if value.lower() == "now":
        now = time.time()
        return now, now
    text = value
    if re.fullmatch(r"\d{4}", text):
        text += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", text):
        text += "-01"
    start, date_only = parse_iso(text, offset_minutes)
    if not date_only:
        return start, start
    span_days = 366 if len(value) == 4 else 31 if len(value) == 7 else 1
    return start, start + span_days * 86400


def time_clause(column: str, comparator: str | None, value: str, offset_minutes: int) -> tuple[str, list]:
    try:
        start, end = parse_time(value, offset_minutes)
    except ValueError as error:
        raise SearchError(str(error)) from error
    if end == start:
        return f"{column} {COMPARATORS[comparator]} ?", [start]
    # A period (date, month, year): `>` means after it, `<=` means up to its end.
    ranged = {
        None: (f"({column} >= ? AND {column} < ?)", [start, end]),
        ">": (f"{column} >= ?", [end]),
        ">=": (f"{column} >= ?", [start]),
        "<": (f"{column} < ?", [start]),
        "<=": (f"{column} < ?", [end]),
    }
    return ranged[comparator]


def json_text(path: str) -> str:
    return f"json_extract(data, '$.{path}')"


def tag_clause(value: str) -> tuple[str, list]:
    return "EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE lower(value) = lower(?))", [value]


# productVariants filters that read the variant's product.
VARIANT_PRODUCT_FIELDS = {
    "vendor": "vendor",
    "product_type": "product_type",
    "product_status": "status",
    "tag": "tags",
    "tag_not": "tags",
}


def variant_product_clause(name: str, value: str) -> tuple[str, list]:
    path = VARIANT_PRODUCT_FIELDS[name]
    if path == "tags":
        clause = (
            "EXISTS (SELECT 1 FROM products p, json_each(p.data, '$.tags') t "
            "WHERE p.id = variants.product_id AND lower(t.value) = lower(?))"
        )
        return (f"NOT {clause}" if name == "tag_not" else clause), [value]
    values = [v.strip() for v in value.split(",") if v.strip()]
    marks = ",".join("lower(?)" for _ in values) or "NULL"
    return (
        "EXISTS (SELECT 1 FROM products p WHERE p.id = variants.product_id "  # noqa: S608 (path is ours)
        f"AND lower(json_extract(p.data, '$.{path}')) IN ({marks}))"
    ), values


ORDER_STATUS = {
    "open": "(closed_at IS NULL AND cancelled_at IS NULL)",
    "closed": "closed_at IS NOT NULL",
    "cancelled": "cancelled_at IS NOT NULL",
    "not_closed": "closed_at IS NULL",
    "any": "1",
}

TIME_FIELDS = {
    "orders": {"created_at", "updated_at", "processed_at"},
    "customers": {"created_at", "updated_at"},
    "products": {"created_at", "updated_at"},
    "events": {"created_at"},
    "variants": {"created_at", "updated_at"},
    "inventory_items": {"created_at", "updated_at"},
    "collections": {"updated_at", "published_at"},
    "locations": {"created_at", "updated_at"},
    "inventory_levels": {"updated_at", "created_at"},
}
TEXT_FIELDS = {
    "orders": {
        "email": "email",
        "financial_status": "financial_status",
        "fulfillment_status": "fulfillment_status",
    },
    "customers": {"email": "email", "state": "state", "first_name": "first_name", "last_name": "last_name"},
    "products": {"status": "status", "vendor": "vendor", "product_type": "product_type", "handle": "handle"},
    "events": {},
    "variants": {"sku": "sku", "barcode": "barcode", "title": "title"},
    "inventory_items": {"sku": "sku"},
    "collections": {"title": "title", "handle": "handle", "collection_type": "kind"},
    "locations": {"name": "name"},
    "inventory_levels": {},
}
# Membership filters (contract §8.12): `collections(query: "product_id:N")`, `products(query:
# "collection_id:N")`, over the catalogue's collects.
MEMBERSHIP = {
    ("collections", "product_id"): "id IN (SELECT collection_id FROM collects WHERE product_id = ?)",
    ("products", "collection_id"): "id IN (SELECT product_id FROM collects WHERE collection_id = ?)",
}
# An inventory item is its variant's (one per variant, as Shopify's); its id is the variant id + this.
INVENTORY_ITEM_OFFSET = 1_000_000_000_000
# Events filter on their own columns: `action:destroy`, `subject_type:ORDER` (GraphQL enum spelling;
# the REST spelling `Order` is accepted too).
EVENT_SUBJECT_COLUMN = {
    "ORDER": "Order",
    "CUSTOMER": "Customer",
    "PRODUCT": "Product",
    "COLLECTION": "Collection",
}


def term_clause(
    resource: str, name: str, comparator: str | None, value: str, offset: int
) -> tuple[str, list] | None:
    if name in TIME_FIELDS[resource]:
        return time_clause(name, comparator, value, offset)
    if (resource, name) in MEMBERSHIP:
        if not value.isdigit():
            raise SearchError(f"invalid value for {name}: {value!r}")
        return MEMBERSHIP[(resource, name)], [int(value)]
    if resource == "locations" and name == "active":
        return "json_extract(data, '$.active') = ?", [1 if value.lower() == "true" else 0]
    if name == "id" or (resource, name) in (("orders", "customer_id"), ("variants", "product_id")):
        if not value.isdigit():
            raise SearchError(f"invalid value for {name}: {value!r}")
        number = int(value) - (INVENTORY_ITEM_OFFSET if resource == "inventory_items" else 0)
        return f"{name} {COMPARATORS[comparator]} ?", [number]
    if resource == "variants" and name == "inventory_quantity":
        if not value.lstrip("-").isdigit():
            raise SearchError(f"invalid value for {name}: {value!r}")
        return f"{json_text(name)} {COMPARATORS[comparator]} ?", [int(value)]
    if resource == "variants" and name == "taxable":
        return f"{json_text(name)} = ?", [1 if value.lower() == "true" else 0]
    if resource == "events" and name == "action":
        return "verb = ?", [value.lower()]
    if resource == "events" and name == "subject_type":
        return "subject_type = ?", [EVENT_SUBJECT_COLUMN.get(value.upper(), value)]
    if resource == "variants" and name in VARIANT_PRODUCT_FIELDS:
        return variant_product_clause(name, value)
    if name in ("tag", "tags"):
        return tag_clause(value)
    if name == "tag_not":
        clause, params = tag_clause(value)
        return f"NOT {clause}", params
    if resource == "orders" and name == "status":
        return ORDER_STATUS.get(value.lower(), "0"), []
    if resource == "orders" and name == "test":
        return f"{json_text('test')} = ?", [1 if value.lower() == "true" else 0]
    path = TEXT_FIELDS[resource].get(name)
    if path is not None:
        return f"lower({json_text(path)}) = lower(?)", [value]
    return None


def parse(resource: str, query: str | None, offset_minutes: int = 0) -> Filter:
    result = Filter()
    if not query:
        return result
    negate_next = False
    for match in TERM_RE.finditer(query):
        minus, name, comparator, raw, bare = match.groups()
        if bare is not None:
            if bare.upper() == "NOT":
                negate_next = True
            elif bare.upper() not in ("AND", "OR"):
                result.ignored.append(bare)
            continue
        value = raw[1:-1] if raw[:1] in "'\"" and len(raw) >= 2 and raw[-1] == raw[0] else raw
        clause = term_clause(resource, name.lower(), comparator, value, offset_minutes)
        if clause is None:
            result.ignored.append(match.group(0))
            continue
        sql, params = clause
        if minus or negate_next:
            sql = f"NOT ({sql})"
        negate_next = False
        result.add(sql, *params)
    return result


def matcher(query: str | None, fields: dict[str, Callable[[Any], str]]) -> Callable[[Any], bool]:
    """In-memory `field:value` filtering (bulk operations, webhook subscriptions)."""
    wanted = []
    for match in TERM_RE.finditer(query or ""):
        _, name, _, raw, _ = match.groups()
        if name and name.lower() in fields:
            wanted.append((fields[name.lower()], raw.strip("'\"").lower()))
    return lambda item: all(getter(item).lower() == value for getter, value in wanted)
