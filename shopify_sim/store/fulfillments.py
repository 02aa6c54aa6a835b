"""Fulfillments (contract §8.4): what was shipped of an order, consistent with its fulfillment status
(a `fulfilled` order's successful fulfillments cover every unit, a `partial` one's some).

A canonical fulfillment lives in its order's `fulfillments` list (creation order, ids growing):
`{id, status (success|cancelled), created_at, updated_at, location_id, tracking_company,
tracking_number, tracking_url, shipment_status, line_items: [{id, line_item_id, quantity}]}`. A cancelled
fulfillment stays on the order (there is no delete topic); only successful ones count as fulfilled.
"""

from __future__ import annotations

import random
from typing import Any

from shopify_sim.store.records import Ids

CARRIERS = (
    ("UPS", "1Z{n}", "https://www.ups.com/track?tracknum={number}"),
    ("USPS", "9400{n}", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
    ("FedEx", "7{n}", "https://www.fedex.com/fedextrack/?trknbr={number}"),
    ("DHL Express", "JD{n}", "https://www.dhl.com/en/express/tracking.html?AWB={number}"),
    ("Canada Post", "CP{n}", "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{number}"),
)
SHIPMENT_STEPS = (None, "label_printed", "in_transit", "out_for_delivery", "delivered")
CANCELLED_FIRST_SHARE = 0.04
UNTRACKED_SHARE = 0.1


class FulfillmentError(ValueError):
    pass


def fulfilled_quantities(order: dict[str, Any]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for fulfillment in order.get("fulfillments", ()):
        if fulfillment["status"] == "success":
            for item in fulfillment["line_items"]:
                counts[item["line_item_id"]] = counts.get(item["line_item_id"], 0) + item["quantity"]
    return counts


def refunded_quantities(order: dict[str, Any]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for refund in order.get("refunds", ()):
        for item in refund["refund_line_items"]:
            counts[item["line_item_id"]] = counts.get(item["line_item_id"], 0) + item["quantity"]
    return counts


def line_status(line: dict[str, Any], fulfilled: int, refunded: int = 0) -> str | None:
    if fulfilled <= 0:
        return None
    return "fulfilled" if fulfilled >= line["quantity"] - refunded else "partial"


def settle_statuses(order: dict[str, Any]) -> None:
    """Line and order fulfillment statuses from the successful fulfillments: a line is fulfilled once
    its units not refunded are shipped; the order once every line is (a line refunded in full and never
    shipped does not count)."""
    counts = fulfilled_quantities(order)
    refunded = refunded_quantities(order)
    statuses = []
    for line in order["line_items"]:
        gone = refunded.get(line["id"], 0)
        line["fulfillment_status"] = line_status(line, counts.get(line["id"], 0), gone)
        if line["fulfillment_status"] is not None or gone < line["quantity"]:
            statuses.append(line["fulfillment_status"])
    if statuses and all(s == "fulfilled" for s in statuses):
        order["fulfillment_status"] = "fulfilled"
    elif any(statuses):
        order["fulfillment_status"] = "partial"
    else:
        order["fulfillment_status"] = None


def tracking(rng: random.Random) -> dict[str, Any]:
    if rng.random() < UNTRACKED_SHARE:
        return {"tracking_company": None, "tracking_number": None, "tracking_url": None}
    company, pattern, url = rng.choice(CARRIERS)
    number = pattern.format(n=rng.randint(10**11, 10**12 - 1))
    return {"tracking_company": company, "tracking_number": number, "tracking_url": url.format(number=number)}


def make(
    rng: random.Random,
    ids: Ids,
    units: list[tuple[dict[str, Any], int]],
    at: int,
    updated_at: int,
    location_id: int | None,
    status: str = "success",
) -> dict[str, Any]:
    shipment = rng.choice(SHIPMENT_STEPS) if status == "success" else None
    return {
        "id": ids.fulfillment.next(rng),
        "status": status,
        "created_at": at,
        "updated_at": max(at, updated_at),
        "location_id": location_id,
        **tracking(rng),
        "shipment_status": shipment,
        "line_items": [
            {"id": ids.fulfillment_line_item.next(rng), "line_item_id": line["id"], "quantity": count}
            for line, count in units
        ],
    }


def between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low)) if high > low else low


def generate(rng: random.Random, ids: Ids, order: dict[str, Any], location_id: int | None) -> None:
    """The generated history: a `fulfilled` order's units all shipped (in one fulfillment, or two for
    some orders of several lines, sometimes after a cancelled attempt), a `partial` one's some of them;
    dated between the order's creation and its last update."""
    status = order["fulfillment_status"]
    order["fulfillments"] = []
    if status not in ("fulfilled", "partial"):
        return
    lines = order["line_items"]
    start, end = order["created_at"], order["closed_at"] or order["updated_at"]
    end = min(end, order["updated_at"])
    if status == "fulfilled":
        units = [(line, line["quantity"]) for line in lines]
    elif len(lines) > 1:
        chosen = sorted(rng.sample(range(len(lines)), rng.randint(1, len(lines) - 1)))
        units = [(lines[i], lines[i]["quantity"]) for i in chosen]
    elif lines[0]["quantity"] > 1:
        units = [(lines[0], rng.randint(1, lines[0]["quantity"] - 1))]
    else:
        return  # one unit cannot be partly shipped: the status stays, with no fulfillment (README)
    at = between(rng, start, end)
    if rng.random() < CANCELLED_FIRST_SHARE:
        cancelled = make(rng, ids, units, at, at, location_id, status="cancelled")
        cancelled["updated_at"] = at = between(rng, at, end)
        order["fulfillments"].append(cancelled)
    if status == "fulfilled" and len(units) > 1 and rng.random() < 0.25:
        split = rng.randint(1, len(units) - 1)
        second = between(rng, at, end)
        order["fulfillments"].append(make(rng, ids, units[:split], at, between(rng, at, end), location_id))
        order["fulfillments"].append(
            make(rng, ids, units[split:], second, between(rng, second, end), location_id)
        )
    else:
        order["fulfillments"].append(make(rng, ids, units, at, between(rng, at, end), location_id))
    settle_statuses(order)


# -- run-time changes (change generator, control API) ----------------------------------------------------
def fulfill(
    rng: random.Random,
    ids: Ids,
    order: dict[str, Any],
    at: int,
    location_id: int | None,
    partial: bool = False,
) -> dict[str, Any]:
    """Ship what is left to ship (`partial`: the first remaining line only, one unit fewer if it can)."""
    if order["cancelled_at"] is not None:
        raise FulfillmentError("cannot fulfill a cancelled order")
    counts = fulfilled_quantities(order)
    refunded = refunded_quantities(order)
    units = []
    for line in order["line_items"]:
        left = line["quantity"] - counts.get(line["id"], 0) - refunded.get(line["id"], 0)
        if left > 0:
            units.append((line, left))
    if not units:
        raise FulfillmentError("nothing to fulfill: every unit is fulfilled or refunded")
    if partial:
        line, left = units[0]
        units = [(line, left - 1 if left > 1 else left)]
    fulfillment = make(rng, ids, units, at, at, location_id)
    order.setdefault("fulfillments", []).append(fulfillment)
    settle_statuses(order)
    return fulfillment


def latest_success(order: dict[str, Any]) -> dict[str, Any]:
    found = [f for f in order.get("fulfillments", ()) if f["status"] == "success"]
    if not found:
        raise FulfillmentError("the order has no successful fulfillment")
    return found[-1]


def advance_tracking(rng: random.Random, order: dict[str, Any], at: int) -> dict[str, Any]:
    """The latest fulfillment's shipment moves one step (and gets a tracking number if it had none)."""
    fulfillment = latest_success(order)
    if fulfillment["tracking_number"] is None:
        fulfillment.update(tracking(rng))
        if fulfillment["tracking_number"] is None:
            company, pattern, url = CARRIERS[0]
            number = pattern.format(n=rng.randint(10**11, 10**12 - 1))
            fulfillment.update(
                tracking_company=company, tracking_number=number, tracking_url=url.format(number=number)
            )
    step = SHIPMENT_STEPS.index(fulfillment["shipment_status"]) if fulfillment["shipment_status"] else 0
    fulfillment["shipment_status"] = SHIPMENT_STEPS[min(step + 1, len(SHIPMENT_STEPS) - 1)]
    fulfillment["updated_at"] = max(at, fulfillment["updated_at"] + 1)
    return fulfillment


def cancel(order: dict[str, Any], at: int) -> dict[str, Any]:
    fulfillment = latest_success(order)
    fulfillment["status"] = "cancelled"
    fulfillment["shipment_status"] = None
    fulfillment["updated_at"] = max(at, fulfillment["updated_at"] + 1)
    settle_statuses(order)
    return fulfillment


def snapshot(order: dict[str, Any]) -> dict[int, int]:
    return {f["id"]: f["updated_at"] for f in order.get("fulfillments", ())}


def changes(order: dict[str, Any], before: dict[int, int]) -> list[tuple[str, dict[str, Any]]]:
    """(topic, fulfillment) for each fulfillment created or changed since `before`."""
    found = []
    for fulfillment in order.get("fulfillments", ()):
        if fulfillment["id"] not in before:
            found.append(("fulfillments/create", fulfillment))
        elif before[fulfillment["id"]] != fulfillment["updated_at"]:
            found.append(("fulfillments/update", fulfillment))
    return found
