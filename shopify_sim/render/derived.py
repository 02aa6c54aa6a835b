"""Order values derived from the canonical record, shared by REST and GraphQL so both APIs agree.

The canonical order holds a tax rate (basis points), per-line discounts, totals and a financial
status; tax lines, discount applications and payment totals are computed from them here. Payment
totals (received, refunded, capturable, outstanding) come from the order's transactions
(`store/transactions.py`), so the transactions every surface serves add up to them.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from shopify_sim.store import transactions
from shopify_sim.store.records import cents

TAX_TITLE = "Tax"
CONFIRMATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CARD_GATEWAYS = transactions.CARD_GATEWAYS
CARD_COMPANIES = (("Visa", "424242"), ("Mastercard", "555555"), ("American Express", "378282"))
FORMATTED_GATEWAYS = {
    "shopify_payments": "Shopify Payments",
    "paypal": "PayPal Express Checkout",
    "manual": "Manual",
    "gift_card": "Gift card",
}


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
    """received / net / outstanding / capturable / refunded / tip, in cents, from the transactions."""
    return transactions.payments(order)


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


# -- transactions ---------------------------------------------------------------------------------------
def card_of(order_id: int) -> dict[str, Any]:
    """The card an order paid with (fixed per order): company, bin, last four, expiry."""
    digest = _digest("card", order_id)
    company, bin_digits = CARD_COMPANIES[digest[0] % len(CARD_COMPANIES)]
    last4 = f"{int.from_bytes(digest[1:3], 'big') % 10000:04d}"
    return {
        "company": company,
        "bin": bin_digits,
        "last4": last4,
        "number": f"•••• •••• •••• {last4}",
        "expiration_month": 1 + digest[3] % 12,
        "expiration_year": 2027 + digest[4] % 5,
        "avs_result_code": "Y",
        "cvv_result_code": "M",
    }


def rest_payment_details(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "credit_card_bin": card["bin"],
        "avs_result_code": card["avs_result_code"],
        "cvv_result_code": card["cvv_result_code"],
        "credit_card_number": card["number"],
        "credit_card_company": card["company"],
        "credit_card_name": None,
        "credit_card_wallet": None,
        "credit_card_expiration_month": card["expiration_month"],
        "credit_card_expiration_year": card["expiration_year"],
        "buyer_action_info": None,
        "payment_method_name": card["company"].lower().replace(" ", "_"),
    }


ERROR_MESSAGES = {
    "card_declined": "Your card was declined.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "expired_card": "Your card has expired.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "incorrect_zip": "Your card's zip code failed validation.",
    "call_issuer": "Your card was declined. Please call your card issuer.",
}


def transaction_message(tx: dict[str, Any]) -> str | None:
    if tx["status"] == "failure":
        return ERROR_MESSAGES.get(tx["error_code"] or "", "Transaction declined")
    if tx["status"] == "pending":
        return "Pending the payment"
    return "Transaction approved" if tx["gateway"] != "manual" else "Marked the payment as received"


def transaction_receipt(tx: dict[str, Any]) -> dict[str, Any]:
    if tx["gateway"] in ("manual", "gift_card"):
        return {}
    return {"authorization": tx["authorization"], "status": tx["status"], "kind": tx["kind"]}


def payment_id(order: dict[str, Any], tx: dict[str, Any]) -> str:
    """REST `payment_id` / GraphQL `paymentId`: the order name and the transaction's place ("#1001.2")."""
    place = next(i for i, other in enumerate(order["transactions"], start=1) if other["id"] == tx["id"])
    return f"#{order['number'] + 1000}.{place}"
