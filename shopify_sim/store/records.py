"""Builders of canonical records (used by the generator and by runtime creates/updates).

Canonical form: REST field names, UTC epoch-second timestamps, money as decimal strings,
tags as lists. Renderers derive REST payloads and GraphQL nodes from it.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from shopify_sim.store import fakes

# Shopify ids are large and grow with time; orders and line items straddle/exceed 2^53 on purpose
# (JavaScript clients lose precision there, a real gotcha a mirror must survive).
ID_BASES: dict[str, tuple[int, int]] = {
    # kind: (base, stride)
    "customer": (6_100_000_000_000, 10_000_000),
    "address": (8_800_000_000_000, 1_000_000),
    "product": (7_300_000_000_000, 100_000_000),
    "variant": (41_000_000_000_000, 10_000_000),
    "order": (9_007_100_000_000_000, 1_000_000_000),
    "line_item": (18_100_000_000_000_000, 10_000_000),
    "shipping_line": (5_100_000_000_000, 1_000_000),
    "transaction": (5_700_000_000_000, 1_000_000),
    # Order children (refunds.py, fulfillments.py): refunds and fulfillments share the `order_children`
    # lookup table, so their ranges stay apart.
    "refund": (980_000_000_000, 1_000_000),
    "refund_line_item": (540_000_000_000, 1_000_000),
    "order_adjustment": (260_000_000_000, 100_000),
    "fulfillment": (4_100_000_000_000, 1_000_000),
    "fulfillment_line_item": (11_900_000_000_000, 1_000_000),
}


class IdSequence:
    """Strictly increasing ids with random gaps, like Shopify's."""

    def __init__(self, kind: str, last: int | None = None) -> None:
        self.kind = kind
        self.base, self.stride = ID_BASES[kind]
        self.last = last if last is not None else self.base

    def next(self, rng: random.Random) -> int:
        self.last += 1 + int(rng.random() * self.stride)
        return self.last


@dataclass
class Ids:
    customer: IdSequence
    address: IdSequence
    product: IdSequence
    variant: IdSequence
    order: IdSequence
    line_item: IdSequence
    shipping_line: IdSequence
    transaction: IdSequence
    refund: IdSequence
    refund_line_item: IdSequence
    order_adjustment: IdSequence
    fulfillment: IdSequence
    fulfillment_line_item: IdSequence

    @classmethod
    def fresh(cls) -> Ids:
        return cls(**{kind: IdSequence(kind) for kind in ID_BASES})

    @classmethod
    def from_state(cls, state: dict[str, int]) -> Ids:
        return cls(**{kind: IdSequence(kind, state.get(kind)) for kind in ID_BASES})

    def state(self) -> dict[str, int]:
        return {kind: getattr(self, kind).last for kind in ID_BASES}


# Memoised: the generator formats and parses ~20 amounts per order and prices repeat (one per
# variant); a bounded cache keeps memory flat.
@functools.lru_cache(maxsize=16384)
def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@functools.lru_cache(maxsize=16384)
def cents(amount: str) -> int:
    negative = amount.startswith("-")
    whole, _, frac = amount.lstrip("-").partition(".")
    value = int(whole) * 100 + int((frac + "00")[:2])
    return -value if negative else value


def pick_tags(rng: random.Random, pool: tuple[str, ...], max_count: int) -> list[str]:
    count = int(rng.random() ** 2 * (max_count + 1))
    return sorted(rng.sample(pool, count)) if count else []


def make_address(rng: random.Random, address_id: int | None, first: str, last: str) -> dict[str, Any]:
    city, province, province_code, country, country_code, zip_prefix = rng.choice(fakes.PLACES)
    return {
        "id": address_id,
        "first_name": first,
        "last_name": last,
        "company": rng.choice(fakes.COMPANIES) if rng.random() < 0.15 else None,
        "address1": f"{rng.randint(1, 9999)} {rng.choice(fakes.STREETS)}",
        "address2": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else None,
        "city": city,
        "province": province,
        "province_code": province_code,
        "country": country,
        "country_code": country_code,
        "zip": f"{zip_prefix}{rng.randint(10, 99)}",
        "phone": f"+1613555{rng.randint(1000, 9999)}" if rng.random() < 0.4 else None,
    }


def make_customer(rng: random.Random, ids: Ids, created_at: int, updated_at: int) -> dict[str, Any]:
    customer_id = ids.customer.next(rng)
    first, last = rng.choice(fakes.FIRST_NAMES), rng.choice(fakes.LAST_NAMES)
    addresses = [
        make_address(rng, ids.address.next(rng), first, last) for _ in range(int(rng.random() * 2.6))
    ]
    has_email = rng.random() < 0.95
    marketing = rng.random() < 0.4
    return {
        "id": customer_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "first_name": first if rng.random() < 0.97 else None,
        "last_name": last,
        "email": f"{first}.{last}.{customer_id % 100000}@example.com".lower().replace("'", "")
        if has_email
        else None,
        "phone": f"+1{rng.randint(2002000000, 9899999999)}" if rng.random() < 0.35 else None,
        "state": rng.choices(("enabled", "disabled", "invited", "declined"), (60, 30, 8, 2))[0],
        "tags": pick_tags(rng, fakes.CUSTOMER_TAGS, 3),
        "note": rng.choice(fakes.NOTES) if rng.random() < 0.05 else None,
        "verified_email": has_email and rng.random() < 0.9,
        "tax_exempt": rng.random() < 0.03,
        "currency": "USD",
        "orders_count": 0,
        "total_spent": "0.00",
        "last_order_id": None,
        "last_order_name": None,
        "accepts_marketing": marketing,
        "marketing_updated_at": created_at if marketing else None,
        "addresses": addresses,
        "default_address_id": addresses[0]["id"] if addresses else None,
    }


def make_variant(
    rng: random.Random, ids: Ids, product_id: int, position: int, options: tuple[str | None, ...], ts: int
) -> dict[str, Any]:
    price = rng.randint(5, 400) * 100 + rng.choice((0, 0, 50, 99, 95))
    return {
        "id": ids.variant.next(rng),
        "product_id": product_id,
        "title": " / ".join(o for o in options if o) or "Default Title",
        "sku": f"SKU-{product_id % 1_000_000:06d}-{position}" if rng.random() < 0.93 else None,
        "price": money(price),
        "compare_at_price": money(price + rng.randint(1, 50) * 100) if rng.random() < 0.2 else None,
        "position": position,
        "inventory_policy": "deny" if rng.random() < 0.85 else "continue",
        "inventory_management": "shopify" if rng.random() < 0.9 else None,
        "inventory_quantity": rng.randint(-5, 250),
        "option1": options[0],
        "option2": options[1],
        "option3": None,
        "barcode": str(rng.randint(10**11, 10**12 - 1)) if rng.random() < 0.5 else None,
        "grams": rng.randint(50, 3000),
        "taxable": rng.random() < 0.92,
        "requires_shipping": rng.random() < 0.95,
        "created_at": ts,
        "updated_at": ts,
    }


def variant_options(rng: random.Random, count: int) -> list[tuple[str | None, ...]]:
    if count == 1:
        return [(None, None)]
    sizes = list(fakes.SIZES)
    needed = max(1, (count + len(sizes) - 1) // len(sizes))
    palette = list(fakes.COLORS) + [f"Style {n}" for n in range(1, needed - len(fakes.COLORS) + 1)]
    colors = rng.sample(fakes.COLORS, needed) if needed <= len(fakes.COLORS) else palette
    combos = [(size, color) for color in colors for size in sizes]
    return combos[:count]


def make_product(
    rng: random.Random, ids: Ids, created_at: int, updated_at: int, variants_max: int
) -> dict[str, Any]:
    product_id = ids.product.next(rng)
    title = f"{rng.choice(fakes.ADJECTIVES)} {rng.choice(fakes.MATERIALS)} {rng.choice(fakes.NOUNS)}"
    status = rng.choices(("active", "draft", "archived"), (85, 10, 5))[0]
    count = 1 if rng.random() < 0.3 else rng.randint(2, max(2, variants_max))
    options = variant_options(rng, count)
    variants = [
        make_variant(rng, ids, product_id, position, combo, created_at)
        for position, combo in enumerate(options, start=1)
    ]
    return {
        "id": product_id,
        "created_at": created_at,
        "updated_at": updated_at,
        "published_at": created_at if status == "active" else None,
        "title": title,
        "handle": f"{title.lower().replace(' ', '-')}-{product_id % 100000}",
        "body_html": f"<p>The {title.lower()}, made to last.</p>" if rng.random() < 0.9 else None,
        "vendor": rng.choice(fakes.VENDORS),
        "product_type": rng.choice(fakes.PRODUCT_TYPES),
        "status": status,
        "tags": pick_tags(rng, fakes.PRODUCT_TAGS, 3),
        "options": option_list(options),
        "variants": variants,
    }


def option_list(options: list[tuple[str | None, ...]]) -> list[dict[str, Any]]:
    if options == [(None, None)]:
        return [{"name": "Title", "position": 1, "values": ["Default Title"]}]
    sizes = list(dict.fromkeys(o[0] for o in options))
    colors = list(dict.fromkeys(o[1] for o in options))
    return [
        {"name": "Size", "position": 1, "values": sizes},
        {"name": "Color", "position": 2, "values": colors},
    ]


@dataclass(frozen=True)
class VariantRef:
    """What an order line needs from a variant (the catalogue as seen when the order was placed)."""

    variant_id: int
    product_id: int
    product_title: str
    variant_title: str
    sku: str | None
    vendor: str
    price_cents: int
    grams: int
    taxable: bool
    requires_shipping: bool


def variant_refs(product: dict[str, Any]) -> list[VariantRef]:
    return [
        VariantRef(
            v["id"],
            product["id"],
            product["title"],
            v["title"],
            v["sku"],
            product["vendor"],
            cents(v["price"]),
            v["grams"],
            v["taxable"],
            v["requires_shipping"],
        )
        for v in product["variants"]
    ]


def make_line_item(rng: random.Random, ids: Ids, ref: VariantRef, deleted: bool) -> dict[str, Any]:
    quantity = 1 if rng.random() < 0.7 else rng.randint(2, 5)
    discount = ref.price_cents * quantity // 10 if rng.random() < 0.12 else 0
    return {
        "id": ids.line_item.next(rng),
        # A line whose variant was deleted keeps its text but loses the references.
        "variant_id": None if deleted else ref.variant_id,
        "product_id": None if deleted and rng.random() < 0.5 else ref.product_id,
        "sku": ref.sku,
        "title": ref.product_title,
        "variant_title": None if ref.variant_title == "Default Title" else ref.variant_title,
        "vendor": ref.vendor,
        "quantity": quantity,
        "price": money(ref.price_cents),
        "total_discount": money(discount),
        "grams": ref.grams,
        "taxable": ref.taxable,
        "requires_shipping": ref.requires_shipping,
        "gift_card": False,
        "fulfillment_status": None,
    }


FINANCIAL = (
    "paid",
    "pending",
    "authorized",
    "partially_paid",
    "refunded",
    "partially_refunded",
    "voided",
    "expired",
)
FINANCIAL_WEIGHTS = (75, 6, 4, 2, 5, 4, 3, 1)


def order_totals(order: dict[str, Any]) -> None:
    """Recompute money fields from the lines (after generation or a line change)."""
    subtotal = discounts = weight = 0
    for line in order["line_items"]:
        subtotal += cents(line["price"]) * line["quantity"]
        discounts += cents(line["total_discount"])
        weight += line["grams"] * line["quantity"]
    shipping = sum(cents(s["price"]) for s in order["shipping_lines"])
    tax = (subtotal - discounts) * order["tax_rate_bp"] // 10000
    order["total_line_items_price"] = money(subtotal)
    order["total_discounts"] = money(discounts)
    order["subtotal_price"] = money(subtotal - discounts)
    order["total_shipping"] = money(shipping)
    order["total_tax"] = money(tax)
    order["total_price"] = money(subtotal - discounts + shipping + tax)
    order["total_weight"] = weight


def before_horizon(delay: int, room: int) -> int:
    """`delay` if it ends before the horizon, else the same draw folded into the room left.

    Clamping (`min(room, delay)`) put every record whose delay overshot exactly on the horizon (the
    generator's anchor): ~1.2 % of orders shared one updated_at even with `same_updated_at_share` 0,
    and a client with an inclusive cursor re-read them on every run. Folding keeps the random stream
    (same draws, so the rest of the store is unchanged) and spreads them over [0, room)."""
    if room <= 0:
        return 0
    return delay if delay < room else delay % room


def order_dates(
    rng: random.Random, created_at: int, horizon: int, financial: str, fulfillment: str | None
) -> dict:
    span = max(0, horizon - created_at)
    cancelled = financial in ("voided", "refunded") and rng.random() < 0.7
    cancelled_at = created_at + before_horizon(rng.randint(60, 3 * 86400), span) if cancelled else None
    closed = (
        not cancelled
        and fulfillment == "fulfilled"
        and financial in ("paid", "refunded", "partially_refunded")
    )
    closed_at = created_at + before_horizon(rng.randint(3600, 12 * 86400), span) if closed else None
    latest = max(created_at, cancelled_at or 0, closed_at or 0)
    touched = rng.random()
    if touched < 0.45:
        updated_at = latest
    elif touched < 0.9:
        updated_at = latest + before_horizon(rng.randint(1, 5 * 86400), horizon - latest)
    else:
        updated_at = latest + int(rng.random() * max(0, horizon - latest))
    imported = rng.random() < 0.04
    return {
        "cancelled_at": cancelled_at,
        "cancel_reason": rng.choice(("customer", "fraud", "inventory", "declined", "other"))
        if cancelled
        else None,
        "closed_at": closed_at,
        "updated_at": updated_at,
        "processed_at": created_at - rng.randint(86400, 90 * 86400) if imported else created_at,
    }


def make_order(
    rng: random.Random,
    ids: Ids,
    number: int,
    created_at: int,
    horizon: int,
    customer: dict[str, Any] | None,
    lines: list[tuple[VariantRef, bool]],
    shop_currency: str,
) -> dict[str, Any]:
    order_id = ids.order.next(rng)
    financial = rng.choices(FINANCIAL, FINANCIAL_WEIGHTS)[0]
    fulfillment = (
        None
        if financial in ("voided", "expired", "pending")
        else rng.choices(("fulfilled", None, "partial"), (60, 30, 10))[0]
    )
    presentment, fx = (shop_currency, 1.0) if rng.random() < 0.85 else rng.choice(fakes.PRESENTMENT)
    if customer is not None:
        first, last = customer["first_name"] or "", customer["last_name"] or ""
        email, phone = customer["email"], customer["phone"]
        default = customer["addresses"][0] if customer["addresses"] else None
    else:
        first, last = rng.choice(fakes.FIRST_NAMES), rng.choice(fakes.LAST_NAMES)
        email = f"guest.{order_id % 1000000}@example.net" if rng.random() < 0.9 else None
        phone, default = None, None
    billing = dict(default, id=None) if default else make_address(rng, None, first, last)
    shipping_address = None if rng.random() < 0.05 else billing
    title, code, price = rng.choice(fakes.SHIPPING)
    order: dict[str, Any] = {
        "id": order_id,
        "number": number,
        "created_at": created_at,
        "email": email,
        "phone": phone,
        "customer_id": customer["id"] if customer else None,
        "test": rng.random() < 0.01,
        "confirmed": True,
        "financial_status": financial,
        "fulfillment_status": fulfillment,
        "currency": shop_currency,
        "presentment_currency": presentment,
        "fx": fx,
        "taxes_included": False,
        "tax_rate_bp": rng.choice((0, 500, 800, 1300, 2000)),
        "tags": pick_tags(rng, fakes.ORDER_TAGS, 3),
        "note": rng.choice(fakes.NOTES) if rng.random() < 0.08 else None,
        "source_name": rng.choice(fakes.SOURCES),
        "payment_gateway_names": list(rng.choice(fakes.GATEWAYS)),
        "billing_address": billing,
        "shipping_address": shipping_address,
        "line_items": [make_line_item(rng, ids, ref, deleted) for ref, deleted in lines],
        "shipping_lines": [
            {"id": ids.shipping_line.next(rng), "title": title, "code": code, "price": money(price)}
        ]
        if shipping_address
        else [],
    }
    order.update(order_dates(rng, created_at, horizon, financial, fulfillment))
    if fulfillment == "fulfilled":
        for line in order["line_items"]:
            line["fulfillment_status"] = "fulfilled"
    order_totals(order)
    return order
