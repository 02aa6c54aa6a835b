"""End to end: incremental runs against the simulator over HTTP find deletions whose webhooks were lost
(our test shops subscribe to no webhooks: every deletion's webhook is lost) through Shopify's events,
on real PostgreSQL."""

from __future__ import annotations

import time

import pytest

from shopsync.models import Order, SyncCursor, SyncSession
from shopsync.resources import Resource, declaration_for
from shopsync.services.sync import deletion_events
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth

pytestmark = pytest.mark.e2e


def _deleted_ids(shop, resource: Resource) -> set[int]:
    model = declaration_for(resource).model
    return set(model.objects.filter(shop=shop, deleted_at__isnull=False).values_list("shopify_id", flat=True))


def _live_ids(shop, resource: Resource) -> list[int]:
    model = declaration_for(resource).model
    return sorted(
        model.objects.filter(shop=shop, deleted_at__isnull=True).values_list("shopify_id", flat=True)
    )


def _truth_deleted(simulator, shop, resource: Resource) -> set[int]:
    return set(simulator.control.truth(resource.value, shop=shop.sim_domain)["deleted_ids"])


def _delete_in_shopify(simulator, shop, counts: dict[Resource, int]) -> dict[Resource, set[int]]:
    # Shopify refuses to delete a customer with orders: only customers without any are picked.
    with_orders = set(Order.objects.filter(shop=shop).values_list("customer_shopify_id", flat=True))
    gone = {}
    for resource, count in counts.items():
        candidates = [
            i for i in _live_ids(shop, resource) if resource != Resource.CUSTOMERS or i not in with_orders
        ]
        gone[resource] = set(candidates[5 : 5 + count])
        for shopify_id in gone[resource]:
            simulator.control.delete(resource.value, shopify_id, shop=shop.sim_domain)
    return gone


def test_an_incremental_run_soft_deletes_exactly_what_shopify_deleted_while_its_webhooks_were_lost(
    simulator, sim_shop, monkeypatch
):
    # given: a synced shop, then deletions in Shopify (events pages of 2: several pages per resource)
    monkeypatch.setattr(deletion_events, "EVENTS_PAGE_SIZE", 2)
    shop = sim_shop()
    assert _run_inline(shop).status == SyncSession.Status.COMPLETED
    gone = _delete_in_shopify(
        simulator,
        shop,
        {Resource.ORDERS: 5, Resource.CUSTOMERS: 2, Resource.PRODUCTS: 3, Resource.COLLECTIONS: 1},
    )
    # when
    session = _run_inline(shop, kind="incremental")
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    for resource in gone:  # (locations have no deletion events: full runs and webhooks find theirs)
        assert _deleted_ids(shop, resource) == gone[resource] == _truth_deleted(simulator, shop, resource)
        truth = simulator.control.truth(resource.value, shop=shop.sim_domain)
        assert _live_ids(shop, resource) == sorted(row["id"] for row in truth["records"]), resource
    assert sorted((job.resource, job.deleted) for job in session.jobs.all()) == [
        ("collections", 1), ("customers", 2), ("locations", 0), ("orders", 5), ("products", 3)
    ]  # fmt: skip
    # Orders by id only: a deleted product's old line items lose their product id in Shopify's
    # rendering without the order's updatedAt moving (shopify_sim/README.md), which no incremental
    # run can see.
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS, Resource.PRODUCTS])
    assert set(SyncCursor.objects.filter(shop=shop).values_list("resource", "deletion_events_until")) == {
        (resource.value, session.started_at if declaration_for(resource).deletion_event else None)
        for resource in Resource
    }


def test_a_second_run_reads_the_deletions_again_in_its_overlap_but_applies_nothing(simulator, sim_shop):
    # given: deletions applied by one incremental run
    shop = sim_shop()
    _run_inline(shop)
    gone = _delete_in_shopify(simulator, shop, {Resource.ORDERS: 2, Resource.PRODUCTS: 1})
    first = _run_inline(shop, kind="incremental")
    deleted_at = {
        resource: dict(declaration_for(resource).model.objects.filter(shop=shop, deleted_at__isnull=False)
                       .values_list("shopify_id", "deleted_at"))
        for resource in gone
    }  # fmt: skip
    # when: a second run, its events window overlapping the first's (the default 120 s overlap)
    second = _run_inline(shop, kind="incremental")
    # then
    assert second.status == SyncSession.Status.COMPLETED, second.error
    assert [job.deleted for job in first.jobs.order_by("resource")] == [0, 0, 0, 2, 1]
    assert [job.deleted for job in second.jobs.order_by("resource")] == [0, 0, 0, 0, 0]
    for resource, ids in gone.items():
        stored = declaration_for(resource).model.objects.filter(shop=shop, deleted_at__isnull=False)
        assert dict(stored.values_list("shopify_id", "deleted_at")) == deleted_at[resource]
        assert set(deleted_at[resource]) == ids
    assert SyncCursor.objects.get(shop=shop, resource="orders").deletion_events_until == second.started_at


def test_a_deletion_event_older_than_the_watermark_is_not_read_again(simulator, sim_shop, settings):
    # given: no overlap; a deletion applied by one run (whose start is a whole second after the event);
    # then our copy drifts (the row is live again)
    settings.SYNC_INCREMENTAL_OVERLAP_SECONDS = 0
    shop = sim_shop()
    _run_inline(shop)
    [gone] = _delete_in_shopify(simulator, shop, {Resource.ORDERS: 1})[Resource.ORDERS]
    time.sleep(1.1)
    first = _run_inline(shop, kind="incremental", resources=["orders"])
    assert _deleted_ids(shop, Resource.ORDERS) == {gone}
    declaration_for(Resource.ORDERS).model.objects.filter(shop=shop, shopify_id=gone).update(deleted_at=None)
    # when
    second = _run_inline(shop, kind="incremental", resources=["orders"])
    # then: the second run read events from the first's start only, so the old event is not applied again
    assert second.status == SyncSession.Status.COMPLETED, second.error
    assert (first.jobs.get().deleted, second.jobs.get().deleted) == (1, 0)
    assert _deleted_ids(shop, Resource.ORDERS) == set()


def test_incremental_runs_while_the_store_changes_end_with_exactly_the_truths_ids(simulator, sim_shop):
    # given: a synced shop, then creates, updates and deletions of every resource, with no webhooks
    shop = sim_shop(orders=150)
    _run_inline(shop)
    mix = {
        "orders/create": 3, "orders/update": 3, "orders/delete": 1.5, "customers/create": 1,
        "customers/update": 1, "customers/delete": 1, "products/create": 1, "products/update": 1,
        "products/delete": 1,
    }  # fmt: skip
    changes = simulator.control.mutate(count=40, seed=21, mix=mix, shop=shop.sim_domain)
    # Each run starts a second after the changes: a change in the run's own start second may be left
    # to the next run (its records window ends at that second; the next run's overlap covers it).
    time.sleep(1.1)
    first = _run_inline(shop, kind="incremental")
    changes += simulator.control.mutate(count=40, seed=22, mix=mix, shop=shop.sim_domain)
    time.sleep(1.1)
    # when
    second = _run_inline(shop, kind="incremental")
    # then
    assert (first.status, second.status) == (SyncSession.Status.COMPLETED,) * 2, (first.error, second.error)
    assert any(change["action"] == "delete" for change in changes)
    for resource in Resource:
        truth = simulator.control.truth(resource.value, shop=shop.sim_domain)
        assert _live_ids(shop, resource) == sorted(row["id"] for row in truth["records"]), resource
        # created and deleted between two runs too: a tombstone, so a late create cannot bring it back
        assert _deleted_ids(shop, resource) == set(truth["deleted_ids"]), resource
    # Orders by id only: a deleted product's old line items lose their product id in Shopify's
    # rendering without the order's updatedAt moving (shopify_sim/README.md), which no incremental
    # run can see.
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS, Resource.PRODUCTS])
