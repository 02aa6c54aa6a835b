"""Field functions per GraphQL type: fn(obj, args, ctx) -> value in GraphQL output form.

The same table serves graphql-core (through one field resolver) and the bulk exporter (which calls
these directly, fast), so a field means the same thing in both. Objects are canonical records tagged
with "__typename"; value objects (MoneyBag, PageInfo, ...) are plain dicts keyed by field name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from shopify_sim.admin_graphql import connections
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.search import INVENTORY_ITEM_OFFSET, Filter, parse
from shopify_sim.gid import gid
from shopify_sim.render import derived
from shopify_sim.render.rest import presentment_amount
from shopify_sim.store import media, transactions
from shopify_sim.store.records import cents, money
from shopify_sim.timeutil import iso_z

FieldFn = Callable[[Any, dict[str, Any], GraphQLContext], Any]


def key(name: str) -> FieldFn:
    return lambda obj, args, ctx: obj[name]


def time_key(name: str) -> FieldFn:
    return lambda obj, args, ctx: iso_z(obj[name])


def upper_key(name: str) -> FieldFn:
    return lambda obj, args, ctx: obj[name].upper() if obj[name] else None


def legacy_id(obj: dict, args: dict, ctx: GraphQLContext) -> str:
    return str(obj["id"])


def tagged(record: dict | None, typename: str) -> dict | None:
    if record is not None:
        record["__typename"] = typename
    return record


def money_bag(amount: str, order: dict) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": amount, "currencyCode": order["currency"]},
        "presentmentMoney": {
            "amount": presentment_amount(amount, order["fx"]),
            "currencyCode": order["presentment_currency"],
        },
    }


def order_money(name: str) -> FieldFn:
    return lambda obj, args, ctx: money_bag(obj[name], obj)


def formatted_address(data: dict, args: dict) -> list[str]:
    """Shopify's `formatted` lines: [name], [company], street lines, "City PROV zip", country."""
    first, last = data.get("first_name"), data.get("last_name")
    name = " ".join(p for p in (first, last) if p)
    area = " ".join(p for p in (data.get("city"), data.get("province_code"), data.get("zip")) if p)
    lines = [
        name if args.get("withName") else None,
        data.get("company") if args.get("withCompany", True) else None,
        data.get("address1"),
        data.get("address2"),
        area,
        data.get("country"),
    ]
    return [line for line in lines if line]


def mailing_address(data: dict | None, owner_gid: str) -> dict | None:
    if data is None:
        return None
    first, last = data.get("first_name"), data.get("last_name")
    return {
        "_data": data,
        "id": gid("MailingAddress", data["id"]) + "?model_name=CustomerAddress"
        if data.get("id")
        else owner_gid,
        "firstName": first,
        "lastName": last,
        "name": " ".join(p for p in (first, last) if p),
        "company": data.get("company"),
        "address1": data.get("address1"),
        "address2": data.get("address2"),
        "city": data.get("city"),
        "province": data.get("province"),
        "provinceCode": data.get("province_code"),
        "country": data.get("country"),
        "countryCodeV2": data.get("country_code"),
        "countryCode": data.get("country_code"),
        "zip": data.get("zip"),
        "phone": data.get("phone"),
        "latitude": None,
        "longitude": None,
        "coordinatesValidated": False,
        "timeZone": None,
    }


MAILING_ADDRESS: dict[str, FieldFn] = {
    "formatted": lambda a, args, c: formatted_address(a["_data"], args),
    "formattedArea": lambda a, args, c: (
        ", ".join(p for p in (a["city"], a["province"], a["country"]) if p) or None
    ),
}


# -- loading helpers (memoised per request) --------------------------------------------------------
def load(ctx: GraphQLContext, resource: str, record_id: int | None) -> dict | None:
    if record_id is None:
        return None
    cache = ctx.cache.setdefault(resource, {})
    if record_id not in cache:
        where, params = ctx.order_visibility() if resource == "orders" else ("", [])
        cache[record_id] = ctx.store.get(resource, record_id, where, params)
    record = cache[record_id]
    return dict(record) if record is not None else None


def load_variant(ctx: GraphQLContext, variant_id: int | None) -> dict | None:
    if variant_id is None:
        return None
    product_id = ctx.store.variant_product_ids([variant_id]).get(variant_id)
    product = load(ctx, "products", product_id)
    if product is None:
        return None
    for variant in product["variants"]:
        if variant["id"] == variant_id:
            return prepare_variant(variant, tagged(product, "Product"))
    return None


def prepare_line(line: dict, order: dict) -> dict:
    line["__typename"] = "LineItem"
    line["_order"] = order
    return line


def prepare_variant(variant: dict, product: dict) -> dict:
    variant["__typename"] = "ProductVariant"
    variant["_product"] = product
    return variant


# -- Order -------------------------------------------------------------------------------------------
FULFILLMENT = {
    None: "UNFULFILLED",
    "fulfilled": "FULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "restocked": "RESTOCKED",
}


def order_customer(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    return tagged(load(ctx, "customers", obj["customer_id"]), "Customer")


def order_line_items(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return connections.list_page(obj["line_items"], args, lambda line: prepare_line(line, obj))


def order_line_items_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    for line in obj["line_items"]:
        yield prepare_line(line, obj)


def tax_line(amount: str, order: dict) -> dict:
    rate = derived.tax_rate(order)
    return {
        "title": derived.TAX_TITLE,
        "rate": rate,
        "ratePercentage": round(rate * 100, 4),
        "priceSet": money_bag(amount, order),
        "source": None,
        "channelLiable": False,
    }


def order_tax_lines(obj: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    return [tax_line(obj["total_tax"], obj)] if derived.has_tax(obj) else []


def discount_application(order: dict, position: int, index: int) -> dict:
    percent = derived.discount_percent(order["line_items"][position])
    return {
        "__typename": "ManualDiscountApplication",
        "allocationMethod": "ONE",
        "index": index,
        "targetSelection": "EXPLICIT",
        "targetType": "LINE_ITEM",
        "value": {"__typename": "PricingPercentageValue", "percentage": percent},
        "title": f"{percent:g}% off",
        "description": f"{percent:g}% off",
    }


def order_discount_applications(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    applications = [
        discount_application(obj, position, index)
        for index, position in enumerate(derived.discounted_lines(obj))
    ]
    return connections.list_page(applications, args)


def shipping_line(line: dict, order: dict) -> dict:
    price = money_bag(line["price"], order)
    return {
        "id": gid("ShippingLine", line["id"]),
        "title": line["title"],
        "code": line["code"],
        "source": "shopify",
        "carrierIdentifier": None,
        "phone": None,
        "custom": False,
        "isRemoved": False,
        "originalPriceSet": price,
        "discountedPriceSet": price,
        "currentDiscountedPriceSet": price,
        "taxLines": [],
        "discountAllocations": [],
    }


def order_shipping_lines(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return connections.list_page(obj["shipping_lines"], args, lambda line: shipping_line(line, obj))


def payment_money(name: str) -> FieldFn:
    return lambda o, a, c: money_bag(money(derived.payments(o)[name]), o)


def zero_money(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return money_bag("0.00", obj)


def empty_list(obj: Any, args: dict, ctx: GraphQLContext) -> list:
    return []


def empty_connection(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    """Shopify's empty connection (types the store does not model); validates first/last as any."""
    return connections.list_page([], args)


def empty_iterator(obj: Any, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    return iter(())


def line_quantity(order: dict) -> int:
    return sum(line["quantity"] for line in order["line_items"])


def addresses_match(order: dict) -> bool:
    billing, shipping = order["billing_address"], order["shipping_address"]
    fields = (
        "first_name",
        "last_name",
        "address1",
        "address2",
        "city",
        "province_code",
        "zip",
        "country_code",
    )
    if billing is None or shipping is None:
        return billing is shipping
    return all(billing.get(f) == shipping.get(f) for f in fields)


ORDER: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("Order", o["id"]),
    "legacyResourceId": legacy_id,
    "name": lambda o, a, c: f"#{o['number'] + 1000}",
    "number": lambda o, a, c: o["number"] + 1000,
    "email": key("email"),
    "phone": key("phone"),
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "processedAt": time_key("processed_at"),
    "cancelledAt": time_key("cancelled_at"),
    "cancelReason": upper_key("cancel_reason"),
    "closedAt": time_key("closed_at"),
    "closed": lambda o, a, c: o["closed_at"] is not None,
    "confirmed": key("confirmed"),
    "test": key("test"),
    "note": key("note"),
    "tags": key("tags"),
    "sourceName": key("source_name"),
    "currencyCode": key("currency"),
    "presentmentCurrencyCode": key("presentment_currency"),
    "taxesIncluded": key("taxes_included"),
    "displayFinancialStatus": upper_key("financial_status"),
    "displayFulfillmentStatus": lambda o, a, c: FULFILLMENT.get(o["fulfillment_status"], "UNFULFILLED"),
    "fullyPaid": lambda o, a, c: o["financial_status"] in ("paid", "partially_refunded", "refunded"),
    "totalPriceSet": order_money("total_price"),
    "subtotalPriceSet": order_money("subtotal_price"),
    "totalTaxSet": order_money("total_tax"),
    "totalDiscountsSet": order_money("total_discounts"),
    "totalShippingPriceSet": order_money("total_shipping"),
    "currentTotalPriceSet": order_money("total_price"),
    "currentSubtotalPriceSet": order_money("subtotal_price"),
    "currentTotalTaxSet": order_money("total_tax"),
    "totalWeight": lambda o, a, c: str(o["total_weight"]),
    "totalPrice": key("total_price"),
    "subtotalPrice": key("subtotal_price"),
    "paymentGatewayNames": key("payment_gateway_names"),
    "customer": order_customer,
    "billingAddress": lambda o, a, c: mailing_address(
        o["billing_address"], gid("MailingAddress", o["id"]) + "?model_name=Address"
    ),
    "shippingAddress": lambda o, a, c: mailing_address(
        o["shipping_address"], gid("MailingAddress", o["id"] + 1) + "?model_name=Address"
    ),
    "lineItems": order_line_items,
    "billingAddressMatchesShippingAddress": lambda o, a, c: addresses_match(o),
    "confirmationNumber": lambda o, a, c: derived.confirmation_number(o["id"]),
    "statusPageUrl": lambda o, a, c: derived.status_page_url(c.shop.domain, o["id"]),
    "sourceIdentifier": lambda o, a, c: None,
    "customerLocale": lambda o, a, c: "en",
    "clientIp": lambda o, a, c: None,
    "poNumber": lambda o, a, c: None,
    "taxExempt": lambda o, a, c: False,
    "estimatedTaxes": lambda o, a, c: False,
    "dutiesIncluded": lambda o, a, c: False,
    "customerAcceptsMarketing": lambda o, a, c: False,
    "requiresShipping": lambda o, a, c: any(line["requires_shipping"] for line in o["line_items"]),
    "unpaid": lambda o, a, c: derived.payments(o)["received"] == 0 and o["financial_status"] != "voided",
    "refundable": lambda o, a, c: derived.payments(o)["net"] > 0,
    "capturable": lambda o, a, c: derived.payments(o)["capturable"] > 0,
    "edited": lambda o, a, c: False,
    "fulfillable": lambda o, a, c: (
        o["cancelled_at"] is None
        and o["closed_at"] is None
        and any(line["fulfillment_status"] != "fulfilled" for line in o["line_items"])
    ),
    "returnStatus": lambda o, a, c: "NO_RETURN",
    "subtotalLineItemsQuantity": lambda o, a, c: line_quantity(o),
    "currentSubtotalLineItemsQuantity": lambda o, a, c: line_quantity(o),
    "currentTotalWeight": lambda o, a, c: str(o["total_weight"]),
    "customAttributes": empty_list,
    "discountCodes": empty_list,
    "discountCode": lambda o, a, c: None,
    "taxLines": order_tax_lines,
    "currentTaxLines": order_tax_lines,
    "discountApplications": order_discount_applications,
    "shippingLines": order_shipping_lines,
    "shippingLine": lambda o, a, c: shipping_line(o["shipping_lines"][0], o) if o["shipping_lines"] else None,
    "originalTotalPriceSet": order_money("total_price"),
    "currentTotalDiscountsSet": order_money("total_discounts"),
    "currentShippingPriceSet": order_money("total_shipping"),
    "totalReceivedSet": payment_money("received"),
    "netPaymentSet": payment_money("net"),
    "totalRefundedSet": payment_money("refunded"),
    "totalRefundedShippingSet": zero_money,
    "totalOutstandingSet": payment_money("outstanding"),
    "totalCapturableSet": payment_money("capturable"),
    "totalTipReceivedSet": payment_money("tip"),
    "fulfillments": empty_list,
    "refunds": empty_list,
    "fulfillmentOrders": empty_connection,
    "transactions": lambda o, a, c: order_transactions(o, a),
    "transactionsCount": lambda o, a, c: {"count": len(o["transactions"]), "precision": "EXACT"},
}


# -- OrderTransaction ---------------------------------------------------------------------------------
def prepare_transaction(tx: dict, order: dict) -> dict:
    return {**tx, "__typename": "OrderTransaction", "_order": order}


def order_transactions(order: dict, args: dict) -> list[dict]:
    """`Order.transactions`: a plain list in creation order; `first` truncates (contract §8.0), the
    `capturable` filter keeps open authorizations, `manuallyResolvable` pending manual payments
    [UNSURE: Shopify's exact rule]."""
    items = order["transactions"]
    if args.get("capturable") is not None:
        open_ids = {tx["id"] for tx in transactions.open_authorizations(order)}
        capturable = order["financial_status"] == "authorized"
        items = [tx for tx in items if (capturable and tx["id"] in open_ids) == args["capturable"]]
    if args.get("manuallyResolvable") is not None:
        items = [tx for tx in items if manually_resolvable(tx) == args["manuallyResolvable"]]
    first = args.get("first")
    if first is not None:
        items = items[: max(0, first)]
    return [prepare_transaction(tx, order) for tx in items]


def manually_resolvable(tx: dict) -> bool:
    return tx["status"] == "pending" and tx["gateway"] == "manual"


def transaction_parent(tx: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    if tx["parent_id"] is None:
        return None
    order = tx["_order"]
    parent = next((other for other in order["transactions"] if other["id"] == tx["parent_id"]), None)
    return prepare_transaction(parent, order) if parent is not None else None


def transaction_money(tx: dict, args: dict, ctx: GraphQLContext) -> dict:
    return money_bag(tx["amount"], tx["_order"])


def transaction_refundable(tx: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    if tx["kind"] not in transactions.CHARGED or tx["status"] != "success":
        return None
    order = tx["_order"]
    return {"amount": money(transactions.refundable(order, tx)), "currencyCode": order["currency"]}


def card_details(tx: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    if tx["gateway"] not in derived.CARD_GATEWAYS:
        return None
    card = derived.card_of(tx["_order"]["id"])
    return {
        "__typename": "CardPaymentDetails",
        "avsResultCode": card["avs_result_code"],
        "bin": card["bin"],
        "company": card["company"],
        "cvvResultCode": card["cvv_result_code"],
        "expirationMonth": card["expiration_month"],
        "expirationYear": card["expiration_year"],
        "name": None,
        "number": card["number"],
        "paymentMethodName": card["company"].lower().replace(" ", "_"),
        "wallet": None,
    }


ORDER_TRANSACTION: dict[str, FieldFn] = {
    "id": lambda t, a, c: gid("OrderTransaction", t["id"]),
    "kind": upper_key("kind"),
    "status": upper_key("status"),
    "gateway": key("gateway"),
    "formattedGateway": lambda t, a, c: derived.FORMATTED_GATEWAYS.get(t["gateway"], t["gateway"]),
    "amountSet": transaction_money,
    "amount": key("amount"),
    "amountV2": lambda t, a, c: {"amount": t["amount"], "currencyCode": t["_order"]["currency"]},
    "maximumRefundableV2": transaction_refundable,
    "createdAt": time_key("created_at"),
    "processedAt": time_key("processed_at"),
    "parentTransaction": transaction_parent,
    "errorCode": upper_key("error_code"),
    "test": lambda t, a, c: t["_order"]["test"],
    "authorizationCode": key("authorization"),
    "authorizationExpiresAt": time_key("authorization_expires_at"),
    "manuallyCapturable": lambda t, a, c: (
        t["kind"] == "authorization"
        and t["_order"]["financial_status"] == "authorized"
        and any(t["id"] == o["id"] for o in transactions.open_authorizations(t["_order"]))
    ),
    "multiCapturable": lambda t, a, c: False,
    "paymentId": lambda t, a, c: derived.payment_id(t["_order"], t),
    "accountNumber": lambda t, a, c: (
        derived.card_of(t["_order"]["id"])["number"] if t["gateway"] in derived.CARD_GATEWAYS else None
    ),
    "receiptJson": lambda t, a, c: orjson.dumps(derived.transaction_receipt(t)).decode(),
    "totalUnsettledSet": lambda t, a, c: money_bag("0.00", t["_order"]),
    "fees": empty_list,
    "paymentDetails": card_details,
    "settlementCurrency": lambda t, a, c: None,
    "settlementCurrencyRate": lambda t, a, c: None,
    "location": lambda t, a, c: None,
    "order": lambda t, a, c: {**t["_order"], "__typename": "Order"},
}


def line_money(line: dict, cents_value: int) -> dict:
    return money_bag(money(cents_value), line["_order"])


def line_position(line: dict) -> int:
    lines = line["_order"]["line_items"]
    return next(i for i, other in enumerate(lines) if other["id"] == line["id"])


def line_tax_lines(line: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    order = line["_order"]
    if not derived.has_tax(order):
        return []
    share = derived.line_tax_cents(order)[line_position(line)]
    return [tax_line(money(share), order)][: args.get("first") or None]


def line_discount_allocations(line: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    if cents(line["total_discount"]) == 0:
        return []
    order = line["_order"]
    index = derived.discounted_lines(order).index(line_position(line))
    return [
        {
            "allocatedAmountSet": money_bag(line["total_discount"], order),
            "discountApplication": discount_application(order, line_position(line), index),
        }
    ]


LINE_ITEM: dict[str, FieldFn] = {
    "id": lambda li, a, c: gid("LineItem", li["id"]),
    "name": lambda li, a, c: li["title"] + (f" - {li['variant_title']}" if li["variant_title"] else ""),
    "title": key("title"),
    "variantTitle": key("variant_title"),
    "sku": key("sku"),
    "vendor": key("vendor"),
    "quantity": key("quantity"),
    "currentQuantity": key("quantity"),
    "unfulfilledQuantity": lambda li, a, c: 0 if li["fulfillment_status"] == "fulfilled" else li["quantity"],
    "requiresShipping": key("requires_shipping"),
    "taxable": key("taxable"),
    "isGiftCard": key("gift_card"),
    "originalUnitPriceSet": lambda li, a, c: money_bag(li["price"], li["_order"]),
    "discountedUnitPriceSet": lambda li, a, c: line_money(
        li, cents(li["price"]) - cents(li["total_discount"]) // max(1, li["quantity"])
    ),
    "originalTotalSet": lambda li, a, c: line_money(li, cents(li["price"]) * li["quantity"]),
    "totalDiscountSet": lambda li, a, c: money_bag(li["total_discount"], li["_order"]),
    "variant": lambda li, a, c: load_variant(c, li["variant_id"]),
    "product": lambda li, a, c: tagged(load(c, "products", li["product_id"]), "Product"),
    "fulfillmentStatus": lambda li, a, c: li["fulfillment_status"] or "unfulfilled",
    "fulfillableQuantity": lambda li, a, c: 0 if li["fulfillment_status"] == "fulfilled" else li["quantity"],
    "nonFulfillableQuantity": lambda li, a, c: 0,
    "refundableQuantity": lambda li, a, c: li["quantity"],
    "restockable": lambda li, a, c: li["variant_id"] is not None,
    "discountedTotalSet": lambda li, a, c: line_money(
        li, cents(li["price"]) * li["quantity"] - cents(li["total_discount"])
    ),
    "discountAllocations": line_discount_allocations,
    "taxLines": line_tax_lines,
    "customAttributes": empty_list,
}


# -- Customer ------------------------------------------------------------------------------------------
def customer_orders_filter(obj: dict, args: dict, ctx: GraphQLContext) -> Filter:
    where = parse("orders", args.get("query"), ctx.offset)
    where.add("customer_id = ?", obj["id"])
    clause, params = ctx.order_visibility()
    if clause:
        where.add(clause, *params)
    return where


def customer_orders(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    ctx.require("read_orders", "orders")
    return connections.sql_page(ctx.store, "orders", customer_orders_filter(obj, args, ctx), args, "Order")


def customer_orders_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    where = customer_orders_filter(obj, args, ctx)
    for row in ctx.store.select("orders", where.sql(), where.params, "id", None):
        yield tagged(row, "Order")


def lifetime_duration(created_at: int) -> str:
    """Shopify's words for a customer's age ("about 2 years", "3 months", "12 days")."""
    days = max(0, int(time.time() - created_at) // 86400)
    if days >= 365:
        years = round(days / 365)
        return f"about {years} year{'s' * (years != 1)}"
    if days >= 30:
        months = days // 30
        return f"{months} month{'s' * (months != 1)}"
    return f"{days} day{'s' * (days != 1)}"


def customer_addresses_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    for address in obj["addresses"]:
        yield mailing_address(address, "")


def customer_default_address(obj: dict, args: dict, ctx: GraphQLContext) -> dict | None:
    default = next((a for a in obj["addresses"] if a["id"] == obj["default_address_id"]), None)
    return mailing_address(default, "")


CUSTOMER: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("Customer", o["id"]),
    "legacyResourceId": legacy_id,
    "firstName": key("first_name"),
    "lastName": key("last_name"),
    "displayName": lambda o, a, c: (
        " ".join(p for p in (o["first_name"], o["last_name"]) if p) or (o["email"] or "")
    ),
    "email": key("email"),
    "phone": key("phone"),
    "defaultEmailAddress": lambda o, a, c: (
        {
            "emailAddress": o["email"],
            "marketingState": "SUBSCRIBED" if o["accepts_marketing"] else "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN" if o["accepts_marketing"] else None,
            "marketingUpdatedAt": iso_z(o.get("marketing_updated_at")),
            "validFormat": True,
        }
        if o["email"]
        else None
    ),
    "emailMarketingConsent": lambda o, a, c: (
        {
            "marketingState": "SUBSCRIBED" if o["accepts_marketing"] else "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": iso_z(o.get("marketing_updated_at")),
        }
        if o["email"]
        else None
    ),
    "smsMarketingConsent": lambda o, a, c: None,
    "locale": lambda o, a, c: "en",
    "lifetimeDuration": lambda o, a, c: lifetime_duration(o["created_at"]),
    "taxExemptions": empty_list,
    "multipassIdentifier": lambda o, a, c: None,
    "validEmailAddress": lambda o, a, c: bool(o["email"]),
    "canDelete": lambda o, a, c: o["orders_count"] == 0,
    "addressesV2": lambda o, a, c: connections.list_page(o["addresses"], a, lambda x: mailing_address(x, "")),
    "defaultPhoneNumber": lambda o, a, c: {"phoneNumber": o["phone"]} if o["phone"] else None,
    "state": upper_key("state"),
    "tags": key("tags"),
    "note": key("note"),
    "verifiedEmail": key("verified_email"),
    "taxExempt": key("tax_exempt"),
    "numberOfOrders": lambda o, a, c: str(o["orders_count"]),
    "amountSpent": lambda o, a, c: {"amount": o["total_spent"], "currencyCode": c.shop.options.currency},
    "defaultAddress": customer_default_address,
    "addresses": lambda o, a, c: [mailing_address(x, "") for x in o["addresses"][: a.get("first") or None]],
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "lastOrder": lambda o, a, c: tagged(load(c, "orders", o["last_order_id"]), "Order"),
    "orders": customer_orders,
}


# -- Product / ProductVariant --------------------------------------------------------------------------
def product_variants(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return connections.list_page(obj["variants"], args, lambda v: prepare_variant(v, obj))


def product_variants_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    for variant in obj["variants"]:
        yield prepare_variant(variant, obj)


def media_image(item: dict[str, Any]) -> dict[str, Any]:
    """A MediaImage node (store/media.py); `updatedAt` = `createdAt` (an image is replaced, not edited)."""
    return {"__typename": "MediaImage", **item}


def legacy_image(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The deprecated `Image` (Product.featuredImage, ProductVariant.image): a ProductImage GID."""
    if item is None:
        return None
    return {
        "id": gid("ProductImage", item["id"]),
        "altText": item["alt"],
        "url": item["src"],
        "width": item["width"],
        "height": item["height"],
    }


def product_media(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    return connections.list_page(media.media_of(obj), args, media_image)


def product_media_all(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    for item in media.media_of(obj):
        yield media_image(item)


def variant_images(variant: dict) -> list[dict[str, Any]]:
    return [item for item in media.media_of(variant["_product"]) if variant["id"] in item["variant_ids"]]


def variant_image(variant: dict, args: dict, ctx: GraphQLContext) -> dict[str, Any] | None:
    images = variant_images(variant)
    return legacy_image(images[0]) if images else None


def variant_media(variant: dict, args: dict, ctx: GraphQLContext) -> dict:
    return connections.list_page(variant_images(variant)[:1], args, media_image)


def variant_media_all(variant: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
    for item in variant_images(variant)[:1]:
        yield media_image(item)


MEDIA_IMAGE: dict[str, FieldFn] = {
    "id": lambda m, a, c: gid("MediaImage", m["id"]),
    "alt": lambda m, a, c: m["alt"],
    "mediaContentType": lambda m, a, c: "IMAGE",
    "status": lambda m, a, c: "READY",
    "image": lambda m, a, c: legacy_image(m) | {"id": gid("ImageSource", m["id"])},
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("created_at"),
}


def plain_text(html: str | None, truncate_at: int | None) -> str:
    text = (html or "").replace("<p>", "").replace("</p>", "")
    if truncate_at is not None and len(text) > truncate_at:
        return text[: max(0, truncate_at - 3)].rstrip() + "..."
    return text


def product_price_range(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    prices = [cents(v["price"]) for v in obj["variants"]] or [0]
    currency = ctx.shop.options.currency
    return {
        "minVariantPrice": {"amount": money(min(prices)), "currencyCode": currency},
        "maxVariantPrice": {"amount": money(max(prices)), "currencyCode": currency},
    }


PRODUCT: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("Product", o["id"]),
    "legacyResourceId": legacy_id,
    "title": key("title"),
    "handle": key("handle"),
    "vendor": key("vendor"),
    "productType": key("product_type"),
    "status": upper_key("status"),
    "tags": key("tags"),
    "descriptionHtml": lambda o, a, c: o["body_html"] or "",
    "bodyHtml": key("body_html"),
    "description": lambda o, a, c: plain_text(o["body_html"], a.get("truncateAt")),
    "tracksInventory": lambda o, a, c: any(v["inventory_management"] == "shopify" for v in o["variants"]),
    "hasOnlyDefaultVariant": lambda o, a, c: [v["title"] for v in o["variants"]] == ["Default Title"],
    "hasOutOfStockVariants": lambda o, a, c: any(
        v["inventory_management"] == "shopify" and v["inventory_quantity"] <= 0 for v in o["variants"]
    ),
    "isGiftCard": lambda o, a, c: False,
    "requiresSellingPlan": lambda o, a, c: False,
    "templateSuffix": lambda o, a, c: None,
    "giftCardTemplateSuffix": lambda o, a, c: None,
    "onlineStoreUrl": lambda o, a, c: (
        f"https://{c.shop.domain}/products/{o['handle']}"
        if o["status"] == "active" and o["published_at"]
        else None
    ),
    "onlineStorePreviewUrl": lambda o, a, c: f"https://{c.shop.domain}/products/{o['handle']}",
    "seo": lambda o, a, c: {"title": None, "description": None},
    "priceRangeV2": product_price_range,
    "featuredMedia": lambda o, a, c: next(map(media_image, media.media_of(o)), None),
    "featuredImage": lambda o, a, c: legacy_image(next(iter(media.media_of(o)), None)),
    "mediaCount": lambda o, a, c: {"count": len(media.media_of(o)), "precision": "EXACT"},
    "media": product_media,
    "collections": empty_connection,
    "totalVariants": lambda o, a, c: len(o["variants"]),
    "publishedAt": time_key("published_at"),
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "totalInventory": lambda o, a, c: sum(max(0, v["inventory_quantity"]) for v in o["variants"]),
    "options": lambda o, a, c: [
        {"id": gid("ProductOption", o["id"] * 10 + x["position"]), **x} for x in o["options"]
    ],
    "variantsCount": lambda o, a, c: {"count": len(o["variants"]), "precision": "EXACT"},
    "variants": product_variants,
}

VARIANT: dict[str, FieldFn] = {
    "id": lambda v, a, c: gid("ProductVariant", v["id"]),
    "legacyResourceId": legacy_id,
    "title": key("title"),
    "displayName": lambda v, a, c: f"{v['_product']['title']} - {v['title']}",
    "sku": key("sku"),
    "price": key("price"),
    "compareAtPrice": key("compare_at_price"),
    "inventoryQuantity": key("inventory_quantity"),
    "position": key("position"),
    "barcode": key("barcode"),
    "taxable": key("taxable"),
    "selectedOptions": lambda v, a, c: [
        {"name": opt["name"], "value": v[f"option{opt['position']}"] or "Default Title"}
        for opt in v["_product"]["options"]
    ],
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "product": lambda v, a, c: v["_product"],
    "inventoryPolicy": upper_key("inventory_policy"),
    "availableForSale": lambda v, a, c: (
        v["_product"]["status"] == "active"
        and (
            v["inventory_policy"] == "continue"
            or v["inventory_management"] is None
            or v["inventory_quantity"] > 0
        )
    ),
    "sellableOnlineQuantity": lambda v, a, c: max(0, v["inventory_quantity"]),
    "inventoryItem": lambda v, a, c: {**v, "__typename": "InventoryItem"},
    "image": variant_image,
    "media": variant_media,
}

# An inventory item is served from its variant (one per variant; id = variant id + offset, as REST's
# `inventory_item_id`); the store has no locations, so no levels.
INVENTORY_ITEM: dict[str, FieldFn] = {
    "id": lambda v, a, c: gid("InventoryItem", v["id"] + INVENTORY_ITEM_OFFSET),
    "legacyResourceId": lambda v, a, c: str(v["id"] + INVENTORY_ITEM_OFFSET),
    "sku": key("sku"),
    "tracked": lambda v, a, c: v["inventory_management"] == "shopify",
    "requiresShipping": key("requires_shipping"),
    "unitCost": lambda v, a, c: None,
    "countryCodeOfOrigin": lambda v, a, c: None,
    "provinceCodeOfOrigin": lambda v, a, c: None,
    "harmonizedSystemCode": lambda v, a, c: None,
    "measurement": lambda v, a, c: {
        "id": gid("InventoryItemMeasurement", v["id"] + INVENTORY_ITEM_OFFSET),
        "weight": {"unit": "GRAMS", "value": float(v["grams"])},
    },
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "duplicateSkuCount": lambda v, a, c: 0,
    "inventoryHistoryUrl": lambda v, a, c: None,
    "locationsCount": lambda v, a, c: {"count": 0, "precision": "EXACT"},
    "inventoryLevels": empty_connection,
    "variant": lambda v, a, c: {**v, "__typename": "ProductVariant"},
}

# Connection fields the bulk exporter expands into child lines: type -> field -> all-items iterator.
NESTED_CONNECTIONS: dict[str, dict[str, FieldFn]] = {
    "Order": {"lineItems": order_line_items_all, "fulfillmentOrders": empty_iterator},
    "Customer": {"orders": customer_orders_all, "addressesV2": customer_addresses_all},
    "Product": {
        "variants": product_variants_all,
        "media": product_media_all,
        "collections": empty_iterator,
    },
    "ProductVariant": {"media": variant_media_all},
    "InventoryItem": {"inventoryLevels": empty_iterator},
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    "Order": ORDER,
    "LineItem": LINE_ITEM,
    "Customer": CUSTOMER,
    "Product": PRODUCT,
    "ProductVariant": VARIANT,
    "InventoryItem": INVENTORY_ITEM,
    "MailingAddress": MAILING_ADDRESS,
    "OrderTransaction": ORDER_TRANSACTION,
    "MediaImage": MEDIA_IMAGE,
    # Fields selected on the `Media` interface itself (the bulk exporter resolves them by the type
    # the selection names): every medium the store holds is an image.
    "Media": {name: MEDIA_IMAGE[name] for name in ("id", "alt", "mediaContentType", "status")},
}
