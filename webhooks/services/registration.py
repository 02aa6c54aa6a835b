"""(Re)registering a shop's webhook subscriptions through the GraphQL Admin API.

Idempotent: existing subscriptions are listed first; a topic already pointing at the callback is
kept, one pointing elsewhere (an old callback of ours) is replaced. The topics of a resource that
mirrors metafields (orders, customers, products: `ChildDeclaration.namespaced`) carry the shop's
chosen namespaces (`metafieldNamespaces`, contract §8.10); a subscription whose namespaces differ is
updated in place (a second subscription of the topic to the same address would be refused). The privacy topics cannot be
subscribed this way: they are configured in the app's config (shopify.app.toml / Partner Dashboard).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from shopsync.models import Shop
from shopsync.services.install import webhook_callback_url
from shopsync.shopify.client import ShopifyClient, raise_for_user_errors
from webhooks import topics

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_QUERY = """
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    edges { node { id topic uri metafieldNamespaces } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

SUBSCRIPTION_UPDATE = """
mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

SUBSCRIPTION_DELETE = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""


class SubscriptionAction(enum.StrEnum):
    CREATED = "created"
    KEPT = "kept"
    REPLACED = "replaced"
    UPDATED = "updated"  # the metafield namespaces changed


@dataclass(frozen=True, slots=True)
class SubscriptionResult:
    topic: str  # the GraphQL enum, e.g. ORDERS_CREATE
    subscription_id: str
    action: SubscriptionAction


def webhook_subscriptions_register(*, shop: Shop, callback_url: str) -> list[SubscriptionResult]:
    """Make sure every topic we handle is subscribed to `callback_url`, exactly once (those the shop's
    scopes allow: `topics.subscribed_topics_for`).
    Raises `ShopifyUserErrors` when Shopify refuses one (and the client's errors on transport
    failures). Never call it inside a transaction (R11): it talks to Shopify."""
    client = ShopifyClient(shop)
    existing = _subscriptions_by_topic(client)
    results = []
    for topic in topics.subscribed_topics_for(shop):
        current = existing.get(topic, [])
        pointing_here = [sub for sub in current if sub.get("uri") == callback_url]
        stale = [sub for sub in current if sub.get("uri") != callback_url]
        namespaces = topics.metafield_namespaces_for(topic, shop.metafield_namespaces)
        if pointing_here:
            kept = pointing_here[0]
            if sorted(kept.get("metafieldNamespaces") or []) == namespaces:
                results.append(SubscriptionResult(topic, kept["id"], SubscriptionAction.KEPT))
            else:
                _subscription_update(client, subscription_id=kept["id"], namespaces=namespaces)
                results.append(SubscriptionResult(topic, kept["id"], SubscriptionAction.UPDATED))
            stale += pointing_here[1:]
        else:
            created_id = _subscription_create(
                client, topic=topic, callback_url=callback_url, namespaces=namespaces
            )
            action = SubscriptionAction.REPLACED if stale else SubscriptionAction.CREATED
            results.append(SubscriptionResult(topic, created_id, action))
        # Delete only after the new one exists, so the topic is never left without a subscription.
        for subscription in stale:
            _subscription_delete(client, subscription_id=subscription["id"])
    logger.info(
        "webhook subscriptions registered shop=%s %s",
        shop.domain,
        {action.value: sum(1 for r in results if r.action == action) for action in SubscriptionAction},
    )
    return results


def webhook_subscriptions_register_for_shop(*, shop_id: int) -> list[SubscriptionResult]:
    """`webhook_subscriptions_register` at our callback, for a shop still installed (else nothing)."""
    shop = Shop.objects.filter(pk=shop_id, status=Shop.Status.INSTALLED).first()
    if shop is None or not shop.access_token:
        logger.info("webhook registration skipped: shop %s gone or not installed", shop_id)
        return []
    return webhook_subscriptions_register(shop=shop, callback_url=webhook_callback_url())


def _subscriptions_by_topic(client: ShopifyClient) -> dict[str, list[dict[str, Any]]]:
    by_topic: dict[str, list[dict[str, Any]]] = {}
    after = None
    while True:
        data = client.graphql(SUBSCRIPTIONS_QUERY, {"first": 100, "after": after})
        connection = data["webhookSubscriptions"]
        for edge in connection["edges"]:
            node = edge["node"]
            by_topic.setdefault(node["topic"], []).append(node)
        if not connection["pageInfo"]["hasNextPage"]:
            return by_topic
        after = connection["pageInfo"]["endCursor"]


def _subscription_create(
    client: ShopifyClient, *, topic: str, callback_url: str, namespaces: list[str]
) -> str:
    subscription: dict[str, Any] = {"uri": callback_url, "format": "JSON"}
    if namespaces:
        subscription["metafieldNamespaces"] = namespaces
    variables = {"topic": topic, "webhookSubscription": subscription}
    payload = client.graphql(SUBSCRIPTION_CREATE, variables)["webhookSubscriptionCreate"]
    raise_for_user_errors(payload, what=f"webhookSubscriptionCreate {topic}")
    return payload["webhookSubscription"]["id"]


def _subscription_update(client: ShopifyClient, *, subscription_id: str, namespaces: list[str]) -> None:
    variables = {"id": subscription_id, "webhookSubscription": {"metafieldNamespaces": namespaces}}
    payload = client.graphql(SUBSCRIPTION_UPDATE, variables)["webhookSubscriptionUpdate"]
    raise_for_user_errors(payload, what=f"webhookSubscriptionUpdate {subscription_id}")


def _subscription_delete(client: ShopifyClient, *, subscription_id: str) -> None:
    payload = client.graphql(SUBSCRIPTION_DELETE, {"id": subscription_id})["webhookSubscriptionDelete"]
    raise_for_user_errors(payload, what=f"webhookSubscriptionDelete {subscription_id}")
