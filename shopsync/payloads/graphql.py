"""GraphQL Admin API payloads (GIDs, MoneyBag amounts, tag lists, UTC DateTimes), validated and
normalised into the shared records.

Nodes come from paged queries (children nested as `lineItems { nodes {...} }`, or `edges { node }`) or
from bulk-operation JSONL (children as separate lines carrying `__parentId`; the bulk reader attaches
them). The selections these models expect are in `shopsync.payloads.graphql_fields`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

import orjson
from pydantic import TypeAdapter, ValidationError

from shopsync.payloads.cleaning import bytes_have_nul, loads_without_nul, mapping_without_nul
from shopsync.payloads.customers import (
    AddressConnection,
    EmailConsentNode,
    SmsConsentNode,
    address_record,
    default_address_id,
    email_consent,
    sms_consent,
)
from shopsync.payloads.errors import FieldError, PayloadValidationError, readable_id
from shopsync.payloads.metafields import MetafieldNode, metafield_record
from shopsync.payloads.order_children import FulfillmentNode, RefundNode, fulfillment_record, refund_record
from shopsync.payloads.order_extras import (
    ORDER_EXTRA_COLUMNS,
    LineItemExtrasNode,
    OrderExtrasNode,
    line_item_extras_graphql,
    order_extras_graphql,
)
from shopsync.payloads.records import (
    CustomerRecord,
    LineItemRecord,
    OrderRecord,
    ProductMediaRecord,
    ProductOptionRecord,
    ProductRecord,
    TransactionRecord,
    VariantRecord,
)
from shopsync.payloads.types import (
    Currency,
    Email,
    Enum16,
    Enum32,
    Enum64,
    Int32,
    Money,
    OrderName,
    PersonName,
    Phone,
    Sku,
    StrippedList,
    Title,
    UtcDatetime,
    address_from_graphql,
    blank_to_none,
    clean_tags,
    connection,
    gid,
    gid_to_int,
    reference_id,
    to_utc,
)

Payload = Mapping[str, Any] | bytes | str

OrderGid = gid("Order")
LineItemGid = gid("LineItem")
CustomerGid = gid("Customer")
ProductGid = gid("Product")
VariantGid = gid("ProductVariant")
InventoryItemGid = gid("InventoryItem")
TransactionGid = gid("OrderTransaction")
ProductOptionGid = gid("ProductOption")
# Product.media nodes: MediaImage, Video, ExternalVideo or Model3d; only an image has an `image`.
# [UNSURE, contract §8.7] whether REST `images[].id` / `image_id` and a variant's deprecated `image`
# name the MediaImage's number or an older ProductImage one: the mirror keys images by the number it
# is given and accepts both types (GIDs are opaque, §8.1); the simulator serves one number for both.
MediaGid = gid("(?:MediaImage|ProductImage|Video|ExternalVideo|Model3d)")

# Nodes are TypedDicts validated by pydantic-core straight from JSON bytes: about three times faster
# than BaseModel instances for the bulk path (measured in bench/writepath), and unknown keys are ignored.


class MoneyV2(TypedDict):
    amount: Money
    currencyCode: NotRequired[Currency | None]


class MoneyBag(TypedDict):
    shopMoney: MoneyV2
    presentmentMoney: NotRequired[MoneyV2 | None]


class CustomerRef(TypedDict):
    id: CustomerGid


class ProductRef(TypedDict):
    id: ProductGid


class VariantRef(TypedDict):
    id: VariantGid


# `defaultEmailAddress` / `defaultPhoneNumber`: the address or number and its marketing consent.
EmailAddress = EmailConsentNode
PhoneNumber = SmsConsentNode


class LineItemNode(LineItemExtrasNode):
    id: LineItemGid
    quantity: Int32
    sku: NotRequired[Sku | None]
    title: NotRequired[Title | None]
    variantTitle: NotRequired[Title | None]
    vendor: NotRequired[PersonName | None]
    variant: NotRequired[VariantRef | None]
    product: NotRequired[ProductRef | None]
    originalUnitPriceSet: NotRequired[MoneyBag | None]
    totalDiscountSet: NotRequired[MoneyBag | None]


LineItemConnection = connection(LineItemNode, "LineItemConnection")


class TransactionRef(TypedDict):
    id: TransactionGid


class TransactionNode(TypedDict):
    """`Order.transactions` is a list, not a connection (contract §8.2): inline in the order's node
    and in its bulk JSONL line."""

    id: TransactionGid
    kind: Enum32
    status: NotRequired[Enum32 | None]
    gateway: NotRequired[PersonName | None]
    amountSet: NotRequired[MoneyBag | None]
    createdAt: NotRequired[UtcDatetime | None]
    processedAt: NotRequired[UtcDatetime | None]
    parentTransaction: NotRequired[TransactionRef | None]
    errorCode: NotRequired[Enum64 | None]
    test: NotRequired[bool | None]
    authorizationCode: NotRequired[PersonName | None]


class SelectedOption(TypedDict):
    name: NotRequired[PersonName | None]
    value: NotRequired[PersonName | None]


class ProductOptionNode(TypedDict):
    """`Product.options` is a list (contract §8.7): inline in the product's node and JSONL line."""

    id: ProductOptionGid
    name: NotRequired[PersonName | None]
    position: NotRequired[Int32 | None]
    values: NotRequired[list[PersonName] | None]


class MediaRef(TypedDict):
    id: MediaGid


class MediaImageNode(TypedDict):
    url: NotRequired[str | None]
    width: NotRequired[Int32 | None]
    height: NotRequired[Int32 | None]


class MediaNode(TypedDict):
    """One of `Product.media` (a connection, contract §8.7)."""

    id: MediaGid
    alt: NotRequired[str | None]
    image: NotRequired[MediaImageNode | None]


MediaConnection = connection(MediaNode, "MediaConnection")


class UnitCost(TypedDict):
    amount: Money


class InventoryItemNode(TypedDict):
    id: InventoryItemGid
    tracked: NotRequired[bool | None]
    unitCost: NotRequired[UnitCost | None]


class VariantNode(TypedDict):
    id: VariantGid
    createdAt: NotRequired[UtcDatetime | None]
    updatedAt: NotRequired[UtcDatetime | None]
    title: NotRequired[Title | None]
    sku: NotRequired[Sku | None]
    barcode: NotRequired[Sku | None]
    position: NotRequired[Int32 | None]
    price: NotRequired[Money | None]
    compareAtPrice: NotRequired[Money | None]
    inventoryQuantity: NotRequired[Int32 | None]
    selectedOptions: NotRequired[list[SelectedOption] | None]
    # Deprecated on 2026-01 for `media` (a connection, which would be a third nesting level in a
    # bulk export); the plain object costs no connection. Its id is the product media's.
    image: NotRequired[MediaRef | None]
    inventoryItem: NotRequired[InventoryItemNode | None]


MetafieldConnection = connection(MetafieldNode, "MetafieldConnection")


VariantConnection = connection(VariantNode, "VariantConnection")


class OrderNode(OrderExtrasNode):
    id: OrderGid
    updatedAt: UtcDatetime
    createdAt: NotRequired[UtcDatetime | None]
    name: NotRequired[OrderName | None]
    number: NotRequired[Int32 | None]
    email: NotRequired[Email | None]
    phone: NotRequired[Phone | None]
    customer: NotRequired[CustomerRef | None]
    currencyCode: NotRequired[Currency | None]
    presentmentCurrencyCode: NotRequired[Currency | None]
    displayFinancialStatus: NotRequired[Enum32 | None]
    displayFulfillmentStatus: NotRequired[Enum32 | None]
    processedAt: NotRequired[UtcDatetime | None]
    cancelledAt: NotRequired[UtcDatetime | None]
    cancelReason: NotRequired[Enum32 | None]
    closedAt: NotRequired[UtcDatetime | None]
    totalPriceSet: NotRequired[MoneyBag | None]
    subtotalPriceSet: NotRequired[MoneyBag | None]
    totalTaxSet: NotRequired[MoneyBag | None]
    totalDiscountsSet: NotRequired[MoneyBag | None]
    tags: NotRequired[StrippedList]
    note: NotRequired[str | None]
    test: NotRequired[bool | None]
    shippingAddress: NotRequired[dict[str, Any] | None]
    lineItems: NotRequired[LineItemConnection | None]  # type: ignore[valid-type]
    transactions: NotRequired[list[TransactionNode] | None]
    metafields: NotRequired[MetafieldConnection | None]  # type: ignore[valid-type]
    refunds: NotRequired[list[RefundNode] | None]
    fulfillments: NotRequired[list[FulfillmentNode] | None]


class CustomerNode(TypedDict):
    id: CustomerGid
    updatedAt: UtcDatetime
    createdAt: NotRequired[UtcDatetime | None]
    firstName: NotRequired[PersonName | None]
    lastName: NotRequired[PersonName | None]
    # `email` / `phone` are deprecated in favour of defaultEmailAddress / defaultPhoneNumber; accept both.
    email: NotRequired[Email | None]
    phone: NotRequired[Phone | None]
    defaultEmailAddress: NotRequired[EmailAddress | None]
    defaultPhoneNumber: NotRequired[PhoneNumber | None]
    # Consent: on the two objects above (2025-04+), or on the deprecated ones.
    emailMarketingConsent: NotRequired[EmailConsentNode | None]
    smsMarketingConsent: NotRequired[SmsConsentNode | None]
    locale: NotRequired[PersonName | None]
    state: NotRequired[Enum32 | None]
    tags: NotRequired[StrippedList]
    note: NotRequired[str | None]
    verifiedEmail: NotRequired[bool | None]
    taxExempt: NotRequired[bool | None]
    numberOfOrders: NotRequired[Int32 | None]
    amountSpent: NotRequired[MoneyV2 | None]
    defaultAddress: NotRequired[dict[str, Any] | None]
    addressesV2: NotRequired[AddressConnection | None]  # type: ignore[valid-type]
    metafields: NotRequired[MetafieldConnection | None]  # type: ignore[valid-type]


class ProductNode(TypedDict):
    id: ProductGid
    updatedAt: UtcDatetime
    createdAt: NotRequired[UtcDatetime | None]
    title: NotRequired[Title | None]
    handle: NotRequired[Title | None]
    vendor: NotRequired[PersonName | None]
    productType: NotRequired[PersonName | None]
    status: NotRequired[Enum16 | None]
    tags: NotRequired[StrippedList]
    descriptionHtml: NotRequired[str | None]
    publishedAt: NotRequired[UtcDatetime | None]
    variants: NotRequired[VariantConnection | None]  # type: ignore[valid-type]
    options: NotRequired[list[ProductOptionNode] | None]
    media: NotRequired[MediaConnection | None]  # type: ignore[valid-type]
    metafields: NotRequired[MetafieldConnection | None]  # type: ignore[valid-type]


def _bulk_child_line(node_type: type, name: str, parent_gid: Any) -> type:
    """The node plus the `__parentId` key of a bulk JSONL child line, validated by pydantic-core with
    the rest (class syntax would mangle a `__parentId` attribute, hence the functional form)."""
    return TypedDict(name, {**node_type.__annotations__, "__parentId": parent_gid})


LineItemLine = _bulk_child_line(LineItemNode, "LineItemLine", OrderGid)
VariantLine = _bulk_child_line(VariantNode, "VariantLine", ProductGid)
MediaLine = _bulk_child_line(MediaNode, "MediaLine", ProductGid)

TRANSACTION = TypeAdapter(TransactionNode)
PRODUCT_OPTION = TypeAdapter(ProductOptionNode)
ORDER = TypeAdapter(OrderNode)
LINE_ITEM = TypeAdapter(LineItemNode)
LINE_ITEM_LINE = TypeAdapter(LineItemLine)
CUSTOMER = TypeAdapter(CustomerNode)
PRODUCT = TypeAdapter(ProductNode)
VARIANT = TypeAdapter(VariantNode)
VARIANT_LINE = TypeAdapter(VariantLine)
MEDIA = TypeAdapter(MediaNode)
MEDIA_LINE = TypeAdapter(MediaLine)


def _amount(bag: MoneyBag | None) -> Decimal | None:
    return bag["shopMoney"]["amount"] if bag else None


def _ref_id(ref: Mapping[str, str] | None) -> int | None:
    return reference_id(ref["id"]) if ref else None


def _connection_nodes(connection: Mapping[str, Any] | None) -> list:
    if not connection:
        return []
    nodes = connection.get("nodes")
    return nodes if nodes is not None else [edge["node"] for edge in connection.get("edges") or ()]


# The order, line item and transaction builders run for every line of a bulk export (millions), so they build
# their records positionally (a third of the cost of keywords) and inline `blank_to_none` as
# `value or None`. The field order they rely on is checked here, once.
assert [f.name for f in dataclasses.fields(LineItemRecord)] == [
    "shopify_id", "quantity", "product_shopify_id", "variant_shopify_id", "sku", "title", "variant_title",
    "vendor", "price", "total_discount", "tax_lines", "discount_allocations",
]  # fmt: skip
assert [f.name for f in dataclasses.fields(OrderRecord)] == [
    "shopify_id", "shopify_created_at", "shopify_updated_at", "name", "order_number", "email", "phone",
    "customer_shopify_id", "currency", "presentment_currency", "financial_status", "fulfillment_status",
    "processed_at", "cancelled_at", "cancel_reason", "closed_at", "total_price", "subtotal_price",
    "total_tax", "total_discounts", "tags", "note", "test", "shipping_address", *ORDER_EXTRA_COLUMNS,
    "line_items", "transactions", "refunds", "fulfillments", "metafields",
]  # fmt: skip
assert [f.name for f in dataclasses.fields(TransactionRecord)] == [
    "shopify_id", "kind", "status", "gateway", "amount", "currency", "parent_transaction_shopify_id",
    "processed_at", "shopify_created_at", "error_code", "test", "authorization_code",
]  # fmt: skip


def line_item_record(node: LineItemNode) -> LineItemRecord:
    get = node.get
    product, variant = get("product"), get("variant")
    price, discount = get("originalUnitPriceSet"), get("totalDiscountSet")
    return LineItemRecord(
        gid_to_int(node["id"]),
        node["quantity"],
        reference_id(product["id"]) if product else None,
        reference_id(variant["id"]) if variant else None,
        get("sku") or None,
        get("title") or None,
        get("variantTitle") or None,
        get("vendor") or None,
        price["shopMoney"]["amount"] if price else None,
        discount["shopMoney"]["amount"] if discount else None,
        *line_item_extras_graphql(node),
    )


def transaction_record(node: TransactionNode) -> TransactionRecord:
    # Runs for every transaction of a bulk export (about two per order): built positionally, like
    # the order and line item builders above.
    get = node.get
    # The presentment money: what REST's `amount` / `currency` hold (the customer's currency). A
    # MoneyBag always has `shopMoney`, and a MoneyV2 its `amount`.
    money = get("amountSet")
    amount = (money.get("presentmentMoney") or money["shopMoney"]) if money else None
    parent, processed, created = get("parentTransaction"), get("processedAt"), get("createdAt")
    return TransactionRecord(
        gid_to_int(node["id"]),
        node["kind"],
        get("status") or None,
        get("gateway") or None,
        amount["amount"] if amount else None,
        (amount.get("currencyCode") or None) if amount else None,
        gid_to_int(parent["id"]) if parent else None,
        processed.astimezone(UTC) if processed is not None else None,
        created.astimezone(UTC) if created is not None else None,
        get("errorCode") or None,
        get("test"),
        get("authorizationCode") or None,
    )


def product_option_record(node: ProductOptionNode) -> ProductOptionRecord:
    get = node.get
    return ProductOptionRecord(
        shopify_id=gid_to_int(node["id"]),
        name=blank_to_none(get("name")),
        position=get("position"),
        option_values=list(get("values") or []),
    )


def _selected_options(node: VariantNode) -> tuple[str | None, str | None, str | None]:
    """`selectedOptions` come in the product's option order (Shopify lists them by position), which
    is what REST's `option1..3` number."""
    values = [blank_to_none(option.get("value")) for option in node.get("selectedOptions") or ()]
    values += [None] * (3 - len(values))
    return values[0], values[1], values[2]


def variant_record(node: VariantNode) -> VariantRecord:
    get = node.get
    option1, option2, option3 = _selected_options(node)
    return VariantRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(get("updatedAt")),
        title=blank_to_none(get("title")),
        sku=blank_to_none(get("sku")),
        barcode=blank_to_none(get("barcode")),
        position=get("position"),
        price=get("price"),
        compare_at_price=get("compareAtPrice"),
        inventory_quantity=get("inventoryQuantity"),
        option1=option1,
        option2=option2,
        option3=option3,
        image_shopify_id=_ref_id(get("image")),
        **_inventory_item(get("inventoryItem")),
    )


def _inventory_item(item: InventoryItemNode | None) -> dict[str, Any]:
    if not item:
        return {}
    cost = item.get("unitCost")
    return {
        "inventory_item_shopify_id": gid_to_int(item["id"]),
        "inventory_tracked": item.get("tracked"),
        "unit_cost": cost["amount"] if cost else None,
    }


def media_record(node: MediaNode) -> ProductMediaRecord:
    image = node.get("image") or {}
    return ProductMediaRecord(
        shopify_id=gid_to_int(node["id"]),
        url=image.get("url") or None,
        alt=node.get("alt") or None,
        width=image.get("width"),
        height=image.get("height"),
    )


def _connected(connection: Mapping[str, Any] | None, build) -> list | None:
    """A connection child added after the first ones: None when the node does not select it (a
    selection without it, or a bulk line, whose children the reader attaches), so stored children
    stay as they are unless the payload carries the set."""
    return None if connection is None else [build(node) for node in _connection_nodes(connection)]


def _listed(nodes: list | None, build) -> list | None:
    """An inline list child: None when the node does not carry the field (a selection without it),
    so stored children stay as they are; else every element built."""
    return None if nodes is None else [build(node) for node in nodes]


def order_record(node: OrderNode, line_items: list[LineItemRecord] | None = None) -> OrderRecord:
    """`line_items` None means: take them from the node's own `lineItems` connection."""
    get = node.get
    if line_items is None:
        line_items = [line_item_record(item) for item in _connection_nodes(get("lineItems"))]
    customer = get("customer")
    total, subtotal, tax, discounts = (
        get("totalPriceSet"), get("subtotalPriceSet"), get("totalTaxSet"), get("totalDiscountsSet")
    )  # fmt: skip
    record = OrderRecord(
        gid_to_int(node["id"]),
        to_utc(get("createdAt")),
        node["updatedAt"].astimezone(UTC),
        get("name") or None,
        get("number"),
        get("email") or None,
        get("phone") or None,
        reference_id(customer["id"]) if customer else None,
        get("currencyCode") or None,
        get("presentmentCurrencyCode") or None,
        get("displayFinancialStatus") or None,
        get("displayFulfillmentStatus") or None,
        to_utc(get("processedAt")),
        to_utc(get("cancelledAt")),
        get("cancelReason") or None,
        to_utc(get("closedAt")),
        total["shopMoney"]["amount"] if total else None,
        subtotal["shopMoney"]["amount"] if subtotal else None,
        tax["shopMoney"]["amount"] if tax else None,
        discounts["shopMoney"]["amount"] if discounts else None,
        clean_tags(get("tags") or []),
        get("note") or None,
        get("test"),
        address_from_graphql(get("shippingAddress")),
        *order_extras_graphql(node),
        line_items,
        _listed(get("transactions"), transaction_record),
        _listed(get("refunds"), refund_record),
        _listed(get("fulfillments"), fulfillment_record),
    )
    if "metafields" in node:
        record.metafields = _connected(node["metafields"], metafield_record)
    return record


def customer_record(node: CustomerNode) -> CustomerRecord:
    get = node.get
    email_address, phone_number = get("defaultEmailAddress"), get("defaultPhoneNumber")
    email = (email_address or {}).get("emailAddress")
    phone = (phone_number or {}).get("phoneNumber")
    spent = get("amountSpent") or {}
    email_state, email_level, email_at = email_consent(
        email_address if (email_address or {}).get("marketingState") else get("emailMarketingConsent")
    )
    sms_state, sms_level, sms_at, sms_from = sms_consent(
        phone_number if (phone_number or {}).get("marketingState") else get("smsMarketingConsent")
    )
    default = get("defaultAddress")
    return CustomerRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(node["updatedAt"]),
        email=blank_to_none(email if email is not None else get("email")),
        phone=blank_to_none(phone if phone is not None else get("phone")),
        first_name=blank_to_none(get("firstName")),
        last_name=blank_to_none(get("lastName")),
        state=blank_to_none(get("state")),
        tags=clean_tags(get("tags") or []),
        note=blank_to_none(get("note")),
        verified_email=get("verifiedEmail"),
        tax_exempt=get("taxExempt"),
        orders_count=get("numberOfOrders"),
        amount_spent=spent.get("amount"),
        amount_spent_currency=blank_to_none(spent.get("currencyCode")),
        default_address=address_from_graphql(default),
        default_address_shopify_id=default_address_id(default),
        locale=get("locale") or None,
        email_marketing_state=email_state,
        email_marketing_opt_in_level=email_level,
        email_marketing_updated_at=email_at,
        sms_marketing_state=sms_state,
        sms_marketing_opt_in_level=sms_level,
        sms_marketing_updated_at=sms_at,
        sms_marketing_collected_from=sms_from,
        # A connection: the node's own first page here; a bulk export's child lines and follow-up
        # pages are attached by the reader (`parse_graphql_node`).
        addresses=[address_record(address) for address in _connection_nodes(get("addressesV2"))],
        metafields=_connected(get("metafields"), metafield_record),
    )


def product_record(node: ProductNode, variants: list[VariantRecord] | None = None) -> ProductRecord:
    """`variants` None means: take them from the node's own `variants` connection."""
    get = node.get
    if variants is None:
        variants = [variant_record(variant) for variant in _connection_nodes(get("variants"))]
    return ProductRecord(
        shopify_id=gid_to_int(node["id"]),
        shopify_created_at=to_utc(get("createdAt")),
        shopify_updated_at=to_utc(node["updatedAt"]),
        title=blank_to_none(get("title")),
        handle=blank_to_none(get("handle")),
        vendor=blank_to_none(get("vendor")),
        product_type=blank_to_none(get("productType")),
        status=blank_to_none(get("status")),
        tags=clean_tags(get("tags") or []),
        body_html=blank_to_none(get("descriptionHtml")),
        published_at=to_utc(get("publishedAt")),
        variants=variants,
        options=_listed(get("options"), product_option_record),
        media=_connected(get("media"), media_record),
        metafields=_connected(get("metafields"), metafield_record),
    )


def parse_order_graphql(node: Payload, line_items: Iterable[Payload] | None = None) -> OrderRecord:
    """A GraphQL order node. Line items come from `line_items` (bulk JSONL child lines) when given,
    else from the node's own `lineItems { nodes }` / `lineItems { edges { node } }`."""
    order = validate_node(ORDER, node, resource="order")
    if line_items is None:
        return order_record(order)
    owner_id = gid_to_int(order["id"])
    children = [
        validate_node(LINE_ITEM, item, resource="order", owner_id=owner_id, prefix=f"lineItems.{i}.")
        for i, item in enumerate(line_items)
    ]
    return order_record(order, [line_item_record(child) for child in children])


def parse_customer_graphql(node: Payload) -> CustomerRecord:
    return customer_record(validate_node(CUSTOMER, node, resource="customer"))


def parse_product_graphql(node: Payload, variants: Iterable[Payload] | None = None) -> ProductRecord:
    """A GraphQL product node; variants from `variants` (bulk JSONL child lines) or the node itself."""
    product = validate_node(PRODUCT, node, resource="product")
    if variants is None:
        return product_record(product)
    owner_id = gid_to_int(product["id"])
    children = [
        validate_node(VARIANT, item, resource="product", owner_id=owner_id, prefix=f"variants.{i}.")
        for i, item in enumerate(variants)
    ]
    return product_record(product, [variant_record(child) for child in children])


def parse_graphql_node(
    declaration: Any, node: Payload, children: Mapping[str, Iterable[Payload]] | None = None
) -> Any:
    """A root node of a resource declaration (`shopsync.resources`). Its children are read from the
    node (nested connections' first pages, inline lists) unless `children` gives them, keyed by the
    child's name or GraphQL field: the nodes of a connection gathered apart (bulk JSONL child lines,
    follow-up pages), which then replace the nested ones."""
    name = declaration.singular
    record = declaration.build(validate_node(declaration.node_adapter, node, resource=name))
    for key, items in (children or {}).items():
        child = declaration.child(key)
        adapter, build = child.node_adapter, child.build
        nodes = [
            validate_node(adapter, item, resource=name, owner_id=record.shopify_id,
                          prefix=f"{child.graphql_field}.{i}.")
            for i, item in enumerate(items)
        ]  # fmt: skip
        setattr(record, child.name, [build(item) for item in nodes])
    return record


def validate_node(
    adapter: TypeAdapter, node: Payload, *, resource: str, owner_id: int | None = None, prefix: str = ""
) -> Any:
    """Validate one node (a dict, or raw JSON bytes straight from a JSONL line: the fast path)."""
    try:
        if isinstance(node, bytes | str):
            if bytes_have_nul(node):
                return adapter.validate_python(_loads_without_nul(node, resource=resource))
            return adapter.validate_json(node)
        if not isinstance(node, Mapping):
            raise PayloadValidationError.not_an_object(resource=resource, payload=node)
        return adapter.validate_python(mapping_without_nul(node))
    except ValidationError as error:
        shopify_id = owner_id if owner_id is not None else _readable_id(node)
        raise PayloadValidationError.from_pydantic(
            error, resource=resource, shopify_id=shopify_id, prefix=prefix
        ) from None


def _loads_without_nul(node: bytes | str, *, resource: str) -> Any:
    try:
        return loads_without_nul(node)
    except orjson.JSONDecodeError as error:
        raise PayloadValidationError(
            resource=resource, shopify_id=None, errors=[FieldError(field="(payload)", message=str(error))]
        ) from None


def _readable_id(node: Payload) -> int | None:
    if isinstance(node, bytes | str):
        try:
            node = orjson.loads(node)
        except orjson.JSONDecodeError:
            return None
    return readable_id(node, "legacyResourceId", "id")
