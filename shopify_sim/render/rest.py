"""Canonical record -> REST / webhook JSON (contract §6): numeric ids, money strings, `tags` as one
comma-and-space string, timestamps in the shop's UTC offset, `admin_graphql_api_id` on every object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopify_sim.gid import gid
from shopify_sim.render import derived, discounts, order_children
from shopify_sim.store import customers_extra, media
from shopify_sim.store import fulfillments as fulfillment_store
from shopify_sim.store import refunds as refund_store
from shopify_sim.store.records import cents, money
from shopify_sim.timeutil import iso_offset

if TYPE_CHECKING:
    import sqlite3

    from shopify_sim.store.db import Store

REST_VARIANT_CAP = 100  # REST returns at most 100 variants per product (contract §3.1).


@dataclass(frozen=True)
class LiveReferences:
    """The variants and products a set of orders' line items point at that still exist. Shopify keeps a
    line item's text (title, sku, vendor) when its variant or product is deleted, but its `variant_id` /
    `product_id` become null (contract §6.1), as GraphQL's `LineItem.variant` / `product` do; and the
    order's `updated_at` does not move. So the ids are decided when rendering, not stored."""

    variant_ids: frozenset[int] = field(default_factory=frozenset)
    product_ids: frozenset[int] = field(default_factory=frozenset)


def live_references(
    store: Store, orders: Sequence[dict[str, Any]], conn: sqlite3.Connection | None = None
) -> LiveReferences:
    """What `orders`' line items still point at; `conn` to read inside a snapshot (the truth)."""
    lines = [line for order in orders for line in order["line_items"]]
    return LiveReferences(
        variant_ids=frozenset(store.existing_ids("variants", [li["variant_id"] for li in lines], conn)),
        product_ids=frozenset(store.existing_ids("products", [li["product_id"] for li in lines], conn)),
    )


def money_set(amount: str, currency: str, presentment: str, fx: float) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": presentment_amount(amount, fx), "currency_code": presentment},
    }


def presentment_amount(amount: str, fx: float) -> str:
    return amount if fx == 1.0 else money(round(cents(amount) * fx))


def address(
    data: dict[str, Any] | None, customer_id: int | None = None, default: bool = False
) -> dict | None:
    if data is None:
        return None
    first, last = data.get("first_name"), data.get("last_name")
    rendered = {
        "first_name": first,
        "last_name": last,
        "name": " ".join(p for p in (first, last) if p),
        "company": data.get("company"),
        "address1": data.get("address1"),
        "address2": data.get("address2"),
        "city": data.get("city"),
        "province": data.get("province"),
        "province_code": data.get("province_code"),
        "country": data.get("country"),
        "country_code": data.get("country_code"),
        "country_name": data.get("country"),
        "zip": data.get("zip"),
        "phone": data.get("phone"),
    }
    if customer_id is not None:
        rendered = {"id": data["id"], "customer_id": customer_id, **rendered, "default": default}
    else:
        rendered["latitude"] = None
        rendered["longitude"] = None
    return rendered


def email_marketing_consent(record: dict[str, Any], offset: int) -> dict[str, Any] | None:
    consent = customers_extra.email_consent(record)
    if consent is None:
        return None
    return {
        "state": consent["state"],
        "opt_in_level": consent["opt_in_level"],
        "consent_updated_at": iso_offset(consent["updated_at"], offset),
    }


def sms_marketing_consent(record: dict[str, Any], offset: int) -> dict[str, Any] | None:
    consent = customers_extra.sms_consent(record)
    if consent is None:
        return None
    return {
        "state": consent["state"],
        "opt_in_level": consent["opt_in_level"],
        "consent_updated_at": iso_offset(consent["updated_at"], offset),
        "consent_collected_from": consent["collected_from"],
    }


def customer(record: dict[str, Any], offset: int, embedded: bool = False) -> dict[str, Any]:
    cid = record["id"]
    default_id = record.get("default_address_id")
    addresses = [address(a, cid, a["id"] == default_id) for a in record["addresses"]]
    default = next((a for a in addresses if a and a["default"]), None)
    rendered: dict[str, Any] = {
        "id": cid,
        "email": record["email"],
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "first_name": record["first_name"],
        "last_name": record["last_name"],
        "state": record["state"],
        "note": record["note"],
        "verified_email": record["verified_email"],
        "multipass_identifier": None,
        "tax_exempt": record["tax_exempt"],
        "phone": record["phone"],
        "currency": record["currency"],
        "tax_exemptions": [],
        "admin_graphql_api_id": gid("Customer", cid),
        "default_address": default,
    }
    if embedded:
        # Since 2022-10 the customer inside an order has no orders_count/total_spent (contract §3.1).
        return rendered
    rendered.update(
        {
            "orders_count": record["orders_count"],
            "total_spent": record["total_spent"],
            "last_order_id": record["last_order_id"],
            "last_order_name": record["last_order_name"],
            "tags": ", ".join(record["tags"]),
            "email_marketing_consent": email_marketing_consent(record, offset),
            "sms_marketing_consent": sms_marketing_consent(record, offset),
            "addresses": addresses[:10],
        }
    )
    return rendered


def tax_line(amount: str, rate: float, currency: str, presentment: str, fx: float) -> dict[str, Any]:
    return {
        "title": derived.TAX_TITLE,
        "price": amount,
        "rate": rate,
        "price_set": money_set(amount, currency, presentment, fx),
        "channel_liable": False,
    }


def line_item(
    line: dict[str, Any],
    order: dict[str, Any],
    references: LiveReferences,
    tax_cents: int = 0,
    discount_index: int | None = None,
) -> dict[str, Any]:
    currency, presentment, fx = order["currency"], order["presentment_currency"], order["fx"]
    quantity = line["quantity"]
    variant_id = line["variant_id"] if line["variant_id"] in references.variant_ids else None
    product_id = line["product_id"] if line["product_id"] in references.product_ids else None
    fulfilled = line["fulfillment_status"] == "fulfilled"
    name = line["title"] + (f" - {line['variant_title']}" if line["variant_title"] else "")
    return {
        "id": line["id"],
        "admin_graphql_api_id": gid("LineItem", line["id"]),
        "variant_id": variant_id,
        "product_id": product_id,
        "sku": line["sku"],
        "title": line["title"],
        "variant_title": line["variant_title"],
        "name": name,
        "vendor": line["vendor"],
        "quantity": quantity,
        "current_quantity": quantity,
        "fulfillable_quantity": 0 if fulfilled else quantity,
        "fulfillment_status": line["fulfillment_status"],
        "price": line["price"],
        "price_set": money_set(line["price"], currency, presentment, fx),
        "total_discount": line["total_discount"],
        "total_discount_set": money_set(line["total_discount"], currency, presentment, fx),
        "grams": line["grams"],
        "taxable": line["taxable"],
        "requires_shipping": line["requires_shipping"],
        "gift_card": line["gift_card"],
        "product_exists": product_id is not None,
        "properties": [],
        "tax_lines": [tax_line(money(tax_cents), derived.tax_rate(order), currency, presentment, fx)]
        if derived.has_tax(order)
        else [],
        "discount_allocations": []
        if discount_index is None
        else [
            {
                "amount": line["total_discount"],
                "amount_set": money_set(line["total_discount"], currency, presentment, fx),
                "discount_application_index": discount_index,
            }
        ],
        "duties": [],
    }


ORDER_MONEY = (
    "total_price",
    "subtotal_price",
    "total_tax",
    "total_discounts",
    "total_line_items_price",
)


def discount_applications(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One manual, line-targeted percentage discount per discounted line (the store's discounts)."""
    applications = []
    for position in derived.discounted_lines(record):
        percent = derived.discount_percent(record["line_items"][position])
        applications.append(
            {
                "target_type": "line_item",
                "type": "manual",
                "value": f"{percent:.1f}",
                "value_type": "percentage",
                "allocation_method": "one",
                "target_selection": "explicit",
                "title": f"{percent:g}% off",
                "description": f"{percent:g}% off",
            }
        )
    return applications


def order(
    record: dict[str, Any],
    offset: int,
    customer_record: dict | None,
    references: LiveReferences,
    domain: str = "",
) -> dict[str, Any]:
    currency, presentment, fx = record["currency"], record["presentment_currency"], record["fx"]
    number = record["number"]
    rendered: dict[str, Any] = {
        "id": record["id"],
        "admin_graphql_api_id": gid("Order", record["id"]),
        "name": f"#{number + 1000}",
        "number": number,
        "order_number": number + 1000,
        "email": record["email"],
        "contact_email": record["email"],
        "phone": record["phone"],
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "processed_at": iso_offset(record["processed_at"], offset),
        "cancelled_at": iso_offset(record["cancelled_at"], offset),
        "cancel_reason": record["cancel_reason"],
        "closed_at": iso_offset(record["closed_at"], offset),
        "test": record["test"],
        "confirmed": record["confirmed"],
        "financial_status": record["financial_status"],
        "fulfillment_status": record["fulfillment_status"],
        "currency": currency,
        "presentment_currency": presentment,
        "taxes_included": record["taxes_included"],
        "tax_exempt": False,
        "total_weight": record["total_weight"],
        "tags": ", ".join(record["tags"]),
        "note": record["note"],
        "note_attributes": [],
        "source_name": record["source_name"],
        "payment_gateway_names": record["payment_gateway_names"],
        "discount_codes": [],
        "billing_address": address(record["billing_address"]),
        "shipping_address": address(record["shipping_address"]),
        "customer": customer(customer_record, offset, embedded=True) if customer_record else None,
    }
    paid = derived.payments(record)

    def bag(amount: str) -> dict[str, Any]:
        return money_set(amount, currency, presentment, fx)

    for key in ORDER_MONEY:
        rendered[key] = record[key]
        rendered[f"{key}_set"] = bag(record[key])
        if key != "total_line_items_price":
            rendered[f"current_{key}"] = record[key]
            rendered[f"current_{key}_set"] = bag(record[key])
    if record.get("refunds"):
        # Refunded units and shipping lower the current totals (contract §8.5).
        for key, value in order_children.refunded_money(record).items():
            rendered[key] = value
            rendered[f"{key}_set"] = bag(value)
    zero = bag("0.00")
    rendered.update(
        {
            "total_shipping_price_set": bag(record["total_shipping"]),
            "total_outstanding": money(paid["outstanding"]),
            "total_tip_received": money(paid["tip"]),
            "current_total_additional_fees_set": None,
            "current_total_duties_set": None,
            "original_total_additional_fees_set": None,
            "original_total_duties_set": None,
            "total_cash_rounding_payment_adjustment_set": zero,
            "total_cash_rounding_refund_adjustment_set": zero,
            "duties_included": False,
            "estimated_taxes": False,
            "tax_lines": [tax_line(record["total_tax"], derived.tax_rate(record), currency, presentment, fx)]
            if derived.has_tax(record)
            else [],
            "discount_applications": discount_applications(record),
            "token": derived.order_token(record["id"]),
            "confirmation_number": derived.confirmation_number(record["id"]),
            "order_status_url": derived.status_page_url(domain, record["id"]) if domain else None,
            "client_details": None,
            "browser_ip": None,
            "buyer_accepts_marketing": False,
            "cart_token": None,
            "checkout_id": None,
            "checkout_token": None,
            "company": None,
            "customer_locale": "en",
            "device_id": None,
            "landing_site": None,
            "landing_site_ref": None,
            "location_id": None,
            "merchant_of_record_app_id": None,
            "payment_terms": None,
            "po_number": None,
            "reference": None,
            "referring_site": None,
            "source_identifier": None,
            "source_url": None,
            "user_id": None,
            "app_id": None,
        }
    )
    rendered["line_items"] = order_line_items(record, references)
    rendered["shipping_lines"] = [
        {
            "id": s["id"],
            "title": s["title"],
            "code": s["code"],
            "price": s["price"],
            "discounted_price": s["price"],
            "source": "shopify",
            "price_set": money_set(s["price"], currency, presentment, fx),
            "discounted_price_set": money_set(s["price"], currency, presentment, fx),
            "carrier_identifier": None,
            "phone": None,
            "requested_fulfillment_service_id": None,
            "delivery_category": None,
            "is_removed": False,
            "tax_lines": [],
            "discount_allocations": [],
        }
        for s in record["shipping_lines"]
    ]
    discounts.apply_rest(rendered, record)
    rendered.update(order_refunds_and_fulfillments(record, offset, rendered["line_items"]))
    rendered["returns"] = []
    return rendered


def order_line_items(record: dict[str, Any], references: LiveReferences) -> list[dict[str, Any]]:
    """The REST order's `line_items`, their current and fulfillable quantities after its refunds and
    fulfillments, their discount allocations pointing at the code's application (`apply_rest`)."""
    taxes = derived.line_tax_cents(record)
    discounted = {position: index for index, position in enumerate(derived.discounted_lines(record))}
    rendered = [
        line_item(line, record, references, taxes[i], discounted.get(i))
        for i, line in enumerate(record["line_items"])
    ]
    if record.get("refunds") or record.get("fulfillments"):
        refunded = refund_store.refunded_quantities(record)
        shipped = fulfillment_store.fulfilled_quantities(record)
        for line in rendered:
            line["current_quantity"] = line["quantity"] - refunded.get(line["id"], 0)
            line["fulfillable_quantity"] = max(0, line["current_quantity"] - shipped.get(line["id"], 0))
    if discounts.code_of(record) is not None:
        for line in rendered:
            for allocation in line["discount_allocations"]:
                allocation["discount_application_index"] = 0
    return rendered


def order_refunds_and_fulfillments(
    record: dict[str, Any], offset: int, line_items: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The REST order's `fulfillments` and `refunds` (their line items embed the order's `line_items`)."""
    currency, presentment, fx = record["currency"], record["presentment_currency"], record["fx"]
    lines = {line["id"]: line for line in line_items}

    def bag(amount: str) -> dict[str, Any]:
        return money_set(amount, currency, presentment, fx)

    return {
        "fulfillments": [
            order_children.fulfillment(f, record, offset, lines) for f in record.get("fulfillments", ())
        ],
        "refunds": [
            order_children.refund(r, record, offset, bag, lines, lambda tx: transaction(tx, record, offset))
            for r in record.get("refunds", ())
        ],
    }


# The fields of a REST order that `order_fields` renders alone; any other field asked renders the order
# whole (then trimmed). `orders.json?ids=…&fields=id,refunds,fulfillments` is how a client reads the
# parts a bulk export cannot carry (contract §8.13), 250 orders a call: rendering each order whole
# for three fields made that call cost 3-4 ms an order.
PARTIAL_ORDER_FIELDS = frozenset({"id", "admin_graphql_api_id", "line_items", "refunds", "fulfillments"})


def order_fields(
    record: dict[str, Any], offset: int, references: LiveReferences, wanted: Sequence[str]
) -> dict[str, Any]:
    """The REST order's `wanted` fields (a subset of `PARTIAL_ORDER_FIELDS`), in the order `wanted`
    names them, exactly as the whole order trimmed to them."""
    rendered: dict[str, Any] = {"id": record["id"], "admin_graphql_api_id": gid("Order", record["id"])}
    if {"line_items", "refunds", "fulfillments"} & set(wanted):
        rendered["line_items"] = order_line_items(record, references)
        if {"refunds", "fulfillments"} & set(wanted):
            rendered.update(order_refunds_and_fulfillments(record, offset, rendered["line_items"]))
    return {key: rendered[key] for key in wanted if key in rendered}


def transaction(
    tx: dict[str, Any], order_record: dict[str, Any], offset: int, in_shop_currency: bool = False
) -> dict[str, Any]:
    """A REST / webhook transaction (contract §8.2). `amount` is in the transaction's currency, the
    order's presentment currency, unless `in_shop_currency` (the REST list's parameter) asks for the
    shop's. Card details, receipt and payment id are fixed per order, not stored."""
    fx = 1.0 if in_shop_currency else order_record["fx"]
    currency = order_record["currency"] if in_shop_currency else order_record["presentment_currency"]
    shop_money = {"amount": "0.00", "currency_code": order_record["currency"]}
    details = derived.card_of(order_record["id"]) if tx["gateway"] in derived.CARD_GATEWAYS else None
    return {
        "id": tx["id"],
        "admin_graphql_api_id": gid("OrderTransaction", tx["id"]),
        "order_id": order_record["id"],
        "kind": tx["kind"],
        "gateway": tx["gateway"],
        "status": tx["status"],
        "message": derived.transaction_message(tx),
        "created_at": iso_offset(tx["created_at"], offset),
        "processed_at": iso_offset(tx["processed_at"], offset),
        "test": order_record["test"],
        "authorization": tx["authorization"],
        "authorization_expires_at": iso_offset(tx["authorization_expires_at"], offset),
        "location_id": None,
        "user_id": None,
        "parent_id": tx["parent_id"],
        "device_id": None,
        "error_code": tx["error_code"],
        "source_name": order_record["source_name"],
        "receipt": derived.transaction_receipt(tx),
        "amount": presentment_amount(tx["amount"], fx),
        "currency": currency,
        "amount_rounding": None,
        "payment_id": derived.payment_id(order_record, tx),
        "manual_payment_gateway": tx["gateway"] == "manual",
        "total_unsettled_set": {
            "shop_money": shop_money,
            "presentment_money": {"amount": "0.00", "currency_code": order_record["presentment_currency"]},
        },
        "currency_exchange_adjustment": None,
        **({"payment_details": derived.rest_payment_details(details)} if details else {}),
    }


def variant(data: dict[str, Any], offset: int) -> dict[str, Any]:
    return {
        "id": data["id"],
        "product_id": data["product_id"],
        "admin_graphql_api_id": gid("ProductVariant", data["id"]),
        "title": data["title"],
        "sku": data["sku"],
        "price": data["price"],
        "compare_at_price": data["compare_at_price"],
        "position": data["position"],
        "inventory_policy": data["inventory_policy"],
        "inventory_management": data["inventory_management"],
        "inventory_quantity": data["inventory_quantity"],
        "old_inventory_quantity": data["inventory_quantity"],
        "inventory_item_id": data["id"] + 1_000_000_000_000,
        "option1": data["option1"] or "Default Title",
        "option2": data["option2"],
        "option3": data["option3"],
        "barcode": data["barcode"],
        "grams": data["grams"],
        "weight": round(data["grams"] / 1000, 3),
        "weight_unit": "kg",
        "taxable": data["taxable"],
        "requires_shipping": data["requires_shipping"],
        "fulfillment_service": "manual",
        "image_id": None,
        "created_at": iso_offset(data["created_at"], offset),
        "updated_at": iso_offset(data["updated_at"], offset),
    }


def product(
    record: dict[str, Any], offset: int, variant_cap: int | None = REST_VARIANT_CAP
) -> dict[str, Any]:
    pid = record["id"]
    variants = record["variants"] if variant_cap is None else record["variants"][:variant_cap]
    images = media.media_of(record)
    rendered_images = [image(item, pid, offset) for item in images]
    return {
        "id": pid,
        "admin_graphql_api_id": gid("Product", pid),
        "title": record["title"],
        "body_html": record["body_html"],
        "vendor": record["vendor"],
        "product_type": record["product_type"],
        "handle": record["handle"],
        "status": record["status"],
        "tags": ", ".join(record["tags"]),
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "published_at": iso_offset(record["published_at"], offset),
        "published_scope": "web",
        "template_suffix": None,
        "options": [{"id": pid * 10 + o["position"], "product_id": pid, **o} for o in record["options"]],
        "variants": [
            {**variant(v, offset), "image_id": media.variant_image_id(record, v["id"], images)}
            for v in variants
        ],
        "images": rendered_images,
        "image": rendered_images[0] if rendered_images else None,
    }


def image(item: dict[str, Any], product_id: int, offset: int) -> dict[str, Any]:
    """REST `images[]` (contract §6.3): in position order, with the variants that show it."""
    return {
        "id": item["id"],
        "alt": item["alt"],
        "position": item["position"],
        "product_id": product_id,
        "created_at": iso_offset(item["created_at"], offset),
        "updated_at": iso_offset(item["created_at"], offset),
        "admin_graphql_api_id": gid("ProductImage", item["id"]),
        "width": item["width"],
        "height": item["height"],
        "src": item["src"],
        "variant_ids": list(item["variant_ids"]),
    }


def render(
    resource: str,
    record: dict[str, Any],
    offset: int,
    customers: dict[int, dict] | None = None,
    references: LiveReferences | None = None,
    domain: str = "",
) -> dict:
    """`customers` and `references` are required for orders (see `Store.order_context`)."""
    if resource == "orders":
        assert references is not None, "orders render their line items' live references"
        customer_record = (customers or {}).get(record["customer_id"]) if record["customer_id"] else None
        return order(record, offset, customer_record, references, domain)
    if resource == "customers":
        return customer(record, offset)
    return product(record, offset)
