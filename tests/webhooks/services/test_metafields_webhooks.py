"""Metafields through webhooks (contract §8.10): the owner topics' subscriptions carry the shop's
namespaces (`metafieldNamespaces`) and follow the setting; an owner's body with `metafields` replaces
its set in the chosen namespaces, a body without them keeps it."""

from __future__ import annotations

import uuid

import orjson
import pytest

from shopsync.models import Product, ProductMetafield
from tests.factories import ProductFactory, ShopFactory
from tests.webhooks.factories import BASE_TIME, at, delivery_process
from webhooks.models import WebhookLog
from webhooks.services.registration import SubscriptionAction, webhook_subscriptions_register
from webhooks.topics import METAFIELD_OWNER_TOPICS, SUBSCRIBED_TOPICS

CALLBACK = "https://app.example/webhooks/shopify/"


def _metafield(shopify_id: int, namespace: str, key: str, value: str) -> dict:
    return {"id": shopify_id, "namespace": namespace, "key": key, "value": value,
            "type": "single_line_text_field", "owner_id": 700, "owner_resource": "product",
            "created_at": at(0), "updated_at": at(1)}  # fmt: skip


@pytest.mark.e2e
def test_owner_topics_are_subscribed_with_the_shops_namespaces_and_follow_a_change(simulator, db):
    # given: a shop mirroring one namespace
    domain = f"mf-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=2, customers=2, products=2, seed=5)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       metafield_namespaces=["erp"])  # fmt: skip
    # when: registered, then registered again after the choice changed
    first = webhook_subscriptions_register(shop=shop, callback_url=CALLBACK)
    shop.metafield_namespaces = ["custom", "erp"]
    second = webhook_subscriptions_register(shop=shop, callback_url=CALLBACK)
    # then: the owner topics carry the namespaces, updated in place; the others none, kept
    assert {r.action for r in first} == {SubscriptionAction.CREATED}
    assert {r.topic for r in second if r.action == SubscriptionAction.UPDATED} == METAFIELD_OWNER_TOPICS
    assert {r.topic for r in second if r.action == SubscriptionAction.KEPT} == (
        set(SUBSCRIBED_TOPICS.values()) - METAFIELD_OWNER_TOPICS
    )
    assert [r.subscription_id for r in first] == [r.subscription_id for r in second]
    subscriptions = simulator.control.subscriptions(shop=domain)
    by_namespaces = {s["topic"]: s["metafield_namespaces"] for s in subscriptions}
    owner_topics = {rest for rest, name in SUBSCRIBED_TOPICS.items() if name in METAFIELD_OWNER_TOPICS}
    assert "products/update" in owner_topics
    assert {topic for topic, namespaces in by_namespaces.items() if namespaces} == owner_topics
    assert {tuple(n) for n in by_namespaces.values() if n} == {("custom", "erp")}
    # ... and the simulator's products/update body carries the product's metafields in those namespaces
    simulator.control.clear_deliveries(shop=domain)
    product_id = simulator.control.truth("products", shop=domain)["records"][0]["id"]
    simulator.control.update("products", product_id, shop=domain, title="Renamed")
    (delivery,) = simulator.control.deliveries(shop=domain, include_body=True, topic="products/update")
    carried = orjson.loads(delivery["body"])["metafields"]
    truth = simulator.control.truth("metafields", shop=domain)["records"]
    assert sorted(m["id"] for m in carried) == sorted(
        m["id"] for m in truth
        if m["owner_type"] == "product" and m["owner_id"] == product_id and m["namespace"] in ("custom", "erp")
    )  # fmt: skip


def test_an_owner_body_with_metafields_replaces_its_set_in_the_chosen_namespaces(db):
    # given: a product mirrored with one metafield, the shop mirroring erp
    shop = ShopFactory(metafield_namespaces=["erp"])
    product = ProductFactory(shop=shop, shopify_id=700, shopify_updated_at=BASE_TIME)
    ProductMetafield.objects.create(
        shop=shop, product=product, shopify_id=1, namespace="erp", key="old", value="x"
    )
    body = {"id": 700, "title": "Shirt", "updated_at": at(5),
            "metafields": [_metafield(2, "erp", "external_id", "ERP-2"), _metafield(3, "custom", "care", "Wash")]}  # fmt: skip
    # when
    log = delivery_process(shop, "products/update", body)
    # then: the erp one replaced the old one; the custom one is not ours
    assert log.status == WebhookLog.Status.PROCESSED
    assert list(ProductMetafield.objects.filter(shop=shop).values_list("shopify_id", "key", "value")) == [
        (2, "external_id", "ERP-2")
    ]


def test_an_owner_body_without_metafields_keeps_them(db):
    # given
    shop = ShopFactory(metafield_namespaces=["erp"])
    product = ProductFactory(shop=shop, shopify_id=700, shopify_updated_at=BASE_TIME)
    ProductMetafield.objects.create(
        shop=shop, product=product, shopify_id=1, namespace="erp", key="k", value="v"
    )
    # when
    log = delivery_process(shop, "products/update", {"id": 700, "title": "Shirt", "updated_at": at(5)})
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert Product.objects.get(pk=product.pk).title == "Shirt"
    assert list(ProductMetafield.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == [1]


@pytest.mark.e2e
def test_a_shop_without_the_inventory_scopes_is_not_subscribed_to_inventory_and_location_topics(
    simulator, db
):
    # given: a shop whose app was granted no read_inventory nor read_locations
    domain = f"noinv-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=1, customers=1, products=1, seed=5)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       scopes="read_orders,read_all_orders,read_customers,read_products")  # fmt: skip
    # when
    results = webhook_subscriptions_register(shop=shop, callback_url=CALLBACK)
    # then: every other topic, and inventory items (read_products will do for them)
    subscribed = {result.topic for result in results}
    assert not {topic for topic in subscribed if topic.startswith(("LOCATIONS_", "INVENTORY_LEVELS_"))}
    assert {"ORDERS_CREATE", "PRODUCTS_UPDATE", "INVENTORY_ITEMS_UPDATE", "COLLECTIONS_UPDATE"} <= subscribed
    held = [s["topic"] for s in simulator.control.subscriptions(shop=domain)]
    assert len(held) == len(subscribed)
    assert not [topic for topic in held if topic.startswith(("locations/", "inventory_levels/"))]
