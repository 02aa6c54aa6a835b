"""Deterministic store generator: same options (seed included) -> same store.

Memory does not grow with the store: customers go to SQLite as they are made and come back through a
small cache when an order picks one; what orders add to a customer (count, spend, last order) is kept
in typed arrays (a few bytes per customer) and applied in one streaming pass at the end. Order
creation times are kept as a typed array and sorted in chunks (8 bytes per order, not a list of ints).
"""

from __future__ import annotations

import bisect
import heapq
import random
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.options import ShopOptions
from shopify_sim.store import (
    catalogue,
    customers_extra,
    fulfillments,
    metafields,
    records,
    refunds,
    transactions,
)
from shopify_sim.store.db import (
    CHILD_INSERT,
    TRANSACTION_INSERT,
    VARIANT_INSERT,
    Store,
    child_rows,
    row_values,
    transaction_rows,
    variant_rows,
)

BATCH = 2000
SAME_UPDATED_AT_LAG = 3 * 86400
SORT_CHUNK = 1 << 16
CUSTOMER_CACHE = 4096
# The generating connection's page cache (KiB). SQLite sizes a negative cache_size in pages of the
# page size in effect when it is set: set before `page_size=16384` took effect, -65536 meant ~250 MB.
GENERATION_CACHE_KIB = 16384
INDEX_CACHE_KIB = 16384  # index builds sort in page-cache-sized runs (then merge from temp files)


def anchor_of(options: ShopOptions) -> int:
    if options.anchor:
        return int(timeutil.parse_iso(options.anchor)[0])
    return timeutil.day_start_utc(time.time())


def creation_times(rng: random.Random, count: int, start: int, end: int, growth: bool) -> list[int]:
    """Sorted creation instants; `growth` skews them towards the end (a shop that grows)."""
    return list(sorted_creation_times(rng, count, start, end, growth))


def sorted_creation_times(
    rng: random.Random, count: int, start: int, end: int, growth: bool
) -> Iterator[int]:
    """The same instants as `creation_times`, in order, held as 8-byte array items (not Python ints)."""
    span = end - start
    if growth:
        times = array("q", (start + int(span * rng.random() ** 0.5) for _ in range(count)))
    else:
        times = array("q", (start + int(span * rng.random()) for _ in range(count)))
    bounds = range(0, count, SORT_CHUNK)
    for low in bounds:
        times[low : low + SORT_CHUNK] = array("q", sorted(times[low : low + SORT_CHUNK]))
    if len(bounds) <= 1:
        return iter(times)
    runs = (iter_slice(times, low, min(count, low + SORT_CHUNK)) for low in bounds)
    return heapq.merge(*runs)


def iter_slice(values: array, low: int, high: int) -> Iterator[int]:
    for index in range(low, high):
        yield values[index]


def later(rng: random.Random, created_at: int, horizon: int) -> int:
    """An updated_at for a record that may have been edited after creation."""
    roll = rng.random()
    if roll < 0.5:
        return created_at
    if roll < 0.85:
        return created_at + records.before_horizon(rng.randint(1, 30 * 86400), horizon - created_at)
    return created_at + int(rng.random() * max(0, horizon - created_at))


class CustomerBook:
    """Customers as orders see them: arrays by creation order, records read back from SQLite."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.times = array("q")
        self.ids = array("q")
        self.updated_at = array("q")
        self.orders_count = array("q")
        self.spent_cents = array("q")
        self.last_order_id = array("q")
        self.last_order_number = array("q")
        self.cache: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, customer: dict[str, Any]) -> None:
        self.times.append(customer["created_at"])
        self.ids.append(customer["id"])
        self.updated_at.append(customer["updated_at"])
        for column in (self.orders_count, self.spent_cents, self.last_order_id, self.last_order_number):
            column.append(0)

    def record(self, index: int) -> dict[str, Any]:
        """The customer as generated (orders only read fields that placing orders never changes)."""
        found = self.cache.get(index)
        if found is not None:
            self.cache.move_to_end(index)
            return found
        row = self.conn.execute("SELECT data FROM customers WHERE id = ?", (self.ids[index],)).fetchone()
        found = orjson.loads(row[0])
        self.cache[index] = found
        if len(self.cache) > CUSTOMER_CACHE:
            self.cache.popitem(last=False)
        return found

    def count_order(self, index: int, order: dict[str, Any]) -> None:
        self.orders_count[index] += 1
        if order["cancelled_at"] is None:
            self.spent_cents[index] += records.cents(order["total_price"])
        self.last_order_id[index] = order["id"]
        self.last_order_number[index] = order["number"]
        # Placing an order touches the customer (orders_count changes), as on Shopify.
        self.updated_at[index] = max(self.updated_at[index], order["created_at"])

    def apply(self, index: int, customer: dict[str, Any]) -> None:
        count = self.orders_count[index]
        customer["orders_count"] = count
        customer["total_spent"] = records.money(self.spent_cents[index])
        customer["updated_at"] = self.updated_at[index]
        if count:
            customer["last_order_id"] = self.last_order_id[index]
            customer["last_order_name"] = f"#{self.last_order_number[index] + 1000}"


class Generator:
    def __init__(self, store: Store, options: ShopOptions, log: Callable[[str], None] = lambda _: None):
        self.store = store
        self.options = options
        self.log = log
        self.anchor = anchor_of(options)
        self.start = self.anchor - options.history_days * 86400
        self.same_at = self.anchor - SAME_UPDATED_AT_LAG
        self.ids = records.Ids.fresh()

    def rng(self, section: str) -> random.Random:
        # One stream per section, so e.g. more orders never changes the customers.
        return random.Random(f"{self.options.seed}:{section}")

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        store = self.store
        conn = store.conn()
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        store.init_schema(wal=False)
        conn.execute(f"PRAGMA cache_size=-{GENERATION_CACHE_KIB}")
        conn.execute("BEGIN")
        customers = self.customers(conn)
        products = self.products()
        self.insert(conn, "products", products)
        # Metafields draw from their own streams and live in their own table (store/metafields.py).
        self.metafields = metafields.Writer(conn, self.options.seed, self.options.metafields_per_record)
        for product in products:
            self.metafields.add_product(product)
        catalogue.generate(
            conn,
            seed=self.options.seed,
            start=self.start,
            anchor=self.anchor,
            products=products,
            collections=self.options.collections,
            locations=self.options.locations,
        )
        order_count = self.orders(conn, customers, products)
        self.finish_customers(conn, customers)
        self.metafields.close()
        store.meta_set("ids", orjson.dumps(self.ids.state()).decode(), conn)
        store.meta_set("generator", orjson.dumps(self.options.generator_key()).decode(), conn)
        store.meta_set("anchor", str(self.anchor), conn)
        store.meta_set("next_order_number", str(order_count + 1), conn)
        conn.execute("COMMIT")
        conn.execute(f"PRAGMA cache_size=-{INDEX_CACHE_KIB}")
        store.build_indexes()
        conn.execute(f"PRAGMA cache_size={store.cache_size}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        seconds = time.monotonic() - started
        return {
            "orders": order_count,
            "customers": len(customers),
            "products": len(products),
            "seconds": seconds,
        }

    def insert(self, conn: Any, resource: str, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            self.store.insert_many(conn, resource, [row_values(resource, r) for r in chunk])
            if resource == "products":
                conn.executemany(VARIANT_INSERT, (row for p in chunk for row in variant_rows(p)))

    def customers(self, conn: Any) -> CustomerBook:
        rng = self.rng("customers")
        book = CustomerBook(conn)
        batch: list[tuple] = []
        times = sorted_creation_times(
            rng, self.options.customers, self.start, self.anchor - 3600, growth=True
        )
        for t in times:
            customer = records.make_customer(rng, self.ids, t, later(rng, t, self.anchor))
            book.add(customer)
            batch.append(row_values("customers", customer))
            if len(batch) >= BATCH:
                self.store.insert_many(conn, "customers", batch)
                batch.clear()
        if batch:
            self.store.insert_many(conn, "customers", batch)
        return book

    def products(self) -> list[dict[str, Any]]:
        rng = self.rng("products")
        times = creation_times(
            rng, self.options.products, self.start - 90 * 86400, self.anchor - 3600, growth=False
        )
        items = []
        for t in times:
            product = records.make_product(
                rng, self.ids, t, later(rng, t, self.anchor), self.options.variants_max
            )
            self.share_updated_at(rng, product)
            items.append(product)
        return items

    def share_updated_at(self, rng: random.Random, record: dict[str, Any]) -> None:
        """Move a share of records onto one common updated_at (the tie case paginators must survive)."""
        share = self.options.same_updated_at_share
        if share and rng.random() < share:
            latest = max(record["created_at"], record.get("closed_at") or 0, record.get("cancelled_at") or 0)
            if latest <= self.same_at:
                record["updated_at"] = self.same_at

    def orders(self, conn: Any, customers: CustomerBook, products: list[dict[str, Any]]) -> int:
        options = self.options
        rng = self.rng("orders")
        refs = [ref for product in products for ref in records.variant_refs(product)]
        if not refs:
            return 0
        times = sorted_creation_times(rng, options.orders, self.start, self.anchor - 600, growth=True)
        big = set(rng.sample(range(options.orders), min(options.big_orders, options.orders)))
        # Transactions draw from their own stream: the orders (and everything after) stay as they were.
        payments_rng = self.rng("transactions")
        # Refunds and fulfillments too (each its own stream), at the first location.
        refunds_rng, fulfillments_rng = self.rng("refunds"), self.rng("fulfillments")
        location = conn.execute("SELECT MIN(id) FROM locations").fetchone()[0]
        batch: list[tuple] = []
        lookups: list[tuple[int, int]] = []
        children: list[tuple[int, int]] = []
        count = 0
        for index, created_at in enumerate(times):
            picked = self.pick_customer(rng, customers, created_at)
            customer = customers.record(picked) if picked is not None else None
            lines = self.pick_lines(rng, refs, options.big_order_lines if index in big else None)
            order = records.make_order(
                rng, self.ids, index + 1, created_at, self.anchor, customer, lines, options.currency
            )
            self.share_updated_at(rng, order)
            transactions.generate(payments_rng, self.ids, order)
            fulfillments.generate(fulfillments_rng, self.ids, order, location)
            refunds.attach(refunds_rng, self.ids, order, order["transactions"], location)
            self.metafields.add("order", order)
            if picked is not None:
                customers.count_order(picked, order)
            batch.append(row_values("orders", order))
            lookups.extend(transaction_rows(order))
            children.extend(child_rows(order))
            count += 1
            if len(batch) >= BATCH:
                self.store.insert_many(conn, "orders", batch)
                conn.executemany(TRANSACTION_INSERT, lookups)
                conn.executemany(CHILD_INSERT, children)
                batch.clear()
                lookups.clear()
                children.clear()
                if index % 100_000 < BATCH:
                    self.log(f"generated {index + 1} orders")
        if batch:
            self.store.insert_many(conn, "orders", batch)
            conn.executemany(TRANSACTION_INSERT, lookups)
            conn.executemany(CHILD_INSERT, children)
        return count

    def pick_customer(self, rng: random.Random, customers: CustomerBook, at: int) -> int | None:
        """The index of the buyer, or None for a guest order."""
        if rng.random() < self.options.guest_order_share:
            return None
        existing = bisect.bisect_right(customers.times, at)
        if existing == 0:
            return None
        # Repeat buyers: bias towards a smaller pool so some customers have many orders.
        index = int(existing * rng.random() ** 1.5)
        return min(index, existing - 1)

    def pick_lines(
        self, rng: random.Random, refs: list[records.VariantRef], forced: int | None
    ) -> list[tuple[records.VariantRef, bool]]:
        if forced is not None:
            count = forced
        else:
            count = min(12, max(1, round(rng.gauss(self.options.line_items_mean, 1.1))))
        deleted_share = self.options.deleted_variant_share
        return [(rng.choice(refs), rng.random() < deleted_share) for _ in range(count)]

    def finish_customers(self, conn: Any, customers: CustomerBook) -> None:
        """Apply the order aggregates and the shared updated_at, rewriting customers in id order."""
        rng = self.rng("customers-finish")
        # Locale and consent draw from their own stream: the customers stay as they were, plus these.
        extra_rng = self.rng("customers-extra")
        for low in range(0, len(customers), BATCH):
            ids = customers.ids[low : low + BATCH]
            rows = conn.execute(
                "SELECT data FROM customers WHERE id >= ? AND id <= ? ORDER BY id", (ids[0], ids[-1])
            ).fetchall()
            batch = []
            for offset, (blob,) in enumerate(rows):
                customer = orjson.loads(blob)
                customers.apply(low + offset, customer)
                self.share_updated_at(rng, customer)
                customers_extra.enrich(extra_rng, customer)
                self.metafields.add("customer", customer)
                batch.append(row_values("customers", customer))
            self.store.insert_many(conn, "customers", batch, replace=True)
