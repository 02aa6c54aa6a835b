"""An order's refunds and fulfillments (contract §8.3, §8.4) in both payload shapes.

- GraphQL: `Order.refunds` and `Order.fulfillments` are lists (inline in the order's node and bulk
  line); their parts (`refundLineItems`, `refundShippingLines`, `orderAdjustments`, the refund's
  `transactions`, `fulfillmentLineItems`) are connections. Shopify refuses a connection under a list in a bulk query
  ("Queries that contain a connection field within a list field are not currently supported.";
  estuary/connectors PR #4650 met it with `refundLineItems` under `Order.refunds`), so a bulk line
  carries the refunds and fulfillments without their parts: the builders then give the parts as
  None ("not given": stored parts stay), and `services/sync/order_children_pass.py` reads them with
  paged queries afterwards. Paged and by-id queries select the parts' first page inline.
- REST / webhook: `refunds[]` and `fulfillments[]` in the REST order, complete; the `refunds/create`
  and `fulfillments/create|update` bodies are one of them.

Enums are stored lower case (REST's spelling): GraphQL `restockType: RETURN` is REST `return`,
`OrderAdjustment.reason` is REST's (deprecated) `kind`, `Fulfillment.status` REST's `status`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, TypeAdapter

from shopsync.payloads.graphql_fields import MONEY_BAG
from shopsync.payloads.records import (
    FulfillmentLineItemRecord,
    FulfillmentRecord,
    OrderAdjustmentRecord,
    RefundLineItemRecord,
    RefundRecord,
    RefundShippingLineRecord,
    RefundTransactionRecord,
)
from shopsync.payloads.types import (
    Enum32,
    Int32,
    Money,
    OrderName,
    PersonName,
    ShopifyId,
    Title,
    UtcDatetime,
    connection,
    gid,
    gid_to_int,
    reference_id,
    to_utc,
)

RefundGid = gid("Refund")
RefundLineItemGid = gid("RefundLineItem")
RefundShippingLineGid = gid("RefundShippingLine")
OrderAdjustmentGid = gid("OrderAdjustment")
OrderTransactionGid = gid("OrderTransaction")
FulfillmentGid = gid("Fulfillment")
FulfillmentLineItemGid = gid("FulfillmentLineItem")

# -- selections ------------------------------------------------------------------------------------
# Own fields only: the query builders add the connections (not in a bulk query, see above).
# The refund's total in the presentment currency, as REST gives its transactions' amounts (and as
# `OrderTransaction.amount` is stored): the one figure both shapes carry.
REFUND_FIELDS = f"id createdAt processedAt note totalRefundedSet {{ presentmentMoney {{ amount currencyCode }} {MONEY_BAG} }}"
REFUND_LINE_ITEM_FIELDS = (
    "id quantity restockType location { id } lineItem { id } "
    "subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }"
)
REFUND_SHIPPING_LINE_FIELDS = "id shippingLine { id } subtotalAmountSet { shopMoney { amount } }"
# The link only: the transaction's own fields come with the order's `transactions` list.
REFUND_TRANSACTION_FIELDS = "id"
ORDER_ADJUSTMENT_FIELDS = "id reason amountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } }"
# `trackingInfo` is a list (inline everywhere); the first entry is the one REST names
# `tracking_company` / `tracking_number` / `tracking_url`.
FULFILLMENT_FIELDS = (
    "id name status displayStatus createdAt updatedAt trackingInfo { company number url } location { id }"
)
FULFILLMENT_LINE_ITEM_FIELDS = "id quantity lineItem { id }"

# REST `shipment_status` values; GraphQL folds them into `displayStatus` (with FULFILLED, CANCELED
# and newer values). [UNSURE] Shopify documents no mapping between the two: we read a display status
# that is one of these as the shipment status, and derive the display status of a REST fulfillment
# as CANCELED when cancelled, else its shipment status, else FULFILLED (the simulator's reading).
SHIPMENT_STATUSES = frozenset({
    "label_printed", "label_purchased", "attempted_delivery", "ready_for_pickup", "confirmed",
    "in_transit", "out_for_delivery", "delivered", "failure",
})  # fmt: skip


# -- GraphQL ---------------------------------------------------------------------------------------
class _Amount(TypedDict):
    amount: Money


class _Bag(TypedDict):
    shopMoney: _Amount
    presentmentMoney: NotRequired[_Amount | None]


class _Ref(TypedDict):
    id: str


class RefundLineItemNode(TypedDict):
    id: RefundLineItemGid
    quantity: NotRequired[Int32 | None]
    restockType: NotRequired[Enum32 | None]
    location: NotRequired[_Ref | None]
    lineItem: NotRequired[_Ref | None]
    subtotalSet: NotRequired[_Bag | None]
    totalTaxSet: NotRequired[_Bag | None]


class RefundShippingLineNode(TypedDict):
    id: RefundShippingLineGid
    shippingLine: NotRequired[dict[str, Any] | None]
    subtotalAmountSet: NotRequired[_Bag | None]


class OrderAdjustmentNode(TypedDict):
    id: OrderAdjustmentGid
    reason: NotRequired[Enum32 | None]
    amountSet: NotRequired[_Bag | None]
    taxAmountSet: NotRequired[_Bag | None]


class RefundTransactionNode(TypedDict):
    id: OrderTransactionGid


class RefundNode(TypedDict):
    id: RefundGid
    createdAt: NotRequired[UtcDatetime | None]
    processedAt: NotRequired[UtcDatetime | None]
    note: NotRequired[str | None]
    totalRefundedSet: NotRequired[_Bag | None]
    refundLineItems: NotRequired[connection(RefundLineItemNode, "RefundLineItems") | None]  # type: ignore[valid-type]
    refundShippingLines: NotRequired[connection(RefundShippingLineNode, "RefundShippingLines") | None]  # type: ignore[valid-type]
    orderAdjustments: NotRequired[connection(OrderAdjustmentNode, "OrderAdjustments") | None]  # type: ignore[valid-type]
    transactions: NotRequired[connection(RefundTransactionNode, "RefundTransactions") | None]  # type: ignore[valid-type]


class TrackingInfo(TypedDict):
    company: NotRequired[PersonName | None]
    number: NotRequired[PersonName | None]
    url: NotRequired[str | None]


class FulfillmentLineItemNode(TypedDict):
    id: FulfillmentLineItemGid
    quantity: NotRequired[Int32 | None]
    lineItem: NotRequired[_Ref | None]


class FulfillmentNode(TypedDict):
    id: FulfillmentGid
    name: NotRequired[OrderName | None]
    status: NotRequired[Enum32 | None]
    displayStatus: NotRequired[Enum32 | None]
    createdAt: NotRequired[UtcDatetime | None]
    updatedAt: NotRequired[UtcDatetime | None]
    trackingInfo: NotRequired[list[TrackingInfo] | None]
    location: NotRequired[_Ref | None]
    fulfillmentLineItems: NotRequired[connection(FulfillmentLineItemNode, "FulfillmentLineItems") | None]  # type: ignore[valid-type]


REFUND = TypeAdapter(RefundNode)
REFUND_LINE_ITEM = TypeAdapter(RefundLineItemNode)
REFUND_SHIPPING_LINE = TypeAdapter(RefundShippingLineNode)
ORDER_ADJUSTMENT = TypeAdapter(OrderAdjustmentNode)
REFUND_TRANSACTION = TypeAdapter(RefundTransactionNode)
FULFILLMENT = TypeAdapter(FulfillmentNode)
FULFILLMENT_LINE_ITEM = TypeAdapter(FulfillmentLineItemNode)


def _amount(bag: Any) -> Any:
    return bag["shopMoney"]["amount"] if bag else None


def _presentment(bag: Any) -> Any:
    return (bag.get("presentmentMoney") or bag["shopMoney"])["amount"] if bag else None


def _ref(value: Any) -> int | None:
    return reference_id(value["id"]) if value and value.get("id") else None


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _parts(node: Any, field: str, build: Any) -> list | None:
    """A connection nested in a list item: None when not selected (a bulk line), else its nodes."""
    connection = node.get(field)
    if connection is None:
        return None
    return [build(item) for item in connection.get("nodes") or ()]


def refund_line_item_record(node: RefundLineItemNode) -> RefundLineItemRecord:
    get = node.get
    return RefundLineItemRecord(
        shopify_id=gid_to_int(node["id"]),
        line_item_shopify_id=_ref(get("lineItem")),
        quantity=get("quantity"),
        restock_type=_lower(get("restockType")),
        location_shopify_id=_ref(get("location")),
        subtotal=_amount(get("subtotalSet")),
        total_tax=_amount(get("totalTaxSet")),
    )


def refund_shipping_line_record(node: RefundShippingLineNode) -> RefundShippingLineRecord:
    get = node.get
    return RefundShippingLineRecord(
        shopify_id=gid_to_int(node["id"]),
        shipping_line_shopify_id=_ref(get("shippingLine")),
        subtotal_amount=_amount(get("subtotalAmountSet")),
    )


def order_adjustment_record(node: OrderAdjustmentNode) -> OrderAdjustmentRecord:
    get = node.get
    return OrderAdjustmentRecord(
        shopify_id=gid_to_int(node["id"]),
        kind=_lower(get("reason")),
        amount=_amount(get("amountSet")),
        tax_amount=_amount(get("taxAmountSet")),
    )


def refund_transaction_record(node: RefundTransactionNode) -> RefundTransactionRecord:
    return RefundTransactionRecord(shopify_id=gid_to_int(node["id"]))


def refund_record(node: RefundNode) -> RefundRecord:
    get = node.get
    return RefundRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        processed_at=to_utc(get("processedAt")),
        note=get("note") or None,
        total_refunded=_presentment(get("totalRefundedSet")),
        refund_line_items=_parts(node, "refundLineItems", refund_line_item_record),
        refund_shipping_lines=_parts(node, "refundShippingLines", refund_shipping_line_record),
        order_adjustments=_parts(node, "orderAdjustments", order_adjustment_record),
        refund_transactions=_parts(node, "transactions", refund_transaction_record),
    )


def fulfillment_line_item_record(node: FulfillmentLineItemNode) -> FulfillmentLineItemRecord:
    get = node.get
    return FulfillmentLineItemRecord(
        shopify_id=gid_to_int(node["id"]),
        line_item_shopify_id=_ref(get("lineItem")),
        quantity=get("quantity"),
    )


def fulfillment_record(node: FulfillmentNode) -> FulfillmentRecord:
    get = node.get
    tracking = (get("trackingInfo") or [{}])[0]
    display = _lower(get("displayStatus"))
    return FulfillmentRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(get("updatedAt")),
        name=get("name") or None,
        status=_lower(get("status")),
        shipment_status=display if display in SHIPMENT_STATUSES else None,
        display_status=display,
        tracking_company=tracking.get("company") or None,
        tracking_number=tracking.get("number") or None,
        tracking_url=tracking.get("url") or None,
        location_shopify_id=_ref(get("location")),
        fulfillment_line_items=_parts(node, "fulfillmentLineItems", fulfillment_line_item_record),
    )


# -- REST / webhooks -------------------------------------------------------------------------------
class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestRefundLineItem(_Payload):
    id: ShopifyId
    line_item_id: ShopifyId | None = None
    quantity: Int32 | None = None
    restock_type: Enum32 | None = None
    location_id: ShopifyId | None = None
    subtotal: Money | None = None
    total_tax: Money | None = None


class _RestAmount(_Payload):
    amount: Money


class _RestBag(_Payload):
    shop_money: _RestAmount


class RestRefundShippingLine(_Payload):
    id: ShopifyId
    shipping_line_id: ShopifyId | None = None
    subtotal_amount_set: _RestBag | None = None


class RestOrderAdjustment(_Payload):
    id: ShopifyId
    kind: Enum32 | None = None
    amount: Money | None = None
    tax_amount: Money | None = None


class RestRefundTransaction(_Payload):
    # [UNSURE] every REST transaction has its id (contract §8.2); a refund whose transactions do not
    # all name theirs cannot say which it links to, so its links are then "not given" (stored stay).
    id: ShopifyId | None = None
    kind: Enum32 | None = None
    status: Enum32 | None = None
    amount: Money | None = None


class RestRefund(_Payload):
    """REST `refunds[]` of an order, `orders/{id}/refunds.json`, the `refunds/create` body. No
    `updated_at` (contract §8.3). Its total is the sum of its successful refund transactions
    (what GraphQL's `totalRefundedSet` sums)."""

    id: ShopifyId
    order_id: ShopifyId | None = None
    created_at: UtcDatetime | None = None
    processed_at: UtcDatetime | None = None
    note: str | None = None
    refund_line_items: list[RestRefundLineItem] | None = None
    refund_shipping_lines: list[RestRefundShippingLine] | None = None
    order_adjustments: list[RestOrderAdjustment] | None = None
    transactions: list[RestRefundTransaction] | None = None

    def to_record(self) -> RefundRecord:
        paid = [t.amount for t in self.transactions or () if t.status in (None, "success") and t.amount]
        return RefundRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            processed_at=to_utc(self.processed_at),
            note=self.note or None,
            total_refunded=sum(paid, start=type(paid[0])(0)) if paid else None,
            refund_line_items=None
            if self.refund_line_items is None
            else [
                RefundLineItemRecord(
                    shopify_id=i.id,
                    line_item_shopify_id=i.line_item_id,
                    quantity=i.quantity,
                    restock_type=i.restock_type or None,
                    location_shopify_id=i.location_id,
                    subtotal=i.subtotal,
                    total_tax=i.total_tax,
                )
                for i in self.refund_line_items
            ],
            refund_shipping_lines=None
            if self.refund_shipping_lines is None
            else [
                RefundShippingLineRecord(
                    shopify_id=s.id,
                    shipping_line_shopify_id=s.shipping_line_id,
                    subtotal_amount=s.subtotal_amount_set.shop_money.amount
                    if s.subtotal_amount_set
                    else None,
                )
                for s in self.refund_shipping_lines
            ],
            order_adjustments=None
            if self.order_adjustments is None
            else [
                OrderAdjustmentRecord(
                    shopify_id=a.id, kind=a.kind or None, amount=a.amount, tax_amount=a.tax_amount
                )
                for a in self.order_adjustments
            ],
            refund_transactions=None
            if self.transactions is None or any(t.id is None for t in self.transactions)
            else [RefundTransactionRecord(shopify_id=t.id) for t in self.transactions],
        )


class RestFulfillmentLine(_Payload):
    id: ShopifyId  # the order's line item
    # [UNSURE] contract §8.4 shows it on every line; a body without it cannot key the row, so its
    # fulfillment's lines are then "not given" (the stored ones stay) rather than the order refused.
    fulfillment_line_item_id: ShopifyId | None = None
    quantity: Int32 | None = None


class RestFulfillment(_Payload):
    """REST `fulfillments[]` of an order, the `fulfillments/create|update` body (contract §8.4)."""

    id: ShopifyId
    order_id: ShopifyId | None = None
    name: OrderName | None = None
    status: Enum32 | None = None
    shipment_status: Enum32 | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    location_id: ShopifyId | None = None
    tracking_company: PersonName | None = None
    tracking_number: PersonName | None = None
    tracking_url: Title | None = None
    line_items: list[RestFulfillmentLine] | None = None

    def to_record(self) -> FulfillmentRecord:
        shipment = self.shipment_status or None
        return FulfillmentRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            name=self.name or None,
            status=self.status or None,
            shipment_status=shipment,
            display_status="canceled" if self.status == "cancelled" else shipment or "fulfilled",
            tracking_company=self.tracking_company or None,
            tracking_number=self.tracking_number or None,
            tracking_url=self.tracking_url or None,
            location_shopify_id=self.location_id,
            fulfillment_line_items=None
            if self.line_items is None
            or any(line.fulfillment_line_item_id is None for line in self.line_items)
            else [
                FulfillmentLineItemRecord(
                    shopify_id=line.fulfillment_line_item_id,
                    line_item_shopify_id=line.id,
                    quantity=line.quantity,
                )
                for line in self.line_items
            ],
        )
