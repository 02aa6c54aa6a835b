"""The shop's event log (REST `Event`, GraphQL `BasicEvent`): one row per create, update, cancel and
deletion the store goes through at run time, written in the same transaction as the change.

A polling client learns of deletions only here (a deleted record is gone from every list). The
generated history has no events: events start with the shop's first change after generation.

Verbs [UNSURE, not in the contract]: Shopify's Event reference lists `create`/`update`/`destroy`
for products and collections (recorded here too), and `placed`, `cancelled`, `closed`, ... for orders; it does not list
order or customer deletion. We record `destroy` for every deletion (that is what a client asking for
`verb=destroy` needs), `placed` for a new order and `create` otherwise, `update`, and `cancelled`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

# REST `subject_type` (and `filter=`) <-> GraphQL `EventSubjectType`.
SUBJECT_TYPES = {
    "orders": "Order",
    "customers": "Customer",
    "products": "Product",
    "collections": "Collection",
}
GRAPHQL_SUBJECT_TYPES = {
    "Order": "ORDER",
    "Customer": "CUSTOMER",
    "Product": "PRODUCT",
    "Collection": "COLLECTION",
}
REST_SUBJECT_TYPES = {v: k for k, v in GRAPHQL_SUBJECT_TYPES.items()}
RESOURCE_OF_SUBJECT = {v: k for k, v in SUBJECT_TYPES.items()}
ID_BASE = 7_300_000_000_000  # event ids are large and grow with time, as Shopify's do
MESSAGES = {
    "create": "{kind} was created: {label}.",
    "placed": "{kind} {label} was placed.",
    "update": "{kind} was updated: {label}.",
    "cancelled": "{kind} {label} was cancelled.",
    "destroy": "{kind} was deleted: {label}.",
}
# Money movements on an order: verbs `<kind>_<status>` (`capture_success`, `refund_success`,
# `sale_failure`, ...), the order verbs of Shopify's REST Event reference.
TRANSACTION_MESSAGE = "{kind} {label}: {verb}."


def label_of(resource: str, record: dict[str, Any]) -> str:
    """What the event's message names: the order name, the product title, the customer's name."""
    if resource == "orders":
        return f"#{record['number'] + 1000}" if "number" in record else f"#{record['id']}"
    if resource in ("products", "collections"):
        return str(record.get("title") or record["id"])
    name = " ".join(part for part in (record.get("first_name"), record.get("last_name")) if part)
    return name or str(record.get("email") or record["id"])


def record_event(
    conn: sqlite3.Connection, *, resource: str, record: dict[str, Any], verb: str, at: int
) -> int:
    """Append one event (call inside the store's write transaction); returns its id."""
    kind = SUBJECT_TYPES[resource]
    label = label_of(resource, record)
    (last,) = conn.execute("SELECT COALESCE(MAX(id), ?) FROM events", (ID_BASE,)).fetchone()
    event_id = last + 1
    data = {
        "id": event_id,
        "created_at": at,
        "subject_type": kind,
        "subject_id": record["id"],
        "verb": verb,
        "arguments": [label],
        "message": MESSAGES.get(verb, TRANSACTION_MESSAGE).format(
            kind=kind, label=label, verb=verb.replace("_", " ")
        ),
        "path": f"/admin/{resource}/{record['id']}",
    }
    conn.execute(
        "INSERT INTO events (id, created_at, subject_type, subject_id, verb, data) VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, at, kind, record["id"], verb, orjson.dumps(data)),
    )
    return event_id
