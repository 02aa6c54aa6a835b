"""GraphQL field tables of an order's refunds and fulfillments (contract §8.3, §8.4, §8.5) and the Order /
LineItem fields they change (current totals, refunded and fulfilled quantities). Merged over the base
tables in `schema.py`; the bulk exporter uses the same functions (`NESTED_CONNECTIONS`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shopify_sim.admin_graphql import connections
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.admin_graphql.fields import (
    FieldFn,
    discount_application,
    key,
    legacy_id,
    line_position,
    load,
    money_bag,
    prepare_line,
    prepare_transaction,
    shipping_line,
    tagged,
    tax_line,
    time_key,
)
from shopify_sim.gid import gid
from shopify_sim.render import derived, discounts
from shopify_sim.render.order_children import fulfillment_name
from shopify_sim.render.rest import presentment_amount
from shopify_sim.store import fulfillments as fulfillment_store
from shopify_sim.store import refunds as refund_store
from shopify_sim.store.records import cents, money
from shopify_sim.timeutil import parse_iso


def child(record: dict, order: dict, typename: str) -> dict:
    return {**record, "__typename": typename, "_order": order}


# -- Order -----------------------------------------------------------------------------------------------
def order_refunds(obj: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    items = obj.get("refunds", ())
    first = args.get("first")
    if first is not None:
        items = items[: max(0, first)]
    return [child(r, obj, "Refund") for r in items]


def order_fulfillments(obj: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    items = list(obj.get("fulfillments", ()))
    query = args.get("query")
    if query:
        items = [f for f in items if matches(f, query)]
    first = args.get("first")
    if first is not None:
        items = items[: max(0, first)]
    return [child(f, obj, "Fulfillment") for f in items]


def matches(fulfillment: dict, query: str) -> bool:
    """created_at / updated_at comparisons (`updated_at:>'2025-05-07T08:37:00Z'`); other terms ignored."""
    for term in query.replace(" AND ", " ").split():
        name, _, rest = term.partition(":")
        if name not in ("created_at", "updated_at") or not rest:
            continue
        op = next((o for o in (">=", "<=", ">", "<") if rest.startswith(o)), "")
        try:
            value = parse_iso(rest[len(op) :].strip("'\""))[0]
        except (ValueError, TypeError):
            continue
        at = fulfillment[name]
        ok = {">=": at >= value, "<=": at <= value, ">": at > value, "<": at < value, "": at == value}[op]
        if not ok:
            return False
    return True


def current_money(name: str) -> FieldFn:
    return lambda o, a, c: money_bag(money(refund_store.current(o)[name]), o)


def current_tax_lines(obj: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    if not derived.has_tax(obj):
        return []
    return [tax_line(money(refund_store.current(obj)["tax"]), obj)]


def order_discount_applications(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    code = discounts.code_of(obj)
    if code is not None:
        return connections.list_page([discounts.code_application(obj, code)], args)
    applications = [
        discount_application(obj, position, index)
        for index, position in enumerate(derived.discounted_lines(obj))
    ]
    return connections.list_page(applications, args)


def line_discount_allocations(line: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    if cents(line["total_discount"]) == 0:
        return []
    order = line["_order"]
    code = discounts.code_of(order)
    position = line_position(line)
    application = (
        discounts.code_application(order, code)
        if code is not None
        else discount_application(order, position, discounts.application_index(order, position, None))
    )
    return [
        {"allocatedAmountSet": money_bag(line["total_discount"], order), "discountApplication": application}
    ]


ORDER: dict[str, FieldFn] = {
    "discountApplications": order_discount_applications,
    "discountCodes": lambda o, a, c: [code] if (code := discounts.code_of(o)) else [],
    "discountCode": lambda o, a, c: discounts.code_of(o),
    "customAttributes": lambda o, a, c: [
        {"key": n["name"], "value": n["value"]} for n in discounts.note_attributes(o)
    ],
    "refunds": order_refunds,
    "fulfillments": order_fulfillments,
    "fulfillmentsCount": lambda o, a, c: {"count": len(o.get("fulfillments", ())), "precision": "EXACT"},
    "currentTotalPriceSet": current_money("total"),
    "currentSubtotalPriceSet": current_money("subtotal"),
    "currentTotalTaxSet": current_money("tax"),
    "currentTotalDiscountsSet": current_money("discounts"),
    "currentShippingPriceSet": current_money("shipping"),
    "totalRefundedShippingSet": current_money("refunded_shipping"),
    "currentSubtotalLineItemsQuantity": lambda o, a, c: refund_store.current(o)["quantity"],
    "currentTaxLines": current_tax_lines,
    "fulfillable": lambda o, a, c: (
        o["cancelled_at"] is None
        and o["closed_at"] is None
        and any(unfulfilled(o, li) > 0 for li in o["line_items"])
    ),
}


# -- LineItem --------------------------------------------------------------------------------------------
def unfulfilled(order: dict, line: dict) -> int:
    """Units neither shipped nor refunded."""
    if not order.get("fulfillments") and not order.get("refunds"):
        return 0 if line["fulfillment_status"] == "fulfilled" else line["quantity"]
    shipped = fulfillment_store.fulfilled_quantities(order).get(line["id"], 0)
    return max(0, refund_store.current_quantity(order, line) - shipped)


LINE_ITEM: dict[str, FieldFn] = {
    "discountAllocations": line_discount_allocations,
    "currentQuantity": lambda li, a, c: refund_store.current_quantity(li["_order"], li),
    "refundableQuantity": lambda li, a, c: refund_store.current_quantity(li["_order"], li),
    "unfulfilledQuantity": lambda li, a, c: unfulfilled(li["_order"], li),
    "fulfillableQuantity": lambda li, a, c: unfulfilled(li["_order"], li),
}


def line_of(obj: dict, line_id: int) -> dict:
    order = obj["_order"]
    line = next((li for li in order["line_items"] if li["id"] == line_id), None)
    if line is None:  # a line removed after the refund or fulfillment: keep the reference
        line = {"id": line_id, "title": "", "variant_title": None, "quantity": 0, "price": "0.00",
                "total_discount": "0.00", "fulfillment_status": None, "sku": None, "vendor": None,
                "requires_shipping": False, "taxable": False, "gift_card": False, "variant_id": None,
                "product_id": None, "grams": 0}  # fmt: skip
    return prepare_line(dict(line), order)


# -- Refund ----------------------------------------------------------------------------------------------
def refund_line_items(refund: dict) -> list[dict]:
    return [child(item, refund["_order"], "RefundLineItem") for item in refund["refund_line_items"]]


def refund_shipping_lines(refund: dict) -> list[dict]:
    return [child(item, refund["_order"], "RefundShippingLine") for item in refund["refund_shipping_lines"]]


def refund_adjustments(refund: dict) -> list[dict]:
    return [child(item, refund["_order"], "OrderAdjustment") for item in refund["order_adjustments"]]


def refund_transactions(refund: dict) -> list[dict]:
    order = refund["_order"]
    return [prepare_transaction(tx, order) for tx in refund_store.transactions_of(order, refund)]


def page(items_of: Any) -> FieldFn:
    return lambda obj, args, ctx: connections.list_page(items_of(obj), args)


def every(items_of: Any) -> FieldFn:
    def iterate(obj: dict, args: dict, ctx: GraphQLContext) -> Iterator[dict]:
        return iter(items_of(obj))

    return iterate


def refund_total(obj: dict, args: dict, ctx: GraphQLContext) -> dict:
    """The shop money of the refund's transactions, and their presentment money as each transaction
    holds it (a sum of converted amounts, as REST shows them: converting the sum could round apart)."""
    order = obj["_order"]
    bag = money_bag(money(refund_store.refund_total(order, obj)), order)
    presentment = sum(
        cents(presentment_amount(tx["amount"], order["fx"]))
        for tx in refund_store.transactions_of(order, obj)
    )
    bag["presentmentMoney"] = {**bag["presentmentMoney"], "amount": money(presentment)}
    return bag


def location(ctx: GraphQLContext, location_id: int | None) -> dict | None:
    return tagged(load(ctx, "locations", location_id), "Location") if location_id else None


REFUND: dict[str, FieldFn] = {
    "id": lambda r, a, c: gid("Refund", r["id"]),
    "legacyResourceId": legacy_id,
    "note": key("note"),
    "createdAt": time_key("created_at"),
    # Refunds do not change once made: updatedAt is their creation (REST has no updated_at).
    "updatedAt": time_key("created_at"),
    "processedAt": time_key("processed_at"),
    "totalRefundedSet": refund_total,
    "totalRefunded": lambda r, a, c: refund_total(r, a, c)["shopMoney"],
    "order": lambda r, a, c: {**r["_order"], "__typename": "Order"},
    "staffMember": lambda r, a, c: None,
    "refundLineItems": page(refund_line_items),
    "refundShippingLines": page(refund_shipping_lines),
    "orderAdjustments": page(refund_adjustments),
    "transactions": page(refund_transactions),
}

REFUND_LINE_ITEM: dict[str, FieldFn] = {
    "discountAllocations": line_discount_allocations,
    "id": lambda i, a, c: gid("RefundLineItem", i["id"]),
    "quantity": key("quantity"),
    "restockType": lambda i, a, c: i["restock_type"].upper(),
    "restocked": lambda i, a, c: i["restock_type"] in ("return", "cancel", "legacy_restock"),
    "location": lambda i, a, c: location(c, i["location_id"]),
    "lineItem": lambda i, a, c: line_of(i, i["line_item_id"]),
    "priceSet": lambda i, a, c: money_bag(line_of(i, i["line_item_id"])["price"], i["_order"]),
    "subtotalSet": lambda i, a, c: money_bag(i["subtotal"], i["_order"]),
    "totalTaxSet": lambda i, a, c: money_bag(i["total_tax"], i["_order"]),
}


def refunded_shipping_line(item: dict) -> dict | None:
    order = item["_order"]
    line = next((s for s in order["shipping_lines"] if s["id"] == item["shipping_line_id"]), None)
    return shipping_line(line, order) if line is not None else None


REFUND_SHIPPING_LINE: dict[str, FieldFn] = {
    "id": lambda i, a, c: gid("RefundShippingLine", i["id"]),
    "shippingLine": lambda i, a, c: refunded_shipping_line(i),
    "subtotalAmountSet": lambda i, a, c: money_bag(i["subtotal_amount"], i["_order"]),
    "taxAmountSet": lambda i, a, c: money_bag(i["tax_amount"], i["_order"]),
}

ORDER_ADJUSTMENT: dict[str, FieldFn] = {
    "id": lambda i, a, c: gid("OrderAdjustment", i["id"]),
    "reason": lambda i, a, c: i["kind"].upper(),
    "amountSet": lambda i, a, c: money_bag(i["amount"], i["_order"]),
    "taxAmountSet": lambda i, a, c: money_bag(i["tax_amount"], i["_order"]),
}


# -- Fulfillment -----------------------------------------------------------------------------------------
DISPLAY = {
    None: "FULFILLED",
    "label_printed": "LABEL_PRINTED",
    "label_purchased": "LABEL_PURCHASED",
    "attempted_delivery": "ATTEMPTED_DELIVERY",
    "ready_for_pickup": "READY_FOR_PICKUP",
    "confirmed": "CONFIRMED",
    "in_transit": "IN_TRANSIT",
    "out_for_delivery": "OUT_FOR_DELIVERY",
    "delivered": "DELIVERED",
    "failure": "FAILURE",
}


def display_status(f: dict) -> str:
    if f["status"] == "cancelled":
        return "CANCELED"
    return DISPLAY.get(f["shipment_status"], "FULFILLED")


def fulfillment_line_items(f: dict) -> list[dict]:
    return [child(item, f["_order"], "FulfillmentLineItem") for item in f["line_items"]]


def tracking_info(f: dict, args: dict, ctx: GraphQLContext) -> list[dict]:
    if f["tracking_number"] is None and f["tracking_company"] is None:
        return []
    return [{"company": f["tracking_company"], "number": f["tracking_number"], "url": f["tracking_url"]}]


FULFILLMENT: dict[str, FieldFn] = {
    "id": lambda f, a, c: gid("Fulfillment", f["id"]),
    "legacyResourceId": legacy_id,
    "name": lambda f, a, c: fulfillment_name(f["_order"], f),
    "status": lambda f, a, c: f["status"].upper(),
    "displayStatus": lambda f, a, c: display_status(f),
    "createdAt": time_key("created_at"),
    "updatedAt": time_key("updated_at"),
    "deliveredAt": lambda f, a, c: (
        time_key("updated_at")(f, a, c) if f["shipment_status"] == "delivered" else None
    ),
    "inTransitAt": lambda f, a, c: None,
    "estimatedDeliveryAt": lambda f, a, c: None,
    "totalQuantity": lambda f, a, c: sum(item["quantity"] for item in f["line_items"]),
    "requiresShipping": lambda f, a, c: True,
    "trackingInfo": tracking_info,
    "fulfillmentLineItems": page(fulfillment_line_items),
    "location": lambda f, a, c: location(c, f["location_id"]),
    "service": lambda f, a, c: {"handle": "manual", "serviceName": "Manual"},
    "order": lambda f, a, c: {**f["_order"], "__typename": "Order"},
}


def line_cents(item: dict) -> tuple[int, int]:
    line = line_of(item, item["line_item_id"])
    quantity = max(1, line["quantity"])
    gross = cents(line["price"]) * item["quantity"]
    return gross, gross - cents(line["total_discount"]) * item["quantity"] // quantity


FULFILLMENT_LINE_ITEM: dict[str, FieldFn] = {
    "discountAllocations": line_discount_allocations,
    "id": lambda i, a, c: gid("FulfillmentLineItem", i["id"]),
    "quantity": key("quantity"),
    "lineItem": lambda i, a, c: line_of(i, i["line_item_id"]),
    "originalTotalSet": lambda i, a, c: money_bag(money(line_cents(i)[0]), i["_order"]),
    "discountedTotalSet": lambda i, a, c: money_bag(money(line_cents(i)[1]), i["_order"]),
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    "Order": ORDER,
    "LineItem": LINE_ITEM,
    "Refund": REFUND,
    "RefundLineItem": REFUND_LINE_ITEM,
    "RefundShippingLine": REFUND_SHIPPING_LINE,
    "OrderAdjustment": ORDER_ADJUSTMENT,
    "Fulfillment": FULFILLMENT,
    "FulfillmentLineItem": FULFILLMENT_LINE_ITEM,
}

# Connections under the Refund / Fulfillment lists, expanded into child lines in bulk (their
# `__parentId` is the order: the nearest connection node, contract §8.13's simulator rule).
NESTED_CONNECTIONS: dict[str, dict[str, FieldFn]] = {
    "Refund": {
        "refundLineItems": every(refund_line_items),
        "refundShippingLines": every(refund_shipping_lines),
        "orderAdjustments": every(refund_adjustments),
        "transactions": every(refund_transactions),
    },
    "Fulfillment": {"fulfillmentLineItems": every(fulfillment_line_items)},
}


def node(ctx: GraphQLContext, type_name: str, number: int) -> dict | None:
    """`node(id:)` of a Refund or Fulfillment, through the order holding it (null once it is gone or
    outside the 60-day window)."""
    ctx.require("read_orders", "node")
    order = load(ctx, "orders", ctx.store.child_order_id(number))
    if order is None:
        return None
    key_name = "refunds" if type_name == "Refund" else "fulfillments"
    found = next((c for c in order.get(key_name, ()) if c["id"] == number), None)
    return child(found, tagged(order, "Order"), type_name) if found is not None else None


NODE_TYPES = ("Refund", "Fulfillment")
