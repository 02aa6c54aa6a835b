"""The webhook topics shopsync handles, and their GraphQL `WebhookSubscriptionTopic` names."""

from __future__ import annotations

ORDERS_CREATE = "orders/create"
ORDERS_UPDATED = "orders/updated"
ORDERS_CANCELLED = "orders/cancelled"
ORDERS_DELETE = "orders/delete"
CUSTOMERS_CREATE = "customers/create"
CUSTOMERS_UPDATE = "customers/update"
CUSTOMERS_DELETE = "customers/delete"
PRODUCTS_CREATE = "products/create"
PRODUCTS_UPDATE = "products/update"
PRODUCTS_DELETE = "products/delete"
APP_UNINSTALLED = "app/uninstalled"
BULK_OPERATIONS_FINISH = "bulk_operations/finish"
CUSTOMERS_DATA_REQUEST = "customers/data_request"
CUSTOMERS_REDACT = "customers/redact"
SHOP_REDACT = "shop/redact"

# Subscribed through the Admin API (webhookSubscriptionCreate), by their GraphQL enum names.
SUBSCRIBED_TOPICS: dict[str, str] = {
    ORDERS_CREATE: "ORDERS_CREATE",
    ORDERS_UPDATED: "ORDERS_UPDATED",
    ORDERS_CANCELLED: "ORDERS_CANCELLED",
    ORDERS_DELETE: "ORDERS_DELETE",
    CUSTOMERS_CREATE: "CUSTOMERS_CREATE",
    CUSTOMERS_UPDATE: "CUSTOMERS_UPDATE",
    CUSTOMERS_DELETE: "CUSTOMERS_DELETE",
    PRODUCTS_CREATE: "PRODUCTS_CREATE",
    PRODUCTS_UPDATE: "PRODUCTS_UPDATE",
    PRODUCTS_DELETE: "PRODUCTS_DELETE",
    APP_UNINSTALLED: "APP_UNINSTALLED",
    BULK_OPERATIONS_FINISH: "BULK_OPERATIONS_FINISH",
}

# Mandatory compliance topics: configured in the app's config (shopify.app.toml / Partner
# Dashboard), never through the Admin API, but delivered to the same endpoint.
PRIVACY_TOPICS = frozenset({CUSTOMERS_DATA_REQUEST, CUSTOMERS_REDACT, SHOP_REDACT})

HANDLED_TOPICS = frozenset(SUBSCRIBED_TOPICS) | PRIVACY_TOPICS

# Topics whose payload is one store record; their deliveries are skipped once a shop is redacted.
RECORD_TOPICS = frozenset(
    {
        ORDERS_CREATE,
        ORDERS_UPDATED,
        ORDERS_CANCELLED,
        ORDERS_DELETE,
        CUSTOMERS_CREATE,
        CUSTOMERS_UPDATE,
        CUSTOMERS_DELETE,
        PRODUCTS_CREATE,
        PRODUCTS_UPDATE,
        PRODUCTS_DELETE,
    }
)
