"""SQLite layout. Each record is an orjson blob of its canonical form plus the columns we filter/sort on."""

from __future__ import annotations

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    hash TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    hash TEXT NOT NULL, data BLOB NOT NULL);
-- One row per live variant (its canonical blob, for the root productVariants / inventoryItems).
CREATE TABLE IF NOT EXISTS variants (
    id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    processed_at INTEGER NOT NULL, customer_id INTEGER, closed_at INTEGER, cancelled_at INTEGER,
    hash TEXT NOT NULL, data BLOB NOT NULL);
-- Which order holds a transaction (node(id:) of an OrderTransaction); the transactions themselves live
-- in their order's blob. Rows of deleted orders stay: the lookup then finds no order.
CREATE TABLE IF NOT EXISTS transactions (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL);
-- Which order holds a refund or fulfillment (node(id:)); id ranges of the two kinds do not overlap.
CREATE TABLE IF NOT EXISTS order_children (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deleted (
    resource TEXT NOT NULL, id INTEGER NOT NULL, deleted_at INTEGER NOT NULL, PRIMARY KEY (resource, id));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, subject_type TEXT NOT NULL,
    subject_id INTEGER NOT NULL, verb TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject_type, subject_id, id);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at, id);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""

# Built after the generator's bulk insert: building an index once is much faster than maintaining it.
INDEXES = """
CREATE INDEX IF NOT EXISTS customers_updated ON customers (updated_at, id);
CREATE INDEX IF NOT EXISTS customers_created ON customers (created_at, id);
CREATE INDEX IF NOT EXISTS products_updated ON products (updated_at, id);
CREATE INDEX IF NOT EXISTS products_created ON products (created_at, id);
CREATE INDEX IF NOT EXISTS variants_product ON variants (product_id);
CREATE INDEX IF NOT EXISTS variants_updated ON variants (updated_at, id);
CREATE INDEX IF NOT EXISTS variants_created ON variants (created_at, id);
CREATE INDEX IF NOT EXISTS orders_updated ON orders (updated_at, id);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at, id);
CREATE INDEX IF NOT EXISTS orders_processed ON orders (processed_at, id);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id, id);
"""

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "created_at", "updated_at", "hash", "data"),
    "products": ("id", "created_at", "updated_at", "hash", "data"),
    "orders": (
        "id",
        "created_at",
        "updated_at",
        "processed_at",
        "customer_id",
        "closed_at",
        "cancelled_at",
        "hash",
        "data",
    ),
}
