"""Metafields (contract §8.10) on orders, customers, products and variants, in their own table (the owners'
blobs stay as they were, so exports that do not select metafields read nothing more).

Row: `metafields(id, owner_type, owner_id, updated_at, hash, data)`; `data` is the canonical metafield
`{id, owner_type, owner_id, namespace, key, type, value (a string), description, created_at, updated_at}`
with owner_type one of order, customer, product, variant (REST's `owner_resource`).

Generated per seed from one stream per owner type (`Writer`): 0..`metafields_per_record` per record
(shop option, default 2) from a pool of keys across three namespaces, created within the owner's life
(never after its `updated_at`). Ids grow from 2.6e13, kept in `meta` under `metafield_last_id`.
"""

# Fixed table and column names and `?` marks only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from shopify_sim.store.db import content_hash

TABLE = """
CREATE TABLE IF NOT EXISTS metafields (
    id INTEGER PRIMARY KEY, owner_type TEXT NOT NULL, owner_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, hash TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS metafields_owner ON metafields (owner_type, owner_id, id);
"""
INSERT = "INSERT OR REPLACE INTO metafields (id, owner_type, owner_id, updated_at, hash, data) VALUES (?, ?, ?, ?, ?, ?)"
ID_BASE, ID_STRIDE = 26_000_000_000_000, 1_000_000
OWNER_TYPES = ("order", "customer", "product", "variant")
# REST resource of an owner type, and the store table holding the owner.
OWNER_TABLES = {"order": "orders", "customer": "customers", "product": "products", "variant": "variants"}
GRAPHQL_OWNER = {"order": "ORDER", "customer": "CUSTOMER", "product": "PRODUCT", "variant": "PRODUCTVARIANT"}


def text(choices: tuple[str, ...]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(choices)


def integer(low: int, high: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(low, high))


def date(rng: random.Random) -> str:
    return f"20{rng.randint(24, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def external_id(rng: random.Random) -> str:
    return f"ERP-{rng.randint(100000, 999999)}"


def json_value(rng: random.Random) -> str:
    return orjson.dumps({"score": rng.randint(1, 100), "segment": rng.choice(("a", "b", "c"))}).decode()


# (namespace, key, type, value maker) per owner type: three namespaces, a few keys each.
POOL: dict[str, tuple[tuple[str, str, str, Callable[[random.Random], str]], ...]] = {
    "order": (
        (
            "custom",
            "gift_message",
            "multi_line_text_field",
            text(("Happy birthday!", "Congrats", "With love")),
        ),
        ("custom", "delivery_date", "date", date),
        ("erp", "external_id", "single_line_text_field", external_id),
        ("erp", "synced", "boolean", text(("true", "false"))),
        ("loyalty", "points_earned", "number_integer", integer(0, 500)),
    ),
    "customer": (
        ("loyalty", "tier", "single_line_text_field", text(("bronze", "silver", "gold", "platinum"))),
        ("loyalty", "points", "number_integer", integer(0, 20000)),
        ("custom", "birthday", "date", date),
        ("erp", "external_id", "single_line_text_field", external_id),
        ("custom", "profile", "json", json_value),
    ),
    "product": (
        (
            "custom",
            "care_guide",
            "multi_line_text_field",
            text(("Hand wash cold.", "Wipe clean.", "Dry flat.")),
        ),
        ("custom", "material", "single_line_text_field", text(("cotton", "wool", "steel", "oak"))),
        ("erp", "external_id", "single_line_text_field", external_id),
        ("reviews", "rating_count", "number_integer", integer(0, 900)),
        ("custom", "launch_date", "date", date),
    ),
    "variant": (
        ("erp", "external_id", "single_line_text_field", external_id),
        ("custom", "shelf", "single_line_text_field", text(("A1", "B4", "C2", "D7"))),
        ("warehouse", "reorder_point", "number_integer", integer(0, 60)),
    ),
}


def create_table(conn: sqlite3.Connection) -> None:
    # Statement by statement: `executescript` would commit the generator's open transaction.
    for statement in TABLE.split(";"):
        if statement.strip():
            conn.execute(statement)


def row(metafield: dict[str, Any]) -> tuple:
    blob = orjson.dumps(metafield)
    return (
        metafield["id"],
        metafield["owner_type"],
        metafield["owner_id"],
        metafield["updated_at"],
        content_hash(blob),
        blob,
    )


class Ids:
    def __init__(self, last: int | None) -> None:
        self.last = last or ID_BASE

    def next(self, rng: random.Random) -> int:
        self.last += 1 + int(rng.random() * ID_STRIDE)
        return self.last


def load_ids(conn: sqlite3.Connection) -> Ids:
    found = conn.execute("SELECT value FROM meta WHERE key = 'metafield_last_id'").fetchone()
    return Ids(int(found[0]) if found else None)


def save_ids(conn: sqlite3.Connection, ids: Ids) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('metafield_last_id', ?)", (str(ids.last),))


def make(
    rng: random.Random,
    ids: Ids,
    owner_type: str,
    owner_id: int,
    spec: tuple,
    created_at: int,
    updated_at: int,
) -> dict[str, Any]:
    namespace, key, kind, value = spec
    return {
        "id": ids.next(rng),
        "owner_type": owner_type,
        "owner_id": owner_id,
        "namespace": namespace,
        "key": key,
        "type": kind,
        "value": value(rng),
        "description": None,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def for_owner(
    rng: random.Random, ids: Ids, owner_type: str, owner: dict[str, Any], most: int
) -> list[dict[str, Any]]:
    """0..most metafields of distinct keys, created and last written within the owner's life."""
    count = rng.randint(0, most) if most > 0 else 0
    if not count:
        return []
    pool = POOL[owner_type]
    created, updated = owner["created_at"], owner["updated_at"]
    made = []
    for spec in rng.sample(pool, min(count, len(pool))):
        born = created + int(rng.random() * max(0, updated - created) * 0.5)
        written = born + int(rng.random() * max(0, updated - born))
        made.append(make(rng, ids, owner_type, owner["id"], spec, born, written))
    return made


class Writer:
    """The generator's metafields: one stream per owner type (so more orders never change the
    customers' metafields), written in batches."""

    def __init__(self, conn: sqlite3.Connection, seed: int, most: int) -> None:
        self.conn = conn
        self.most = most
        self.rngs = {kind: random.Random(f"{seed}:metafields:{kind}") for kind in OWNER_TYPES}
        self.ids = Ids(None)
        self.batch: list[tuple] = []
        create_table(conn)

    def add(self, owner_type: str, owner: dict[str, Any]) -> None:
        if self.most <= 0:
            return
        for metafield in for_owner(self.rngs[owner_type], self.ids, owner_type, owner, self.most):
            self.batch.append(row(metafield))
        if len(self.batch) >= 2000:
            self.flush()

    def add_product(self, product: dict[str, Any]) -> None:
        self.add("product", product)
        for variant in product["variants"]:
            self.add("variant", variant)

    def flush(self) -> None:
        if self.batch:
            self.conn.executemany(INSERT, self.batch)
            self.batch.clear()

    def close(self) -> None:
        self.flush()
        save_ids(self.conn, self.ids)


# -- reads -----------------------------------------------------------------------------------------------
def of_owner(conn: sqlite3.Connection, owner_type: str, owner_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT data FROM metafields WHERE owner_type = ? AND owner_id = ? ORDER BY id",
        (owner_type, owner_id),
    )
    return [orjson.loads(blob) for (blob,) in rows]


def of_owners(conn: sqlite3.Connection, owner_type: str, owner_ids: Iterable[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    ids = list(owner_ids)
    for begin in range(0, len(ids), 500):
        chunk = ids[begin : begin + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT owner_id, data FROM metafields WHERE owner_type = ? AND owner_id IN ({marks}) ORDER BY id",
            (owner_type, *chunk),
        )
        for owner_id, blob in rows:
            found.setdefault(owner_id, []).append(orjson.loads(blob))
    return found


def by_id(conn: sqlite3.Connection, metafield_id: int) -> dict[str, Any] | None:
    found = conn.execute("SELECT data FROM metafields WHERE id = ?", (metafield_id,)).fetchone()
    return orjson.loads(found[0]) if found else None


def matching(
    metafields: list[dict[str, Any]], namespace: str | None, keys: list[str] | None
) -> list[dict[str, Any]]:
    """GraphQL's `namespace:` and `keys: ["namespace.key"]` filters."""
    if namespace is not None:
        metafields = [m for m in metafields if m["namespace"] == namespace]
    if keys:
        wanted = set(keys)
        metafields = [m for m in metafields if f"{m['namespace']}.{m['key']}" in wanted]
    return metafields


def forget_owner(conn: sqlite3.Connection, owner_type: str, owner_ids: list[int], when: int) -> None:
    """An owner's metafields go with it (listed among the truth's deleted ids)."""
    for owner_id in owner_ids:
        gone = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM metafields WHERE owner_type = ? AND owner_id = ?", (owner_type, owner_id)
            )
        ]
        conn.execute("DELETE FROM metafields WHERE owner_type = ? AND owner_id = ?", (owner_type, owner_id))
        conn.executemany(
            "INSERT OR REPLACE INTO deleted (resource, id, deleted_at) VALUES ('metafields', ?, ?)",
            [(mid, when) for mid in gone],
        )
