"""The one internal record type per resource that both payload shapes (GraphQL bulk/page nodes and
REST/webhook JSON) normalise into, and that the write path (`shopsync.services.upsert`) consumes.

Field names match the model columns, so the write path maps them one to one.

Text has one "no value": None. Both parsers turn "" into None (`types.blank_to_none`), top-level
fields and address values alike, because the shapes disagree: GraphQL sends "" for its non-null
strings (`Product.descriptionHtml: HTML!`) where REST sends null (`body_html: null`).

Children (an order's `line_items` and `transactions`, a product's `variants` and `options`, and any
child list a later resource declares, see `shopsync.resources`) have two "no value"s that must not be confused: `None` means the payload did not carry
them (a partial webhook body), so the stored children stay as they are; `[]` means the parent has
none, so the stored ones are removed. GraphQL nodes always carry their children (our selections ask
for them, and a bulk export's parent starts with `[]` before its child lines are attached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class MetafieldRecord:
    """One metafield of an order, customer or product (contract §8.10): GraphQL `metafields` (a
    connection on its owner), REST / webhook `metafields[]` (only in the namespaces a webhook
    subscription names). `value` is always text, as Shopify gives it, whatever the `type`."""

    shopify_id: int
    namespace: str
    key: str
    type: str | None = None
    value: str | None = None
    shopify_created_at: datetime | None = None
    shopify_updated_at: datetime | None = None


@dataclass(slots=True)
class CustomerAddressRecord:
    """One address of a customer's address book (contract §8.6): GraphQL `Customer.addressesV2`
    (a connection), REST `addresses[]`. Which one is the default is said by the customer
    (`default_address_shopify_id`), where both shapes say it."""

    shopify_id: int
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None


@dataclass(slots=True)
class CustomerRecord:
    shopify_id: int
    shopify_created_at: datetime | None
    shopify_updated_at: datetime
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    state: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    verified_email: bool | None = None
    tax_exempt: bool | None = None
    orders_count: int | None = None
    amount_spent: Decimal | None = None
    amount_spent_currency: str | None = None
    default_address: dict | None = None
    default_address_shopify_id: int | None = None
    # GraphQL only (`locale: String!`); REST bodies do not carry it: None there means "not given"
    # and the stored value stays (the declaration's `kept_when_absent`).
    locale: str | None = None
    # Marketing consent (contract §8.6): state, opt-in level and when it last changed, per channel;
    # lower-case enums whatever the shape (REST `subscribed`, GraphQL `SUBSCRIBED`).
    email_marketing_state: str | None = None
    email_marketing_opt_in_level: str | None = None
    email_marketing_updated_at: datetime | None = None
    sms_marketing_state: str | None = None
    sms_marketing_opt_in_level: str | None = None
    sms_marketing_updated_at: datetime | None = None
    sms_marketing_collected_from: str | None = None
    addresses: list[CustomerAddressRecord] | None = None
    metafields: list[MetafieldRecord] | None = None


@dataclass(slots=True)
class LineItemRecord:
    shopify_id: int
    quantity: int
    product_shopify_id: int | None = None
    variant_shopify_id: int | None = None
    sku: str | None = None
    title: str | None = None
    variant_title: str | None = None
    vendor: str | None = None
    price: Decimal | None = None
    total_discount: Decimal | None = None
    # Order extras (`payloads/order_extras.py`): JSON lists, [] when none.
    tax_lines: list[dict] = field(default_factory=list)
    discount_allocations: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class TransactionRecord:
    """An order transaction (contract §8.2). No `updated_at`: it is carried under its order's."""

    shopify_id: int
    kind: str
    status: str | None = None
    gateway: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    parent_transaction_shopify_id: int | None = None
    processed_at: datetime | None = None
    shopify_created_at: datetime | None = None
    error_code: str | None = None
    test: bool | None = None
    authorization_code: str | None = None


@dataclass(slots=True)
class RefundLineItemRecord:
    """What a refund gave back of one line item (contract §8.3): GraphQL `Refund.refundLineItems`
    (a connection), REST `refund_line_items[]`."""

    shopify_id: int
    line_item_shopify_id: int | None = None
    quantity: int | None = None
    restock_type: str | None = None  # no_restock, cancel, return, legacy_restock
    location_shopify_id: int | None = None
    subtotal: Decimal | None = None
    total_tax: Decimal | None = None


@dataclass(slots=True)
class RefundShippingLineRecord:
    """Refunded shipping (2024-10+): GraphQL `Refund.refundShippingLines`, REST `refund_shipping_lines[]`."""

    shopify_id: int
    shipping_line_shopify_id: int | None = None
    subtotal_amount: Decimal | None = None


@dataclass(slots=True)
class OrderAdjustmentRecord:
    """A refund's order adjustment (a refund discrepancy): GraphQL `Refund.orderAdjustments`
    (`reason`), REST `order_adjustments[]` (`kind`, deprecated but the same values)."""

    shopify_id: int
    kind: str | None = None
    amount: Decimal | None = None
    tax_amount: Decimal | None = None


@dataclass(slots=True)
class RefundTransactionRecord:
    """One of the order's transactions that paid a refund back: GraphQL `Refund.transactions` (a
    connection, `{ id }`), REST `refunds[].transactions[].id`. The link only: the transaction itself
    is the order's (`TransactionRecord`)."""

    shopify_id: int  # the transaction's id


@dataclass(slots=True)
class RefundRecord:
    """A refund of an order (contract §8.3). REST refunds have no `updated_at`, and Shopify never
    changes a refund once made: it is carried under its order's version, like a transaction. Its
    four child lists are connections in GraphQL, which a bulk export cannot carry under the order's
    `refunds` list: a bulk line gives them as None ("not given"), a later pass fills them in."""

    shopify_id: int
    shopify_created_at: datetime | None = None
    processed_at: datetime | None = None
    note: str | None = None
    total_refunded: Decimal | None = None  # presentment currency, as its transactions
    refund_line_items: list[RefundLineItemRecord] | None = None
    refund_shipping_lines: list[RefundShippingLineRecord] | None = None
    order_adjustments: list[OrderAdjustmentRecord] | None = None
    refund_transactions: list[RefundTransactionRecord] | None = None


@dataclass(slots=True)
class FulfillmentLineItemRecord:
    """Units of one line item in a fulfillment: GraphQL `Fulfillment.fulfillmentLineItems` (a
    connection), REST `line_items[]` (the line item plus its `fulfillment_line_item_id`)."""

    shopify_id: int
    line_item_shopify_id: int | None = None
    quantity: int | None = None


@dataclass(slots=True)
class FulfillmentRecord:
    """A fulfillment (contract §8.4): never deleted, cancelled instead (status `cancelled`). Its
    `updated_at` is Shopify's, yet the set is replaced with each newer order version (a fulfillment
    change moves the order's `updated_at` in the simulator's reading, contract §8.12 [UNSURE])."""

    shopify_id: int
    shopify_created_at: datetime | None = None
    shopify_updated_at: datetime | None = None
    name: str | None = None
    status: str | None = None  # success, cancelled, error, failure (pending, open: legacy)
    shipment_status: str | None = None  # REST's: in_transit, delivered, ... or None
    display_status: str | None = None  # GraphQL's displayStatus, lower case: fulfilled, canceled, ...
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    location_shopify_id: int | None = None
    fulfillment_line_items: list[FulfillmentLineItemRecord] | None = None


@dataclass(slots=True)
class OrderRecord:
    shopify_id: int
    shopify_created_at: datetime | None
    shopify_updated_at: datetime
    name: str | None = None
    order_number: int | None = None
    email: str | None = None
    phone: str | None = None
    customer_shopify_id: int | None = None
    currency: str | None = None
    presentment_currency: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    total_price: Decimal | None = None
    subtotal_price: Decimal | None = None
    total_tax: Decimal | None = None
    total_discounts: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    test: bool | None = None
    shipping_address: dict | None = None
    # Order extras (`payloads/order_extras.py`, contract §8.5).
    billing_address: dict | None = None
    note_attributes: list[dict] = field(default_factory=list)
    source_name: str | None = None
    discount_codes: list[str] = field(default_factory=list)
    shipping_lines: list[dict] = field(default_factory=list)
    tax_lines: list[dict] = field(default_factory=list)
    current_total_price: Decimal | None = None
    total_refunded: Decimal | None = None  # GraphQL only: None from REST means "not carried"
    net_payment: Decimal | None = None  # GraphQL only
    total_received: Decimal | None = None  # GraphQL only
    total_outstanding: Decimal | None = None
    line_items: list[LineItemRecord] | None = None
    transactions: list[TransactionRecord] | None = None
    refunds: list[RefundRecord] | None = None
    fulfillments: list[FulfillmentRecord] | None = None
    metafields: list[MetafieldRecord] | None = None


@dataclass(slots=True)
class VariantRecord:
    shopify_id: int
    shopify_created_at: datetime | None = None
    shopify_updated_at: datetime | None = None
    title: str | None = None
    sku: str | None = None
    barcode: str | None = None
    position: int | None = None
    price: Decimal | None = None
    compare_at_price: Decimal | None = None
    inventory_quantity: int | None = None
    # REST `option1..3`; GraphQL `selectedOptions` in the product's option order (position 1..3).
    option1: str | None = None
    option2: str | None = None
    option3: str | None = None
    # The image (a product media id) shown for this variant: REST `image_id`, GraphQL `image { id }`.
    image_shopify_id: int | None = None
    # Its inventory item (contract §8.7; one per variant): REST `inventory_item_id` and
    # `inventory_management == "shopify"`, GraphQL `inventoryItem { id tracked unitCost }`. The cost
    # is GraphQL only: a REST body keeps the stored one (the child's `kept_when_absent`).
    inventory_item_shopify_id: int | None = None
    inventory_tracked: bool | None = None
    unit_cost: Decimal | None = None


@dataclass(slots=True)
class ProductOptionRecord:
    """A product option (Size, Color): REST `options[]`, GraphQL `Product.options` (a list)."""

    shopify_id: int
    name: str | None = None
    position: int | None = None
    option_values: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ProductMediaRecord:
    """A product image: GraphQL `Product.media` (a MediaImage), REST `images[]` (contract §8.7).
    `position` is its place in the product's list, numbered by the write path."""

    shopify_id: int
    position: int | None = None
    url: str | None = None
    alt: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(slots=True)
class ProductRecord:
    shopify_id: int
    shopify_created_at: datetime | None
    shopify_updated_at: datetime
    title: str | None = None
    handle: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    status: str | None = None
    tags: list[str] = field(default_factory=list)
    body_html: str | None = None
    published_at: datetime | None = None
    variants: list[VariantRecord] | None = None
    options: list[ProductOptionRecord] | None = None
    media: list[ProductMediaRecord] | None = None
    metafields: list[MetafieldRecord] | None = None


AnyRecord = CustomerRecord | OrderRecord | ProductRecord
