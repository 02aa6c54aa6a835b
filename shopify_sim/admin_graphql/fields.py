"""Field functions per GraphQL type: fn(obj, args, ctx) -> value in GraphQL output form.

The same table serves graphql-core (through one field resolver) and the bulk exporter (which calls
these directly, fast), so a field means the same thing in both. Objects are canonical records tagged
with "__typename"; value objects (MoneyBag, PageInfo, ...) are plain dicts keyed by field name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from shopify_sim.admin_graphql import connections
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.search import Filter, parse
from shopify_sim.gid import gid
from shopify_sim.render.rest import presentment_amount
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


def mailing_address(data: dict | None, owner_gid: str) -> dict | None:
    if data is None:
        return None
    first, last = data.get("first_name"), data.get("last_name")
    return {
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
        "zip": data.get("zip"),
        "phone": data.get("phone"),
        "latitude": None,
        "longitude": None,
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
}


def line_money(line: dict, cents_value: int) -> dict:
    return money_bag(money(cents_value), line["_order"])


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
    "defaultEmailAddress": lambda o, a, c: {"emailAddress": o["email"]} if o["email"] else None,
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
    "description": lambda o, a, c: (o["body_html"] or "").replace("<p>", "").replace("</p>", ""),
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
}

# Connection fields the bulk exporter expands into child lines: type -> field -> all-items iterator.
NESTED_CONNECTIONS: dict[str, dict[str, FieldFn]] = {
    "Order": {"lineItems": order_line_items_all},
    "Customer": {"orders": customer_orders_all},
    "Product": {"variants": product_variants_all},
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    "Order": ORDER,
    "LineItem": LINE_ITEM,
    "Customer": CUSTOMER,
    "Product": PRODUCT,
    "ProductVariant": VARIANT,
}
