"""Webhook topics: REST-style names <-> GraphQL WebhookSubscriptionTopic (contract §4.5)."""

from __future__ import annotations

TOPIC_ENUMS = {
    "orders/create": "ORDERS_CREATE",
    "orders/updated": "ORDERS_UPDATED",
    "orders/cancelled": "ORDERS_CANCELLED",
    "orders/delete": "ORDERS_DELETE",
    "order_transactions/create": "ORDER_TRANSACTIONS_CREATE",
    "refunds/create": "REFUNDS_CREATE",
    "fulfillments/create": "FULFILLMENTS_CREATE",
    "fulfillments/update": "FULFILLMENTS_UPDATE",
    "customers/create": "CUSTOMERS_CREATE",
    "customers/update": "CUSTOMERS_UPDATE",
    "customers/delete": "CUSTOMERS_DELETE",
    # Subscribable (Shopify's enum has them, contract §8.14); the simulator has no enable/disable verb.
    "customers/enable": "CUSTOMERS_ENABLE",
    "customers/disable": "CUSTOMERS_DISABLE",
    "products/create": "PRODUCTS_CREATE",
    "products/update": "PRODUCTS_UPDATE",
    "products/delete": "PRODUCTS_DELETE",
    "app/uninstalled": "APP_UNINSTALLED",
    "bulk_operations/finish": "BULK_OPERATIONS_FINISH",
    # The catalogue (contract §8.14).
    "collections/create": "COLLECTIONS_CREATE",
    "collections/update": "COLLECTIONS_UPDATE",
    "collections/delete": "COLLECTIONS_DELETE",
    "inventory_levels/connect": "INVENTORY_LEVELS_CONNECT",
    "inventory_levels/update": "INVENTORY_LEVELS_UPDATE",
    "inventory_levels/disconnect": "INVENTORY_LEVELS_DISCONNECT",
    "inventory_items/create": "INVENTORY_ITEMS_CREATE",
    "inventory_items/update": "INVENTORY_ITEMS_UPDATE",
    "inventory_items/delete": "INVENTORY_ITEMS_DELETE",
    "locations/create": "LOCATIONS_CREATE",
    "locations/update": "LOCATIONS_UPDATE",
    "locations/delete": "LOCATIONS_DELETE",
    "locations/activate": "LOCATIONS_ACTIVATE",
    "locations/deactivate": "LOCATIONS_DEACTIVATE",
    # A customer in full (contract §8.6): the SMS topic is the generic-looking one.
    "customers_email_marketing_consent/update": "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE",
    "customers_marketing_consent/update": "CUSTOMERS_MARKETING_CONSENT_UPDATE",
}
ENUM_TOPICS = {enum: topic for topic, enum in TOPIC_ENUMS.items()}
# Mandatory privacy topics: configured in the app, never subscribable through the API (§4.6).
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def to_topic(value: str) -> str | None:
    """Accepts 'ORDERS_UPDATED' or 'orders/updated'."""
    if value in TOPIC_ENUMS:
        return value
    return ENUM_TOPICS.get(value)
