"""An order's story for the staff page (R2: reads only): placed, paid (its transactions), fulfilled
(with tracking), refunded (what, how much, restocked, and the transactions that paid it back),
cancelled, in the order they happened.

A refund's transactions are linked by their Shopify ids (`RefundTransaction`), and either side may be
here first: a linked transaction is told under its refund (not again as a payment), a refund
transaction no stored refund links is told as a payment of its own, and a link whose transaction we
do not hold yet names its id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch

from shopsync.models import Fulfillment, Order, OrderTransaction, Refund

# Units that went back to stock (REST restock_type; legacy_restock: an old `restock=true` refund).
RESTOCKED = frozenset({"return", "cancel", "legacy_restock"})


@dataclass(frozen=True, slots=True)
class StoryItem:
    title: str
    quantity: int | None
    restocked: bool = False
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StoryPayback:
    """A transaction that paid a refund back; `held` False: linked, not stored here yet."""

    shopify_id: int
    held: bool
    gateway: str = ""
    status: str = ""
    amount: Decimal | None = None
    currency: str = ""
    failed: bool = False


@dataclass(frozen=True, slots=True)
class StoryEvent:
    at: datetime | None
    kind: str  # placed | payment | fulfillment | refund | cancelled
    title: str
    status: str = ""  # a Shopify status, shown as a label
    amount: Decimal | None = None
    currency: str = ""
    note: str = ""
    items: list[StoryItem] = field(default_factory=list)
    tracking_company: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    failed: bool = False
    paid_back_by: list[StoryPayback] = field(default_factory=list)


def order_story_list(*, order: Order) -> list[StoryEvent]:
    titles = dict(order.line_items.values_list("shopify_id", "title"))
    currency = order.currency or ""
    events = [StoryEvent(at=order.processed_at or order.shopify_created_at, kind="placed", title="Placed",
                         amount=order.total_price, currency=currency)]  # fmt: skip
    transactions = {t.shopify_id: t for t in order.transactions.order_by("shopify_id")}
    fulfillments = order.fulfillments.prefetch_related("fulfillment_line_items").order_by("shopify_id")
    events += [_fulfillment(f, titles) for f in fulfillments]
    refunds = order.refunds.prefetch_related(
        Prefetch("refund_line_items"), "refund_shipping_lines", "order_adjustments", "refund_transactions"
    ).order_by("shopify_id")
    linked = {link.shopify_id for refund in refunds for link in refund.refund_transactions.all()}
    events += [_payment(t) for t in transactions.values() if t.kind != "refund" or t.shopify_id not in linked]
    presentment = order.presentment_currency or currency
    events += [_refund(r, titles, presentment, transactions) for r in refunds]
    if order.cancelled_at:
        events.append(StoryEvent(at=order.cancelled_at, kind="cancelled", title="Cancelled",
                                 status=order.cancel_reason or ""))  # fmt: skip
    # Stable: what has no time keeps its place after what has one.
    return sorted(events, key=lambda e: (e.at is None, e.at or datetime.min.replace(tzinfo=None)))


def _payment(transaction: OrderTransaction) -> StoryEvent:
    return StoryEvent(
        at=transaction.processed_at or transaction.shopify_created_at, kind="payment",
        title=transaction.kind.replace("_", " ").capitalize(), status=transaction.status or "",
        amount=transaction.amount, currency=transaction.currency or "", note=transaction.gateway or "",
        failed=transaction.status in ("failure", "error"),
    )  # fmt: skip


def _fulfillment(fulfillment: Fulfillment, titles: dict[int, str]) -> StoryEvent:
    cancelled = fulfillment.status == "cancelled"
    return StoryEvent(
        at=fulfillment.shopify_created_at, kind="fulfillment",
        title=f"Fulfillment {fulfillment.name or fulfillment.shopify_id}" + (" (cancelled)" if cancelled else ""),
        status=fulfillment.display_status or fulfillment.status or "", failed=cancelled,
        items=[StoryItem(titles.get(i.line_item_shopify_id) or f"Line item {i.line_item_shopify_id}", i.quantity)
               for i in fulfillment.fulfillment_line_items.all()],
        tracking_company=fulfillment.tracking_company or "", tracking_number=fulfillment.tracking_number or "",
        tracking_url=(fulfillment.tracking_url or "") if _is_web_url(fulfillment.tracking_url) else "",
    )  # fmt: skip


def _payback(shopify_id: int, transaction: OrderTransaction | None) -> StoryPayback:
    if transaction is None:
        return StoryPayback(shopify_id=shopify_id, held=False)
    return StoryPayback(
        shopify_id=shopify_id, held=True, gateway=transaction.gateway or "", status=transaction.status or "",
        amount=transaction.amount, currency=transaction.currency or "",
        failed=transaction.status in ("failure", "error"),
    )  # fmt: skip


def _refund(
    refund: Refund, titles: dict[int, str], currency: str, transactions: dict[int, OrderTransaction]
) -> StoryEvent:
    items = [
        StoryItem(titles.get(i.line_item_shopify_id) or f"Line item {i.line_item_shopify_id}", i.quantity,
                  restocked=(i.restock_type or "") in RESTOCKED, amount=(i.subtotal or 0) + (i.total_tax or 0))
        for i in refund.refund_line_items.all()
    ]  # fmt: skip
    items += [
        StoryItem("Shipping", None, amount=s.subtotal_amount) for s in refund.refund_shipping_lines.all()
    ]
    items += [
        StoryItem((a.kind or "adjustment").replace("_", " ").capitalize(), None, amount=-(a.amount or 0) - (a.tax_amount or 0))
        for a in refund.order_adjustments.all()
    ]  # fmt: skip
    paid_back_by = [
        _payback(link.shopify_id, transactions.get(link.shopify_id))
        for link in sorted(refund.refund_transactions.all(), key=lambda link: link.shopify_id)
    ]
    return StoryEvent(at=refund.processed_at or refund.shopify_created_at, kind="refund", title="Refunded",
                      amount=refund.total_refunded, currency=currency, note=refund.note or "", items=items,
                      paid_back_by=paid_back_by)  # fmt: skip


def _is_web_url(url: str | None) -> bool:
    """Only http(s) links are rendered as links (a Shopify URL field is the merchant's input)."""
    return bool(url) and url.lower().startswith(("https://", "http://"))
