"""Runtime store changes (control API, --mutate-per-minute): each bumps updated_at and emits events.

Shopify timestamps have second precision, so a record's new updated_at is max(now, old + 1): strictly
increasing per record, while different records often share a second (ties are realistic).
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.store import customers_extra, fakes, fulfillments, media, records, refunds, transactions
from shopify_sim.store.db import RESOURCES, Store
from shopify_sim.store.events import record_event

# (topic, resource, record) ; record is the canonical record, or {"id": N} for deletes.
EventSink = Callable[[str, str, dict[str, Any]], None]

TOPICS = {
    ("orders", "create"): "orders/create",
    ("orders", "update"): "orders/updated",
    ("orders", "delete"): "orders/delete",
    ("customers", "create"): "customers/create",
    ("customers", "update"): "customers/update",
    ("customers", "delete"): "customers/delete",
    ("products", "create"): "products/create",
    ("products", "update"): "products/update",
    ("products", "delete"): "products/delete",
}
TRANSACTION_TOPIC = "order_transactions/create"
PROTECTED_FIELDS = {"id", "created_at", "updated_at", "line_items", "variants", "number", "transactions"}
# Control-API order fields that move money (each adds transactions; `pay` may only flip a pending sale):
# capture (true), refund (true = all that is left, or an amount "12.50"), void (true), pay (true).
MONEY_VERBS = ("capture", "refund", "void", "pay")
# Fulfillment verbs (`fulfill: true | "partial"`, `tracking: true`, `cancel_fulfillment: true`): like money
# verbs, they change an order's children only, under the same updated_at switch (§8.15.4).
FULFILLMENT_VERBS = ("fulfill", "tracking", "cancel_fulfillment")
FULFILLMENT_KINDS = ("fulfillments/create", "fulfillments/update", "fulfillments/cancel")
# Mix entries not in the default mix (a run that wants every kind of change names them): a refund of a
# paid order (`order_transactions/create` makes some among its other money movements), and a
# cancelled fulfillment (`fulfillments/update` cancels only 8 %).
REFUND_KIND = "refunds/create"
REFUNDABLE = ("paid", "partially_refunded")
# Orders the change generator can move money on, and what it does to each status.
PAYABLE = ("authorized", "pending", "partially_paid", "paid", "partially_refunded")


class MutationError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Change:
    resource: str
    action: str
    id: int
    updated_at: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "action": self.action,
            "id": self.id,
            "updated_at": timeutil.iso_z(self.updated_at),
        }


def bump(old: int) -> int:
    return max(timeutil.now(), old + 1)


class Mutator:
    def __init__(
        self,
        store: Store,
        currency: str,
        sink: EventSink,
        variants_max: int = 8,
        transactions_touch_order: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.currency = currency
        self.sink = sink
        self.variants_max = variants_max
        # Read at each change (a shop setting, PATCHable): contract §8.15.4.
        self.transactions_touch_order = transactions_touch_order
        self.lock = threading.RLock()
        self.rng = random.Random()
        # Mix entries served elsewhere (the catalogue's): kind -> fn(rng, kind) -> Change | None.
        self.extra_kinds: dict[str, Callable[[random.Random, str], Change | None]] = {}

    # -- helpers -----------------------------------------------------------------------------------
    def _ids(self) -> records.Ids:
        state = self.store.meta_get("ids")
        return records.Ids.from_state(orjson.loads(state)) if state else records.Ids.fresh()

    def _save(self, conn: Any, resource: str, record: dict[str, Any], ids: records.Ids | None = None) -> None:
        self.store.put(conn, resource, record)
        if ids is not None:
            self.store.meta_set("ids", orjson.dumps(ids.state()).decode(), conn)

    def _load(self, resource: str, record_id: int) -> dict[str, Any]:
        record = self.store.get(resource, record_id)
        if record is None:
            raise MutationError(404, f"{resource[:-1]} {record_id} not found")
        return record

    # -- create ------------------------------------------------------------------------------------
    def create(self, resource: str, fields: dict[str, Any] | None, rng: random.Random | None = None) -> dict:
        rng = rng or self.rng
        with self.lock, self.store.writing() as conn:
            ids = self._ids()
            ts = timeutil.now()
            if resource == "customers":
                record = records.make_customer(rng, ids, ts, ts)
                customers_extra.enrich(random.Random(record["id"]), record)
            elif resource == "products":
                record = records.make_product(rng, ids, ts, ts, self.variants_max)
            else:
                record = self._new_order(conn, rng, ids, ts, fields or {})
            apply_fields(record, fields or {})
            self._save(conn, resource, record, ids)
            verb = "placed" if resource == "orders" else "create"
            record_event(conn, resource=resource, record=record, verb=verb, at=record["created_at"])
        self.sink(TOPICS[(resource, "create")], resource, record)
        if resource == "orders":
            self._emit_transactions(record, record["transactions"])
        if resource == "orders" and record["customer_id"]:
            self._touch_customer_for_order(record)
        return record

    def _new_order(self, conn: Any, rng: random.Random, ids: records.Ids, ts: int, fields: dict) -> dict:
        customer = None
        if "customer_id" in fields:
            customer = self.store.get("customers", fields["customer_id"]) if fields["customer_id"] else None
        elif rng.random() > 0.08:
            customer_id = self.store.random_id("customers", rng.random())
            customer = self.store.get("customers", customer_id) if customer_id else None
        lines = self._random_lines(rng, rng.randint(1, 4))
        if not lines:
            raise MutationError(422, "the shop has no products to order")
        number = int(self.store.meta_get("next_order_number", "1") or 1)
        self.store.meta_set("next_order_number", str(number + 1), conn)
        order = records.make_order(rng, ids, number, ts, ts, customer, lines, self.currency)
        for key in ("cancelled_at", "closed_at"):
            order[key] = None
        order["cancel_reason"] = None
        order["updated_at"] = order["processed_at"] = ts
        # A new order has had no time to be refunded, voided or to lapse: those start out paid.
        if order["financial_status"] in ("refunded", "partially_refunded", "voided", "expired"):
            order["financial_status"] = "paid"
        transactions.generate(rng, ids, order)
        fulfillments.generate(child_rng("fulfillments", order), ids, order, self.location_id())
        return order

    def location_id(self) -> int | None:
        """Where refunds restock and fulfillments ship from: the first location."""
        return self.store.conn().execute("SELECT MIN(id) FROM locations").fetchone()[0]

    def _emit_transactions(self, order: dict[str, Any], made: list[dict[str, Any]]) -> None:
        for tx in made:
            self.sink(TRANSACTION_TOPIC, "transactions", {"order": order, "transaction": tx})

    def _random_lines(self, rng: random.Random, count: int) -> list[tuple[records.VariantRef, bool]]:
        lines = []
        for _ in range(count):
            product_id = self.store.random_id("products", rng.random())
            if product_id is None:
                return []
            refs = records.variant_refs(self._load("products", product_id))
            lines.append((rng.choice(refs), False))
        return lines

    def _touch_customer_for_order(self, order: dict[str, Any]) -> None:
        with self.lock, self.store.writing() as conn:
            customer = self.store.get("customers", order["customer_id"])
            if customer is None:
                return
            customer["orders_count"] += 1
            spent = records.cents(customer["total_spent"]) + records.cents(order["total_price"])
            customer["total_spent"] = records.money(spent)
            customer["last_order_id"] = order["id"]
            customer["last_order_name"] = f"#{order['number'] + 1000}"
            customer["updated_at"] = bump(customer["updated_at"])
            self._save(conn, "customers", customer)
            record_event(
                conn, resource="customers", record=customer, verb="update", at=customer["updated_at"]
            )
        self.sink("customers/update", "customers", customer)

    # -- update ------------------------------------------------------------------------------------
    def update(
        self, resource: str, record_id: int, fields: dict[str, Any] | None, rng: random.Random | None = None
    ) -> dict[str, Any]:
        rng = rng or self.rng
        extra_topics: list[str] = []
        with self.lock, self.store.writing() as conn:
            record = self._load(resource, record_id)
            ids = self._ids()
            known = len(record.get("transactions", ()))
            statuses = [tx["status"] for tx in record.get("transactions", ())]
            shipped_before = fulfillments.snapshot(record)
            if fields:
                extra_topics = self._apply_explicit(rng, ids, resource, record, dict(fields))
            else:
                extra_topics = RANDOM_CHANGES[resource](self, rng, ids, record)
            made: list[dict[str, Any]] = []
            new_refunds: list[dict[str, Any]] = []
            shipped: list[tuple[str, dict[str, Any]]] = []
            if resource == "orders":
                record["financial_status"] = transactions.financial_status(record)
                made = record["transactions"][known:]
                new_refunds = refunds.attach(
                    child_rng("refunds", record), ids, record, made, self.location_id()
                )
                if record.get("fulfillments"):  # lines added, removed or refunded move the statuses
                    fulfillments.settle_statuses(record)
                shipped = fulfillments.changes(record, shipped_before)
            # A change that only moves money leaves updated_at when the shop says so (§8.15.4).
            money_only = bool(fields) and set(fields) <= set(MONEY_VERBS + FULFILLMENT_VERBS)
            moved = bool(made) or statuses != [tx["status"] for tx in record.get("transactions", ())[:known]]
            moved = moved or bool(shipped)
            touched = not money_only or (moved and self.transactions_touch_order())
            if touched:
                record["updated_at"] = bump(record["updated_at"])
            if resource == "products":
                for variant in record["variants"]:
                    if variant.pop("_touched", False):
                        variant["updated_at"] = record["updated_at"]
            self._save(conn, resource, record, ids)
            self._record_events(conn, resource, record, extra_topics, made, touched)
        self._emit_transactions(record, made)
        for refund in new_refunds:
            self.sink("refunds/create", "refunds", {"order": record, "child": refund})
        for topic, fulfillment in shipped:
            self.sink(topic, "fulfillments", {"order": record, "child": fulfillment})
        if touched:
            for topic in extra_topics:
                self.sink(topic, resource, record)
            self.sink(TOPICS[(resource, "update")], resource, record)
        return record

    @staticmethod
    def _record_events(
        conn: Any, resource: str, record: dict, topics: list[str], made: list[dict], touched: bool
    ) -> None:
        """The change's events: cancelled, one `<kind>_<status>` per new transaction, and update
        (unless only money moved and the shop keeps the order's updated_at still)."""
        at = record["updated_at"] if touched else timeutil.now()
        if "orders/cancelled" in topics:
            record_event(conn, resource=resource, record=record, verb="cancelled", at=at)
        for tx in made:
            verb = f"{tx['kind']}_{tx['status']}"
            record_event(conn, resource=resource, record=record, verb=verb, at=tx["created_at"])
        if touched:
            record_event(conn, resource=resource, record=record, verb="update", at=at)

    def _apply_explicit(
        self, rng: random.Random, ids: records.Ids, resource: str, record: dict, fields: dict
    ) -> list[str]:
        topics: list[str] = []
        add_lines = int(fields.pop("add_line_items", 0) or 0)
        remove_lines = int(fields.pop("remove_line_items", 0) or 0)
        add_variants = int(fields.pop("add_variants", 0) or 0)
        remove_variants = int(fields.pop("remove_variants", 0) or 0)
        if fields.pop("cancel", False) and resource == "orders":
            cancel_order(record, rng, ids)
            topics.append("orders/cancelled")
        if resource == "orders":
            for verb in MONEY_VERBS:
                if verb in fields:
                    move_money(rng, ids, record, verb, fields.pop(verb))
            for verb in FULFILLMENT_VERBS:
                if verb in fields:
                    self._ship(rng, ids, record, verb, fields.pop(verb))
        apply_fields(record, fields)
        for _ in range(add_lines):
            add_line_item(self, rng, ids, record)
        for _ in range(remove_lines):
            remove_line_item(self, rng, ids, record)
        for _ in range(add_variants):
            add_variant(self, rng, ids, record)
        for _ in range(remove_variants):
            remove_variant(self, rng, ids, record)
        return topics

    def _ship(self, rng: random.Random, ids: records.Ids, order: dict, verb: str, value: Any) -> None:
        at = bump(order["updated_at"])
        try:
            if verb == "fulfill":
                fulfillments.fulfill(rng, ids, order, at, self.location_id(), partial=value == "partial")
            elif verb == "tracking":
                fulfillments.advance_tracking(rng, order, at)
            else:
                fulfillments.cancel(order, at)
        except fulfillments.FulfillmentError as exc:
            raise MutationError(422, str(exc)) from exc

    def _random_fulfillment(self, rng: random.Random, kind: str) -> Change | None:
        """Ship an unshipped or partly shipped live order (all of it, or some), or move a shipped one's
        tracking along (a few are cancelled instead)."""
        if kind == "fulfillments/create":
            where = (
                "cancelled_at IS NULL AND closed_at IS NULL AND "
                "coalesce(json_extract(data, '$.fulfillment_status'), '') != 'fulfilled'"
            )
            verb, value = "fulfill", "partial" if rng.random() < 0.25 else True
        elif kind == "fulfillments/cancel":
            where = (
                "EXISTS (SELECT 1 FROM json_each(orders.data, '$.fulfillments') "
                "WHERE json_extract(value, '$.status') = 'success')"
            )
            verb, value = "cancel_fulfillment", True
        else:
            where = (
                "EXISTS (SELECT 1 FROM json_each(orders.data, '$.fulfillments') "
                "WHERE json_extract(value, '$.status') = 'success')"
            )
            verb, value = ("cancel_fulfillment", True) if rng.random() < 0.08 else ("tracking", True)
        for _ in range(5):  # an order whose units are all refunded cannot ship: try another
            order_id = self.store.random_id("orders", rng.random(), where)
            if order_id is None:
                return None
            try:
                record = self.update("orders", order_id, {verb: value}, rng)
            except MutationError:
                continue
            return Change("fulfillments", verb, order_id, record["updated_at"])
        return None

    # -- delete ------------------------------------------------------------------------------------
    def delete(self, resource: str, record_id: int) -> None:
        with self.lock, self.store.writing() as conn:
            if resource == "customers" and self.store.exists("orders", "customer_id = ?", (record_id,)):
                # Shopify refuses to delete a customer who has orders.
                raise MutationError(422, "Error deleting customer: customer has orders")
            record = self.store.get(resource, record_id)
            at = timeutil.now()
            if record is None or not self.store.remove(conn, resource, record_id, at):
                raise MutationError(404, f"{resource[:-1]} {record_id} not found")
            # The deletion event is the only trace a polling client can find (REST events.json,
            # GraphQL `events`); it names the record as it was.
            record_event(conn, resource=resource, record=record, verb="destroy", at=at)
        self.sink(TOPICS[(resource, "delete")], resource, {"id": record_id})

    # -- random mix --------------------------------------------------------------------------------
    def random_changes(self, count: int, seed: int | None, mix: dict[str, float] | None) -> list[Change]:
        rng = random.Random(seed) if seed is not None else self.rng
        weights = mix or DEFAULT_MIX
        kinds = sorted(weights)
        changes: list[Change] = []
        for _ in range(count):
            kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
            change = self._one_random(rng, kind)
            if change is not None:
                changes.append(change)
        return changes

    def _one_random(self, rng: random.Random, kind: str) -> Change | None:
        if kind == TRANSACTION_TOPIC:
            return self._random_payment(rng)
        if kind in FULFILLMENT_KINDS:
            return self._random_fulfillment(rng, kind)
        if kind == REFUND_KIND:
            return self._random_refund(rng)
        if kind in self.extra_kinds:
            return self.extra_kinds[kind](rng, kind)
        resource, _, action = kind.partition("/")
        if resource not in RESOURCES:
            raise MutationError(400, f"unknown mix entry {kind!r}")
        if action == "create":
            record = self.create(resource, None, rng)
            return Change(resource, "create", record["id"], record["updated_at"])
        where = (
            "NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)"
            if (resource == "customers" and action == "delete")
            else ""
        )
        record_id = self.store.random_id(resource, rng.random(), where)
        if record_id is None:
            return None
        if action == "delete":
            self.delete(resource, record_id)
            return Change(resource, "delete", record_id, None)
        record = self.update(resource, record_id, None, rng)
        return Change(resource, "update", record_id, record["updated_at"])

    def _random_payment(self, rng: random.Random) -> Change | None:
        """A money movement on a live order that can take one: capture an authorization, settle a
        pending or partial payment, refund part or all of a paid one."""
        marks = ",".join("?" * len(PAYABLE))
        where = f"cancelled_at IS NULL AND json_extract(data, '$.financial_status') IN ({marks})"
        order_id = self.store.random_id("orders", rng.random(), where, PAYABLE)
        if order_id is None:
            return None
        status = self._load("orders", order_id)["financial_status"]
        if status == "authorized":
            verb, value = "capture", "retry" if rng.random() < 0.1 else True
        elif status in ("pending", "partially_paid"):
            verb, value = "pay", True
        else:
            verb, value = "refund", True if status == "partially_refunded" or rng.random() < 0.4 else "half"
        record = self.update("orders", order_id, {verb: value}, rng)
        return Change("order_transactions", verb, order_id, record["updated_at"])

    def _random_refund(self, rng: random.Random) -> Change | None:
        """A refund of a live, paid (or partly refunded) order: part of what is left (a Refund with its
        line items, shipping or adjustment, linked to its refund transactions), sometimes all of it."""
        marks = ",".join("?" * len(REFUNDABLE))
        where = f"cancelled_at IS NULL AND json_extract(data, '$.financial_status') IN ({marks})"
        order_id = self.store.random_id("orders", rng.random(), where, REFUNDABLE)
        if order_id is None:
            return None
        try:
            record = self.update("orders", order_id, {"refund": True if rng.random() < 0.3 else "half"}, rng)
        except MutationError:
            return None
        return Change("refunds", "create", order_id, record["updated_at"])


DEFAULT_MIX = {
    "orders/create": 3,
    "orders/update": 4,
    "order_transactions/create": 1.5,
    "fulfillments/create": 1,
    "fulfillments/update": 0.8,
    "orders/delete": 0.3,
    "customers/create": 1,
    "customers/update": 1.5,
    "customers/delete": 0.2,
    "products/create": 0.3,
    "products/update": 1,
    "products/delete": 0.1,
    # The catalogue (catalogue_changes.py): inventory moves are the most frequent real webhooks.
    "inventory_levels/update": 5,
    "inventory_levels/connect": 0.1,
    "inventory_levels/disconnect": 0.1,
    "collections/create": 0.05,
    "collections/update": 0.2,
    "collections/delete": 0.03,
    "collects/create": 0.4,
    "collects/delete": 0.3,
    "locations/update": 0.05,
    # A customer in full (customer_changes.py): the address book and marketing consent.
    "customer_addresses/update": 0.5,
    "customers_email_marketing_consent/update": 0.3,
    "customers_marketing_consent/update": 0.2,
    # Product images (media_changes.py): a products/update like any product edit.
    "product_media/update": 0.3,
    # Metafields (metafield_changes.py): silent, no webhook.
    "metafields/update": 0.4,
    "metafields/create": 0.1,
    "metafields/delete": 0.05,
}


def apply_fields(record: dict[str, Any], fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key in PROTECTED_FIELDS or key.startswith("_"):
            continue
        if key == "media" and "variants" in record:
            value = media_list(record, value)
        elif key not in record:
            raise MutationError(422, f"unknown field {key!r}")
        if key == "tags" and isinstance(value, str):
            value = [t.strip() for t in value.split(",") if t.strip()]
        record[key] = value
    if "line_items" in record and any(k in fields for k in ("tax_rate_bp",)):
        records.order_totals(record)


def media_list(product: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """A product's new images (store/media.py) from the control API: each `{id?, alt, src, width,
    height, variant_ids}`; an image without an id gets the product's next image id."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MutationError(422, "media must be a list of images")
    used = {item["id"] for item in value if item.get("id")}
    sequences = (product["id"] * media.ID_FACTOR + s for s in range(1, media.ID_FACTOR))
    images = []
    for item in value:
        image_id = item.get("id") or next(i for i in sequences if i not in used)
        images.append({
            "id": int(image_id), "alt": item.get("alt"), "src": item.get("src")
            or f"https://cdn.shopify.com/s/files/1/products/{image_id}.jpg",
            "width": item.get("width") or 1024, "height": item.get("height") or 1024,
            "variant_ids": [int(v) for v in item.get("variant_ids") or ()],
            "created_at": item.get("created_at") or timeutil.now(),
        })  # fmt: skip
    return images


def child_rng(kind: str, order: dict[str, Any]) -> random.Random:
    """The draws of an order's refunds and fulfillments: their own stream per order and state, so adding
    them left every other draw of a seeded change sequence as it was."""
    return random.Random(
        f"{kind}:{order['id']}:{len(order.get('refunds', ()))}:{len(order.get('fulfillments', ()))}"
    )


def cancel_order(order: dict[str, Any], rng: random.Random, ids: records.Ids) -> None:
    """Cancel: refund what was received, void what is authorized or pending (the financial status then
    follows the transactions: refunded or voided)."""
    if order["cancelled_at"] is None:
        order["cancelled_at"] = bump(order["updated_at"])
        order["cancel_reason"] = rng.choice(("customer", "inventory", "other"))
        order["closed_at"] = order["closed_at"] or order["cancelled_at"]
        transactions.settle_cancellation(rng, ids, order, order["cancelled_at"])
        order["financial_status"] = transactions.financial_status(order)


def move_money(rng: random.Random, ids: records.Ids, order: dict[str, Any], verb: str, value: Any) -> None:
    """One control-API money verb on an order (MutationError 422 when the order cannot take it)."""
    at = bump(order["updated_at"])
    try:
        if verb == "capture":
            transactions.capture(rng, ids, order, at, fail_first=value == "retry")
        elif verb == "pay":
            transactions.pay(rng, ids, order, at)
        elif verb == "void":
            transactions.void(rng, ids, order, at)
        else:
            transactions.refund(rng, ids, order, at, refund_cents(order, value))
    except (transactions.PaymentError, ValueError) as exc:
        raise MutationError(422, str(exc)) from exc


def refund_cents(order: dict[str, Any], value: Any) -> int | None:
    """`true`: everything refundable (None); "half": half of what is left; "12.50": that amount."""
    if value is True:
        return None
    if value == "half":
        return max(1, transactions.payments(order)["net"] // 2)
    return records.cents(str(value))


def add_line_item(mutator: Mutator, rng: random.Random, ids: records.Ids, order: dict) -> None:
    lines = mutator._random_lines(rng, 1)
    if lines:
        order["line_items"].append(records.make_line_item(rng, ids, lines[0][0], False))
        records.order_totals(order)


def remove_line_item(mutator: Mutator, rng: random.Random, ids: records.Ids, order: dict) -> None:
    if len(order["line_items"]) > 1:
        order["line_items"].pop(rng.randrange(len(order["line_items"])))
        records.order_totals(order)


def add_variant(mutator: Mutator, rng: random.Random, ids: records.Ids, product: dict) -> None:
    """A new variant has a value for each of the product's options, as Shopify requires: a new value
    of the first option (added to its values), the first value of the second (a variant with an
    option left empty would read "Default Title" in GraphQL's selectedOptions and null in REST)."""
    position = len(product["variants"]) + 1
    options = product.get("options") or []
    edition = f"Edition {position}"
    combo = (edition, options[1]["values"][0] if len(options) > 1 else None)
    variant = records.make_variant(rng, ids, product["id"], position, combo, timeutil.now())
    product["variants"].append(variant)
    if options and edition not in options[0]["values"]:
        options[0]["values"].append(edition)


def remove_variant(mutator: Mutator, rng: random.Random, ids: records.Ids, product: dict) -> None:
    if len(product["variants"]) > 1:
        product["variants"].pop(rng.randrange(len(product["variants"])))
        for position, variant in enumerate(product["variants"], start=1):
            variant["position"] = position


def random_order_change(mutator: Mutator, rng: random.Random, ids: records.Ids, order: dict) -> list[str]:
    roll = rng.random()
    if roll < 0.25:
        order["note"] = rng.choice(fakes.NOTES)
    elif roll < 0.45:
        order["tags"] = records.pick_tags(rng, fakes.ORDER_TAGS, 4)
    elif roll < 0.6 and order["fulfillment_status"] != "fulfilled" and order["cancelled_at"] is None:
        # Shipping what is left makes a fulfillment (fulfillments/create), as Shopify's would.
        with contextlib.suppress(fulfillments.FulfillmentError):
            fulfillments.fulfill(
                child_rng("fulfillments", order), ids, order, bump(order["updated_at"]), mutator.location_id()
            )
    elif roll < 0.7 and order["cancelled_at"] is None:
        cancel_order(order, rng, ids)
        return ["orders/cancelled"]
    elif roll < 0.85:
        add_line_item(mutator, rng, ids, order)
    elif roll < 0.93:
        remove_line_item(mutator, rng, ids, order)
    elif roll < 0.97:
        order["email"] = f"changed.{rng.randint(1, 99999)}@example.org"
    else:
        change_billing_or_shipping(rng, order)
    return []


def change_billing_or_shipping(rng: random.Random, order: dict[str, Any]) -> None:
    """A new billing address, or another shipping method (its price moves the totals), as an order
    edit would make (contract §8.5)."""
    if order["shipping_lines"] and rng.random() < 0.5:
        title, code, price = rng.choice(fakes.SHIPPING)
        order["shipping_lines"][0].update(title=title, code=code, price=records.money(price))
        records.order_totals(order)
        return
    billing = order["billing_address"] or {}
    first = billing.get("first_name") or rng.choice(fakes.FIRST_NAMES)
    last = billing.get("last_name") or rng.choice(fakes.LAST_NAMES)
    order["billing_address"] = records.make_address(rng, None, first, last)


def random_customer_change(
    mutator: Mutator, rng: random.Random, ids: records.Ids, customer: dict
) -> list[str]:
    roll = rng.random()
    if roll < 0.3:
        customer["note"] = rng.choice(fakes.NOTES)
    elif roll < 0.55:
        customer["tags"] = records.pick_tags(rng, fakes.CUSTOMER_TAGS, 4)
    elif roll < 0.7:
        customer["phone"] = f"+1{rng.randint(2002000000, 9899999999)}"
    elif roll < 0.85:
        customer["state"] = rng.choice(("enabled", "disabled", "invited"))
    else:
        address = records.make_address(
            rng, ids.address.next(rng), customer["first_name"] or "", customer["last_name"] or ""
        )
        customer["addresses"].insert(0, address)
        customer["default_address_id"] = address["id"]
    return []


def random_product_change(mutator: Mutator, rng: random.Random, ids: records.Ids, product: dict) -> list[str]:
    roll = rng.random()
    if roll < 0.2:
        product["title"] = f"{rng.choice(fakes.ADJECTIVES)} {product['title'].split(' ', 1)[-1]}"
    elif roll < 0.35:
        product["tags"] = records.pick_tags(rng, fakes.PRODUCT_TAGS, 4)
    elif roll < 0.45:
        product["status"] = rng.choice(("active", "draft", "archived"))
    elif roll < 0.75:
        variant = rng.choice(product["variants"])
        variant["price"] = records.money(rng.randint(5, 400) * 100 + 99)
        variant["_touched"] = True
    elif roll < 0.85:
        variant = rng.choice(product["variants"])
        variant["inventory_quantity"] = rng.randint(0, 300)
        variant["_touched"] = True
    elif roll < 0.93:
        add_variant(mutator, rng, ids, product)
    else:
        remove_variant(mutator, rng, ids, product)
    return []


RANDOM_CHANGES: dict[str, Callable[[Mutator, random.Random, records.Ids, dict], list[str]]] = {
    "orders": random_order_change,
    "customers": random_customer_change,
    "products": random_product_change,
}
