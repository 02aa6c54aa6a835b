"""Refunds (contract §8.3): each successful refund transaction belongs to a Refund object on its order,
with the line items, shipping and adjustment the money stands for, and the order's current totals lowered
by what was refunded.

A canonical refund lives in its order's `refunds` list (creation order, ids growing), REST names, epoch
seconds, shop-currency money strings:
`{id, created_at, processed_at, note, restock, transaction_ids, refund_line_items: [{id, line_item_id,
quantity, restock_type, location_id, subtotal, total_tax}], refund_shipping_lines: [{id, shipping_line_id,
subtotal_amount, tax_amount}], order_adjustments: [{id, kind, reason, amount, tax_amount}]}`.

Money always adds up (`check`): sum(transactions) = sum(line subtotal + tax) + shipping - sum(adjustment
amount + tax), where a `refund_discrepancy` adjustment carries (negated) what the transactions refunded
beyond whole units and shipping [UNSURE: Shopify's sign convention; its samples show negative amounts].
Refunding q of a line's Q units refunds `f(k+q) - f(k)` of its subtotal with f(n) = price·n -
discount·n // Q and `g(k+q) - g(k)` of its tax with g(n) = tax·n // Q (k = already refunded), so
refunding every unit refunds exactly the line's net amount and tax share.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from shopify_sim.store.records import Ids, cents, money

DISCREPANCY_REASON = "Refund discrepancy"
NOTES = ("Customer changed their mind", "Damaged in transit", "Wrong size", None, None, None)


def line_tax_cents(order: dict[str, Any]) -> list[int]:
    """Each line's share of the order's tax (the same split as render/derived.py)."""
    lines = order["line_items"]
    total = cents(order["total_tax"])
    if not lines or total == 0:
        return [0] * len(lines)
    shares = [
        (cents(line["price"]) * line["quantity"] - cents(line["total_discount"]))
        * order["tax_rate_bp"]
        // 10000
        for line in lines
    ]
    shares[-1] += total - sum(shares)
    return shares


def refunded_quantities(order: dict[str, Any]) -> dict[int, int]:
    """line item id -> units refunded so far."""
    counts: dict[int, int] = {}
    for refund in order.get("refunds", ()):
        for item in refund["refund_line_items"]:
            counts[item["line_item_id"]] = counts.get(item["line_item_id"], 0) + item["quantity"]
    return counts


def refunded_shipping(order: dict[str, Any]) -> int:
    return sum(
        cents(line["subtotal_amount"])
        for refund in order.get("refunds", ())
        for line in refund["refund_shipping_lines"]
    )


def current(order: dict[str, Any]) -> dict[str, int]:
    """The order's current money in cents (contract §8.5): the original less refunded line items and
    shipping. Adjustments (discrepancies) move money but not the current totals [UNSURE]."""
    subtotal = cents(order["subtotal_price"])
    tax = cents(order["total_tax"])
    discounts = cents(order["total_discounts"])
    shipping = cents(order["total_shipping"])
    quantity = sum(line["quantity"] for line in order["line_items"])
    refunded_shipping_cents = 0
    if order.get("refunds"):
        lines = {line["id"]: line for line in order["line_items"]}
        counts = refunded_quantities(order)
        for refund in order["refunds"]:
            for item in refund["refund_line_items"]:
                subtotal -= cents(item["subtotal"])
                tax -= cents(item["total_tax"])
        for line_id, count in counts.items():
            line = lines.get(line_id)
            if line is not None:
                discounts -= cents(line["total_discount"]) * count // line["quantity"]
                quantity -= count
        refunded_shipping_cents = refunded_shipping(order)
        shipping -= refunded_shipping_cents
    return {
        "subtotal": subtotal,
        "tax": tax,
        "discounts": discounts,
        "shipping": shipping,
        "total": subtotal + tax + shipping,
        "quantity": quantity,
        "refunded_shipping": refunded_shipping_cents,
    }


def current_quantity(order: dict[str, Any], line: dict[str, Any]) -> int:
    if not order.get("refunds"):
        return line["quantity"]
    return line["quantity"] - refunded_quantities(order).get(line["id"], 0)


def unit_steps(line: dict[str, Any], tax: int, done: int, count: int) -> tuple[int, int]:
    """(subtotal, tax) of refunding `count` more units of a line of which `done` were refunded."""
    quantity, price, discount = line["quantity"], cents(line["price"]), cents(line["total_discount"])

    def sub(n: int) -> int:
        return price * n - discount * n // quantity

    return sub(done + count) - sub(done), tax * (done + count) // quantity - tax * done // quantity


def build(
    rng: random.Random,
    ids: Ids,
    order: dict[str, Any],
    made: list[dict[str, Any]],
    at: int,
    location_id: int | None,
) -> dict[str, Any]:
    """A refund standing for the refund transactions `made`: whole units of the lines first (in order, as
    many as the money covers), then the shipping once every unit is refunded, the rest an adjustment."""
    left = sum(cents(tx["amount"]) for tx in made)
    done = refunded_quantities(order)
    taxes = line_tax_cents(order)
    items: list[dict[str, Any]] = []
    all_refunded = True
    for line, tax in zip(order["line_items"], taxes, strict=True):
        already = done.get(line["id"], 0)
        count = 0
        while already + count < line["quantity"]:
            sub, tx = unit_steps(line, tax, already + count, 1)
            if sub + tx > left:
                break
            left -= sub + tx
            count += 1
        if already + count < line["quantity"]:
            all_refunded = False
        if count:
            sub, tx = unit_steps(line, tax, already, count)
            fulfilled = line["fulfillment_status"] == "fulfilled"
            restock = (
                "cancel"
                if order["cancelled_at"] is not None and not fulfilled
                else ("return" if fulfilled and rng.random() < 0.5 else "no_restock")
            )
            items.append(
                {
                    "id": ids.refund_line_item.next(rng),
                    "line_item_id": line["id"],
                    "quantity": count,
                    "restock_type": restock,
                    "location_id": location_id if restock != "no_restock" else None,
                    "subtotal": money(sub),
                    "total_tax": money(tx),
                }
            )
    shipping_lines = []
    if all_refunded:
        refunded_ship = refunded_shipping(order)
        for line in order["shipping_lines"]:
            remaining = cents(line["price"]) - (refunded_ship if line is order["shipping_lines"][0] else 0)
            if 0 < remaining <= left:
                left -= remaining
                shipping_lines.append(
                    {
                        "id": ids.refund_line_item.next(rng),
                        "shipping_line_id": line["id"],
                        "subtotal_amount": money(remaining),
                        "tax_amount": "0.00",
                    }
                )
    adjustments = []
    if left:
        adjustments.append(
            {
                "id": ids.order_adjustment.next(rng),
                "kind": "refund_discrepancy",
                "reason": DISCREPANCY_REASON,
                "amount": money(-left),
                "tax_amount": "0.00",
            }
        )
    return {
        "id": ids.refund.next(rng),
        "created_at": at,
        "processed_at": at,
        "note": rng.choice(NOTES),
        "restock": any(item["restock_type"] != "no_restock" for item in items),
        "transaction_ids": [tx["id"] for tx in made],
        "refund_line_items": items,
        "refund_shipping_lines": shipping_lines,
        "order_adjustments": adjustments,
    }


def attach(
    rng: random.Random,
    ids: Ids,
    order: dict[str, Any],
    new: Iterable[dict[str, Any]],
    location_id: int | None,
) -> list[dict[str, Any]]:
    """Refund objects for the new successful refund transactions of `order` (one per instant: the
    transactions one refund makes share their time), appended to `order["refunds"]`; returns them."""
    refunds = order.setdefault("refunds", [])
    groups: dict[int, list[dict[str, Any]]] = {}
    for tx in new:
        if tx["kind"] == "refund" and tx["status"] == "success":
            groups.setdefault(tx["created_at"], []).append(tx)
    made = []
    for at, group in sorted(groups.items()):
        refund = build(rng, ids, order, group, at, location_id)
        refunds.append(refund)
        made.append(refund)
    return made


def transactions_of(order: dict[str, Any], refund: dict[str, Any]) -> list[dict[str, Any]]:
    wanted = set(refund["transaction_ids"])
    return [tx for tx in order["transactions"] if tx["id"] in wanted]


def refund_total(order: dict[str, Any], refund: dict[str, Any]) -> int:
    return sum(cents(tx["amount"]) for tx in transactions_of(order, refund))


def check(order: dict[str, Any], refund: dict[str, Any]) -> int:
    """What the refund's parts add up to (equal to `refund_total` by construction)."""
    parts = sum(cents(i["subtotal"]) + cents(i["total_tax"]) for i in refund["refund_line_items"])
    parts += sum(cents(s["subtotal_amount"]) for s in refund["refund_shipping_lines"])
    parts -= sum(cents(a["amount"]) + cents(a["tax_amount"]) for a in refund["order_adjustments"])
    return parts
