"""QueryRoot and Mutation fields."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from shopify_sim.admin_graphql import catalogue, connections, metafields, order_children
from shopify_sim.admin_graphql.context import RESOURCE_SCOPES, GraphQLContext
from shopify_sim.admin_graphql.fields import (
    FieldFn,
    load,
    load_variant,
    prepare_transaction,
    prepare_variant,
    tagged,
)
from shopify_sim.admin_graphql.search import INVENTORY_ITEM_OFFSET, Filter, matcher, parse
from shopify_sim.gid import gid, parse_gid
from shopify_sim.oauth import granted_handles
from shopify_sim.options import PLAN_DISPLAY
from shopify_sim.store.events import GRAPHQL_SUBJECT_TYPES, SUBJECT_TYPES
from shopify_sim.timeutil import iso_z

TYPE_RESOURCES = {"Order": "orders", "Customer": "customers", "Product": "products"}
RESOURCE_TYPES = {v: k for k, v in TYPE_RESOURCES.items()}
MAX_INPUT_ARRAY = 250


def resource_filter(ctx: GraphQLContext, resource: str, query: str | None) -> Filter:
    try:
        where = parse(resource, query, ctx.offset)
    except ValueError as error:
        raise GraphQLError(f"Invalid search query: {error}", extensions={"code": "BAD_REQUEST"}) from error
    if resource == "orders":
        clause, params = ctx.order_visibility()
        if clause:
            where.add(clause, *params)
    return where


def connection_field(resource: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require(RESOURCE_SCOPES[resource], resource)
        where = resource_filter(ctx, resource, args.get("query"))
        return connections.sql_page(ctx.store, resource, where, args, RESOURCE_TYPES[resource])

    return resolve


def count_field(resource: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require(RESOURCE_SCOPES[resource], f"{resource}Count")
        where = resource_filter(ctx, resource, args.get("query"))
        return count_answer(ctx, resource, where, args)

    return resolve


def count_answer(ctx: GraphQLContext, table: str, where: Filter, args: dict) -> dict:
    limit = args.get("limit")
    count = ctx.store.count(table, where.sql(), where.params, limit)
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def numeric_id(value: str, expected: str) -> int | None:
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    type_name, number = parsed
    return number if type_name == expected else None


def single_field(type_name: str) -> FieldFn:
    resource = TYPE_RESOURCES[type_name]

    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict | None:
        ctx.require(RESOURCE_SCOPES[resource], resource[:-1])
        return tagged(load(ctx, resource, numeric_id(args["id"], type_name)), type_name)

    return resolve


def node_by_gid(ctx: GraphQLContext, value: str) -> dict | None:
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    type_name, number = parsed
    if type_name in TYPE_RESOURCES:
        resource = TYPE_RESOURCES[type_name]
        ctx.require(RESOURCE_SCOPES[resource], "node")
        return tagged(load(ctx, resource, number), type_name)
    if type_name == "ProductVariant":
        ctx.require("read_products", "node")
        return load_variant(ctx, number)
    if type_name == "OrderTransaction":
        ctx.require("read_orders", "node")
        return transaction_by_id(ctx, number)
    if type_name == "InventoryItem":
        return inventory_item_by_id(ctx, number)
    if type_name == "BulkOperation":
        return bulk_node(ctx, ctx.shop.bulk.get(number))
    if type_name == "WebhookSubscription":
        return subscription_node(ctx.shop.webhooks.get(number))
    if type_name == "Shop":
        return shop_node(ctx)
    if type_name == "BasicEvent":
        return event_by_id(ctx, number)
    if type_name in catalogue.NODE_TYPES:
        return catalogue.node(ctx, type_name, number, value)
    if type_name == "Metafield":
        return metafields.node(ctx, number)
    if type_name in order_children.NODE_TYPES:
        return order_children.node(ctx, type_name, number)
    return None


def transaction_by_id(ctx: GraphQLContext, transaction_id: int) -> dict | None:
    """An OrderTransaction through the order holding it (null when the order is gone or not visible)."""
    order = load(ctx, "orders", ctx.store.transaction_order_id(transaction_id))
    if order is None:
        return None
    found = next((tx for tx in order["transactions"] if tx["id"] == transaction_id), None)
    return prepare_transaction(found, tagged(order, "Order")) if found is not None else None


def nodes_field(obj: Any, args: dict, ctx: GraphQLContext) -> list[dict | None]:
    ids = args["ids"]
    if len(ids) > MAX_INPUT_ARRAY:
        raise GraphQLError(
            f"The input array size of {len(ids)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    return [node_by_gid(ctx, value) for value in ids]


def shop_node(ctx: GraphQLContext) -> dict:
    options = ctx.shop.options
    return {
        "__typename": "Shop",
        "id": gid("Shop", ctx.shop.shop_id),
        "name": options.name or options.domain.split(".")[0].replace("-", " ").title(),
        "email": f"owner@{options.domain}",
        "myshopifyDomain": options.domain,
        "currencyCode": options.currency,
        "ianaTimezone": "Etc/GMT" if ctx.offset == 0 else f"Etc/GMT{-ctx.offset // 60:+d}",
        "timezoneOffset": options.timezone_offset.replace(":", ""),
        "timezoneOffsetMinutes": ctx.offset,
        "plan": {
            "displayName": PLAN_DISPLAY.get(options.plan, options.plan),
            "publicDisplayName": PLAN_DISPLAY.get(options.plan, options.plan),
            "partnerDevelopment": False,
            "shopifyPlus": options.plan in ("plus", "enterprise"),
        },
        "createdAt": iso_z(ctx.shop.created_at),
        "updatedAt": iso_z(ctx.shop.created_at),
        "contactEmail": f"owner@{options.domain}",
        "description": None,
        "url": f"https://{options.domain}",
        "primaryDomain": {
            "id": gid("Domain", ctx.shop.shop_id),
            "host": options.domain,
            "url": f"https://{options.domain}",
            "sslEnabled": True,
        },
        "billingAddress": {
            "id": gid("ShopAddress", ctx.shop.shop_id),
            "address1": None,
            "address2": None,
            "city": None,
            "company": None,
            "country": None,
            "countryCodeV2": None,
            "province": None,
            "provinceCode": None,
            "zip": None,
            "phone": None,
            "formatted": [],
        },
        "features": shop_features(options.plan),
        "currencyFormats": {
            "moneyFormat": "${{amount}}",
            "moneyInEmailsFormat": "${{amount}}",
            "moneyWithCurrencyFormat": f"${{{{amount}}}} {options.currency}",
            "moneyWithCurrencyInEmailsFormat": f"${{{{amount}}}} {options.currency}",
        },
        "enabledPresentmentCurrencies": [options.currency],
        "weightUnit": "KILOGRAMS",
        "taxesIncluded": False,
        "taxShipping": False,
        "setupRequired": False,
        "checkoutApiSupported": True,
        "shopOwnerName": "Shop Owner",
        "timezoneAbbreviation": f"GMT{options.timezone_offset}",
        "transactionalSmsDisabled": False,
    }


def shop_features(plan: str) -> dict:
    """The shop's feature set: an ordinary online store on its plan (nothing the store does not model)."""
    plus = plan in ("plus", "enterprise")
    return {
        "avalaraAvatax": False,
        "branding": "SHOPIFY_PLUS" if plus else "SHOPIFY",
        "bundles": {"eligibleForBundles": True, "ineligibilityReason": None, "sellsBundles": False},
        "captcha": True,
        "cartTransform": {
            "eligibleOperations": {"expandOperation": plus, "mergeOperation": plus, "updateOperation": plus}
        },
        "dynamicRemarketing": False,
        "eligibleForSubscriptionMigration": False,
        "eligibleForSubscriptions": True,
        "giftCards": True,
        "harmonizedSystemCode": True,
        "legacySubscriptionGatewayEnabled": False,
        "liveView": True,
        "paypalExpressSubscriptionGatewayStatus": "DISABLED",
        "reports": True,
        "sellsSubscriptions": False,
        "showMetrics": True,
        "storefront": True,
        "unifiedMarkets": True,
        "usingShopifyBalance": False,
    }


def scope_description(handle: str) -> str:
    # Shopify's descriptions are prose per scope ("Read orders, transactions, and fulfillments");
    # ours are generated from the handle (deviation, README).
    access, _, subject = handle.partition("_")
    return f"{access.capitalize()} access to {subject.replace('_', ' ')}"


def current_app_installation(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    options = ctx.shop.options
    return {
        "id": gid("AppInstallation", ctx.shop.shop_id),
        "accessScopes": [
            {"handle": handle, "description": scope_description(handle)}
            for handle in granted_handles(ctx.scopes)
        ],
        "app": {
            "id": gid("App", ctx.shop.shop_id),
            "apiKey": options.api_key,
            "title": "shopsync",
            "handle": "shopsync",
        },
        "launchUrl": f"https://{options.domain}/admin/apps/{options.api_key}",
    }


# -- variants and inventory items (served from the store's variants) --------------------------------
INVENTORY_SCOPES = ("read_inventory", "read_products")


def with_products(ctx: GraphQLContext, variants: list[dict], typename: str) -> list[dict]:
    """Attach each variant's product (one read for the page), as `Product.variants` does."""
    products = ctx.store.get_many("products", [v["product_id"] for v in variants])
    for variant in variants:
        prepare_variant(variant, tagged(products[variant["product_id"]], "Product"))
        variant["__typename"] = typename
    return variants


def variant_page(search_as: str, typename: str, scopes: tuple[str, ...], field_name: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require_any(scopes, field_name)
        where = resource_filter(ctx, search_as, args.get("query"))
        page = connections.sql_page(ctx.store, "variants", where, args, typename)
        with_products(ctx, page["nodes"], typename)
        return page

    return resolve


def variants_count(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    ctx.require("read_products", "productVariantsCount")
    where = resource_filter(ctx, "variants", args.get("query"))
    return count_answer(ctx, "variants", where, args)


def inventory_item_by_id(ctx: GraphQLContext, number: int | None) -> dict | None:
    ctx.require_any(INVENTORY_SCOPES, "inventoryItem")
    variant = load_variant(ctx, None if number is None else number - INVENTORY_ITEM_OFFSET)
    return {**variant, "__typename": "InventoryItem"} if variant else None


# -- types the store does not model: Shopify's empty answers ---------------------------------------
def empty_root(scopes: tuple[str, ...], field_name: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require_any(scopes, field_name)
        return connections.list_page([], args)

    return resolve


def nothing(scopes: tuple[str, ...], field_name: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> None:
        ctx.require_any(scopes, field_name)

    return resolve


def zero_count(scopes: tuple[str, ...], field_name: str) -> FieldFn:
    def resolve(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
        ctx.require_any(scopes, field_name)
        return {"count": 0, "precision": "EXACT"}

    return resolve


COLLECTION_SCOPES = ("read_products",)
LOCATION_SCOPES = ("read_locations", "read_inventory", "read_markets_home")
FULFILLMENT_ORDER_SCOPES = (
    "read_assigned_fulfillment_orders",
    "read_merchant_managed_fulfillment_orders",
    "read_third_party_fulfillment_orders",
    "read_marketplace_fulfillment_orders",
)
DRAFT_ORDER_SCOPES = ("read_draft_orders",)
DISCOUNT_SCOPES = ("read_discounts",)
UNMODELLED: dict[str, FieldFn] = {
    "collections": empty_root(COLLECTION_SCOPES, "collections"),
    "collection": nothing(COLLECTION_SCOPES, "collection"),
    "collectionByHandle": nothing(COLLECTION_SCOPES, "collectionByHandle"),
    "collectionsCount": zero_count(COLLECTION_SCOPES, "collectionsCount"),
    "locations": empty_root(LOCATION_SCOPES, "locations"),
    "location": nothing(LOCATION_SCOPES, "location"),
    "locationsCount": zero_count(LOCATION_SCOPES, "locationsCount"),
    "fulfillmentOrders": empty_root(FULFILLMENT_ORDER_SCOPES, "fulfillmentOrders"),
    "fulfillmentOrder": nothing(FULFILLMENT_ORDER_SCOPES, "fulfillmentOrder"),
    "draftOrders": empty_root(DRAFT_ORDER_SCOPES, "draftOrders"),
    "draftOrder": nothing(DRAFT_ORDER_SCOPES, "draftOrder"),
    "draftOrdersCount": zero_count(DRAFT_ORDER_SCOPES, "draftOrdersCount"),
    "codeDiscountNodes": empty_root(DISCOUNT_SCOPES, "codeDiscountNodes"),
    "codeDiscountNode": nothing(DISCOUNT_SCOPES, "codeDiscountNode"),
    "codeDiscountNodesCount": zero_count(DISCOUNT_SCOPES, "codeDiscountNodesCount"),
}


# -- events ----------------------------------------------------------------------------------------
def event_filter(ctx: GraphQLContext, query: str | None) -> Filter:
    """The `query:` filter (action, subject_type, created_at, id) over events of subjects the token may
    read (hiding the others is our safer reading, as on REST)."""
    where = resource_filter(ctx, "events", query)
    readable = [
        SUBJECT_TYPES[resource]
        for resource, scope in (*RESOURCE_SCOPES.items(), ("collections", "read_products"))
        if scope in ctx.scopes or scope.replace("read_", "write_") in ctx.scopes
    ]
    where.add(f"subject_type IN ({','.join('?' * len(readable))})" if readable else "0", *readable)
    return where


def events_field(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    return connections.sql_page(ctx.store, "events", event_filter(ctx, args.get("query")), args, "BasicEvent")


def events_count(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    where = event_filter(ctx, args.get("query"))
    return {"count": ctx.store.count("events", where.sql(), where.params), "precision": "EXACT"}


def event_by_id(ctx: GraphQLContext, number: int | None) -> dict | None:
    if number is None:
        return None
    where = event_filter(ctx, None)
    found = ctx.store.get("events", number, where.sql(), where.params)
    return {**found, "__typename": "BasicEvent"} if found else None


EVENT_FIELDS: dict[str, FieldFn] = {
    "id": lambda o, a, c: gid("BasicEvent", o["id"]),
    "action": lambda o, a, c: o["verb"],
    "appTitle": lambda o, a, c: None,
    "attributeToApp": lambda o, a, c: False,
    "attributeToUser": lambda o, a, c: False,
    "createdAt": lambda o, a, c: iso_z(o["created_at"]),
    "criticalAlert": lambda o, a, c: False,
    "message": lambda o, a, c: o["message"],
    "secondaryMessage": lambda o, a, c: None,
    "hasAdditionalContent": lambda o, a, c: False,
    "subjectId": lambda o, a, c: gid(o["subject_type"], o["subject_id"]),
    "subjectType": lambda o, a, c: GRAPHQL_SUBJECT_TYPES.get(o["subject_type"], "UNKNOWN"),
}


def bulk_node(ctx: GraphQLContext, operation: Any) -> dict | None:
    if operation is None:
        return None
    return {"__typename": "BulkOperation", **operation.graphql(ctx.base_url)}


def subscription_node(subscription: Any) -> dict | None:
    if subscription is None:
        return None
    return {"__typename": "WebhookSubscription", **subscription.graphql()}


def bulk_operations_field(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    match = matcher(
        args.get("query"),
        {"status": lambda op: op.status, "type": lambda op: op.type, "operation_type": lambda op: op.type},
    )
    operations = [op for op in ctx.shop.bulk.all() if match(op)]
    if args.get("sortKey") == "COMPLETED_AT":
        operations.sort(key=lambda op: (op.completed_at or 0, op.id))
    return connections.list_page(operations, args, lambda op: bulk_node(ctx, op))


def webhook_subscriptions_field(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    topics = set(args.get("topics") or [])
    address = args.get("uri") or args.get("callbackUrl")
    subscriptions = [
        s
        for s in ctx.shop.webhooks.list()
        if (not topics or s.topic_enum in topics) and (not address or s.uri == address)
    ]
    return connections.list_page(subscriptions, args, subscription_node)


def current_bulk_operation(obj: Any, args: dict, ctx: GraphQLContext) -> dict | None:
    return bulk_node(ctx, ctx.shop.bulk.current(args.get("type") or "QUERY"))


QUERY_ROOT: dict[str, FieldFn] = {
    "orders": connection_field("orders"),
    "customers": connection_field("customers"),
    "products": connection_field("products"),
    "ordersCount": count_field("orders"),
    "customersCount": count_field("customers"),
    "productsCount": count_field("products"),
    "order": single_field("Order"),
    "customer": single_field("Customer"),
    "product": single_field("Product"),
    "productVariant": lambda o, a, c: (
        c.require("read_products", "productVariant") or load_variant(c, numeric_id(a["id"], "ProductVariant"))
    ),
    "node": lambda o, a, c: node_by_gid(c, a["id"]),
    "nodes": nodes_field,
    "shop": lambda o, a, c: shop_node(c),
    "currentBulkOperation": current_bulk_operation,
    "bulkOperation": lambda o, a, c: bulk_node(c, c.shop.bulk.get(numeric_id(a["id"], "BulkOperation"))),
    "bulkOperations": bulk_operations_field,
    "webhookSubscriptions": webhook_subscriptions_field,
    "currentAppInstallation": current_app_installation,
    "productVariants": variant_page("variants", "ProductVariant", ("read_products",), "productVariants"),
    "productVariantsCount": variants_count,
    "inventoryItems": variant_page("inventory_items", "InventoryItem", INVENTORY_SCOPES, "inventoryItems"),
    "inventoryItem": lambda o, a, c: inventory_item_by_id(c, numeric_id(a["id"], "InventoryItem")),
    **UNMODELLED,
    "events": events_field,
    "eventsCount": events_count,
    "event": lambda o, a, c: event_by_id(c, numeric_id(a["id"], "BasicEvent")),
    "webhookSubscription": lambda o, a, c: subscription_node(
        c.shop.webhooks.get(numeric_id(a["id"], "WebhookSubscription"))
    ),
}


# -- Mutation ------------------------------------------------------------------------------------------
def bulk_run_query(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    operation, errors = ctx.shop.bulk.start(args["query"], bool(args.get("groupObjects")), ctx)
    return {"bulkOperation": bulk_node(ctx, operation), "userErrors": errors}


def bulk_cancel(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    number = numeric_id(args["id"], "BulkOperation")
    operation = ctx.shop.bulk.get(number) if number is not None else None
    if operation is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    errors = ctx.shop.bulk.cancel(operation)
    return {"bulkOperation": bulk_node(ctx, operation), "userErrors": errors}


def webhook_create(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    data = args["webhookSubscription"]
    address = data.get("uri") or data.get("callbackUrl")
    if not address:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address can't be blank"}],
        }
    subscription, message = ctx.shop.webhooks.subscribe(
        topic_enum=args["topic"],
        uri=address,
        data_format=data.get("format") or "JSON",
        source="api",
        include_fields=data.get("includeFields") or [],
        filter_query=data.get("filter"),
        metafield_namespaces=data.get("metafieldNamespaces") or [],
    )
    if subscription is None:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": message}],
        }
    return {"webhookSubscription": subscription_node(subscription), "userErrors": []}


def webhook_delete(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    number = numeric_id(args["id"], "WebhookSubscription")
    if number is None or not ctx.shop.webhooks.unsubscribe(number):
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": args["id"], "userErrors": []}


def webhook_update(obj: Any, args: dict, ctx: GraphQLContext) -> dict:
    """Only the fields the simulator models: `uri`/`callbackUrl`, `includeFields`, `filter`,
    `metafieldNamespaces` (a field not given stays)."""
    number = numeric_id(args["id"], "WebhookSubscription")
    subscription = (
        ctx.shop.webhooks.update(number, args["webhookSubscription"]) if number is not None else None
    )
    if subscription is None:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"webhookSubscription": subscription_node(subscription), "userErrors": []}


MUTATION: dict[str, FieldFn] = {
    "bulkOperationRunQuery": bulk_run_query,
    "bulkOperationCancel": bulk_cancel,
    "webhookSubscriptionCreate": webhook_create,
    "webhookSubscriptionDelete": webhook_delete,
    "webhookSubscriptionUpdate": webhook_update,
}
