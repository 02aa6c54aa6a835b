"""An order's extras (contract §8.5): billing address, note attributes, source name, discount codes,
discount allocations (each naming its discount application), shipping lines, tax lines and the
current totals, in both payload shapes, normalised into one JSON form so every path stores the same.

Why JSON columns and no child tables: none of these has an identity of its own that we could key
rows on (tax lines, discount allocations and applications have no id; a shipping line's GraphQL `id`
is nullable), they are only ever read with their order or line item, and they are replaced with it
(they have no clock of their own, contract §8.11). A column on the row that owns them is written in
the same statement as the rest of that row, costs no child table, no stage table and no merge, and
the convergence oracle compares it like any other column.

What GraphQL can carry within the bulk limits (contract §8.13, the safer reading of two [UNSURE]s):
- `Order.discountApplications` and `Order.shippingLines` are connections, and their node types do
  not implement `Node` (an interface without `id`; a nullable `id`), so a bulk query may refuse them;
  they would also take two of the five connections that line items, refund line items and fulfillment
  line items need. So they are not selected anywhere (one selection for bulk, pages and by-id keeps
  every path storing the same thing):
  - discounts come from each line item's `discountAllocations` (an inline list), whose
    `discountApplication` names the application in full; the order's applications are the distinct
    applications its allocations name (`order_discount_applications`). REST bodies carry the list and
    the allocations' `discount_application_index`: the REST parser resolves each allocation to its
    application, so both shapes store the same allocation. An application that allocates nothing is
    not kept (GraphQL cannot show it within the limits).
  - shipping comes from the order-level `shippingLine` object (not a connection). Shopify calls it a
    summary; an order with several shipping lines (rare: API- and draft-created orders) keeps all of
    them from a REST body and the summary from GraphQL.
- `discountCodes`, `customAttributes`, `taxLines`, `LineItem.taxLines` are plain lists: inline.

Money inside the JSON is the shop's money as decimal text ("11.94"), rates are numbers (REST sends
`rate: 0.06` as a number, GraphQL a Float), enums lower case (REST's spelling).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, StringConstraints

from shopsync.payloads.types import (
    Currency,
    Enum32,
    Int32,
    Money,
    PersonName,
    Title,
    address_from_graphql,
    address_from_rest,
    blank_to_none,
)

MONEY_BAG = "shopMoney { amount currencyCode }"
TAX_LINE_FIELDS = f"title rate priceSet {{ {MONEY_BAG} }}"
# `DiscountApplication` is an interface; its implementations' own fields come through fragments.
DISCOUNT_APPLICATION_FIELDS = (
    "__typename index allocationMethod targetSelection targetType "
    "value { __typename ... on MoneyV2 { amount currencyCode } ... on PricingPercentageValue { percentage } } "
    "... on DiscountCodeApplication { code } ... on ManualDiscountApplication { title description } "
    "... on AutomaticDiscountApplication { title } ... on ScriptDiscountApplication { title }"
)
DISCOUNT_ALLOCATION_FIELDS = (
    f"allocatedAmountSet {{ {MONEY_BAG} }} discountApplication {{ {DISCOUNT_APPLICATION_FIELDS} }}"
)
SHIPPING_LINE_FIELDS = (
    f"title code source originalPriceSet {{ {MONEY_BAG} }} discountedPriceSet {{ {MONEY_BAG} }} "
    f"taxLines {{ {TAX_LINE_FIELDS} }} discountAllocations {{ {DISCOUNT_ALLOCATION_FIELDS} }}"
)
MAILING_ADDRESS_FIELDS = "firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone"
# Appended to the order's own selection (`graphql_fields.ORDER_FIELDS`).
ORDER_EXTRA_FIELDS = f"""
billingAddress {{ {MAILING_ADDRESS_FIELDS} }}
customAttributes {{ key value }}
sourceName
discountCodes
taxLines {{ {TAX_LINE_FIELDS} }}
shippingLine {{ {SHIPPING_LINE_FIELDS} }}
currentTotalPriceSet {{ {MONEY_BAG} }}
totalRefundedSet {{ {MONEY_BAG} }}
netPaymentSet {{ {MONEY_BAG} }}
totalReceivedSet {{ {MONEY_BAG} }}
totalOutstandingSet {{ {MONEY_BAG} }}
""".strip()
# Appended to the line item's selection (`graphql_fields.LINE_ITEM_FIELDS`).
LINE_ITEM_EXTRA_FIELDS = f"""
taxLines {{ {TAX_LINE_FIELDS} }}
discountAllocations {{ {DISCOUNT_ALLOCATION_FIELDS} }}
""".strip()

# The order columns that only GraphQL carries: a REST / webhook body has no received, net or refunded
# total (contract §8.5: "—", "derive from refunds[]"), so its NULL means "not carried" and the stored
# value stays (`ResourceDeclaration.kept_when_absent`). GraphQL declares them `MoneyBag!`: never null.
GRAPHQL_ONLY_TOTALS = ("total_refunded", "net_payment", "total_received")

# The `OrderRecord` fields `order_extras_graphql` fills, in their order (checked in `payloads/graphql.py`).
ORDER_EXTRA_COLUMNS = (
    "billing_address", "note_attributes", "source_name", "discount_codes", "shipping_lines", "tax_lines",
    "current_total_price", "total_refunded", "net_payment", "total_received", "total_outstanding",
)  # fmt: skip

APPLICATION_TYPES = {
    "DiscountCodeApplication": "discount_code",
    "ManualDiscountApplication": "manual",
    "AutomaticDiscountApplication": "automatic",
    "ScriptDiscountApplication": "script",
}
CENT = Decimal("0.01")


def money_text(value: Decimal | str | None) -> str | None:
    """Decimal text with at least two places ("10.00", "11.94", "0.125"): one spelling for both shapes."""
    if value is None:
        return None
    text = str(value)
    if text.find(".") == len(text) - 3:  # "11.94", the common spelling, is canonical already (bulk: fast)
        return text
    value = Decimal(text)
    cents = value.quantize(CENT)
    return str(cents if cents == value else value.normalize())


def number_text(value: Any) -> str | None:
    """A discount value ("10.0", 10.0, "10.00") as the shortest decimal text ("10", "12.5")."""
    if value is None:
        return None
    return format(Decimal(str(value)).normalize(), "f")


# -- GraphQL ---------------------------------------------------------------------------------------------
class _MoneyV2(TypedDict):
    amount: Money
    currencyCode: NotRequired[Currency | None]


class _MoneyBag(TypedDict):
    shopMoney: _MoneyV2


# Amounts kept as text inside the JSON columns are validated as decimal text, not parsed into Decimals:
# a bulk export carries several per order and per line item, and `money_text` needs a Decimal only for
# the rare spelling that is not already canonical ("10.0").
DecimalText = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,16}(\.[0-9]{1,6})?$")]


class _TextMoneyV2(TypedDict):
    amount: DecimalText


class _TextMoneyBag(TypedDict):
    shopMoney: _TextMoneyV2


class TaxLineNode(TypedDict):
    title: NotRequired[Title | None]
    rate: NotRequired[float | None]
    priceSet: NotRequired[_TextMoneyBag | None]


DiscountValueNode = TypedDict(
    "DiscountValueNode",
    {
        "__typename": NotRequired[str],
        "amount": NotRequired[DecimalText | None],
        "currencyCode": NotRequired[Currency | None],
        "percentage": NotRequired[float | None],
    },
)
DiscountApplicationNode = TypedDict(
    "DiscountApplicationNode",
    {
        "__typename": NotRequired[str],
        "index": Int32,
        "allocationMethod": NotRequired[Enum32 | None],
        "targetSelection": NotRequired[Enum32 | None],
        "targetType": NotRequired[Enum32 | None],
        "value": NotRequired[DiscountValueNode | None],
        "code": NotRequired[PersonName | None],
        "title": NotRequired[Title | None],
        "description": NotRequired[str | None],
    },
)


class DiscountAllocationNode(TypedDict):
    allocatedAmountSet: NotRequired[_TextMoneyBag | None]
    discountApplication: DiscountApplicationNode


class ShippingLineNode(TypedDict):
    title: NotRequired[Title | None]
    code: NotRequired[Title | None]
    source: NotRequired[PersonName | None]
    originalPriceSet: NotRequired[_TextMoneyBag | None]
    discountedPriceSet: NotRequired[_TextMoneyBag | None]
    taxLines: NotRequired[list[TaxLineNode] | None]
    discountAllocations: NotRequired[list[DiscountAllocationNode] | None]


class AttributeNode(TypedDict):
    key: NotRequired[PersonName | None]
    value: NotRequired[str | None]


class OrderExtrasNode(TypedDict):
    """The extras' keys of a GraphQL order node (`OrderNode` extends it)."""

    billingAddress: NotRequired[dict[str, Any] | None]
    customAttributes: NotRequired[list[AttributeNode] | None]
    sourceName: NotRequired[PersonName | None]
    discountCodes: NotRequired[list[PersonName] | None]
    taxLines: NotRequired[list[TaxLineNode] | None]
    shippingLine: NotRequired[ShippingLineNode | None]
    currentTotalPriceSet: NotRequired[_MoneyBag | None]
    totalRefundedSet: NotRequired[_MoneyBag | None]
    netPaymentSet: NotRequired[_MoneyBag | None]
    totalReceivedSet: NotRequired[_MoneyBag | None]
    totalOutstandingSet: NotRequired[_MoneyBag | None]


class LineItemExtrasNode(TypedDict):
    """The extras' keys of a GraphQL line item node (`LineItemNode` extends it)."""

    taxLines: NotRequired[list[TaxLineNode] | None]
    discountAllocations: NotRequired[list[DiscountAllocationNode] | None]


def _shop_amount(bag: Mapping[str, Any] | None) -> Any:
    return bag["shopMoney"]["amount"] if bag else None


def tax_line(title: str | None, rate: float | None, price: Decimal | None) -> dict[str, Any]:
    return {"title": blank_to_none(title), "rate": rate, "price": money_text(price)}


def _graphql_tax_lines(nodes: Iterable[TaxLineNode] | None) -> list[dict[str, Any]]:
    # Runs for every line item of a bulk export: built inline (`tax_line` gives the same form).
    lines = []
    for node in nodes or ():
        get = node.get
        price = get("priceSet")
        amount = price["shopMoney"]["amount"] if price else None
        lines.append({"title": get("title") or None, "rate": get("rate"), "price": money_text(amount)})
    return lines


def discount_application(
    *,
    index: int,
    kind: str | None,
    value: Any,
    value_type: str | None,
    allocation_method: str | None,
    target_selection: str | None,
    target_type: str | None,
    code: str | None = None,
    title: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """One application in the stored form. Only the fields every shape carries for its type are kept:
    GraphQL gives a code application only its `code`, an automatic or script one only its `title`."""
    return {
        "index": index,
        "type": kind,
        "code": blank_to_none(code) if kind == "discount_code" else None,
        "title": blank_to_none(title) if kind in ("manual", "automatic", "script") else None,
        "description": blank_to_none(description) if kind == "manual" else None,
        "value": number_text(value),
        "value_type": value_type,
        "allocation_method": allocation_method,
        "target_selection": target_selection,
        "target_type": target_type,
    }


def _graphql_application(node: DiscountApplicationNode) -> dict[str, Any]:
    get = node.get
    value = get("value") or {}
    is_percentage = value.get("__typename") == "PricingPercentageValue" or value.get("percentage") is not None
    return discount_application(
        index=node["index"],
        kind=APPLICATION_TYPES.get(get("__typename") or ""),
        value=value.get("percentage") if is_percentage else value.get("amount"),
        value_type="percentage" if is_percentage else "fixed_amount",
        allocation_method=get("allocationMethod") or None,
        target_selection=get("targetSelection") or None,
        target_type=get("targetType") or None,
        code=get("code"),
        title=get("title"),
        description=get("description"),
    )


def _graphql_allocations(nodes: Iterable[DiscountAllocationNode] | None) -> list[dict[str, Any]]:
    if not nodes:
        return []
    return [
        {
            "amount": money_text(_shop_amount(node.get("allocatedAmountSet"))),
            "application": _graphql_application(node["discountApplication"]),
        }
        for node in nodes or ()
    ]


def _graphql_shipping_line(node: ShippingLineNode) -> dict[str, Any]:
    get = node.get
    return shipping_line(
        title=get("title"),
        code=get("code"),
        source=get("source"),
        price=_shop_amount(get("originalPriceSet")),
        discounted_price=_shop_amount(get("discountedPriceSet")),
        tax_lines=_graphql_tax_lines(get("taxLines")),
        discount_allocations=_graphql_allocations(get("discountAllocations")),
    )


def shipping_line(
    *,
    title: str | None,
    code: str | None,
    source: str | None,
    price: Decimal | None,
    discounted_price: Decimal | None,
    tax_lines: list[dict[str, Any]],
    discount_allocations: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "title": blank_to_none(title),
        "code": blank_to_none(code),
        "source": blank_to_none(source),
        "price": money_text(price),
        "discounted_price": money_text(discounted_price),
        "tax_lines": tax_lines,
        "discount_allocations": discount_allocations,
    }


def order_extras_graphql(node: Mapping[str, Any]) -> tuple:
    """The extras of a GraphQL order, in `OrderRecord` field order (billing_address .. total_outstanding)."""
    get = node.get
    shipping = get("shippingLine")
    return (
        address_from_graphql(get("billingAddress")),
        [{"name": a.get("key") or None, "value": a.get("value")} for a in get("customAttributes") or ()],
        get("sourceName") or None,
        list(get("discountCodes") or ()),
        [_graphql_shipping_line(shipping)] if shipping else [],
        _graphql_tax_lines(get("taxLines")),
        _shop_amount(get("currentTotalPriceSet")),
        _shop_amount(get("totalRefundedSet")),
        _shop_amount(get("netPaymentSet")),
        _shop_amount(get("totalReceivedSet")),
        _shop_amount(get("totalOutstandingSet")),
    )


def line_item_extras_graphql(node: Mapping[str, Any]) -> tuple:
    """The extras of a GraphQL line item, in `LineItemRecord` field order (tax_lines, discount_allocations)."""
    return _graphql_tax_lines(node.get("taxLines")), _graphql_allocations(node.get("discountAllocations"))


# -- REST ------------------------------------------------------------------------------------------------
class _RestPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestTaxLine(_RestPayload):
    title: Title | None = None
    rate: float | None = None
    price: Money | None = None

    def to_json(self) -> dict[str, Any]:
        return tax_line(self.title, self.rate, self.price)


class RestDiscountAllocation(_RestPayload):
    amount: Money | None = None
    discount_application_index: Int32


class RestDiscountApplication(_RestPayload):
    type: Enum32 | None = None
    value: Money | None = None
    value_type: Enum32 | None = None
    allocation_method: Enum32 | None = None
    target_selection: Enum32 | None = None
    target_type: Enum32 | None = None
    code: PersonName | None = None
    title: Title | None = None
    description: str | None = None

    def to_json(self, index: int) -> dict[str, Any]:
        return discount_application(
            index=index, kind=self.type, value=self.value, value_type=self.value_type,
            allocation_method=self.allocation_method, target_selection=self.target_selection,
            target_type=self.target_type, code=self.code, title=self.title, description=self.description,
        )  # fmt: skip


def rest_allocations(
    allocations: Iterable[RestDiscountAllocation], applications: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """REST allocations name their application by its place in the order's `discount_applications`;
    stored, each carries the application itself, as GraphQL's do. An index outside the list names
    nothing we know: the application is then kept as its index alone."""
    return [
        {
            "amount": money_text(allocation.amount),
            "application": applications[allocation.discount_application_index]
            if 0 <= allocation.discount_application_index < len(applications)
            else {"index": allocation.discount_application_index},
        }
        for allocation in allocations
    ]


class RestShippingLine(_RestPayload):
    title: Title | None = None
    code: Title | None = None
    source: PersonName | None = None
    price: Money | None = None
    discounted_price: Money | None = None
    is_removed: bool | None = None
    tax_lines: list[RestTaxLine] = []
    discount_allocations: list[RestDiscountAllocation] = []

    def to_json(self, applications: list[dict[str, Any]]) -> dict[str, Any]:
        return shipping_line(
            title=self.title, code=self.code, source=self.source, price=self.price,
            discounted_price=self.discounted_price, tax_lines=[t.to_json() for t in self.tax_lines],
            discount_allocations=rest_allocations(self.discount_allocations, applications),
        )  # fmt: skip


class RestNoteAttribute(_RestPayload):
    name: PersonName | None = None
    value: str | None = None


class RestDiscountCode(_RestPayload):
    code: PersonName


class RestOrderExtras(_RestPayload):
    """The extras' keys of a REST / webhook order (`RestOrder` extends it)."""

    billing_address: dict[str, Any] | None = None
    note_attributes: list[RestNoteAttribute] = []
    source_name: PersonName | None = None
    discount_codes: list[RestDiscountCode] = []
    discount_applications: list[RestDiscountApplication] = []
    shipping_lines: list[RestShippingLine] = []
    tax_lines: list[RestTaxLine] = []
    current_total_price: Money | None = None
    total_outstanding: Money | None = None

    def applications_json(self) -> list[dict[str, Any]]:
        return [application.to_json(index) for index, application in enumerate(self.discount_applications)]

    def extras(self, applications: list[dict[str, Any]]) -> dict[str, Any]:
        """`OrderRecord` keyword arguments. The received, net and refunded totals are not in a REST
        body (GRAPHQL_ONLY_TOTALS): None, "not carried"."""
        return {
            "billing_address": address_from_rest(self.billing_address),
            "note_attributes": [
                {"name": blank_to_none(a.name), "value": a.value} for a in self.note_attributes
            ],
            "source_name": blank_to_none(self.source_name),
            "discount_codes": [code.code for code in self.discount_codes],
            # A removed shipping line is not among GraphQL's (`includeRemovals` defaults to false).
            "shipping_lines": [
                line.to_json(applications) for line in self.shipping_lines if not line.is_removed
            ],
            "tax_lines": [line.to_json() for line in self.tax_lines],
            "current_total_price": self.current_total_price,
            "total_outstanding": self.total_outstanding,
        }


class RestLineItemExtras(_RestPayload):
    """The extras' keys of a REST line item (`RestLineItem` extends it)."""

    tax_lines: list[RestTaxLine] = []
    discount_allocations: list[RestDiscountAllocation] = []

    def extras(self, applications: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "tax_lines": [line.to_json() for line in self.tax_lines],
            "discount_allocations": rest_allocations(self.discount_allocations, applications),
        }


def order_discount_applications(
    line_allocations: Iterable[list[dict[str, Any]] | None], shipping_lines: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The order's discount applications: the distinct applications its line items' and shipping
    lines' allocations name, by index (see the module's docstring for why they are not stored apart)."""
    found: dict[int, dict[str, Any]] = {}
    groups = [*line_allocations, *((line.get("discount_allocations") or []) for line in shipping_lines or ())]
    for allocations in groups:
        for allocation in allocations or ():
            application = allocation.get("application") or {}
            if isinstance(application.get("index"), int):
                found.setdefault(application["index"], application)
    return [found[index] for index in sorted(found)]
