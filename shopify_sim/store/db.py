"""Store: one SQLite file per shop, a connection per thread, writes serialized by a lock."""

# Table names come from the fixed RESOURCES tuple and WHERE clauses from search.py, whose values are
# always bound parameters; no user text is ever spliced into SQL.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import orjson

from shopify_sim.store import catalogue
from shopify_sim.store.schema import COLUMNS, INDEXES, TABLES

RESOURCES = ("orders", "customers", "products")
# Page cache per connection (KiB). Every serving thread has its own connection, so this is paid per
# open client connection: keep it modest (reads are mostly sequential scans or point lookups).
CACHE_KIB = 8192


def content_hash(blob: bytes) -> str:
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


def row_values(resource: str, record: dict[str, Any]) -> tuple[Any, ...]:
    """The column values of a canonical record (the blob is the record itself)."""
    # orjson's result keeps its growth buffer (16 KB for a 2.7 KB order); rows are batched by the
    # thousand, so keep an exact-size copy instead.
    blob = memoryview(orjson.dumps(record)).tobytes()
    digest = content_hash(blob)
    if resource == "orders":
        return (
            record["id"],
            record["created_at"],
            record["updated_at"],
            record["processed_at"],
            record["customer_id"],
            record["closed_at"],
            record["cancelled_at"],
            digest,
            blob,
        )
    return (record["id"], record["created_at"], record["updated_at"], digest, blob)


def variant_rows(product: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The `variants` rows of a product: each variant's canonical blob (it carries `product_id`)."""
    return [
        (v["id"], product["id"], v["created_at"], v["updated_at"], orjson.dumps(v))
        for v in product["variants"]
    ]


def transaction_rows(order: dict[str, Any]) -> list[tuple[int, int]]:
    """The `transactions` lookup rows of an order: (transaction id, order id)."""
    return [(tx["id"], order["id"]) for tx in order.get("transactions", ())]


TRANSACTION_INSERT = "INSERT OR IGNORE INTO transactions (id, order_id) VALUES (?, ?)"


def child_rows(order: dict[str, Any]) -> list[tuple[int, int]]:
    """The `order_children` lookup rows of an order: (refund or fulfillment id, order id)."""
    return [(c["id"], order["id"]) for key in ("refunds", "fulfillments") for c in order.get(key, ())]


CHILD_INSERT = "INSERT OR IGNORE INTO order_children (id, order_id) VALUES (?, ?)"
VARIANT_INSERT = (
    "INSERT OR REPLACE INTO variants (id, product_id, created_at, updated_at, data) VALUES (?, ?, ?, ?, ?)"
)


class Store:
    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self.write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.cache_size = -CACHE_KIB

    # -- connections -------------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.open_connection()
            self._local.conn = conn
        return conn

    def open_connection(self) -> sqlite3.Connection:
        # Autocommit mode: we open transactions explicitly, so long bulk reads are one snapshot.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute(f"PRAGMA cache_size={self.cache_size}")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def release(self, conn: sqlite3.Connection) -> None:
        """Close a connection from `open_connection` (and forget it)."""
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with suppress(sqlite3.Error):
            conn.close()

    def release_thread(self) -> None:
        """Close this thread's connection: a server thread that ends must not leave its cache behind."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            self.release(conn)

    def init_schema(self, wal: bool = True) -> None:
        conn = self.conn()
        # Orders are ~2.5 KB blobs: big pages keep them off overflow chains (half the file size).
        conn.execute("PRAGMA page_size=16384")
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(TABLES)
        catalogue.create_tables(conn)
        self.upgrade_variants(conn)

    def upgrade_variants(self, conn: sqlite3.Connection) -> None:
        """A store written before variants had their own blobs (id, product_id only): rebuild the table
        from the products, so a reused --data-dir keeps working."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(variants)")}
        if "data" in columns:
            return
        with self.write_lock:
            conn.execute("DROP TABLE variants")
            conn.executescript(TABLES)
            conn.execute("BEGIN IMMEDIATE")
            for (blob,) in conn.execute("SELECT data FROM products").fetchall():
                conn.executemany(VARIANT_INSERT, variant_rows(orjson.loads(blob)))
            conn.execute("COMMIT")
            conn.executescript(INDEXES)

    def build_indexes(self) -> None:
        self.conn().executescript(INDEXES)

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement inside sees the same committed state (WAL)."""
        conn = self.conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        with self.write_lock:
            conn = self.conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------------
    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def meta_set(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn()).execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- reads -------------------------------------------------------------------------------------
    def get(self, resource: str, record_id: int, where: str = "", params: Sequence[Any] = ()) -> dict | None:
        sql = f"SELECT data FROM {resource} WHERE id = ?" + (f" AND {where}" if where else "")
        row = self.conn().execute(sql, (record_id, *params)).fetchone()
        return orjson.loads(row[0]) if row else None

    def get_many(self, resource: str, ids: Sequence[int]) -> dict[int, dict]:
        found: dict[int, dict] = {}
        unique = list(dict.fromkeys(i for i in ids if i is not None))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rid, data in self.conn().execute(
                f"SELECT id, data FROM {resource} WHERE id IN ({marks})", chunk
            ):
                found[rid] = orjson.loads(data)
        return found

    def select(
        self, resource: str, where: str, params: Sequence[Any], order_by: str, limit: int | None
    ) -> list[dict]:
        sql = f"SELECT data FROM {resource} WHERE {where or '1'} ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [orjson.loads(row[0]) for row in self.conn().execute(sql, tuple(params))]

    def exists(self, resource: str, where: str, params: Sequence[Any]) -> bool:
        sql = f"SELECT 1 FROM {resource} WHERE {where or '1'} LIMIT 1"
        return self.conn().execute(sql, tuple(params)).fetchone() is not None

    def count(self, resource: str, where: str, params: Sequence[Any], limit: int | None = None) -> int:
        inner = f"SELECT 1 FROM {resource} WHERE {where or '1'}"
        if limit is not None:
            inner += f" LIMIT {int(limit) + 1}"
        return self.conn().execute(f"SELECT COUNT(*) FROM ({inner})", tuple(params)).fetchone()[0]

    def iterate_batches(
        self,
        conn: sqlite3.Connection,
        resource: str,
        where: str,
        params: Sequence[Any],
        order_by: str,
        size: int,
    ) -> Iterator[list[bytes]]:
        """Blobs in order, in lists of `size` (the bulk exporter streams 1M rows through this)."""
        cursor = conn.execute(
            f"SELECT data FROM {resource} WHERE {where or '1'} ORDER BY {order_by}", tuple(params)
        )
        cursor.arraysize = size
        while rows := cursor.fetchmany():
            yield [row[0] for row in rows]

    def child_order_id(self, child_id: int) -> int | None:
        """The order holding a refund or fulfillment."""
        row = self.conn().execute("SELECT order_id FROM order_children WHERE id = ?", (child_id,)).fetchone()
        return row[0] if row else None

    def transaction_order_id(self, transaction_id: int) -> int | None:
        row = (
            self.conn()
            .execute("SELECT order_id FROM transactions WHERE id = ?", (transaction_id,))
            .fetchone()
        )
        return row[0] if row else None

    def variant_product_ids(self, variant_ids: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        unique = list(dict.fromkeys(v for v in variant_ids if v is not None))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.conn().execute(f"SELECT id, product_id FROM variants WHERE id IN ({marks})", chunk)
            )
        return found

    def existing_ids(
        self, table: str, ids: Sequence[int | None], conn: sqlite3.Connection | None = None
    ) -> set[int]:
        """The ids of `ids` that have a row in `table` (products, variants, ...); `conn` for a snapshot."""
        found: set[int] = set()
        unique = list(dict.fromkeys(i for i in ids if i is not None))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id FROM {table} WHERE id IN ({marks})"
            found.update(row[0] for row in (conn or self.conn()).execute(sql, chunk))
        return found

    def deleted_ids(self, resource: str) -> list[int]:
        rows = self.conn().execute("SELECT id FROM deleted WHERE resource = ? ORDER BY id", (resource,))
        return [row[0] for row in rows]

    def random_id(
        self, resource: str, pick: float, where: str = "", params: Sequence[Any] = ()
    ) -> int | None:
        """Roughly uniform pick of a live id: `pick` in [0, 1) maps into the id range."""
        conn = self.conn()
        low, high = conn.execute(f"SELECT MIN(id), MAX(id) FROM {resource}").fetchone()
        if low is None:
            return None
        target = low + int((high - low) * pick)
        extra = f" AND {where}" if where else ""
        row = conn.execute(
            f"SELECT id FROM {resource} WHERE id >= ?{extra} ORDER BY id LIMIT 1", (target, *params)
        ).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT id FROM {resource} WHERE 1{extra} ORDER BY id LIMIT 1", tuple(params)
            ).fetchone()
        return row[0] if row else None

    # -- writes (call inside `writing()`) -----------------------------------------------------------
    def insert_many(
        self, conn: sqlite3.Connection, resource: str, rows: list[tuple[Any, ...]], replace: bool = False
    ) -> None:
        columns = COLUMNS[resource]
        marks = ",".join("?" * len(columns))
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        conn.executemany(f"{verb} INTO {resource} ({','.join(columns)}) VALUES ({marks})", rows)

    def put(self, conn: sqlite3.Connection, resource: str, record: dict[str, Any]) -> None:
        columns = COLUMNS[resource]
        marks = ",".join("?" * len(columns))
        conn.execute(
            f"INSERT OR REPLACE INTO {resource} ({','.join(columns)}) VALUES ({marks})",
            row_values(resource, record),
        )
        if resource == "products":
            conn.execute("DELETE FROM variants WHERE product_id = ?", (record["id"],))
            conn.executemany(VARIANT_INSERT, variant_rows(record))
        elif resource == "orders":
            conn.executemany(TRANSACTION_INSERT, transaction_rows(record))
            conn.executemany(CHILD_INSERT, child_rows(record))

    def remove(self, conn: sqlite3.Connection, resource: str, record_id: int, when: int) -> bool:
        row = conn.execute(f"SELECT data FROM {resource} WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            return False
        conn.execute(f"DELETE FROM {resource} WHERE id = ?", (record_id,))
        if resource == "orders":
            # An order's transactions go with it (the truth lists them among the deleted ids).
            gone_transactions = [(tx_id, when) for tx_id, _ in transaction_rows(orjson.loads(row[0]))]
            conn.executemany(
                "INSERT OR REPLACE INTO deleted (resource, id, deleted_at) VALUES ('transactions', ?, ?)",
                gone_transactions,
            )
            gone = orjson.loads(row[0])
            conn.executemany(
                "INSERT OR REPLACE INTO deleted (resource, id, deleted_at) VALUES (?, ?, ?)",
                [(key, c["id"], when) for key in ("refunds", "fulfillments") for c in gone.get(key, ())],
            )
        if resource == "products":
            conn.execute("DELETE FROM variants WHERE product_id = ?", (record_id,))
        conn.execute(
            "INSERT OR REPLACE INTO deleted (resource, id, deleted_at) VALUES (?, ?, ?)",
            (resource, record_id, when),
        )
        return True
