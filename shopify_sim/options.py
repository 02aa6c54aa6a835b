"""Options of a simulated shop (generator inputs and API settings) and of the server."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCOPES = (
    "read_orders",
    "write_orders",
    "read_all_orders",
    "read_customers",
    "write_customers",
    "read_products",
    "write_products",
    "read_inventory",
    "read_locations",
)

# Plan -> (GraphQL bucket, GraphQL restore/s, REST bucket, REST leak/s). [OBS]/[DOC] contract §1.4, §3.4.
PLANS: dict[str, tuple[float, float, int, float]] = {
    "basic": (2000.0, 100.0, 40, 2.0),
    "standard": (2000.0, 100.0, 40, 2.0),
    "advanced": (4000.0, 200.0, 80, 4.0),
    "plus": (20000.0, 1000.0, 400, 20.0),
    "enterprise": (40000.0, 2000.0, 800, 40.0),
}

PLAN_DISPLAY = {
    "basic": "Basic",
    "standard": "Shopify",
    "advanced": "Advanced",
    "plus": "Shopify Plus",
    "enterprise": "Shopify Plus",
}


# Bumped when the generated data changes shape, so a store kept in --data-dir is regenerated
# (2: orders carry their transactions; 3: and their refunds and fulfillments; 4: customers in full
# and metafields too).
DATA_VERSION = 4


@dataclass
class ShopOptions:
    domain: str = "demo.myshopify.com"
    token: str = "shpat_demo_token"
    api_secret: str = "shopsync-dev-api-secret"
    api_key: str = "shopsync-dev-api-key"
    name: str = ""
    seed: int = 42
    orders: int = 1000
    customers: int = 300
    products: int = 50
    plan: str = "standard"
    read_all_orders: bool = True
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    currency: str = "USD"
    timezone_offset: str = "-05:00"
    # Generated history ends at this instant (ISO); empty = today's UTC midnight, so the same seed gives
    # the same store all day; pass a value for byte-identical stores across days.
    anchor: str = ""
    history_days: int = 730
    same_updated_at_share: float = 0.0
    big_orders: int = 0
    big_order_lines: int = 300
    guest_order_share: float = 0.08
    deleted_variant_share: float = 0.03
    line_items_mean: float = 3.0
    variants_max: int = 8
    # The catalogue around products (store/catalogue.py): locations (with 3 or more, the last one is
    # deactivated), collections (custom and smart).
    locations: int = 2
    collections: int = 8
    # Membership changes of a custom collection bump its updated_at and send collections/update.
    membership_bumps_collection: bool = False
    # Metafields per order, customer, product and variant: 0..N each (store/metafields.py).
    metafields_per_record: int = 2
    # A metafield write bumps its owner's updated_at (no webhook either way; contract §8.10 UNSURE).
    metafield_bumps_owner: bool = False
    token_expiry_seconds: int = 3600
    oldest_api_version: str = "2025-10"
    webhook_api_version: str = "2026-01"
    webhook_time_scale: float = 1.0
    webhook_url: str = ""
    # Bulk exports produce at most this many objects (roots and children) per second, objectCount
    # growing while RUNNING, as Shopify's take time in proportion to their size; 0 = as fast as we can.
    export_rate: float = 0.0
    # Contract §8.15.4: a transaction added to an order (capture, refund, payment) moves the order's
    # updated_at and sends orders/updated, the reading connectors rely on; off, only the order's money
    # fields change (to exercise a client's reconciliation path).
    order_updated_by_transactions: bool = True
    # Bulk queries may carry a connection under a Refund / Fulfillment list (`refunds {
    # refundLineItems }`), its lines parented by the order. Off (Shopify's behaviour): refused with
    # "Queries that contain a connection field within a list field are not currently supported."
    bulk_connections_under_lists: bool = False
    fresh: bool = False

    def generator_key(self) -> dict[str, Any]:
        """The options that shape the generated data (a stored store is reused only if they match)."""
        keys = [
            "seed",
            "orders",
            "customers",
            "products",
            "currency",
            "anchor",
            "history_days",
            "same_updated_at_share",
            "big_orders",
            "big_order_lines",
            "guest_order_share",
            "deleted_variant_share",
            "line_items_mean",
            "variants_max",
            "locations",
            "collections",
            "metafields_per_record",
        ]
        return {"data_version": DATA_VERSION, **{key: getattr(self, key) for key in keys}}

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> ShopOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown shop option(s): {', '.join(unknown)}")
        values = dict(data)
        if isinstance(values.get("scopes"), str):
            values["scopes"] = [s.strip() for s in values["scopes"].split(",") if s.strip()]
        return cls(**values)


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8001
    data_dir: str = ""
    mutate_per_minute: float = 0.0
    quiet: bool = False
