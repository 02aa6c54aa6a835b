"""Webhook topics: REST-style names <-> GraphQL WebhookSubscriptionTopic (contract §4.5)."""

from __future__ import annotations

TOPIC_ENUMS = {
    "orders/create": "ORDERS_CREATE",
    "orders/updated": "ORDERS_UPDATED",
    "orders/cancelled": "ORDERS_CANCELLED",
    "orders/delete": "ORDERS_DELETE",
    "order_transactions/create": "ORDER_TRANSACTIONS_CREATE",
    "customers/create": "CUSTOMERS_CREATE",
    "customers/update": "CUSTOMERS_UPDATE",
    "customers/delete": "CUSTOMERS_DELETE",
    "products/create": "PRODUCTS_CREATE",
    "products/update": "PRODUCTS_UPDATE",
    "products/delete": "PRODUCTS_DELETE",
    "app/uninstalled": "APP_UNINSTALLED",
    "bulk_operations/finish": "BULK_OPERATIONS_FINISH",
}
ENUM_TOPICS = {enum: topic for topic, enum in TOPIC_ENUMS.items()}
# Mandatory privacy topics: configured in the app, never subscribable through the API (§4.6).
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def to_topic(value: str) -> str | None:
    """Accepts 'ORDERS_UPDATED' or 'orders/updated'."""
    if value in TOPIC_ENUMS:
        return value
    return ENUM_TOPICS.get(value)
