"""Discount codes and note attributes of an order (contract §8.5), derived from the order's id and its
discounted lines (no stored data), so REST, GraphQL, bulk, webhooks and the truth's full record agree.

Some orders' line discounts came from a discount code (one `discount_code` application, allocated across
the discounted lines, index 0); the others' are manual, one application per discounted line (as before).
A few orders carry note attributes (REST `note_attributes` `{name, value}`, GraphQL `customAttributes`
`{key, value}`)."""

from __future__ import annotations

from typing import Any

from shopify_sim.render import derived

CODES = ("SAVE10", "WELCOME10", "SPRING10", "VIP10")
CODE_SHARE_TENTHS = 4  # of orders with discounted lines
ATTRIBUTES = (
    ("gift_message", "Happy birthday!"),
    ("delivery_instructions", "Leave at the back door"),
    ("gift_wrap", "yes"),
)


def code_of(order: dict[str, Any]) -> str | None:
    if not derived.discounted_lines(order):
        return None
    digest = derived._digest("discount-code", order["id"])
    return CODES[digest[1] % len(CODES)] if digest[0] % 10 < CODE_SHARE_TENTHS else None


def code_percent(order: dict[str, Any]) -> float:
    return derived.discount_percent(order["line_items"][derived.discounted_lines(order)[0]])


def application_index(order: dict[str, Any], position: int, code: str | None) -> int:
    """The index of the application a discounted line's allocation points at."""
    return 0 if code else derived.discounted_lines(order).index(position)


def note_attributes(order: dict[str, Any]) -> list[dict[str, str]]:
    digest = derived._digest("note-attributes", order["id"])
    if digest[0] % 100 >= 12:
        return []
    count = 1 + digest[1] % 2
    return [{"name": name, "value": value} for name, value in ATTRIBUTES[digest[2] % 2 :][:count]]


# -- REST --------------------------------------------------------------------------------------------------
def apply_rest(rendered: dict[str, Any], order: dict[str, Any]) -> None:
    """Set the REST order's discount codes, applications, line allocations and note attributes."""
    rendered["note_attributes"] = note_attributes(order)
    code = code_of(order)
    if code is None:
        return
    percent = code_percent(order)
    rendered["discount_codes"] = [{"code": code, "amount": order["total_discounts"], "type": "percentage"}]
    rendered["discount_applications"] = [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": f"{percent:.1f}",
            "value_type": "percentage",
            "allocation_method": "across",
            "target_selection": "entitled",
            "code": code,
        }
    ]
    for line in rendered["line_items"]:
        for allocation in line["discount_allocations"]:
            allocation["discount_application_index"] = 0


# -- GraphQL -----------------------------------------------------------------------------------------------
def code_application(order: dict[str, Any], code: str) -> dict[str, Any]:
    return {
        "__typename": "DiscountCodeApplication",
        "allocationMethod": "ACROSS",
        "index": 0,
        "targetSelection": "ENTITLED",
        "targetType": "LINE_ITEM",
        "value": {"__typename": "PricingPercentageValue", "percentage": code_percent(order)},
        "code": code,
    }
