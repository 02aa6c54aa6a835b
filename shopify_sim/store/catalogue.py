"""The catalogue around products: collections (custom and smart) and who is in them, locations, and
inventory levels per (inventory item, location) (contract §8.8, §8.9).

Tables (beside the generator's): `collections` and `locations` hold canonical blobs like the other
resources; `collects` holds membership for both kinds of collection (`smart` = 1 for a smart
collection's computed members, which REST `collects.json` does not list); `inventory_levels` holds the
quantities of each item at each location. An inventory item is its variant (id = variant id +
INVENTORY_ITEM_OFFSET, as the GraphQL side already serves it).

Invariants the generator and every change keep: on_hand = available + committed + the unavailable
states (reserved, damaged, quality_control, safety_stock), so available <= on_hand; a variant's
`inventory_quantity` = the sum of its levels' `available`; a smart collection's members are exactly
the products its rules match.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from shopify_sim.store import fakes

INVENTORY_ITEM_OFFSET = 1_000_000_000_000
TABLES = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    hash TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS collects (
    id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
    position INTEGER NOT NULL, smart INTEGER NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, UNIQUE (collection_id, product_id));
CREATE INDEX IF NOT EXISTS collects_product ON collects (product_id, collection_id);
CREATE TABLE IF NOT EXISTS locations (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    hash TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS inventory_levels (
    inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL, variant_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    available INTEGER NOT NULL, committed INTEGER NOT NULL, incoming INTEGER NOT NULL,
    reserved INTEGER NOT NULL, damaged INTEGER NOT NULL, quality_control INTEGER NOT NULL,
    safety_stock INTEGER NOT NULL, PRIMARY KEY (inventory_item_id, location_id));
CREATE INDEX IF NOT EXISTS inventory_levels_location ON inventory_levels (location_id, inventory_item_id);
CREATE INDEX IF NOT EXISTS inventory_levels_product ON inventory_levels (product_id);
CREATE INDEX IF NOT EXISTS inventory_levels_updated ON inventory_levels (updated_at);
CREATE INDEX IF NOT EXISTS collections_updated ON collections (updated_at, id);
"""
LEVEL_COLUMNS = (
    "inventory_item_id",
    "location_id",
    "variant_id",
    "product_id",
    "created_at",
    "updated_at",
    "available",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
)
UNAVAILABLE = ("reserved", "damaged", "quality_control", "safety_stock")
# Shopify's quantity names (InventoryLevel.quantities(names:)), contract §8.9.
QUANTITY_NAMES = (
    "available",
    "committed",
    "incoming",
    "on_hand",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
)
ID_BASES = {"collection": 480_000_000_000, "collect": 38_000_000_000, "location": 76_000_000_000}
ID_STRIDES = {"collection": 10_000_000, "collect": 1_000_000, "location": 100_000_000}
LOCATION_NAMES = ("Main warehouse", "Downtown store", "East fulfilment centre", "Pop-up shop", "Outlet")
SORT_ORDERS = ("manual", "best-selling", "alpha-asc", "created-desc", "price-asc")
# Smart collection rule columns we evaluate, with the product field each reads (REST spellings).
RULE_COLUMNS = {"tag": "tags", "vendor": "vendor", "type": "product_type", "title": "title"}


def create_tables(conn: sqlite3.Connection) -> None:
    conn.executescript(TABLES)


# -- ids ---------------------------------------------------------------------------------------------
class CatalogueIds:
    """Increasing ids with random gaps, kept in `meta` under `catalogue_ids`."""

    def __init__(self, state: dict[str, int] | None = None) -> None:
        self.last = dict(ID_BASES) | dict(state or {})

    def next(self, kind: str, rng: random.Random) -> int:
        self.last[kind] += 1 + int(rng.random() * ID_STRIDES[kind])
        return self.last[kind]

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> CatalogueIds:
        row = conn.execute("SELECT value FROM meta WHERE key = 'catalogue_ids'").fetchone()
        return cls(orjson.loads(row[0]) if row else None)

    def save(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('catalogue_ids', ?)",
            (orjson.dumps(self.last).decode(),),
        )


def content_hash(blob: bytes) -> str:
    """As `db.content_hash` (which imports this module for its tables)."""
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


# -- records -----------------------------------------------------------------------------------------
def blob_row(record: dict[str, Any]) -> tuple[Any, ...]:
    blob = orjson.dumps(record)
    return (record["id"], record["created_at"], record["updated_at"], content_hash(blob), blob)


def put_blob(conn: sqlite3.Connection, table: str, record: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO {table} (id, created_at, updated_at, hash, data) VALUES (?, ?, ?, ?, ?)",  # noqa: S608
        blob_row(record),
    )


def make_collection(
    rng: random.Random, ids: CatalogueIds, created_at: int, updated_at: int, products: list[dict]
) -> dict[str, Any]:
    collection_id = ids.next("collection", rng)
    smart = rng.random() < 0.4
    rules: list[dict[str, str]] | None = None
    if smart:
        rules = [random_rule(rng, products)]
        if rng.random() < 0.3:
            rules.append(random_rule(rng, products))
        title = " ".join(r["condition"].title() for r in rules) + " picks"
    else:
        title = f"{rng.choice(fakes.ADJECTIVES)} {rng.choice(fakes.MATERIALS)} collection"
    return {
        "id": collection_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "published_at": created_at if rng.random() < 0.9 else None,
        "title": title,
        "handle": f"{title.lower().replace(' ', '-')}-{collection_id % 10000}",
        "body_html": f"<p>{title}, chosen for you.</p>" if rng.random() < 0.7 else "",
        "sort_order": rng.choice(SORT_ORDERS),
        "template_suffix": None,
        "published_scope": "web",
        "kind": "smart" if smart else "custom",
        "rules": rules,
        "disjunctive": bool(smart and rng.random() < 0.5),
        "image": {
            "src": f"https://cdn.shopify.com/s/files/1/collections/{collection_id}.jpg",
            "alt": title,
            "width": 1200,
            "height": 800,
            "created_at": created_at,
        }
        if rng.random() < 0.5
        else None,
    }


def random_rule(rng: random.Random, products: list[dict]) -> dict[str, str]:
    column = rng.choice(("tag", "tag", "vendor", "type"))
    if column == "tag":
        condition = rng.choice(fakes.PRODUCT_TAGS)
    elif column == "vendor":
        condition = rng.choice(fakes.VENDORS)
    else:
        condition = rng.choice(fakes.PRODUCT_TYPES)
    return {"column": column, "relation": "equals", "condition": condition}


def rule_matches(rule: dict[str, str], product: dict[str, Any]) -> bool:
    value = product.get(RULE_COLUMNS.get(rule["column"], ""))
    wanted = rule["condition"].lower()
    if isinstance(value, list):
        return any(str(v).lower() == wanted for v in value)
    if rule["relation"] == "contains":
        return wanted in str(value or "").lower()
    return str(value or "").lower() == wanted


def smart_matches(collection: dict[str, Any], product: dict[str, Any]) -> bool:
    rules = collection.get("rules") or []
    if not rules:
        return False
    results = (rule_matches(rule, product) for rule in rules)
    return any(results) if collection.get("disjunctive") else all(results)


def make_location(
    rng: random.Random, ids: CatalogueIds, index: int, created_at: int, active: bool
) -> dict[str, Any]:
    city, province, province_code, country, country_code, zip_prefix = rng.choice(fakes.PLACES)
    name = LOCATION_NAMES[index] if index < len(LOCATION_NAMES) else f"Location {index + 1}"
    return {
        "id": ids.next("location", rng),
        "created_at": created_at,
        "updated_at": created_at,
        "name": name,
        "active": active,
        "legacy": False,
        "deactivated_at": None if active else created_at + 86400,
        "address1": f"{rng.randint(1, 999)} {rng.choice(fakes.STREETS)}",
        "address2": None,
        "city": city,
        "province": province,
        "province_code": province_code,
        "country": country,
        "country_code": country_code,
        "zip": f"{zip_prefix}{rng.randint(10, 99)}",
        "phone": f"+1613555{rng.randint(1000, 9999)}" if rng.random() < 0.7 else None,
        "fulfills_online_orders": index == 0 or rng.random() < 0.5,
    }


def level_dict(row: Iterable[Any]) -> dict[str, Any]:
    level = dict(zip(LEVEL_COLUMNS, row, strict=True))
    level["on_hand"] = level["available"] + level["committed"] + sum(level[name] for name in UNAVAILABLE)
    return level


def split_quantity(rng: random.Random, total: int, parts: int) -> list[int]:
    """`parts` integers summing to `total` (a negative total stays on the first location)."""
    if parts <= 1 or total <= 0:
        return [total] + [0] * (parts - 1)
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def new_level(
    rng: random.Random, variant: dict, location_id: int, available: int, created_at: int, updated_at: int
) -> tuple[Any, ...]:
    tracked = variant.get("inventory_management") == "shopify"
    committed = rng.randint(0, 4) if tracked and rng.random() < 0.3 else 0
    incoming = rng.randint(5, 40) if tracked and rng.random() < 0.1 else 0
    damaged = 1 if tracked and rng.random() < 0.05 else 0
    return (
        variant["id"] + INVENTORY_ITEM_OFFSET,
        location_id,
        variant["id"],
        variant["product_id"],
        created_at,
        updated_at,
        available,
        committed,
        incoming,
        0,
        damaged,
        0,
        0,
    )


LEVEL_INSERT = (
    f"INSERT OR REPLACE INTO inventory_levels ({', '.join(LEVEL_COLUMNS)}) "  # noqa: S608 — fixed names
    f"VALUES ({', '.join('?' * len(LEVEL_COLUMNS))})"
)


# -- generation --------------------------------------------------------------------------------------
def generate(
    conn: sqlite3.Connection,
    *,
    seed: int,
    start: int,
    anchor: int,
    products: list[dict[str, Any]],
    collections: int,
    locations: int,
) -> None:
    """Collections, membership, locations and levels for the generated products (own random stream:
    the rest of the store does not change with these options). The tables exist (Store.init_schema)."""
    rng = random.Random(f"{seed}:catalogue")
    ids = CatalogueIds()
    places = [
        make_location(
            rng,
            ids,
            index,
            start - 90 * 86400 + index * 86400,
            active=not (locations >= 3 and index == locations - 1),
        )
        for index in range(locations)
    ]
    for location in places:
        put_blob(conn, "locations", location)
    active = [location["id"] for location in places if location["active"]]
    levels = []
    for product in products:
        for variant in product["variants"]:
            stocked = [active[0]] + [lid for lid in active[1:] if rng.random() < 0.6] if active else []
            for location_id, available in zip(
                stocked, split_quantity(rng, variant["inventory_quantity"], len(stocked)), strict=True
            ):
                created = variant["created_at"]
                updated = created + int(rng.random() * max(0, anchor - created))
                levels.append(new_level(rng, variant, location_id, available, created, updated))
    conn.executemany(LEVEL_INSERT, levels)
    for _ in range(collections):
        created = start + int(rng.random() * max(1, anchor - start - 86400))
        updated = created + int(rng.random() * max(0, anchor - created))
        collection = make_collection(rng, ids, created, updated, products)
        put_blob(conn, "collections", collection)
        if collection["kind"] == "smart":
            members = [p for p in products if smart_matches(collection, p)]
        else:
            share = 0.05 + rng.random() * 0.25
            members = [p for p in products if rng.random() < share] or products[:1]
        for position, product in enumerate(members, start=1):
            at = max(created, product["created_at"])
            add_collect(conn, ids, rng, collection, product["id"], position, at)
    ids.save(conn)


def add_collect(
    conn: sqlite3.Connection,
    ids: CatalogueIds,
    rng: random.Random,
    collection: dict[str, Any],
    product_id: int,
    position: int,
    at: int,
) -> int:
    collect_id = ids.next("collect", rng)
    conn.execute(
        "INSERT OR IGNORE INTO collects (id, collection_id, product_id, position, smart, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (collect_id, collection["id"], product_id, position, int(collection["kind"] == "smart"), at, at),
    )
    return collect_id


# -- reads -------------------------------------------------------------------------------------------
def levels_where(
    conn: sqlite3.Connection, where: str, params: Iterable[Any], order: str = "inventory_item_id, location_id"
) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(LEVEL_COLUMNS)} FROM inventory_levels WHERE {where or '1'} ORDER BY {order}"  # noqa: S608
    return [level_dict(row) for row in conn.execute(sql, tuple(params))]


def level(conn: sqlite3.Connection, item_id: int, location_id: int) -> dict[str, Any] | None:
    found = levels_where(conn, "inventory_item_id = ? AND location_id = ?", (item_id, location_id))
    return found[0] if found else None


def collection_ids_of(conn: sqlite3.Connection, product_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT collection_id FROM collects WHERE product_id = ? ORDER BY collection_id", (product_id,)
    )
    return [row[0] for row in rows]


def member_ids(conn: sqlite3.Connection, collection_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT product_id FROM collects WHERE collection_id = ? ORDER BY position, product_id",
        (collection_id,),
    )
    return [row[0] for row in rows]


def blobs(conn: sqlite3.Connection, table: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for begin in range(0, len(ids), 500):
        chunk = ids[begin : begin + 500]
        marks = ",".join("?" * len(chunk))
        for rid, data in conn.execute(f"SELECT id, data FROM {table} WHERE id IN ({marks})", chunk):  # noqa: S608
            found[rid] = orjson.loads(data)
    return found
