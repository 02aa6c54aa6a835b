"""The webhook topics shopsync handles, and their GraphQL `WebhookSubscriptionTopic` names.

The record topics (orders/create, order_transactions/create ...) are declared with their resources
(`shopsync.resources`); only the topics that are not about one store record are named here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsync.resources import (
    ChildDeclaration,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
    resource_topics,
)

if TYPE_CHECKING:
    from shopsync.models import Shop

APP_UNINSTALLED = "app/uninstalled"
BULK_OPERATIONS_FINISH = "bulk_operations/finish"
CUSTOMERS_DATA_REQUEST = "customers/data_request"
CUSTOMERS_REDACT = "customers/redact"
SHOP_REDACT = "shop/redact"

# topic -> (its resource, the child it is about or None, the topic's declaration)
RESOURCE_TOPICS: dict[str, tuple[ResourceDeclaration, ChildDeclaration | None, WebhookTopic]] = {
    topic.topic: (declaration, child, topic) for declaration, child, topic in resource_topics()
}

# Subscribed through the Admin API (webhookSubscriptionCreate), by their GraphQL enum names.
SUBSCRIBED_TOPICS: dict[str, str] = {
    **{name: topic.subscription for name, (_, _, topic) in RESOURCE_TOPICS.items()},
    APP_UNINSTALLED: "APP_UNINSTALLED",
    BULK_OPERATIONS_FINISH: "BULK_OPERATIONS_FINISH",
}

# Mandatory compliance topics: configured in the app's config (shopify.app.toml / Partner
# Dashboard), never through the Admin API, but delivered to the same endpoint.
PRIVACY_TOPICS = frozenset({CUSTOMERS_DATA_REQUEST, CUSTOMERS_REDACT, SHOP_REDACT})

HANDLED_TOPICS = frozenset(SUBSCRIBED_TOPICS) | PRIVACY_TOPICS

# GraphQL topic names whose bodies can carry the owner's metafields: the create / update topics of a
# resource with a `namespaced` child (a delete body is only the id).
METAFIELD_OWNER_TOPICS = frozenset(
    topic.subscription
    for declaration, child, topic in RESOURCE_TOPICS.values()
    if child is None
    and topic.action is TopicAction.UPSERT
    and any(c.namespaced for c in declaration.children)
)


def subscribed_topics_for(shop: Shop) -> list[str]:
    """The GraphQL topics a shop's subscriptions take: every one but those of a resource whose access
    scopes the shop did not grant (`ResourceDeclaration.required_scopes`: locations and inventory
    levels need read_inventory); Shopify refuses such a subscription, and would send nothing anyway."""
    return [
        subscription
        for name, subscription in SUBSCRIBED_TOPICS.items()
        if name not in RESOURCE_TOPICS or not shop.missing_scopes(RESOURCE_TOPICS[name][0].required_scopes)
    ]


def metafield_namespaces_for(subscription_topic: str, chosen: list[str] | None) -> list[str]:
    """The `metafieldNamespaces` a subscription of this topic asks for: the shop's, sorted, on
    metafield owners' topics; none elsewhere."""
    return sorted(chosen or []) if subscription_topic in METAFIELD_OWNER_TOPICS else []


# Topics whose payload is one store record; their deliveries are skipped once a shop is redacted.
RECORD_TOPICS = frozenset(RESOURCE_TOPICS)
