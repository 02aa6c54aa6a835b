"""Deterministic store generator: same options (seed included) -> same store.

Orders stream into SQLite in batches; customers and products stay in memory while orders are made
(orders reference them and update customer aggregates), which is fine up to millions of orders.
"""

from __future__ import annotations

import bisect
import random
import time
from collections.abc import Callable
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.options import ShopOptions
from shopify_sim.store import records
from shopify_sim.store.db import Store, row_values

BATCH = 5000
SAME_UPDATED_AT_LAG = 3 * 86400


def anchor_of(options: ShopOptions) -> int:
    if options.anchor:
        return int(timeutil.parse_iso(options.anchor)[0])
    return timeutil.day_start_utc(time.time())


def creation_times(rng: random.Random, count: int, start: int, end: int, growth: bool) -> list[int]:
    """Sorted creation instants; `growth` skews them towards the end (a shop that grows)."""
    span = end - start
    if growth:
        times = [start + int(span * rng.random() ** 0.5) for _ in range(count)]
    else:
        times = [start + int(span * rng.random()) for _ in range(count)]
    times.sort()
    return times


def later(rng: random.Random, created_at: int, horizon: int) -> int:
    """An updated_at for a record that may have been edited after creation."""
    roll = rng.random()
    if roll < 0.5:
        return created_at
    if roll < 0.85:
        return min(horizon, created_at + rng.randint(1, 30 * 86400))
    return created_at + int(rng.random() * max(0, horizon - created_at))


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
        customers = self.customers()
        products = self.products()
        conn.execute("BEGIN")
        self.insert(conn, "products", products)
        order_count = self.orders(conn, customers, products)
        self.finish_customers(customers)
        self.insert(conn, "customers", customers)
        store.meta_set("ids", orjson.dumps(self.ids.state()).decode(), conn)
        store.meta_set("generator", orjson.dumps(self.options.generator_key()).decode(), conn)
        store.meta_set("anchor", str(self.anchor), conn)
        store.meta_set("next_order_number", str(order_count + 1), conn)
        conn.execute("COMMIT")
        store.build_indexes()
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
                conn.executemany(
                    "INSERT INTO variants (id, product_id) VALUES (?, ?)",
                    [(v["id"], p["id"]) for p in chunk for v in p["variants"]],
                )

    def customers(self) -> list[dict[str, Any]]:
        rng = self.rng("customers")
        times = creation_times(rng, self.options.customers, self.start, self.anchor - 3600, growth=True)
        return [records.make_customer(rng, self.ids, t, later(rng, t, self.anchor)) for t in times]

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

    def orders(self, conn: Any, customers: list[dict[str, Any]], products: list[dict[str, Any]]) -> int:
        options = self.options
        rng = self.rng("orders")
        refs = [ref for product in products for ref in records.variant_refs(product)]
        if not refs:
            return 0
        customer_times = [c["created_at"] for c in customers]
        times = creation_times(rng, options.orders, self.start, self.anchor - 600, growth=True)
        big = set(rng.sample(range(options.orders), min(options.big_orders, options.orders)))
        batch: list[tuple] = []
        for index, created_at in enumerate(times):
            customer = self.pick_customer(rng, customers, customer_times, created_at)
            lines = self.pick_lines(rng, refs, options.big_order_lines if index in big else None)
            order = records.make_order(
                rng, self.ids, index + 1, created_at, self.anchor, customer, lines, options.currency
            )
            self.share_updated_at(rng, order)
            if customer is not None:
                self.count_order(customer, order)
            batch.append(row_values("orders", order))
            if len(batch) >= BATCH:
                self.store.insert_many(conn, "orders", batch)
                batch.clear()
                if index % 100_000 < BATCH:
                    self.log(f"generated {index + 1} orders")
        if batch:
            self.store.insert_many(conn, "orders", batch)
        return len(times)

    def pick_customer(
        self, rng: random.Random, customers: list[dict[str, Any]], customer_times: list[int], at: int
    ) -> dict[str, Any] | None:
        if rng.random() < self.options.guest_order_share:
            return None
        existing = bisect.bisect_right(customer_times, at)
        if existing == 0:
            return None
        # Repeat buyers: bias towards a smaller pool so some customers have many orders.
        index = int(existing * rng.random() ** 1.5)
        return customers[min(index, existing - 1)]

    def pick_lines(
        self, rng: random.Random, refs: list[records.VariantRef], forced: int | None
    ) -> list[tuple[records.VariantRef, bool]]:
        if forced is not None:
            count = forced
        else:
            count = min(12, max(1, round(rng.gauss(self.options.line_items_mean, 1.1))))
        deleted_share = self.options.deleted_variant_share
        return [(rng.choice(refs), rng.random() < deleted_share) for _ in range(count)]

    @staticmethod
    def count_order(customer: dict[str, Any], order: dict[str, Any]) -> None:
        customer["orders_count"] += 1
        if order["cancelled_at"] is None:
            spent = records.cents(customer["total_spent"]) + records.cents(order["total_price"])
            customer["total_spent"] = records.money(spent)
        customer["last_order_id"] = order["id"]
        customer["last_order_name"] = f"#{order['number'] + 1000}"
        # Placing an order touches the customer (orders_count changes), as on Shopify.
        customer["updated_at"] = max(customer["updated_at"], order["created_at"])

    def finish_customers(self, customers: list[dict[str, Any]]) -> None:
        rng = self.rng("customers-finish")
        for customer in customers:
            self.share_updated_at(rng, customer)
