"""Reads for the staff pages about an order's extras (contract §8.5) and what customers spend (R2:
reads only). The extras are JSON columns (`shopsync/payloads/order_extras.py` gives their forms);
these shape them for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from shopsync.models import Customer, LineItem, Order
from shopsync.payloads.order_extras import order_discount_applications

# The statuses the order list filters on: Shopify's OrderDisplayFinancialStatus and
# OrderDisplayFulfillmentStatus, lower-cased as stored (REST's short words are mapped on the way in).
FINANCIAL_STATUSES = (
    "pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided", "expired",
)  # fmt: skip
FULFILLMENT_STATUSES = (
    "unfulfilled", "partially_fulfilled", "fulfilled", "in_progress", "on_hold", "open",
    "pending_fulfillment", "scheduled", "request_declined", "restocked",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TaxLine:
    title: str
    rate_percent: Decimal | None
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class DiscountApplication:
    index: int
    kind: str  # discount_code | manual | automatic | script
    name: str  # the code, else the title
    description: str
    value: Decimal | None
    is_percentage: bool
    target_type: str
    allocation_method: str


@dataclass(frozen=True, slots=True)
class ShippingLine:
    title: str
    code: str
    source: str
    price: Decimal | None
    discounted_price: Decimal | None
    tax_lines: list[TaxLine]


@dataclass(frozen=True, slots=True)
class LineItemExtras:
    item: LineItem
    tax_lines: list[TaxLine]
    discounts: list[tuple[str, Decimal | None]]  # (the application's name, the amount allocated)


@dataclass(frozen=True, slots=True)
class OrderExtras:
    billing_address: dict[str, Any] | None
    source_name: str | None
    note_attributes: list[dict[str, Any]]
    discount_codes: list[str]
    discount_applications: list[DiscountApplication]
    shipping_lines: list[ShippingLine]
    tax_lines: list[TaxLine]
    line_items: list[LineItemExtras] = field(default_factory=list)

    @property
    def has_line_item_extras(self) -> bool:
        return any(line.tax_lines or line.discounts for line in self.line_items)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _tax_lines(lines: list[dict[str, Any]] | None) -> list[TaxLine]:
    return [
        TaxLine(
            title=line.get("title") or "Tax",
            rate_percent=None if line.get("rate") is None else _decimal(line["rate"]) * 100,
            price=_decimal(line.get("price")),
        )
        for line in lines or ()
    ]


def _application_name(application: dict[str, Any]) -> str:
    return (
        application.get("code")
        or application.get("title")
        or f"Discount {application.get('index', '')}".strip()
    )


def _application(application: dict[str, Any]) -> DiscountApplication:
    return DiscountApplication(
        index=application.get("index", 0),
        kind=application.get("type") or "",
        name=_application_name(application),
        description=application.get("description") or "",
        value=_decimal(application.get("value")),
        is_percentage=application.get("value_type") == "percentage",
        target_type=application.get("target_type") or "",
        allocation_method=application.get("allocation_method") or "",
    )


def _shipping_line(line: dict[str, Any]) -> ShippingLine:
    return ShippingLine(
        title=line.get("title") or "",
        code=line.get("code") or "",
        source=line.get("source") or "",
        price=_decimal(line.get("price")),
        discounted_price=_decimal(line.get("discounted_price")),
        tax_lines=_tax_lines(line.get("tax_lines")),
    )


def order_extras_get(*, order: Order, line_items: list[LineItem]) -> OrderExtras:
    """The order's extras for its page. Its discount applications are the ones its line items' and
    shipping lines' allocations name (`order_discount_applications`)."""
    applications = order_discount_applications(
        [item.discount_allocations for item in line_items], order.shipping_lines
    )
    return OrderExtras(
        billing_address=order.billing_address,
        source_name=order.source_name,
        note_attributes=list(order.note_attributes or ()),
        discount_codes=list(order.discount_codes or ()),
        discount_applications=[_application(application) for application in applications],
        shipping_lines=[_shipping_line(line) for line in order.shipping_lines or ()],
        tax_lines=_tax_lines(order.tax_lines),
        line_items=[
            LineItemExtras(
                item=item,
                tax_lines=_tax_lines(item.tax_lines),
                discounts=[
                    (
                        _application_name(allocation.get("application") or {}),
                        _decimal(allocation.get("amount")),
                    )
                    for allocation in item.discount_allocations or ()
                ],
            )
            for item in line_items
        ],
    )


def orders_filter_by_status(
    orders: QuerySet[Order], *, financial_status: str, fulfillment_status: str
) -> QuerySet[Order]:
    """Only known statuses filter (anything else is ignored, as an empty choice is)."""
    if financial_status in FINANCIAL_STATUSES:
        orders = orders.filter(financial_status=financial_status)
    if fulfillment_status in FULFILLMENT_STATUSES:
        orders = orders.filter(fulfillment_status=fulfillment_status)
    return orders


@dataclass(frozen=True, slots=True)
class CustomerSpend:
    """What a customer spent in one currency: `gross` the orders' totals as placed, `refunded` what
    Shopify reports refunded on them, `net` the difference."""

    currency: str
    orders: int
    gross: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded


def customer_spend_list(*, customer: Customer) -> list[CustomerSpend]:
    """Gross and net spend per currency over the customer's orders, leaving out deleted, cancelled
    and test orders. Refunds are the orders' `total_refunded` as Shopify reports it (an order only a
    webhook has brought so far has none yet: counted as nothing refunded until the next sync)."""
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=20, decimal_places=4))
    rows = (
        Order.objects.filter(
            shop_id=customer.shop_id,
            customer_shopify_id=customer.shopify_id,
            deleted_at__isnull=True,
            cancelled_at__isnull=True,
        )
        .exclude(test=True)
        .values("currency")
        .annotate(
            orders=Count("pk"),
            gross=Coalesce(Sum("total_price"), zero),
            refunded=Coalesce(Sum("total_refunded", filter=Q(total_refunded__isnull=False)), zero),
        )
        .order_by("currency")
    )
    return [
        CustomerSpend(row["currency"] or "", row["orders"], row["gross"], row["refunded"]) for row in rows
    ]
