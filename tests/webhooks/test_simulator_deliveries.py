"""Against the Shopify simulator: registration through GraphQL, and signed deliveries (with
duplicate and out-of-order faults) received over HTTP, processed by a real worker, converging."""

from __future__ import annotations

import time
from datetime import datetime

import orjson
import pytest
from django.utils import timezone

from shopsync.models import Customer, InventoryLevel, Order, Product, Shop
from shopsync.services.sync import ensure_sync, sync_session_run
from tests.factories import ShopFactory
from tests.webhooks.conftest import RECEIVER_PATH, deliver, wait_until
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services.registration import SubscriptionAction, webhook_subscriptions_register
from webhooks.topics import SUBSCRIBED_TOPICS

pytestmark = pytest.mark.e2e


def _sim_shop(simulator, domain: str, **options) -> Shop:
    token = f"shpat_{domain.split('.')[0]}"
    simulator.control.create_shop(domain, token=token, **options)
    return ShopFactory(domain=domain, api_base_url=simulator.base_url, access_token=token)


def test_registration_creates_every_subscription_once_and_replaces_an_old_callback(simulator, db):
    # given
    shop = _sim_shop(simulator, "register.myshopify.com", orders=1, customers=1, products=1)
    # when
    first = webhook_subscriptions_register(shop=shop, callback_url="https://app.example/webhooks/shopify/")
    again = webhook_subscriptions_register(shop=shop, callback_url="https://app.example/webhooks/shopify/")
    moved = webhook_subscriptions_register(shop=shop, callback_url="https://new.example/webhooks/shopify/")
    # then
    assert sorted(r.topic for r in first) == sorted(SUBSCRIBED_TOPICS.values())
    assert {r.action for r in first} == {SubscriptionAction.CREATED}
    assert [(r.action, r.subscription_id) for r in again] == [
        (SubscriptionAction.KEPT, r.subscription_id) for r in first
    ]
    assert {r.action for r in moved} == {SubscriptionAction.REPLACED}
    subscriptions = simulator.control.subscriptions(shop=shop.domain)
    assert len(subscriptions) == len(SUBSCRIBED_TOPICS)
    assert {s["uri"] for s in subscriptions} == {"https://new.example/webhooks/shopify/"}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


NO_DELETES = {
    "orders/create": 3,
    "orders/update": 4,
    "customers/create": 1,
    "customers/update": 1.5,
    "products/create": 0.5,
    "products/update": 1,
}


def _wait_for_the_clock_to_pass_every_updated_at(simulator, shop: Shop) -> None:
    """The simulator bumps a record changed twice in one second to `old + 1 s`, ahead of the wall
    clock, while it stamps a delete's X-Shopify-Triggered-At with the wall clock. On Shopify a
    record's last update precedes its deletion; wait until that holds here too (see the report)."""
    newest = max(
        _utc(record["updated_at"]).timestamp()
        for resource in ("orders", "customers", "products")
        for record in simulator.control.truth(resource, shop=shop.domain)["records"]
    )
    time.sleep(max(0.0, newest + 1.1 - time.time()))


def _deletable(simulator, shop: Shop, lonely_customer_id: int) -> list[tuple[str, int]]:
    orders = [o["id"] for o in simulator.control.truth("orders", shop=shop.domain)["records"]]
    products = [p["id"] for p in simulator.control.truth("products", shop=shop.domain)["records"]]
    # Shopify refuses to delete a customer with orders: delete one created without any.
    return [
        ("orders", orders[0]),
        ("orders", orders[-1]),
        ("products", products[0]),
        ("customers", lonely_customer_id),
    ]


def test_faulty_deliveries_from_the_simulator_converge_to_the_store(simulator, live_server, celery_worker):
    # given: a small store, our subscriptions, duplicate and out-of-order faults on
    shop = _sim_shop(simulator, "converge.myshopify.com", orders=15, customers=8, products=4, seed=3)
    webhook_subscriptions_register(shop=shop, callback_url=live_server.url + RECEIVER_PATH)
    simulator.control.set_faults(
        shop=shop.domain, webhook_duplicate_share=0.4, webhook_out_of_order_share=0.4, seed=9
    )
    try:
        # when: the store changes (creates and updates of every resource, then deletes)
        changes = simulator.control.mutate(count=60, seed=21, mix=NO_DELETES, shop=shop.domain)
        # After the mutations, which give orders to random customers.
        lonely = simulator.control.create("customers", shop=shop.domain)
        _wait_for_the_clock_to_pass_every_updated_at(simulator, shop)
        deleted = _deletable(simulator, shop, lonely_customer_id=lonely["id"])
        for resource, record_id in deleted:
            simulator.control.delete(resource, record_id, shop=shop.domain)
        simulator.control.flush_webhooks(shop=shop.domain, timeout=60)
        deliveries = simulator.control.deliveries(shop=shop.domain)
    finally:
        simulator.control.set_faults(shop=shop.domain)
    # then: everything Shopify sent was accepted, duplicates stored once, all processed
    assert deliveries and {d["status"] for d in deliveries} == {"delivered"}
    assert any(d["duplicate"] for d in deliveries)
    events = {d["event_id"] for d in deliveries}
    settled = WebhookLog.objects.filter(shop=shop, status__in=("processed", "ignored"))
    assert wait_until(lambda: settled.count() == len(events), timeout=60)
    assert WebhookLog.objects.filter(shop=shop).count() == len(events)
    # Ignored only where nothing is to be applied: an inventory item no stored variant holds (its
    # product's next version brings it; a deleted variant's item), or an order Shopify deleted.
    rightly_ignored = ("no stored variant has inventory_item_shopify_id", "is not in Shopify (deleted?)")
    ignored = WebhookLog.objects.filter(shop=shop, status="ignored").values_list("topic", "last_error")
    assert [(t, e) for t, e in ignored if not any(reason in e for reason in rightly_ignored)] == []
    for resource, model in (("orders", Order), ("customers", Customer), ("products", Product)):
        truth = simulator.control.truth(resource, shop=shop.domain)
        newest = {record["id"]: _utc(record["updated_at"]) for record in truth["records"]}
        touched = set(
            WebhookLog.objects.filter(shop=shop, topic__startswith=f"{resource}/").values_list(
                "shopify_id", flat=True
            )
        )
        ours = {row.shopify_id: row for row in model.objects.filter(shop=shop)}
        assert touched <= set(ours), resource
        for shopify_id in touched:
            if shopify_id in truth["deleted_ids"]:
                assert ours[shopify_id].deleted_at is not None, (resource, shopify_id)
            else:
                assert ours[shopify_id].deleted_at is None, (resource, shopify_id)
                assert ours[shopify_id].shopify_updated_at == newest[shopify_id], (resource, shopify_id)
    assert len(changes) == 60
    assert all(
        model.objects.get(shop=shop, shopify_id=record_id).deleted_at
        for model, record_id in [
            ({"orders": Order, "customers": Customer, "products": Product}[resource], record_id)
            for resource, record_id in deleted
        ]
    )


def test_privacy_and_uninstall_deliveries_from_the_simulator_are_applied(
    simulator, live_server, celery_worker
):
    # given
    shop = _sim_shop(simulator, "privacy.myshopify.com", orders=5, customers=3, products=1, seed=4)
    customer = simulator.control.truth("customers", shop=shop.domain)["records"][0]
    Customer.objects.create(
        shop=shop, shopify_id=customer["id"], email="someone@example.com", synced_at=shop.created_at
    )
    url = live_server.url + RECEIVER_PATH
    # when
    simulator.control.send_privacy_webhook(
        "customers/redact", address=url, shop=shop.domain, customer_id=customer["id"]
    )
    simulator.control.send_privacy_webhook(
        "customers/data_request", address=url, shop=shop.domain, customer_id=customer["id"]
    )
    webhook_subscriptions_register(shop=shop, callback_url=url)
    simulator.control.uninstall(shop=shop.domain)
    simulator.control.flush_webhooks(shop=shop.domain)
    # then
    assert wait_until(
        lambda: WebhookLog.objects.filter(shop=shop, status="processed").count() == 3, timeout=30
    )
    assert set(PrivacyRequest.objects.values_list("topic", "customer_shopify_id")) == {
        ("customers/redact", customer["id"]),
        ("customers/data_request", customer["id"]),
    }
    assert Customer.objects.get(shop=shop).email is None
    shop.refresh_from_db()
    assert shop.status == Shop.Status.UNINSTALLED


def test_a_captured_app_uninstalled_replayed_after_a_reinstall_leaves_the_shop_installed(
    simulator, live_server, celery_worker
):
    # given: the app is uninstalled (Shopify revokes its tokens and sends app/uninstalled) ...
    shop = _sim_shop(simulator, "replayed.myshopify.com", orders=1, customers=1, products=1)
    url = live_server.url + RECEIVER_PATH
    webhook_subscriptions_register(shop=shop, callback_url=url)
    simulator.control.uninstall(shop=shop.domain)
    simulator.control.flush_webhooks(shop=shop.domain)
    assert wait_until(lambda: Shop.objects.get(pk=shop.pk).status == Shop.Status.UNINSTALLED, timeout=30)
    [captured] = simulator.control.deliveries(shop=shop.domain, include_body=True, topic="app/uninstalled")
    # ... then reinstalled: a new token, which Shopify accepts
    shop.refresh_from_db()
    shop.access_token = simulator.control.mint_token(shop=shop.domain)["access_token"]
    shop.status, shop.installed_at, shop.uninstalled_at = Shop.Status.INSTALLED, timezone.now(), None
    shop.save()
    body = captured["body"].encode()
    # when: the captured signed body is replayed with fresh ids, once far in the future and once now
    statuses = [
        deliver(live_server.url, topic="app/uninstalled", payload=body, shop_domain=shop.domain,
                triggered_at=triggered_at).status_code
        for triggered_at in ("2099-01-01T00:00:00.000000000Z", None)
    ]  # fmt: skip
    # then
    assert statuses == [200, 200]
    replays = WebhookLog.objects.filter(shop=shop, topic="app/uninstalled").exclude(
        event_id=captured["event_id"]
    )
    assert wait_until(
        lambda: (
            set(replays.values_list("status", flat=True))
            == {WebhookLog.Status.QUARANTINED, WebhookLog.Status.IGNORED}
        ),
        timeout=30,
    )
    reasons = dict(replays.values_list("status", "last_error"))
    assert "X-Shopify-Triggered-At 2099-01-01T00:00:00+00:00 is more than" in reasons["quarantined"]
    assert reasons["ignored"].startswith("app/uninstalled not confirmed: Shopify still accepts")
    shop.refresh_from_db()
    assert (shop.status, shop.uninstalled_at) == (Shop.Status.INSTALLED, None)


INVENTORY_MIX = {
    "inventory_levels/update": 6,
    "inventory_levels/connect": 1,
    "inventory_levels/disconnect": 1,
    # a new product's items are stocked (inventory_levels/connect) before we hold its variants
    "products/create": 0.5,
}


def test_inventory_deliveries_out_of_order_converge_on_every_level(simulator, live_server, celery_worker):
    # given: a store with three locations, mirrored; duplicate and out-of-order faults on
    shop = _sim_shop(simulator, "stock.myshopify.com", orders=2, customers=2, products=5, locations=3, seed=5)
    session = ensure_sync(shop=shop, kind="initial", triggered_by="cli", resources=["locations"]).session
    sync_session_run(session_id=session.pk, task_id="e2e")
    webhook_subscriptions_register(shop=shop, callback_url=live_server.url + RECEIVER_PATH)
    simulator.control.set_faults(
        shop=shop.domain, webhook_duplicate_share=0.3, webhook_out_of_order_share=0.5, seed=4
    )
    try:
        # when: stock moves, items are stocked and unstocked, new products arrive
        simulator.control.mutate(count=40, seed=8, mix=INVENTORY_MIX, shop=shop.domain)
        simulator.control.flush_webhooks(shop=shop.domain, timeout=60)
        deliveries = simulator.control.deliveries(shop=shop.domain, include_body=True)
    finally:
        simulator.control.set_faults(shop=shop.domain)
    events = {d["event_id"] for d in deliveries}
    assert wait_until(
        lambda: (
            WebhookLog.objects.filter(shop=shop, status__in=("processed", "ignored")).count() == len(events)
        ),
        timeout=60,
    )
    # then: every level Shopify has is ours (new items included), every level it dropped is gone, and
    # each level's `available` is the newest Shopify announced (untracked items announce null)
    truth = {(row["inventory_item_id"], row["location_id"]): row for row in
             simulator.control.truth("inventory_levels", shop=shop.domain)["levels"]}  # fmt: skip
    ours = {(level.shopify_id, level.location.shopify_id): level for level in
            InventoryLevel.objects.filter(shop=shop).select_related("location")}  # fmt: skip
    assert ours.keys() == truth.keys()
    announced = {
        (body["inventory_item_id"], body["location_id"])
        for body in (orjson.loads(d["body"]) for d in deliveries if d["topic"] == "inventory_levels/update")
        if body["available"] is not None
    }
    assert announced
    assert {key: ours[key].available for key in announced & truth.keys()} == {
        key: truth[key]["available"] for key in announced & truth.keys()
    }
    # (an inventory_items/create may come before the product holding the item: that one waits for it)
    assert set(
        WebhookLog.objects.filter(shop=shop)
        .exclude(topic="inventory_items/create")
        .values_list("status", flat=True)
    ) == {"processed"}
