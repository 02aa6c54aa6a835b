"""An order's refunds and fulfillments as REST renders them, for the REST routes and the webhooks.

Apart from the routes (rest_order_children.py) so the shop's webhook dispatch can use it without
reaching the control routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopify_sim.render import rest as render

if TYPE_CHECKING:
    import sqlite3

    from shopify_sim.shops import ShopState


def rendered_order(shop: ShopState, order: dict[str, Any], conn: sqlite3.Connection | None = None) -> dict:
    customers = None
    if order.get("customer_id"):
        customers = shop.store.get_many("customers", [order["customer_id"]])
    references = render.live_references(shop.store, [order], conn)
    return render.render("orders", order, shop.offset_minutes, customers, references, domain=shop.domain)


def payload(shop: ShopState, kind: str, order: dict[str, Any], child_id: int) -> dict[str, Any]:
    """The REST refund / fulfillment of a webhook (`kind`: refunds or fulfillments)."""
    return next(c for c in rendered_order(shop, order)[kind] if c["id"] == child_id)
