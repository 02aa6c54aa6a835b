"""A shop's webhook subscriptions (persisted in its SQLite file) and event fan-out."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from shopify_sim.gid import gid
from shopify_sim.timeutil import iso_z
from shopify_sim.webhooks.topics import ENUM_TOPICS, TOPIC_ENUMS, to_topic

if TYPE_CHECKING:
    from shopify_sim.store import Store

SUBSCRIPTION_ID_BASE = 1_410_000_000_000


@dataclass
class Subscription:
    id: int
    topic: str
    uri: str
    format: str = "JSON"
    source: str = "api"  # "api": deleted after repeated failures; "app": app-config, never deleted
    include_fields: list[str] = field(default_factory=list)
    filter: str | None = None
    created_at: int = 0
    updated_at: int = 0
    consecutive_failures: int = 0
    # `metafieldNamespaces` (contract §8.10): the owner's metafields in these namespaces are added
    # to an owner topic's body (orders, customers, products) as `metafields: [...]`.
    metafield_namespaces: list[str] = field(default_factory=list)

    @property
    def topic_enum(self) -> str:
        return TOPIC_ENUMS[self.topic]

    def graphql(self) -> dict[str, Any]:
        return {
            "id": gid("WebhookSubscription", self.id),
            "legacyResourceId": str(self.id),
            "topic": self.topic_enum,
            "uri": self.uri,
            "callbackUrl": self.uri,
            "endpoint": {"callbackUrl": self.uri},
            "format": self.format,
            "includeFields": self.include_fields,
            "filter": self.filter,
            "metafieldNamespaces": self.metafield_namespaces,
            "createdAt": iso_z(self.created_at),
            "updatedAt": iso_z(self.updated_at),
        }

    def control(self) -> dict[str, Any]:
        data = asdict(self)
        data["admin_graphql_api_id"] = gid("WebhookSubscription", self.id)
        return data


class WebhookHub:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.items: dict[int, Subscription] = {}
        for (data,) in store.conn().execute("SELECT data FROM webhook_subscriptions ORDER BY id"):
            subscription = Subscription(**orjson.loads(data))
            self.items[subscription.id] = subscription

    def _persist(self, subscription: Subscription) -> None:
        with self.store.writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO webhook_subscriptions (id, data) VALUES (?, ?)",
                (subscription.id, orjson.dumps(asdict(subscription))),
            )

    def subscribe(
        self,
        topic_enum: str,
        uri: str,
        data_format: str = "JSON",
        source: str = "api",
        include_fields: list[str] | None = None,
        filter_query: str | None = None,
        metafield_namespaces: list[str] | None = None,
    ) -> tuple[Subscription | None, str]:
        topic = to_topic(topic_enum)
        if topic is None:
            return None, f"Topic {topic_enum!r} is not supported"
        if not uri.startswith(("http://", "https://", "pubsub://", "arn:")):
            return None, "Address is invalid"
        with self.lock:
            if any(s.topic == topic and s.uri == uri for s in self.items.values()):
                return None, "Address for this topic has already been taken"
            now = int(time.time())
            new_id = max(self.items, default=SUBSCRIPTION_ID_BASE) + 1
            subscription = Subscription(
                new_id,
                topic,
                uri,
                data_format,
                source,
                list(include_fields or []),
                filter_query,
                now,
                now,
                metafield_namespaces=list(metafield_namespaces or []),
            )
            self.items[new_id] = subscription
        self._persist(subscription)
        return subscription, ""

    def update(self, subscription_id: int, data: dict[str, Any]) -> Subscription | None:
        with self.lock:
            subscription = self.items.get(subscription_id)
            if subscription is None:
                return None
            address = data.get("uri") or data.get("callbackUrl")
            if address:
                subscription.uri = address
            if data.get("includeFields") is not None:
                subscription.include_fields = list(data["includeFields"])
            if "filter" in data:
                subscription.filter = data["filter"]
            if data.get("metafieldNamespaces") is not None:
                subscription.metafield_namespaces = list(data["metafieldNamespaces"])
            subscription.updated_at = int(time.time())
        self._persist(subscription)
        return subscription

    def unsubscribe(self, subscription_id: int) -> bool:
        with self.lock:
            removed = self.items.pop(subscription_id, None)
        if removed is None:
            return False
        with self.store.writing() as conn:
            conn.execute("DELETE FROM webhook_subscriptions WHERE id = ?", (subscription_id,))
        return True

    def get(self, subscription_id: int | None) -> Subscription | None:
        return self.items.get(subscription_id) if subscription_id is not None else None

    def list(self) -> list[Subscription]:
        with self.lock:
            return sorted(self.items.values(), key=lambda s: s.id)

    def for_topic(self, topic: str) -> list[Subscription]:
        return [s for s in self.list() if s.topic == topic]

    def record_result(self, subscription_id: int, ok: bool, remove_after: int) -> bool:
        """Track consecutive failures; returns True when an API subscription was just removed."""
        with self.lock:
            subscription = self.items.get(subscription_id)
            if subscription is None:
                return False
            subscription.consecutive_failures = 0 if ok else subscription.consecutive_failures + 1
            remove = subscription.source == "api" and subscription.consecutive_failures >= remove_after
        if remove:
            return self.unsubscribe(subscription_id)
        return False


__all__ = ["ENUM_TOPICS", "Subscription", "WebhookHub"]
