"""A record dead-lettered with a payload Shopify served malformed is healed by fetching it again by id
(end to end against the simulator: its fault profile serves the malformed page)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from shopsync.models import Collection, Customer, FailedSyncItem, LineItem, Order, Product
from shopsync.payloads import LineItemRecord, OrderRecord, parse_order_rest
from shopsync.resources import Resource
from shopsync.services.dead_letter_retries import RetryOutcome, dead_letter_retry
from shopsync.services.dead_letters import dead_letter_counts, dead_letter_record
from shopsync.services.sync.graphql_queries import page_query
from shopsync.services.sync.units import nodes_parse
from shopsync.services.upsert import records_upsert
from shopsync.shopify.client import ShopifyClient
from tests.factories import OrderFactory, ShopFactory
from tests.order_truth import with_graphql_totals

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim_shop(simulator, db):
    """A small simulated shop of our own (these tests change its data and faults) and our Shop for it."""
    domain = f"dl-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=6, customers=4, products=2, seed=5)
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    yield shop
    simulator.control.clear_faults()
    simulator.control.delete_shop(domain)


CHILDREN = {Resource.ORDERS: "lineItems", Resource.PRODUCTS: "variants", Resource.CUSTOMERS: None,
            Resource.COLLECTIONS: "products"}  # fmt: skip
MODELS = {Resource.ORDERS: Order, Resource.PRODUCTS: Product, Resource.CUSTOMERS: Customer}


def _dead_letter_a_malformed_order(simulator, shop, kind: str = "bad_updated_at") -> FailedSyncItem:
    return _dead_letter_a_malformed_record(simulator, shop, Resource.ORDERS, kind)


def _dead_letter_a_malformed_record(simulator, shop, resource: Resource, kind: str) -> FailedSyncItem:
    """What a paged sync does with a record Shopify serves broken: parse, fail, dead-letter it."""
    simulator.control.set_faults(shop=shop.domain, malformed_record_share=1.0, malformed_kinds=[kind])
    data = ShopifyClient.for_shop(shop).graphql(
        page_query(resource), {"first": 1, "after": None, "query": None, "childFirst": 50}
    )
    simulator.control.clear_faults()
    node = data[resource.value]["nodes"][0]
    children = node.pop(CHILDREN[resource])["nodes"] if CHILDREN[resource] else None
    records, invalid = nodes_parse(resource, [(node, children)], where={"page": 1})
    assert (records, len(invalid)) == ([], 1)
    return dead_letter_record(
        shop=shop, entity_type=resource.singular, shopify_id=invalid[0].shopify_id,
        payload=invalid[0].raw, error=invalid[0].error, source_ref="sync-job:1",
    )  # fmt: skip


def _order_as_record(row: Order) -> OrderRecord:
    # Transactions are not in a REST order (the truth's shape): compared apart; metafields neither.
    # Refunds and fulfillments by their ids here (every column: the convergence oracle of the sync
    # e2e tests).
    skipped = {"line_items", "transactions", "refunds", "fulfillments", "metafields"}
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(OrderRecord) if f.name not in skipped}
    values["line_items"] = sorted(
        (LineItemRecord(**{f.name: getattr(li, f.name) for f in dataclasses.fields(LineItemRecord)})
         for li in LineItem.objects.filter(order=row)), key=lambda r: r.shopify_id)  # fmt: skip
    values["refunds"] = sorted(row.refunds.values_list("shopify_id", flat=True))
    values["fulfillments"] = sorted(row.fulfillments.values_list("shopify_id", flat=True))
    return OrderRecord(**values)


def _truth_as_record(simulator, shop, shopify_id: int) -> OrderRecord:
    truth = simulator.control.truth("orders", full=True, shop=shop.domain)["records"]
    row = next(row for row in truth if row["id"] == shopify_id)
    record = with_graphql_totals(parse_order_rest(row["record"]), row)
    record.line_items = sorted(record.line_items, key=lambda r: r.shopify_id)
    record.refunds = sorted(refund.shopify_id for refund in record.refunds)
    record.fulfillments = sorted(fulfillment.shopify_id for fulfillment in record.fulfillments)
    return record


def test_malformed_order_fixed_in_shopify_is_fetched_again_and_resolved(simulator, sim_shop):
    # given: the order was served broken once, and has been changed in Shopify since
    item = _dead_letter_a_malformed_order(simulator, sim_shop)
    simulator.control.update(
        "orders", item.shopify_id, shop=sim_shop.domain, note="changed after the failure"
    )
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    row = Order.objects.get(shop=sim_shop, shopify_id=item.shopify_id)
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert item.retry_count == 0
    assert item.next_retry_at is None
    assert row.note == "changed after the failure"
    assert _order_as_record(row) == _truth_as_record(simulator, sim_shop, item.shopify_id)


@pytest.mark.parametrize("resource", [Resource.CUSTOMERS, Resource.PRODUCTS])
def test_malformed_customer_or_product_is_fetched_again_and_resolved(simulator, sim_shop, resource):
    # given
    item = _dead_letter_a_malformed_record(simulator, sim_shop, resource, "bad_updated_at")
    truth = simulator.control.get(resource.value, item.shopify_id, shop=sim_shop.domain)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    row = MODELS[resource].objects.get(shop=sim_shop, shopify_id=item.shopify_id)
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert row.shopify_updated_at == datetime.fromisoformat(truth["updated_at"])
    if resource == Resource.PRODUCTS:
        assert sorted(row.variants.values_list("shopify_id", flat=True)) == sorted(
            v["id"] for v in truth["variants"]
        )


def test_malformed_collection_is_fetched_again_with_its_members_and_resolved(simulator, sim_shop):
    # given
    item = _dead_letter_a_malformed_record(simulator, sim_shop, Resource.COLLECTIONS, "bad_updated_at")
    truth = next(
        row for row in simulator.control.truth("collections", shop=sim_shop.domain)["records"]
        if row["id"] == item.shopify_id
    )  # fmt: skip
    members = next(
        row["product_ids"] for row in simulator.control.truth("collects", shop=sim_shop.domain)["memberships"]
        if row["collection_id"] == item.shopify_id
    )  # fmt: skip
    # when
    outcome = dead_letter_retry(item=item)
    # then
    row = Collection.objects.get(shop=sim_shop, shopify_id=item.shopify_id)
    assert outcome == RetryOutcome.SUCCEEDED
    assert row.shopify_updated_at == datetime.fromisoformat(truth["updated_at"])
    assert sorted(row.members.values_list("shopify_id", flat=True)) == sorted(members)


def test_malformed_order_deleted_in_shopify_is_soft_deleted_and_resolved(simulator, sim_shop):
    # given: we hold an older copy of the order, which Shopify then deleted
    item = _dead_letter_a_malformed_order(simulator, sim_shop)
    OrderFactory(
        shop=sim_shop, shopify_id=item.shopify_id, shopify_updated_at=timezone.now() - timedelta(days=9)
    )
    simulator.control.delete("orders", item.shopify_id, shop=sim_shop.domain)
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    row = Order.objects.get(shop=sim_shop, shopify_id=item.shopify_id)
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.resolution == FailedSyncItem.Resolution.SUCCESS
    assert row.deleted_at == item.resolved_at
    assert item.error_message.startswith("Resolved: the record no longer exists in Shopify; soft-deleted.")
    assert "updatedAt" in item.error_message  # the original error stays readable


def test_record_whose_refetch_keeps_failing_keeps_its_backoff_schedule_until_exhausted(simulator, sim_shop):
    # given: Shopify answers every GraphQL call with a server error
    item = _dead_letter_a_malformed_order(simulator, sim_shop)
    FailedSyncItem.objects.filter(pk=item.pk).update(max_retries=3)
    item.refresh_from_db()
    simulator.control.set_faults(shop=sim_shop.domain, server_error_share=1.0, server_error_statuses=[503],
                                 paths=["graphql"])  # fmt: skip
    # when
    schedule, outcomes, now = [], [], item.next_retry_at
    for _ in range(3):
        outcomes.append(dead_letter_retry(item=item, now=now))
        schedule.append((item.retry_count, item.last_retried_at, item.next_retry_at))
        now = item.next_retry_at or now
    # then
    assert outcomes == [RetryOutcome.FAILED, RetryOutcome.FAILED, RetryOutcome.EXHAUSTED]
    first = schedule[0][1]
    assert schedule == [
        (1, first, first + timedelta(minutes=2)),
        (2, first + timedelta(minutes=2), first + timedelta(minutes=6)),
        (3, first + timedelta(minutes=6), None),
    ]
    assert item.resolved_at is None
    assert "status=503" in item.error_message
    assert item.is_exhausted
    assert dead_letter_counts(shop=sim_shop).exhausted == 1
    assert not Order.objects.filter(shop=sim_shop, shopify_id=item.shopify_id).exists()


def test_malformed_payload_older_than_our_row_resolves_without_asking_shopify(simulator, sim_shop):
    # given: the broken payload's updated_at is readable, and a later sync wrote a newer version
    item = _dead_letter_a_malformed_order(simulator, sim_shop, kind="bad_money")
    simulator.control.update("orders", item.shopify_id, shop=sim_shop.domain, note="newer")
    newer = parse_order_rest(simulator.control.get("orders", item.shopify_id, shop=sim_shop.domain))
    records_upsert(shop=sim_shop, resource=Resource.ORDERS, records=[newer])
    simulator.control.reset_requests()
    # when
    outcome = dead_letter_retry(item=item)
    # then
    item.refresh_from_db()
    assert outcome == RetryOutcome.SUCCEEDED
    assert item.error_message.startswith(
        "Resolved: our row is already at least as new as the failed payload."
    )
    assert [r for r in simulator.control.requests()["recent"] if r["shop"] == sim_shop.domain] == []
    assert Order.objects.get(shop=sim_shop, shopify_id=item.shopify_id).note == "newer"


def test_order_with_more_line_items_than_one_page_is_fetched_complete(simulator, db):
    # given: a stored payload no parser takes, for an order with 250 line items in Shopify
    domain, token = f"dl-big-{uuid.uuid4().hex[:8]}.myshopify.com", f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=3, customers=2, products=2, seed=5,
                                  big_orders=1, big_order_lines=250)  # fmt: skip
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    records = simulator.control.truth("orders", full=True, shop=domain)["records"]
    big = max(records, key=lambda row: len(row["record"]["line_items"]))
    item = dead_letter_record(
        shop=shop, entity_type=FailedSyncItem.EntityType.ORDER, shopify_id=big["id"], error="bad",
        payload={"id": f"gid://shopify/Order/{big['id']}", "updatedAt": "not-a-timestamp"},
    )  # fmt: skip
    # when
    outcome = dead_letter_retry(item=item)
    # then
    simulator.control.delete_shop(domain)
    assert outcome == RetryOutcome.SUCCEEDED
    assert len(big["record"]["line_items"]) == 250
    assert LineItem.objects.filter(order__shop=shop, order__shopify_id=big["id"]).count() == 250
