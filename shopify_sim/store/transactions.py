"""Order transactions (contract §8.2): the canonical records, a generated history consistent with each
order's financial status, the money movements the change generator makes, and the ledger every
surface derives received / refunded / capturable / outstanding from.

A canonical transaction lives in its order's `transactions` list (in creation order, ids growing) with
REST names, epoch-second times and the amount in the shop currency:
`{id, kind, status, gateway, amount, parent_id, created_at, processed_at, error_code, authorization,
authorization_expires_at}`. Money movements append new transactions (a capture, refund or void names its
parent); the one change in place is a pending sale becoming a success (contract §8.2 [UNSURE]: "never
treat a stored transaction as final"). The financial status is derived from the list (`financial_status`),
so the stored status, the transactions and the order's payment totals cannot disagree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shopify_sim.store.records import Ids, cents, money

AUTHORIZATION_DAYS = 7
# Gateways that authorize first and capture later (and decline some attempts); card details are
# shown for card payments only.
AUTHORIZING_GATEWAYS = ("shopify_payments", "paypal")
CARD_GATEWAYS = ("shopify_payments",)
FAILED_ATTEMPT_SHARE = 0.06
ERROR_CODES = (
    "card_declined",
    "card_declined",
    "incorrect_cvc",
    "expired_card",
    "processing_error",
    "incorrect_zip",
    "call_issuer",
)
GIFT_CARD_AMOUNTS = (2500, 5000, 10000)
CHARGED = ("sale", "capture")


@dataclass(frozen=True)
class Ledger:
    """An order's money in shop-currency cents, from its successful transactions."""

    received: int  # sales and captures
    refunded: int
    open_authorized: int  # authorized, neither captured nor voided
    voided: bool
    pending: bool

    @property
    def net(self) -> int:
        return self.received - self.refunded


def ledger(order: dict[str, Any]) -> Ledger:
    received = refunded = authorized = settled = 0
    voided = pending = False
    by_id = {tx["id"]: tx for tx in order.get("transactions", ())}
    for tx in by_id.values():
        if tx["status"] == "pending" and tx["kind"] in ("sale", "authorization"):
            pending = True
        if tx["status"] != "success":
            continue
        amount = cents(tx["amount"])
        kind = tx["kind"]
        if kind in CHARGED:
            received += amount
        elif kind == "refund":
            refunded += amount
        elif kind == "authorization":
            authorized += amount
        elif kind == "void":
            voided = True
        parent = by_id.get(tx["parent_id"]) if tx["parent_id"] else None
        if parent is not None and parent["kind"] == "authorization" and kind in ("capture", "void"):
            settled += cents(parent["amount"]) if kind == "void" else amount
    return Ledger(received, refunded, max(0, authorized - settled), voided, pending)


def financial_status(order: dict[str, Any]) -> str:
    """Shopify's financial status for the order's transactions and total.

    An open authorization is `authorized` unless the order is already `expired` (the authorization
    lapsed: the store keeps that as the status, not as a clock)."""
    book = ledger(order)
    total = cents(order["total_price"])
    if book.refunded > 0:
        return "refunded" if book.refunded >= book.received else "partially_refunded"
    if book.received > 0:
        return "paid" if book.received >= total else "partially_paid"
    if book.voided:
        return "voided"
    if book.open_authorized > 0:
        return "expired" if order["financial_status"] == "expired" else "authorized"
    return "pending"


def payments(order: dict[str, Any]) -> dict[str, int]:
    """received / net / outstanding / capturable / refunded / tip in shop-currency cents."""
    book = ledger(order)
    status = order["financial_status"]
    total = cents(order["total_price"])
    return {
        "received": book.received,
        "net": book.net,
        "outstanding": 0 if status == "voided" else max(0, total - book.received),
        "capturable": book.open_authorized if status == "authorized" else 0,
        "refunded": book.refunded,
        "tip": 0,
    }


# -- building ------------------------------------------------------------------------------------------
class Builder:
    """Appends transactions to one order, drawing ids from `ids` and choices from `rng`."""

    def __init__(self, rng: random.Random, ids: Ids, order: dict[str, Any]) -> None:
        self.rng = rng
        self.ids = ids
        self.order = order
        self.items: list[dict[str, Any]] = order.setdefault("transactions", [])

    @property
    def gateway(self) -> str:
        return self.order["payment_gateway_names"][-1]

    def add(
        self,
        kind: str,
        amount: int,
        at: int,
        *,
        status: str = "success",
        parent: dict[str, Any] | None = None,
        gateway: str | None = None,
        processed_at: int | None = None,
        error_code: str | None = None,
    ) -> dict[str, Any]:
        gateway = gateway or (parent["gateway"] if parent else self.gateway)
        tx_id = self.ids.transaction.next(self.rng)
        card = gateway in AUTHORIZING_GATEWAYS
        tx = {
            "id": tx_id,
            "kind": kind,
            "status": status,
            "gateway": gateway,
            "amount": money(amount),
            "parent_id": parent["id"] if parent else None,
            "created_at": at,
            "processed_at": at if processed_at is None else processed_at,
            "error_code": error_code,
            "authorization": f"{tx_id % 10**8:08d}"
            if card and kind != "refund" and status == "success"
            else None,
            "authorization_expires_at": at + AUTHORIZATION_DAYS * 86400
            if kind == "authorization" and card and status == "success"
            else None,
        }
        self.items.append(tx)
        return tx

    def failed_attempt(self, kind: str, amount: int, at: int, processed_at: int | None = None) -> None:
        if self.gateway in AUTHORIZING_GATEWAYS and self.rng.random() < FAILED_ATTEMPT_SHARE:
            code = self.rng.choice(ERROR_CODES)
            self.add(kind, amount, at, status="failure", processed_at=processed_at, error_code=code)

    def charge(self, amount: int, at: int, until: int, processed_at: int | None = None) -> list[dict]:
        """Money received in full: a gift-card part first when the order used one, then a sale, or an
        authorization and its capture (card gateways, some orders)."""
        charges = []
        remaining = amount
        if "gift_card" in self.order["payment_gateway_names"][:-1] and amount > 1:
            part = min(self.rng.choice(GIFT_CARD_AMOUNTS), amount // 2)
            charges.append(self.add("sale", part, at, gateway="gift_card", processed_at=processed_at))
            remaining -= part
        if self.gateway in AUTHORIZING_GATEWAYS and self.rng.random() < 0.4:
            self.failed_attempt("authorization", remaining, at, processed_at)
            authorization = self.add("authorization", remaining, at, processed_at=processed_at)
            captured_at = between(self.rng, at, min(until, at + 3 * 86400))
            charges.append(self.add("capture", remaining, captured_at, parent=authorization))
        else:
            self.failed_attempt("sale", remaining, at, processed_at)
            charges.append(self.add("sale", remaining, at, processed_at=processed_at))
        return charges

    def refund(self, charges: list[dict], amount: int, at: int) -> None:
        """Refund `amount` against the charges, the card charge (last) first."""
        for charge in reversed(charges):
            if amount <= 0:
                return
            part = min(amount, refundable(self.order, charge))
            if part > 0:
                self.add("refund", part, at, parent=charge)
                amount -= part

    def last_at(self) -> int:
        return max((tx["created_at"] for tx in self.items), default=self.order["created_at"])


def between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low)) if high > low else low


def refundable(order: dict[str, Any], charge: dict[str, Any]) -> int:
    """What is left to refund of one sale or capture."""
    refunded = sum(
        cents(tx["amount"])
        for tx in order.get("transactions", ())
        if tx["kind"] == "refund" and tx["status"] == "success" and tx["parent_id"] == charge["id"]
    )
    return cents(charge["amount"]) - refunded


def successful_charges(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [tx for tx in order["transactions"] if tx["kind"] in CHARGED and tx["status"] == "success"]


def generate(rng: random.Random, ids: Ids, order: dict[str, Any]) -> None:
    """The history of a generated order: transactions matching its financial status and total, dated
    between its creation (processed_at for imported orders) and its updated_at."""
    builder = Builder(rng, ids, order)
    status = order["financial_status"]
    total = cents(order["total_price"])
    start, until = order["created_at"], order["updated_at"]
    processed = order["processed_at"]
    end = order["cancelled_at"] or until
    if status in ("paid", "refunded", "partially_refunded"):
        charges = builder.charge(total, start, until, processed)
        if status == "refunded":
            builder.refund(charges, total, max(builder.last_at(), min(end, until)))
        elif status == "partially_refunded":
            card = cents(charges[-1]["amount"])
            part = max(1, min(card - 1, int(card * (0.1 + 0.8 * rng.random()))))
            builder.refund(charges, part, between(rng, builder.last_at(), until))
    elif status == "partially_paid":
        builder.add("sale", total // 2, start, processed_at=processed)
    elif status == "pending":
        builder.add("sale", total, start, status="pending", processed_at=processed)
    elif status in ("authorized", "expired", "voided"):
        builder.failed_attempt("authorization", total, start, processed)
        authorization = builder.add("authorization", total, start, processed_at=processed)
        if status == "voided":
            builder.add("void", total, max(start, min(end, until)), parent=authorization)


# -- run-time money movements (change generator, control API) --------------------------------------------
class PaymentError(ValueError):
    pass


def open_authorizations(order: dict[str, Any]) -> list[dict[str, Any]]:
    settled = {
        tx["parent_id"]
        for tx in order["transactions"]
        if tx["kind"] in ("capture", "void") and tx["status"] == "success"
    }
    return [
        tx
        for tx in order["transactions"]
        if tx["kind"] == "authorization" and tx["status"] == "success" and tx["id"] not in settled
    ]


def capture(rng: random.Random, ids: Ids, order: dict[str, Any], at: int, fail_first: bool = False) -> list:
    """Capture every open authorization in full (a failed attempt first when `fail_first`)."""
    authorizations = open_authorizations(order)
    if not authorizations or order["financial_status"] != "authorized":
        raise PaymentError("nothing to capture: the order has no open authorization")
    builder = Builder(rng, ids, order)
    made = []
    for authorization in authorizations:
        if fail_first:
            code = rng.choice(ERROR_CODES)
            made.append(
                builder.add(
                    "capture",
                    cents(authorization["amount"]),
                    at,
                    status="failure",
                    parent=authorization,
                    error_code=code,
                )
            )
        made.append(builder.add("capture", cents(authorization["amount"]), at, parent=authorization))
    return made


def pay(rng: random.Random, ids: Ids, order: dict[str, Any], at: int) -> list:
    """Settle what is owed: a pending sale turns into a success in place (no new transaction), or a sale
    of the outstanding amount is added. Returns the new transactions ([] for the in-place move)."""
    pending = [tx for tx in order["transactions"] if tx["kind"] == "sale" and tx["status"] == "pending"]
    if pending and order["cancelled_at"] is None:
        for tx in pending:
            tx["status"] = "success"
            tx["processed_at"] = at
        return []
    owed = payments(order)["outstanding"]
    if owed <= 0 or order["cancelled_at"] is not None or open_authorizations(order):
        raise PaymentError("nothing to pay: the order owes nothing (or has an authorization to capture)")
    return [Builder(rng, ids, order).add("sale", owed, at)]


def refund(rng: random.Random, ids: Ids, order: dict[str, Any], at: int, amount: int | None) -> list:
    """Refund `amount` (None: everything not yet refunded) against the successful charges."""
    available = sum(refundable(order, charge) for charge in successful_charges(order))
    amount = available if amount is None else amount
    if amount <= 0 or amount > available:
        raise PaymentError(f"cannot refund {money(max(amount, 0))}: {money(available)} is refundable")
    builder = Builder(rng, ids, order)
    before = len(builder.items)
    builder.refund(successful_charges(order), amount, at)
    return builder.items[before:]


def void(rng: random.Random, ids: Ids, order: dict[str, Any], at: int) -> list:
    """Void every open authorization, and any pending sale (a cancelled order no longer expects it)."""
    builder = Builder(rng, ids, order)
    targets = open_authorizations(order) + [
        tx for tx in order["transactions"] if tx["kind"] == "sale" and tx["status"] == "pending"
    ]
    if not targets:
        raise PaymentError("nothing to void: the order has no open authorization or pending payment")
    return [builder.add("void", cents(tx["amount"]), at, parent=tx) for tx in targets]


def settle_cancellation(rng: random.Random, ids: Ids, order: dict[str, Any], at: int) -> list:
    """What cancelling an order does to its money: void what is open, refund what was received."""
    made: list[dict[str, Any]] = []
    if payments(order)["received"] - ledger(order).refunded > 0:
        made += refund(rng, ids, order, at, None)
    has_open = open_authorizations(order) or any(
        tx["kind"] == "sale" and tx["status"] == "pending" for tx in order["transactions"]
    )
    if has_open:
        made += void(rng, ids, order, at)
    return made
