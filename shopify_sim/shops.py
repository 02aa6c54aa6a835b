"""A simulated shop (store, buckets, tokens, webhooks, bulk) and the registry of shops."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from shopify_sim import order_children_payloads, timeutil
from shopify_sim.bulk.manager import BulkManager
from shopify_sim.catalogue_changes import KINDS as CATALOGUE_KINDS
from shopify_sim.catalogue_changes import CatalogueChanges
from shopify_sim.customer_changes import KINDS as CUSTOMER_KINDS
from shopify_sim.customer_changes import CustomerChanges
from shopify_sim.faults import Faults
from shopify_sim.media_changes import KINDS as MEDIA_KINDS
from shopify_sim.media_changes import MediaChanges
from shopify_sim.metafield_changes import KINDS as METAFIELD_KINDS
from shopify_sim.metafield_changes import OWNER_RESOURCES, MetafieldChanges
from shopify_sim.oauth import OAuthState, TokenInfo
from shopify_sim.options import PLAN_DISPLAY, PLANS, ShopOptions
from shopify_sim.render import derived
from shopify_sim.render import metafields as render_metafields
from shopify_sim.render import rest as render
from shopify_sim.store import Store
from shopify_sim.store import metafields as store_metafields
from shopify_sim.store.generator import Generator, anchor_of
from shopify_sim.store.mutations import Mutator
from shopify_sim.throttle import CostBucket, RequestBucket
from shopify_sim.webhooks import schedule
from shopify_sim.webhooks.dispatcher import Delivery, Dispatcher
from shopify_sim.webhooks.subscriptions import WebhookHub
from shopify_sim.webhooks.topics import TOPIC_ENUMS

SETTINGS = [
    "read_all_orders",
    "plan",
    "scopes",
    "token_expiry_seconds",
    "oldest_api_version",
    "webhook_api_version",
    "webhook_time_scale",
    "webhook_url",
    "name",
    "export_rate",
    "order_updated_by_transactions",
    "membership_bumps_collection",
    "metafield_bumps_owner",
]
HEADER_IDS = {
    "orders": "X-Shopify-Order-Id",
    "products": "X-Shopify-Product-Id",
    "customers": "X-Shopify-Customer-Id",
}


def open_store(options: ShopOptions, path: Path, log: Any) -> tuple[Store, dict[str, Any] | None]:
    """Reuse a stored shop generated with the same options; otherwise generate it afresh."""
    if path.exists() and not options.fresh:
        store = Store(str(path))
        stored = store.meta_get("generator") if _has_meta(store) else None
        if stored and orjson.loads(stored) == options.generator_key():
            store.init_schema()
            return store, None
        store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.unlink(f"{path}{suffix}")
    store = Store(str(path))
    stats = Generator(store, options, log).run()
    store.init_schema()
    return store, stats


def _has_meta(store: Store) -> bool:
    row = store.conn().execute("SELECT name FROM sqlite_master WHERE name = 'meta'").fetchone()
    return row is not None


class ShopState:
    def __init__(
        self, options: ShopOptions, data_dir: Path, faults: Faults, dispatcher: Dispatcher, log: Any = print
    ):
        self.options = options
        self.domain = options.domain
        self.faults = faults
        self.dispatcher = dispatcher
        self.offset_minutes = timeutil.parse_offset(options.timezone_offset)
        self.shop_id = derived.shop_number(options.domain)
        self.store, self.generation = open_store(options, data_dir / f"{options.domain}.sqlite3", log)
        self.created_at = anchor_of(options) - options.history_days * 86400 - 90 * 86400
        bucket, restore, rest_size, leak = PLANS.get(options.plan, PLANS["standard"])
        self.graphql_bucket = CostBucket(bucket, restore)
        self.rest_bucket = RequestBucket(rest_size, leak)
        self.oauth = OAuthState()
        self.oauth.tokens[options.token] = TokenInfo(frozenset(options.scopes))
        self.webhooks = WebhookHub(self.store)
        self.bulk = BulkManager(self, data_dir / "bulk" / options.domain)
        self.mutator = Mutator(
            self.store,
            options.currency,
            self.on_store_event,
            options.variants_max,
            transactions_touch_order=lambda: self.options.order_updated_by_transactions,
        )
        self.catalogue = CatalogueChanges(
            self.store, self.emit, self.on_store_event, self.offset_minutes, self.settings
        )
        self.mutator.extra_kinds = {kind: self.catalogue.random_change for kind in CATALOGUE_KINDS}
        self.customers = CustomerChanges(self.mutator, self.emit, self.on_store_event, self.offset_minutes)
        self.mutator.extra_kinds.update({kind: self.customers.random_change for kind in CUSTOMER_KINDS})
        self.metafields = MetafieldChanges(self.store, self.settings)
        self.mutator.extra_kinds.update({kind: self.metafields.random_change for kind in METAFIELD_KINDS})
        self.media = MediaChanges(self.mutator)
        self.mutator.extra_kinds.update({kind: self.media.random_change for kind in MEDIA_KINDS})
        self.lock = threading.Lock()
        self.installed = True

    # -- settings ----------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {name: getattr(self.options, name) for name in SETTINGS}

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        for name, value in changes.items():
            if name == "scopes" and isinstance(value, str):
                value = [s.strip() for s in value.split(",") if s.strip()]
            setattr(self.options, name, value)
        if "plan" in changes:
            if self.options.plan not in PLANS:
                raise ValueError(f"unknown plan {self.options.plan!r}; one of {', '.join(PLANS)}")
            bucket, restore, rest_size, leak = PLANS[self.options.plan]
            self.graphql_bucket.reconfigure(bucket, restore)
            self.rest_bucket.reconfigure(rest_size, leak)
        if "scopes" in changes:
            self.oauth.tokens[self.options.token] = TokenInfo(frozenset(self.options.scopes))
        return self.settings()

    def describe(self) -> dict[str, Any]:
        conn = self.store.conn()
        counts = {
            r: conn.execute(f"SELECT COUNT(*) FROM {r}").fetchone()[0]  # noqa: S608 — fixed names
            for r in ("orders", "customers", "products")
        }
        options = dataclasses.asdict(self.options)
        return {
            "domain": self.domain,
            "token": self.options.token,
            "api_key": self.options.api_key,
            "api_secret": self.options.api_secret,
            "plan": self.options.plan,
            "plan_display_name": PLAN_DISPLAY.get(self.options.plan, self.options.plan),
            "read_all_orders": self.options.read_all_orders,
            "scopes": self.options.scopes,
            "counts": counts,
            "anchor": timeutil.iso_z(anchor_of(self.options)),
            "installed": self.installed,
            "generation": self.generation,
            "options": options,
        }

    def rest_shop(self) -> dict[str, Any]:
        return {
            "id": self.shop_id,
            "name": self.options.name or self.domain.split(".")[0],
            "email": f"owner@{self.domain}",
            "domain": self.domain,
            "myshopify_domain": self.domain,
            "currency": self.options.currency,
            "iana_timezone": "UTC" if self.offset_minutes == 0 else f"Etc/GMT{-self.offset_minutes // 60:+d}",
            "plan_name": self.options.plan,
            "plan_display_name": PLAN_DISPLAY.get(self.options.plan, self.options.plan),
            "created_at": timeutil.iso_offset(self.created_at, self.offset_minutes),
            "admin_graphql_api_id": f"gid://shopify/Shop/{self.shop_id}",
        }

    # -- webhooks ----------------------------------------------------------------------------------
    def on_store_event(self, topic: str, resource: str, record: dict[str, Any]) -> None:
        if resource == "transactions":
            # order_transactions/create: the REST transaction (contract §8.14), the standard headers.
            payload = render.transaction(record["transaction"], record["order"], self.offset_minutes)
            self.emit(topic, payload)
            return
        if resource in ("refunds", "fulfillments"):
            # refunds/create, fulfillments/create|update: the REST child (contract §8.14).
            self.emit(
                topic, order_children_payloads.payload(self, resource, record["order"], record["child"]["id"])
            )
            return
        if resource == "products":
            self.catalogue.on_product_event(topic, record)
        if topic.endswith("/delete") or topic == "products/update":
            self.metafields.on_owner_event(topic, resource, record["id"])
        if topic.endswith("/delete"):
            payload: dict[str, Any] = {"id": record["id"]}
        else:
            customers, references = None, None
            if resource == "orders":
                if record.get("customer_id"):
                    customers = self.store.get_many("customers", [record["customer_id"]])
                references = render.live_references(self.store, [record])
            payload = render.render(
                resource, record, self.offset_minutes, customers, references, domain=self.domain
            )
        owner = (OWNER_RESOURCES[resource], record["id"]) if resource in OWNER_RESOURCES else None
        if topic.endswith("/delete"):
            owner = None
        self.emit(topic, payload, {HEADER_IDS[resource]: str(record["id"])}, metafield_owner=owner)

    def emit(
        self,
        topic: str,
        payload: dict[str, Any],
        extra_headers: dict[str, str] | None = None,
        metafield_owner: tuple[str, int] | None = None,
    ) -> int:
        """Fan an event out to the topic's subscribers; returns how many deliveries were queued. An
        owner's body gets `metafields` in the namespaces a subscription names (`metafieldNamespaces`)."""
        subscriptions = self.webhooks.for_topic(topic) if topic in TOPIC_ENUMS else []
        event_id, now = str(uuid.uuid4()), time.time()
        queued = 0
        for subscription in subscriptions:
            body = payload
            if subscription.include_fields:
                body = {k: v for k, v in payload.items() if k in subscription.include_fields}
            if subscription.metafield_namespaces and metafield_owner is not None:
                body = {
                    **body,
                    "metafields": self._owner_metafields(metafield_owner, subscription.metafield_namespaces),
                }
            queued += self.deliver(
                topic, subscription.uri, orjson.dumps(body), event_id, now, subscription.id, extra_headers
            )
        return queued

    def _owner_metafields(self, owner: tuple[str, int], namespaces: list[str]) -> list[dict[str, Any]]:
        found = store_metafields.of_owner(self.store.conn(), *owner)
        chosen = set(namespaces)
        return [
            render_metafields.metafield(m, self.offset_minutes) for m in found if m["namespace"] in chosen
        ]

    def deliver(
        self,
        topic: str,
        address: str,
        body: bytes,
        event_id: str,
        triggered: float,
        subscription_id: int | None,
        extra_headers: dict[str, str] | None = None,
    ) -> int:
        if self.faults.webhook_drop(self.domain):
            return 0
        delivery = Delivery(
            shop=self.domain,
            topic=topic,
            address=address,
            body=body,
            secret=self.options.api_secret,
            api_version=self.options.webhook_api_version,
            event_id=event_id,
            triggered=triggered,
            subscription_id=subscription_id,
            time_scale=self.options.webhook_time_scale,
            extra_headers=dict(extra_headers or {}),
        )
        delay = self.faults.webhook_delay(self.domain)
        if self.faults.webhook_out_of_order(self.domain):
            # Held back long enough for later events to overtake it.
            delay += 1.5
        self.dispatcher.enqueue(delivery, delay)
        if self.faults.webhook_duplicate(self.domain):
            duplicate = dataclasses.replace(
                delivery, webhook_id=str(uuid.uuid4()), attempts=[], duplicate=True, created=time.time()
            )
            self.dispatcher.enqueue(duplicate, delay + 0.2)
            return 2
        return 1

    def delivery_result(self, delivery: Delivery, ok: bool) -> None:
        if delivery.subscription_id is None:
            return
        removed = self.webhooks.record_result(
            delivery.subscription_id, ok, schedule.REMOVE_AFTER_CONSECUTIVE_FAILURES
        )
        if removed:
            self.dispatcher.abandon_subscription(self.domain, delivery.subscription_id)

    def uninstall(self) -> None:
        self.emit("app/uninstalled", self.rest_shop())
        self.installed = False
        self.oauth.revoke_all()

    def close(self) -> None:
        self.store.close()


class Registry:
    """All shops of one simulator process."""

    def __init__(self, data_dir: Path, faults: Faults, dispatcher: Dispatcher, log: Any = print) -> None:
        self.data_dir = data_dir
        self.faults = faults
        self.dispatcher = dispatcher
        self.log = log
        self.lock = threading.Lock()
        self.shops: dict[str, ShopState] = {}
        dispatcher.on_result = self._delivery_result

    def _delivery_result(self, delivery: Delivery, ok: bool) -> None:
        shop = self.shops.get(delivery.shop)
        if shop is not None:
            shop.delivery_result(delivery, ok)

    def create(self, options: ShopOptions) -> ShopState:
        with self.lock:
            if options.domain in self.shops:
                raise ValueError(f"shop {options.domain} already exists")
        shop = ShopState(options, self.data_dir, self.faults, self.dispatcher, self.log)
        with self.lock:
            self.shops[options.domain] = shop
        if options.webhook_url:
            for topic in TOPIC_ENUMS.values():
                shop.webhooks.subscribe(topic, options.webhook_url, source="app")
        return shop

    def remove(self, domain: str) -> bool:
        with self.lock:
            shop = self.shops.pop(domain, None)
        if shop is None:
            return False
        shop.close()
        return True

    def get(self, domain: str | None) -> ShopState | None:
        return self.shops.get(domain or "")

    def by_token(self, token: str | None) -> ShopState | None:
        if not token:
            return None
        for shop in list(self.shops.values()):
            if token in shop.oauth.tokens:
                return shop
        return None

    def default(self) -> ShopState | None:
        with self.lock:
            return next(iter(self.shops.values()), None)

    def all(self) -> list[ShopState]:
        with self.lock:
            return list(self.shops.values())
