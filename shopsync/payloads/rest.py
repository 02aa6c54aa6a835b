"""REST / webhook payloads (numeric ids, money as strings, tags as "a, b", timestamps with the shop's
offset, nested `line_items` / `variants`) validated and normalised into the shared records.

Children are replaced only by an explicit list: a payload without the key (a subscription's
`includeFields` trims it, and Shopify then sends a partial body) gives `None`, "not given", and the
write path leaves the stored children alone. An explicit `[]` does remove them.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from shopsync.payloads.cleaning import loads_without_nul, mapping_without_nul
from shopsync.payloads.customers import (
    RestAddress,
    RestEmailConsent,
    RestSmsConsent,
    rest_address_id,
    rest_addresses,
)
from shopsync.payloads.errors import FieldError, PayloadValidationError, readable_id
from shopsync.payloads.metafields import RestMetafield, rest_metafields
from shopsync.payloads.order_children import RestFulfillment, RestRefund
from shopsync.payloads.order_extras import RestLineItemExtras, RestOrderExtras
from shopsync.payloads.records import (
    CustomerRecord,
    FulfillmentRecord,
    LineItemRecord,
    OrderRecord,
    ProductMediaRecord,
    ProductOptionRecord,
    ProductRecord,
    RefundRecord,
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
    ShopifyId,
    Sku,
    Tags,
    Title,
    UtcDatetime,
    address_from_rest,
    blank_to_none,
    clean_tags,
    to_utc,
)

# REST's fulfillment_status is null for unfulfilled orders and uses short words; we store GraphQL's
# OrderDisplayFulfillmentStatus, lower-cased.
REST_FULFILLMENT_STATUS = {None: "unfulfilled", "partial": "partially_fulfilled"}


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestReference(_Payload):
    id: ShopifyId


class RestLineItem(RestLineItemExtras):
    id: ShopifyId
    quantity: Int32
    product_id: ShopifyId | None = None
    variant_id: ShopifyId | None = None
    sku: Sku | None = None
    title: Title | None = None
    variant_title: Title | None = None
    vendor: PersonName | None = None
    price: Money | None = None
    total_discount: Money | None = None

    def to_record(self, applications: list[dict[str, Any]] | None = None) -> LineItemRecord:
        return LineItemRecord(
            shopify_id=self.id,
            quantity=self.quantity,
            product_shopify_id=self.product_id,
            variant_shopify_id=self.variant_id,
            sku=blank_to_none(self.sku),
            title=blank_to_none(self.title),
            variant_title=blank_to_none(self.variant_title),
            vendor=blank_to_none(self.vendor),
            price=self.price,
            total_discount=self.total_discount,
            **self.extras(applications or []),
        )


class RestTransaction(_Payload):
    """A REST transaction (contract §8.2): `orders/{id}/transactions.json`, and the body of the
    `order_transactions/create` webhook. REST orders do not embed their transactions."""

    id: ShopifyId
    order_id: ShopifyId | None = None
    kind: Enum32
    status: Enum32 | None = None
    gateway: PersonName | None = None
    amount: Money | None = None
    currency: Currency | None = None
    parent_id: ShopifyId | None = None
    processed_at: UtcDatetime | None = None
    created_at: UtcDatetime | None = None
    error_code: Enum64 | None = None
    test: bool | None = None
    authorization: PersonName | None = None

    def to_record(self) -> TransactionRecord:
        return TransactionRecord(
            shopify_id=self.id,
            kind=self.kind,
            status=blank_to_none(self.status),
            gateway=blank_to_none(self.gateway),
            amount=self.amount,
            currency=blank_to_none(self.currency),
            parent_transaction_shopify_id=self.parent_id,
            processed_at=to_utc(self.processed_at),
            shopify_created_at=to_utc(self.created_at),
            error_code=blank_to_none(self.error_code),
            test=self.test,
            authorization_code=blank_to_none(self.authorization),
        )


class RestOrder(RestOrderExtras):
    id: ShopifyId
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    name: OrderName | None = None
    order_number: Int32 | None = None
    email: Email | None = None
    phone: Phone | None = None
    customer: RestReference | None = None
    currency: Currency | None = None
    presentment_currency: Currency | None = None
    financial_status: Enum32 | None = None
    fulfillment_status: Enum32 | None = None
    processed_at: UtcDatetime | None = None
    cancelled_at: UtcDatetime | None = None
    cancel_reason: Enum32 | None = None
    closed_at: UtcDatetime | None = None
    total_price: Money | None = None
    subtotal_price: Money | None = None
    total_tax: Money | None = None
    total_discounts: Money | None = None
    tags: Tags = []
    note: str | None = None
    test: bool | None = None
    shipping_address: dict[str, Any] | None = None
    line_items: list[RestLineItem] | None = None
    metafields: list[RestMetafield] | None = None
    # Complete in a REST order (contract §8.3, §8.4); absent from a partial body: not given.
    refunds: list[RestRefund] | None = None
    fulfillments: list[RestFulfillment] | None = None

    def to_record(self) -> OrderRecord:
        applications = self.applications_json()
        return OrderRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            name=blank_to_none(self.name),
            order_number=self.order_number,
            email=blank_to_none(self.email),
            phone=blank_to_none(self.phone),
            customer_shopify_id=self.customer.id if self.customer else None,
            currency=blank_to_none(self.currency),
            presentment_currency=blank_to_none(self.presentment_currency),
            financial_status=blank_to_none(self.financial_status),
            fulfillment_status=REST_FULFILLMENT_STATUS.get(
                blank_to_none(self.fulfillment_status), self.fulfillment_status
            ),
            processed_at=to_utc(self.processed_at),
            cancelled_at=to_utc(self.cancelled_at),
            cancel_reason=blank_to_none(self.cancel_reason),
            closed_at=to_utc(self.closed_at),
            total_price=self.total_price,
            subtotal_price=self.subtotal_price,
            total_tax=self.total_tax,
            total_discounts=self.total_discounts,
            tags=clean_tags(self.tags),
            note=blank_to_none(self.note),
            test=self.test,
            shipping_address=address_from_rest(self.shipping_address),
            **self.extras(applications),
            line_items=None
            if self.line_items is None
            else [item.to_record(applications) for item in self.line_items],
            metafields=rest_metafields(self.metafields),
            refunds=None if self.refunds is None else [refund.to_record() for refund in self.refunds],
            fulfillments=None
            if self.fulfillments is None
            else [fulfillment.to_record() for fulfillment in self.fulfillments],
        )


class RestCustomer(_Payload):
    id: ShopifyId
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    email: Email | None = None
    phone: Phone | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    state: Enum32 | None = None
    tags: Tags = []
    note: str | None = None
    verified_email: bool | None = None
    tax_exempt: bool | None = None
    orders_count: Int32 | None = None
    total_spent: Money | None = None
    currency: Currency | None = None
    default_address: dict[str, Any] | None = None
    addresses: list[RestAddress] | None = None
    email_marketing_consent: RestEmailConsent | None = None
    sms_marketing_consent: RestSmsConsent | None = None
    metafields: list[RestMetafield] | None = None

    def to_record(self) -> CustomerRecord:
        email = self.email_marketing_consent or RestEmailConsent()
        sms = self.sms_marketing_consent or RestSmsConsent()
        default_id = rest_address_id(self.default_address)
        return CustomerRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            email=blank_to_none(self.email),
            phone=blank_to_none(self.phone),
            first_name=blank_to_none(self.first_name),
            last_name=blank_to_none(self.last_name),
            state=blank_to_none(self.state),
            tags=clean_tags(self.tags),
            note=blank_to_none(self.note),
            verified_email=self.verified_email,
            tax_exempt=self.tax_exempt,
            orders_count=self.orders_count,
            amount_spent=self.total_spent,
            amount_spent_currency=blank_to_none(self.currency),
            default_address=address_from_rest(self.default_address),
            default_address_shopify_id=default_id,
            # REST has no locale: None is "not given" (the stored one stays).
            locale=None,
            email_marketing_state=blank_to_none(email.state),
            email_marketing_opt_in_level=blank_to_none(email.opt_in_level),
            email_marketing_updated_at=to_utc(email.consent_updated_at),
            sms_marketing_state=blank_to_none(sms.state),
            sms_marketing_opt_in_level=blank_to_none(sms.opt_in_level),
            sms_marketing_updated_at=to_utc(sms.consent_updated_at),
            sms_marketing_collected_from=blank_to_none(sms.consent_collected_from),
            addresses=rest_addresses(self.addresses),
            metafields=rest_metafields(self.metafields),
        )


class RestVariant(_Payload):
    id: ShopifyId
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    title: Title | None = None
    sku: Sku | None = None
    barcode: Sku | None = None
    position: Int32 | None = None
    price: Money | None = None
    compare_at_price: Money | None = None
    inventory_quantity: Int32 | None = None
    option1: PersonName | None = None
    option2: PersonName | None = None
    option3: PersonName | None = None
    image_id: ShopifyId | None = None
    inventory_item_id: ShopifyId | None = None
    inventory_management: Enum32 | None = None

    def _inventory_tracked(self) -> bool | None:
        if "inventory_management" not in self.model_fields_set:
            return None
        return self.inventory_management == "shopify"

    def to_record(self) -> VariantRecord:
        return VariantRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            title=blank_to_none(self.title),
            sku=blank_to_none(self.sku),
            barcode=blank_to_none(self.barcode),
            position=self.position,
            price=self.price,
            compare_at_price=self.compare_at_price,
            inventory_quantity=self.inventory_quantity,
            option1=blank_to_none(self.option1),
            option2=blank_to_none(self.option2),
            option3=blank_to_none(self.option3),
            image_shopify_id=self.image_id,
            inventory_item_shopify_id=self.inventory_item_id,
            # [UNSURE, contract §8.7] REST's `inventory_management` ("shopify" when Shopify tracks the
            # stock) stands for the inventory item's `tracked`; absent, nothing is known.
            inventory_tracked=self._inventory_tracked(),
        )


class RestProductOption(_Payload):
    id: ShopifyId
    name: PersonName | None = None
    position: Int32 | None = None
    values: list[PersonName] | None = None

    def to_record(self) -> ProductOptionRecord:
        return ProductOptionRecord(
            shopify_id=self.id,
            name=blank_to_none(self.name),
            position=self.position,
            option_values=list(self.values or []),
        )


class RestProductImage(_Payload):
    """REST `images[]`: the product's media images, their ids the media ids (contract §8.7)."""

    id: ShopifyId
    position: Int32 | None = None
    src: str | None = None
    alt: str | None = None
    width: Int32 | None = None
    height: Int32 | None = None

    def to_record(self) -> ProductMediaRecord:
        return ProductMediaRecord(
            shopify_id=self.id,
            position=self.position,
            url=blank_to_none(self.src),
            alt=blank_to_none(self.alt),
            width=self.width,
            height=self.height,
        )


class RestProduct(_Payload):
    id: ShopifyId
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    title: Title | None = None
    handle: Title | None = None
    vendor: PersonName | None = None
    product_type: PersonName | None = None
    status: Enum16 | None = None
    tags: Tags = []
    body_html: str | None = None
    published_at: UtcDatetime | None = None
    variants: list[RestVariant] | None = None
    options: list[RestProductOption] | None = None
    images: list[RestProductImage] | None = None
    metafields: list[RestMetafield] | None = None

    def to_record(self) -> ProductRecord:
        return ProductRecord(
            shopify_id=self.id,
            shopify_created_at=to_utc(self.created_at),
            shopify_updated_at=to_utc(self.updated_at),
            title=blank_to_none(self.title),
            handle=blank_to_none(self.handle),
            vendor=blank_to_none(self.vendor),
            product_type=blank_to_none(self.product_type),
            status=blank_to_none(self.status),
            tags=clean_tags(self.tags),
            body_html=blank_to_none(self.body_html),
            published_at=to_utc(self.published_at),
            variants=_rest_variants(self.variants),
            options=None if self.options is None else [option.to_record() for option in self.options],
            media=None if self.images is None else [image.to_record() for image in self.images],
            metafields=rest_metafields(self.metafields),
        )


# REST and webhook bodies list at most 100 of a product's variants (contract §8.0), where GraphQL
# allows 2,048: a full list could be cut, and a cut list would delete variants (and clear the line
# items that sold them), so it counts as "not given".
REST_VARIANTS_MAX = 100


def _rest_variants(variants: list[RestVariant] | None) -> list[VariantRecord] | None:
    if variants is None or len(variants) >= REST_VARIANTS_MAX:
        return None
    return [variant.to_record() for variant in variants]


def parse_order_rest(payload: Any) -> OrderRecord:
    """A REST / webhook order (the object itself, not the `{"order": ...}` envelope), decoded or as
    the raw JSON bytes (preferred: the NUL check is then a byte search)."""
    return _validate(RestOrder, payload, resource="order").to_record()


def parse_customer_rest(payload: Any) -> CustomerRecord:
    return _validate(RestCustomer, payload, resource="customer").to_record()


def parse_product_rest(payload: Any) -> ProductRecord:
    return _validate(RestProduct, payload, resource="product").to_record()


def parse_transaction_rest(payload: Any) -> TransactionRecord:
    return _validate(RestTransaction, payload, resource="transaction").to_record()


def parse_refund_rest(payload: Any) -> RefundRecord:
    return _validate(RestRefund, payload, resource="refund").to_record()


def parse_fulfillment_rest(payload: Any) -> FulfillmentRecord:
    return _validate(RestFulfillment, payload, resource="fulfillment").to_record()


def rest_parent_id(payload: Any, key: str) -> int | None:
    """The parent's id in a REST child body (`order_id` of a transaction), None if absent or not an
    exact integer (the body then fails as a payload error)."""
    payload = _decoded_without_nul(payload, resource="payload")
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _validate[ModelT: _Payload](model: type[ModelT], payload: Any, *, resource: str) -> ModelT:
    payload = _decoded_without_nul(payload, resource=resource)
    if not isinstance(payload, dict):
        raise PayloadValidationError.not_an_object(resource=resource, payload=payload)
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise PayloadValidationError.from_pydantic(
            error, resource=resource, shopify_id=readable_id(payload, "id", "admin_graphql_api_id")
        ) from None


def _decoded_without_nul(payload: Any, *, resource: str) -> Any:
    if isinstance(payload, bytes | bytearray | memoryview | str):
        raw = bytes(payload) if isinstance(payload, bytearray | memoryview) else payload
        try:
            return loads_without_nul(raw)
        except orjson.JSONDecodeError as error:
            raise PayloadValidationError(
                resource=resource, shopify_id=None, errors=[FieldError(field="(payload)", message=str(error))]
            ) from None
    if isinstance(payload, dict):
        return mapping_without_nul(payload)
    return payload
