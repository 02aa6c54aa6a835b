"""`webhook_log_process`: one stored delivery applied through the shared write path."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal

import orjson
import pytest
from django.db import OperationalError
from django.utils import timezone

from shopsync.models import Customer, FailedSyncItem, LineItem, Order, Product, Shop, SyncJob, SyncSession
from tests.factories import ShopFactory
from tests.webhooks.factories import (
    BASE_TIME,
    WebhookLogFactory,
    customer_payload,
    order_payload,
    product_payload,
)
from webhooks.models import PrivacyRequest, WebhookLog
from webhooks.services import processing
from webhooks.services.processing import (
    MAX_ATTEMPTS,
    WebhookRetryableError,
    webhook_log_process,
    webhook_log_reprocess,
)
from webhooks.topics import HANDLED_TOPICS


def _stored(shop, topic, payload, *, minutes=0, **fields):
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    shopify_id = payload.get("id") if isinstance(payload, dict) else None
    fields.setdefault("triggered_at", BASE_TIME + timedelta(minutes=minutes))
    return WebhookLogFactory(shop=shop, topic=topic, body=body, shopify_id=shopify_id, **fields)


def _apply(shop, topic, payload, **kwargs):
    log = _stored(shop, topic, payload, **kwargs)
    webhook_log_process(webhook_log_id=log.id)
    log.refresh_from_db()
    return log


def test_every_handled_topic_has_a_handler():
    # then
    assert set(processing.HANDLERS) == HANDLED_TOPICS


def test_orders_create_writes_the_order_and_its_line_items(shop):
    # when
    log = _apply(shop, "orders/create", order_payload(1001, version=2))
    # then
    assert (log.status, log.attempts, log.last_error) == (WebhookLog.Status.PROCESSED, 1, "")
    assert log.processed_at is not None
    order = Order.objects.get(shop=shop, shopify_id=1001)
    assert (order.note, order.total_price, order.customer_shopify_id) == ("version 2", 12, 555)
    assert order.shopify_updated_at == BASE_TIME + timedelta(minutes=2)
    assert list(LineItem.objects.filter(order=order).values_list("shopify_id", "quantity")) == [(10011, 3)]


@pytest.mark.parametrize("topic", ["orders/updated", "orders/cancelled"])
def test_an_older_order_delivery_arriving_late_changes_nothing(shop, topic):
    # given
    _apply(shop, "orders/updated", order_payload(1001, version=5))
    # when
    log = _apply(shop, topic, order_payload(1001, version=3, cancelled_at="2025-01-01T00:03:00-00:00"))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    order = Order.objects.get(shop=shop, shopify_id=1001)
    assert (order.note, order.cancelled_at) == ("version 5", None)
    assert LineItem.objects.get(order=order).quantity == 6


def test_orders_cancelled_applies_the_cancellation(shop):
    # given
    _apply(shop, "orders/create", order_payload(1001, version=1))
    # when
    _apply(
        shop,
        "orders/cancelled",
        order_payload(1001, version=2, cancelled_at="2025-01-01T00:02:00-00:00", cancel_reason="customer"),
    )
    # then
    order = Order.objects.get(shop=shop, shopify_id=1001)
    assert (order.cancel_reason, order.cancelled_at) == ("customer", BASE_TIME + timedelta(minutes=2))


@pytest.mark.parametrize(
    ("resource", "model", "payload"),
    [
        ("orders", Order, order_payload),
        ("customers", Customer, customer_payload),
        ("products", Product, product_payload),
    ],
)
def test_a_delete_soft_deletes_at_trigger_time_and_a_late_older_update_does_not_revive(
    shop, resource, model, payload
):
    # given
    create, update = {"orders": ("orders/create", "orders/updated")}.get(
        resource, (f"{resource}/create", f"{resource}/update")
    )
    _apply(shop, create, payload(77, version=1))
    # when
    deleted = _apply(shop, f"{resource}/delete", {"id": 77}, minutes=10)
    late = _apply(shop, update, payload(77, version=5))
    # then
    assert (deleted.status, late.status) == (WebhookLog.Status.PROCESSED, WebhookLog.Status.PROCESSED)
    record = model.objects.get(shop=shop, shopify_id=77)
    assert record.deleted_at == BASE_TIME + timedelta(minutes=10)
    assert record.shopify_updated_at == BASE_TIME + timedelta(minutes=1)


def test_a_delete_arriving_before_the_create_blocks_the_late_create(shop):
    # when
    _apply(shop, "products/delete", {"id": 88}, minutes=10)
    _apply(shop, "products/create", product_payload(88, version=1))
    # then
    product = Product.objects.get(shop=shop, shopify_id=88)
    assert product.deleted_at == BASE_TIME + timedelta(minutes=10)
    assert product.title is None


def test_customers_and_products_are_written_newest_wins(shop):
    # when
    _apply(shop, "customers/update", customer_payload(5, version=4))
    _apply(shop, "customers/create", customer_payload(5, version=1))
    _apply(shop, "products/update", product_payload(6, version=2))
    _apply(shop, "products/create", product_payload(6, version=1))
    # then
    assert Customer.objects.get(shop=shop, shopify_id=5).last_name == "Lovelace v4"
    product = Product.objects.get(shop=shop, shopify_id=6)
    assert (product.title, [v.price for v in product.variants.all()]) == ("Widget v2", [12])


def test_a_delivery_is_processed_once_even_if_queued_twice(shop):
    # given
    log = _stored(shop, "orders/create", order_payload(1001))
    webhook_log_process(webhook_log_id=log.id)
    # when
    second = webhook_log_process(webhook_log_id=log.id)
    # then
    assert second is None
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookLog.Status.PROCESSED, 1)


def test_a_missing_log_is_a_no_op(db):
    # when / then
    assert webhook_log_process(webhook_log_id=987654321) is None


def test_an_invalid_payload_is_dead_lettered_at_once(shop):
    # when
    log = _apply(shop, "orders/updated", order_payload(1001, line_items=[{"id": 1, "quantity": "many"}]))
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert "line_items.0.quantity" in log.last_error
    item = FailedSyncItem.objects.get()
    assert (item.entity_type, item.source, item.source_ref, item.shopify_id) == (
        "webhook",
        "webhook",
        str(log.id),
        1001,
    )
    assert item.payload["id"] == 1001
    assert Order.objects.count() == 0


def test_a_delete_without_id_is_dead_lettered(shop):
    # when
    log = _apply(shop, "customers/delete", {"email": "x@example.com"})
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert FailedSyncItem.objects.get().source_ref == str(log.id)


def test_a_transient_error_marks_the_delivery_failed_and_asks_for_a_retry(shop, monkeypatch):
    # given
    def locked(delivery):
        raise OperationalError("could not obtain lock on row")

    monkeypatch.setitem(processing.HANDLERS, "orders/updated", locked)
    log = _stored(shop, "orders/updated", order_payload(1001))
    # when
    with pytest.raises(WebhookRetryableError):
        webhook_log_process(webhook_log_id=log.id)
    # then
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookLog.Status.FAILED, 1)
    assert "could not obtain lock" in log.last_error
    assert FailedSyncItem.objects.count() == 0


def test_a_transient_error_on_the_last_attempt_is_dead_lettered(shop, monkeypatch):
    # given
    def locked(delivery):
        raise OperationalError("could not obtain lock on row")

    monkeypatch.setitem(processing.HANDLERS, "orders/updated", locked)
    log = _stored(
        shop,
        "orders/updated",
        order_payload(1001),
        attempts=MAX_ATTEMPTS - 1,
        status=WebhookLog.Status.FAILED,
    )
    # when
    webhook_log_process(webhook_log_id=log.id)
    # then
    log.refresh_from_db()
    assert (log.status, log.attempts) == (WebhookLog.Status.DEAD, MAX_ATTEMPTS)
    assert FailedSyncItem.objects.get().error_message == "could not obtain lock on row"


def test_reprocess_runs_a_dead_delivery_again(shop):
    # given
    log = _stored(shop, "orders/create", order_payload(1001), status=WebhookLog.Status.DEAD, attempts=6)
    # when
    result = webhook_log_reprocess(webhook_log=log)
    # then
    assert result.status == WebhookLog.Status.PROCESSED
    assert Order.objects.filter(shop=shop, shopify_id=1001).exists()


def test_reprocess_raises_when_the_delivery_still_fails(shop):
    # given
    log = _stored(shop, "orders/create", b"[]", status=WebhookLog.Status.DEAD)
    # when
    with pytest.raises(ValueError):
        webhook_log_reprocess(webhook_log=log)
    # then
    log.refresh_from_db()
    assert log.status == WebhookLog.Status.DEAD
    assert FailedSyncItem.objects.count() == 0


def test_an_unhandled_topic_is_ignored(shop):
    # when
    log = _apply(shop, "carts/update", {"id": 1})
    # then
    assert log.status == WebhookLog.Status.IGNORED


def _sim_shop(simulator, domain: str, **fields) -> Shop:
    """A shop installed on the simulator, holding a token the simulator accepts."""
    token = f"shpat_{domain.split('.')[0]}"
    simulator.control.create_shop(domain, token=token, orders=0, customers=0, products=0)
    return ShopFactory(domain=domain, api_base_url=simulator.base_url, access_token=token, **fields)


def test_app_uninstalled_marks_the_shop_uninstalled_once_shopify_refuses_its_token(simulator, db):
    # given: uninstalled on Shopify, which revokes the app's tokens
    shop = _sim_shop(simulator, "uninstalled.myshopify.com")
    simulator.control.uninstall(shop=shop.domain)
    # when
    log = _apply(
        shop, "app/uninstalled", {"id": 954889, "myshopify_domain": shop.domain}, triggered_at=timezone.now()
    )
    # then
    assert (log.status, log.last_error) == (WebhookLog.Status.PROCESSED, "")
    shop.refresh_from_db()
    assert shop.status == Shop.Status.UNINSTALLED
    assert shop.uninstalled_at == log.triggered_at


def test_a_replayed_app_uninstalled_leaves_a_reinstalled_shop_installed(simulator, db):
    # given: uninstalled, then reinstalled (a new token); the old app/uninstalled body is replayed
    # with a fresh trigger time
    shop = _sim_shop(simulator, "reinstalled.myshopify.com")
    simulator.control.uninstall(shop=shop.domain)
    shop.access_token = simulator.control.mint_token(shop=shop.domain)["access_token"]
    shop.installed_at = timezone.now() - timedelta(minutes=5)
    shop.save()
    # when
    log = _apply(shop, "app/uninstalled", {"id": 954889}, triggered_at=timezone.now())
    # then
    shop.refresh_from_db()
    assert (shop.status, shop.uninstalled_at) == (Shop.Status.INSTALLED, None)
    assert log.status == WebhookLog.Status.IGNORED
    assert log.last_error.startswith(
        "app/uninstalled not confirmed: Shopify still accepts the shop's access token"
    )
    assert not FailedSyncItem.objects.exists()


def test_app_uninstalled_is_retried_when_shopify_cannot_answer(simulator, db):
    # given
    shop = _sim_shop(simulator, "unreachable.myshopify.com")
    simulator.control.set_faults(shop=shop.domain, server_error_share=1.0, server_error_statuses=[503])
    log = _stored(shop, "app/uninstalled", {"id": 954889}, triggered_at=timezone.now())
    # when
    try:
        with pytest.raises(WebhookRetryableError):
            webhook_log_process(webhook_log_id=log.id)
    finally:
        simulator.control.clear_faults()
    # then
    log.refresh_from_db()
    assert log.status == WebhookLog.Status.FAILED
    assert "status=503" in log.last_error
    shop.refresh_from_db()
    assert shop.status == Shop.Status.INSTALLED


def test_a_late_app_uninstalled_from_before_a_reinstall_is_ignored(simulator, db):
    # given: reinstalled now; the uninstall happened a year earlier (and Shopify refuses the token
    # the shop still holds, so only the ordering guard keeps it installed)
    shop = _sim_shop(simulator, "late-uninstall.myshopify.com", installed_at=timezone.now())
    simulator.control.uninstall(shop=shop.domain)
    # when
    _apply(shop, "app/uninstalled", {"id": 954889}, minutes=0)
    # then
    shop.refresh_from_db()
    assert shop.status == Shop.Status.INSTALLED


def test_bulk_operations_finish_wakes_the_waiting_sync_job(shop):
    # given
    session = SyncSession.objects.create(shop=shop, kind="initial", triggered_by="install", status="running")
    job = SyncJob.objects.create(
        session=session,
        shop=shop,
        resource="orders",
        mode="initial",
        status="running",
        bulk_operation_id="gid://shopify/BulkOperation/720918",
    )
    payload = {
        "admin_graphql_api_id": "gid://shopify/BulkOperation/720918",
        "completed_at": "2024-08-29T17:23:25Z",
        "created_at": "2024-08-29T17:16:35Z",
        "error_code": None,
        "status": "completed",
        "type": "query",
    }
    # when
    log = _apply(shop, "bulk_operations/finish", payload)
    # then
    assert (log.status, log.shopify_id) == (WebhookLog.Status.PROCESSED, None)
    job.refresh_from_db()
    assert (job.bulk_status, job.bulk_finished_at is not None) == ("COMPLETED", True)


def test_record_deliveries_after_shop_redact_are_ignored(shop):
    # given
    _apply(shop, "shop/redact", {"shop_id": 954889, "shop_domain": shop.domain})
    # when
    log = _apply(shop, "orders/create", order_payload(1001))
    # then
    assert log.status == WebhookLog.Status.IGNORED
    assert Order.objects.count() == 0
    assert PrivacyRequest.objects.get().topic == "shop/redact"


def test_webhook_handling_never_starts_a_sync(shop):
    # when
    for topic, payload in [
        ("orders/create", order_payload(1)),
        ("customers/create", customer_payload(2)),
        ("products/create", product_payload(3)),
    ]:
        _apply(shop, topic, payload)
    # then
    assert SyncSession.objects.count() == 0


def _queued_tasks() -> list[tuple[str, list, dict]]:
    """(task name, args, eta) of the messages waiting in the `webhooks` queue, oldest first."""
    import base64
    import json

    import redis

    from tests.webhooks.conftest import redis_url

    client = redis.Redis.from_url(redis_url())
    tasks = []
    for raw in reversed(client.lrange("webhooks", 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args, message["headers"].get("eta")))
    return tasks


@pytest.fixture
def empty_queue():
    import redis

    from tests.webhooks.conftest import redis_url

    redis.Redis.from_url(redis_url()).delete("webhooks")
    yield
    redis.Redis.from_url(redis_url()).delete("webhooks")


def test_a_batch_processes_each_delivery_and_skips_those_already_done(shop, empty_queue):
    # given
    first = _stored(shop, "orders/updated", order_payload(31))
    done = _stored(shop, "orders/updated", order_payload(32), status=WebhookLog.Status.PROCESSED)
    last = _stored(shop, "orders/create", order_payload(33))
    # when
    processing.webhook_logs_process(webhook_log_ids=[first.id, done.id, last.id, first.id])
    # then
    statuses = dict(WebhookLog.objects.values_list("id", "status"))
    assert statuses == {first.id: "processed", done.id: "processed", last.id: "processed"}
    assert set(WebhookLog.objects.values_list("id", "attempts")) == {
        (first.id, 1),
        (done.id, 0),
        (last.id, 1),
    }
    assert set(Order.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == {31, 33}
    assert _queued_tasks() == []


def test_a_transient_failure_in_a_batch_goes_to_its_own_retrying_task_and_the_rest_carry_on(
    shop, monkeypatch, empty_queue
):
    # given: the write fails whenever it includes order 41 (the batch's write, then 41's own)
    real = processing.records_upsert

    def upsert(*, records, **kwargs):
        records = list(records)
        if any(record.shopify_id == 41 for record in records):
            raise OperationalError("server closed the connection unexpectedly")
        return real(records=records, **kwargs)

    monkeypatch.setattr(processing, "records_upsert", upsert)
    flaky = _stored(shop, "orders/updated", order_payload(41))
    fine = _stored(shop, "orders/updated", order_payload(42))
    # when
    processing.webhook_logs_process(webhook_log_ids=[flaky.id, fine.id])
    # then
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts) == (WebhookLog.Status.FAILED, 1)
    assert WebhookLog.objects.get(pk=fine.id).status == WebhookLog.Status.PROCESSED
    assert list(Order.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == [42]
    [(task, args, eta)] = _queued_tasks()
    assert (task, args) == ("webhooks.tasks.webhook_log_process_task", [flaky.id])
    assert eta is not None  # a countdown, not an immediate retry


def test_a_batch_over_its_time_budget_hands_the_rest_to_a_new_task(shop, empty_queue):
    # given: three runs (the budget is checked between runs: an order, a customer, an order)
    logs = [
        _stored(shop, "orders/updated", order_payload(50)),
        _stored(shop, "customers/update", customer_payload(51)),
        _stored(shop, "orders/updated", order_payload(52)),
    ]
    # when: a budget already spent after the first delivery
    processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs], time_budget_seconds=0)
    # then
    statuses = [WebhookLog.objects.get(pk=log.id).status for log in logs]
    assert statuses == ["processed", "received", "received"]
    assert _queued_tasks() == [("webhooks.tasks.webhook_logs_process_task", [[logs[1].id, logs[2].id]], None)]


def test_a_batch_writes_consecutive_record_updates_at_once_and_the_newest_version_wins(
    shop, empty_queue, django_assert_max_num_queries
):
    # given: ten orders, three versions each, in shuffled order
    versions = [(order_id, version) for order_id in range(60, 70) for version in (1, 2, 3)]
    random.Random(5).shuffle(versions)
    logs = [_stored(shop, "orders/updated", order_payload(order_id, version=v)) for order_id, v in versions]
    # when: one write for the thirty (a delivery at a time took about twenty queries each)
    with django_assert_max_num_queries(40):
        processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert set(WebhookLog.objects.values_list("status", "attempts", "last_error")) == {("processed", 1, "")}
    assert WebhookLog.objects.filter(processed_at__isnull=True).count() == 0
    orders = Order.objects.filter(shop=shop)
    assert sorted(orders.values_list("shopify_id", "note")) == [(n, "version 3") for n in range(60, 70)]
    assert LineItem.objects.filter(order__shop=shop).count() == 10
    assert _queued_tasks() == []


def test_a_delete_keeps_its_place_between_the_record_updates_of_a_batch(shop, empty_queue):
    # given: an update, then the delete, then a late older update of the same order
    logs = [
        _stored(shop, "orders/updated", order_payload(71, version=2)),
        _stored(shop, "orders/updated", order_payload(72, version=2)),
        _stored(shop, "orders/delete", {"id": 71}, minutes=10),
        _stored(shop, "orders/updated", order_payload(71, version=1)),
        _stored(shop, "orders/updated", order_payload(72, version=3)),
    ]
    # when
    processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert set(WebhookLog.objects.values_list("status", flat=True)) == {"processed"}
    deleted, kept = Order.objects.get(shopify_id=71), Order.objects.get(shopify_id=72)
    assert (deleted.deleted_at, deleted.note) == (BASE_TIME + timedelta(minutes=10), "version 2")
    assert (kept.deleted_at, kept.note) == (None, "version 3")


def test_a_batch_applies_each_shop_s_deliveries_to_that_shop(shop, empty_queue):
    # given: the same order id at two shops, interleaved
    other = ShopFactory(domain="other.myshopify.com")
    logs = [
        _stored(shop, "orders/updated", order_payload(81, version=1)),
        _stored(shop, "orders/updated", order_payload(82, version=1)),
        _stored(other, "orders/updated", order_payload(81, version=2)),
        _stored(shop, "customers/update", customer_payload(83, version=1)),
        _stored(shop, "orders/create", order_payload(84, version=1)),
    ]
    # when
    processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert set(WebhookLog.objects.values_list("status", flat=True)) == {"processed"}
    assert sorted(Order.objects.filter(shop=shop).values_list("shopify_id", "note")) == [
        (81, "version 1"),
        (82, "version 1"),
        (84, "version 1"),
    ]
    assert list(Order.objects.filter(shop=other).values_list("shopify_id", "note")) == [(81, "version 2")]
    assert Customer.objects.filter(shop=shop, shopify_id=83).exists()


def test_an_invalid_body_in_a_batch_is_dead_lettered_alone(shop, empty_queue):
    # given
    good = _stored(shop, "orders/updated", order_payload(91))
    bad = _stored(shop, "orders/updated", order_payload(92, line_items=[{"id": 1, "quantity": "many"}]))
    not_json = _stored(shop, "orders/updated", b"{not json")
    also_good = _stored(shop, "orders/create", order_payload(93))
    # when
    processing.webhook_logs_process(webhook_log_ids=[good.id, bad.id, not_json.id, also_good.id])
    # then
    statuses = dict(WebhookLog.objects.values_list("id", "status"))
    assert statuses == {good.id: "processed", bad.id: "dead", not_json.id: "dead", also_good.id: "processed"}
    assert set(FailedSyncItem.objects.values_list("source_ref", flat=True)) == {str(bad.id), str(not_json.id)}
    assert sorted(Order.objects.values_list("shopify_id", flat=True)) == [91, 93]
    assert _queued_tasks() == []


def test_a_batch_for_a_redacted_shop_writes_nothing(shop, empty_queue):
    # given
    _apply(shop, "shop/redact", {"shop_id": 954889, "shop_domain": shop.domain})
    logs = [_stored(shop, "orders/updated", order_payload(95 + n)) for n in range(3)]
    # when
    processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert [WebhookLog.objects.get(pk=log.id).status for log in logs] == ["ignored"] * 3
    assert Order.objects.count() == 0


def test_two_workers_given_the_same_batch_apply_each_delivery_once(transactional_db, empty_queue):
    # given
    shop = ShopFactory(domain="race.myshopify.com")
    logs = [_stored(shop, "orders/updated", order_payload(100 + n % 20, version=n)) for n in range(60)]
    ids = [log.id for log in logs]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(batch):
        from django.db import connection

        try:
            barrier.wait()
            processing.webhook_logs_process(webhook_log_ids=batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # when: one worker from the front, the other from the back
    threads = [threading.Thread(target=worker, args=(batch,)) for batch in (ids, ids[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert set(WebhookLog.objects.values_list("status", "attempts", "last_error")) == {("processed", 1, "")}
    stored = dict(Order.objects.filter(shop=shop).values_list("shopify_id", "note"))
    assert stored == {100 + n: f"version {40 + n}" for n in range(20)}
    assert _queued_tasks() == []


def test_a_run_of_record_updates_stops_growing_at_its_body_size_limit(shop, empty_queue, monkeypatch):
    # given: four order updates, room for two bodies per write
    logs = [_stored(shop, "orders/updated", order_payload(110 + n)) for n in range(4)]
    monkeypatch.setattr(processing, "RUN_MAX_BODY_BYTES", 2 * len(bytes(logs[0].body)) + 10)
    real = processing.records_upsert
    written: list[list[int]] = []

    def upsert(*, records, **kwargs):
        records = list(records)
        written.append([record.shopify_id for record in records])
        return real(records=records, **kwargs)

    monkeypatch.setattr(processing, "records_upsert", upsert)
    # when
    processing.webhook_logs_process(webhook_log_ids=[log.id for log in logs])
    # then
    assert written == [[110, 111], [112, 113]]
    assert set(WebhookLog.objects.values_list("status", flat=True)) == {"processed"}


def _without(payload: dict, key: str) -> dict:
    return {name: value for name, value in payload.items() if name != key}


@pytest.mark.parametrize("batched", [False, True])
def test_an_order_update_without_line_items_keeps_the_stored_ones(shop, batched):
    # given
    _apply(shop, "orders/create", order_payload(1001, version=1))
    _apply(shop, "orders/create", order_payload(1002, version=1))
    partial = [
        _stored(shop, "orders/updated", _without(order_payload(order_id, version=2), "line_items"))
        for order_id in (1001, 1002)
    ]
    # when: a subscription trimmed by includeFields sends the order without its line items
    if batched:
        processing.webhook_logs_process(webhook_log_ids=[log.id for log in partial])
    else:
        for log in partial:
            webhook_log_process(webhook_log_id=log.id)
    # then
    assert set(
        WebhookLog.objects.filter(pk__in=[log.pk for log in partial]).values_list("status", flat=True)
    ) == {WebhookLog.Status.PROCESSED}
    for order_id in (1001, 1002):
        order = Order.objects.get(shop=shop, shopify_id=order_id)
        assert order.note == "version 2"
        assert list(order.line_items.values_list("shopify_id", "quantity")) == [(order_id * 10 + 1, 2)]


def test_an_order_update_with_an_empty_line_items_list_removes_them(shop):
    # given
    _apply(shop, "orders/create", order_payload(1001, version=1))
    # when
    log = _apply(shop, "orders/updated", order_payload(1001, version=2, line_items=[]))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    assert not LineItem.objects.filter(order__shopify_id=1001).exists()


def test_a_product_update_without_variants_keeps_the_stored_ones(shop):
    # given
    _apply(shop, "products/create", product_payload(7, version=1))
    # when
    log = _apply(shop, "products/update", _without(product_payload(7, version=2), "variants"))
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    product = Product.objects.get(shop=shop, shopify_id=7)
    assert product.title == "Widget v2"
    assert list(product.variants.values_list("shopify_id", "price")) == [(71, Decimal("11.00"))]


@pytest.mark.parametrize(
    ("topic", "payload", "model"),
    [
        (
            "customers/update",
            customer_payload(
                42,
                note="likes\u0000 widgets",
                default_address={"city": "Spring\u0000field", "x\u0000": ["\u0000"]},
            ),
            Customer,
        ),
        ("orders/create", order_payload(1001, note="gift\u0000", tags="a\u0000, b"), Order),
    ],
)
def test_a_nul_character_in_the_payload_is_dropped_and_the_record_written(shop, topic, payload, model):
    # when
    log = _apply(shop, topic, payload)
    # then
    assert (log.status, log.last_error) == (WebhookLog.Status.PROCESSED, "")
    assert bytes(log.body) == orjson.dumps(payload)  # the delivery itself stays as it came
    record = model.objects.get(shop=shop, shopify_id=payload["id"])
    assert "\x00" not in record.note
    assert not FailedSyncItem.objects.exists()


def test_a_nul_character_in_a_privacy_payload_is_dropped_before_it_is_stored(shop):
    # given
    payload = {
        "shop_id": 954889,
        "shop_domain": shop.domain,
        "customer": {"id": 191167, "email": "john\u0000@example.com", "phone": "555"},
        "orders_to_redact": [],
        "note\u0000": "kept\u0000",
    }
    # when
    log = _apply(shop, "customers/redact", payload)
    # then
    assert log.status == WebhookLog.Status.PROCESSED
    request = PrivacyRequest.objects.get(shop=shop)
    assert request.payload["note"] == "kept"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (b'{"id": 9.00000000000000011e17, "updated_at": "2025-01-01T00:00:00Z"}', "order"),
        (b'{"id": 18446744073709551616, "updated_at": "2025-01-01T00:00:00Z"}', "order"),
        (b'{"id": "1001", "updated_at": "2025-01-01T00:00:00Z"}', "order 1001"),
    ],
)
def test_an_id_that_is_not_an_exact_integer_dead_letters_the_delivery_and_writes_nothing(shop, body, label):
    # given
    _apply(shop, "orders/create", order_payload(1001, version=1))
    # when
    log = _apply(shop, "orders/updated", body)
    # then
    assert log.status == WebhookLog.Status.DEAD
    assert log.last_error == f"PayloadValidationError: {label}: id: Input should be a valid integer"
    assert FailedSyncItem.objects.get().error_message == f"{label}: id: Input should be a valid integer"
    assert list(Order.objects.filter(shop=shop).values_list("shopify_id", "note")) == [(1001, "version 1")]
