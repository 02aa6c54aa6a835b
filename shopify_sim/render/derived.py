"""Order values derived from the canonical record, shared by REST and GraphQL so both APIs agree.

The canonical order holds a tax rate (basis points), per-line discounts, totals and a financial
status; tax lines, discount applications and payment totals are computed from them here. The store
keeps no transactions or refunds: received / outstanding follow the financial status, refunded is 0
(README, deviations).
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from shopify_sim.store.records import cents

TAX_TITLE = "Tax"
RECEIVED_IN_FULL = ("paid", "partially_refunded", "refunded")
NOTHING_OWED = ("paid", "partially_refunded", "refunded", "voided")
CONFIRMATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def shop_number(domain: str) -> int:
    """The shop's numeric id (REST `shop.json` id, the GID's number, the status page path)."""
    return 50_000_000 + zlib.crc32(domain.encode()) % 900_000_000


def tax_rate(order: dict[str, Any]) -> float:
    return order["tax_rate_bp"] / 10000


def line_net_cents(line: dict[str, Any]) -> int:
    return cents(line["price"]) * line["quantity"] - cents(line["total_discount"])


def line_tax_cents(order: dict[str, Any]) -> list[int]:
    """Each line's share of the order's tax: proportional to its net amount, the rounding remainder on
    the last line, so the lines always sum to `total_tax` (as Shopify's do)."""
    lines = order["line_items"]
    total = cents(order["total_tax"])
    if not lines or total == 0:
        return [0] * len(lines)
    rate = order["tax_rate_bp"]
    shares = [line_net_cents(line) * rate // 10000 for line in lines]
    shares[-1] += total - sum(shares)
    return shares


def has_tax(order: dict[str, Any]) -> bool:
    return order["tax_rate_bp"] > 0


def discounted_lines(order: dict[str, Any]) -> list[int]:
    """Positions of the lines that carry a discount; each has its own manual discount application
    (index = its place in this list)."""
    return [i for i, line in enumerate(order["line_items"]) if cents(line["total_discount"]) > 0]


def discount_percent(line: dict[str, Any]) -> float:
    gross = cents(line["price"]) * line["quantity"]
    return round(cents(line["total_discount"]) * 100 / gross, 1) if gross else 0.0


def payments(order: dict[str, Any]) -> dict[str, int]:
    """received / outstanding / capturable / refunded / tip, in cents, from the financial status."""
    total = cents(order["total_price"])
    status = order["financial_status"]
    if status in RECEIVED_IN_FULL:
        received = total
    elif status == "partially_paid":
        received = total // 2
    else:
        received = 0
    outstanding = 0 if status in NOTHING_OWED else total - received
    return {
        "received": received,
        "outstanding": outstanding,
        "capturable": total if status == "authorized" else 0,
        "refunded": 0,
        "tip": 0,
    }


def _digest(*parts: Any) -> bytes:
    return hashlib.blake2b("/".join(str(p) for p in parts).encode(), digest_size=16).digest()


def order_token(order_id: int) -> str:
    """REST `token`: 32 hex characters, fixed per order."""
    return _digest("token", order_id).hex()


def confirmation_number(order_id: int) -> str:
    """Nine characters of Shopify's confirmation alphabet (no 0/O/1/I), fixed per order."""
    digest = _digest("confirmation", order_id)
    return "".join(CONFIRMATION_ALPHABET[b % len(CONFIRMATION_ALPHABET)] for b in digest[:9])


def status_page_url(domain: str, order_id: int) -> str:
    key = _digest("key", domain, order_id).hex()
    return f"https://{domain}/{shop_number(domain)}/orders/{order_token(order_id)}/authenticate?key={key}"
