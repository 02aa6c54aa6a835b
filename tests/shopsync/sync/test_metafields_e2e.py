"""Metafields end to end against the simulator (contract §8.10): only the namespaces the shop chose,
on every read path, compared with the simulator's truth by the convergence oracle."""

from __future__ import annotations

import pytest

from reconciliation.services.reconcile import reconciliation_run
from shopsync.models import Customer, CustomerMetafield, OrderMetafield, ProductMetafield
from shopsync.resources import Resource
from shopsync.services.dead_letter_retries import RetryOutcome, dead_letter_retry
from shopsync.services.dead_letters import dead_letter_record
from shopsync.services.metafields import shop_metafield_namespaces_set
from shopsync.services.sync.by_id import records_fetch_by_ids
from shopsync.services.sync.units import nodes_parse, unit_parse
from shopsync.shopify import ShopifyClient
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth

pytestmark = pytest.mark.e2e

OWNERS = (Resource.ORDERS, Resource.CUSTOMERS, Resource.PRODUCTS)
MODELS = (OrderMetafield, CustomerMetafield, ProductMetafield)
SMALL = {"orders": 20, "customers": 10, "products": 6}


def _truth_metafields(simulator, shop, namespaces) -> set[tuple[str, int, str]]:
    records = simulator.control.truth("metafields", full=True, shop=shop.sim_domain)["records"]
    return {
        (row["owner_type"], row["id"], row["namespace"])
        for row in records
        if row["namespace"] in namespaces and row["owner_type"] != "variant"
    }


def _ours(shop) -> set[tuple[str, int, str]]:
    owners = {OrderMetafield: "order", CustomerMetafield: "customer", ProductMetafield: "product"}
    return {
        (owners[model], shopify_id, namespace)
        for model in MODELS
        for shopify_id, namespace in model.objects.filter(shop=shop).values_list("shopify_id", "namespace")
    }


def test_an_initial_sync_mirrors_exactly_the_chosen_namespace(simulator, sim_shop, bulk_parsing):
    # given: a store whose owners have metafields in several namespaces; the shop chose one (or two
    # with the export parsed apart: read unfiltered, kept by the write path's COPY route)
    shop = sim_shop(**SMALL)
    chosen = {"erp"} if bulk_parsing == "thread" else {"erp", "reviews"}
    shop_metafield_namespaces_set(shop=shop, namespaces=chosen)
    # when: a bulk initial sync
    session = _run_inline(shop)
    # then: those metafields of orders, customers and products, nothing else
    assert session.status == "completed", session.error
    expected = _truth_metafields(simulator, shop, chosen)
    assert {owner for owner, _, _ in expected} == {"order", "customer", "product"}
    assert _ours(shop) == expected
    assert_db_equals_truth(simulator, shop, OWNERS)


def test_no_metafields_are_mirrored_by_default(simulator, sim_shop):
    # given: a shop that chose no namespace, on a store with metafields
    shop = sim_shop(orders=10, customers=5, products=3)
    assert _truth_metafields(simulator, shop, {"custom", "erp", "loyalty", "reviews"})
    # when
    session = _run_inline(shop)
    # then
    assert session.status == "completed", session.error
    assert _ours(shop) == set()
    assert_db_equals_truth(simulator, shop, OWNERS)


def test_an_incremental_run_follows_metafield_changes_in_several_namespaces(simulator, sim_shop):
    # given: two namespaces (read unfiltered, kept by the write path), synced; a store where a
    # metafield write moves its owner's updatedAt (contract §8.10 [UNSURE]; the simulator's option)
    shop = sim_shop(**SMALL, metafield_bumps_owner=True)
    shop_metafield_namespaces_set(shop=shop, namespaces=["loyalty", "custom"])
    _run_inline(shop)
    customer = (
        CustomerMetafield.objects.filter(shop=shop, namespace="loyalty").select_related("customer").first()
    )
    others = list(
        Customer.objects.filter(shop=shop)
        .exclude(pk=customer.customer_id)
        .values_list("shopify_id", flat=True)[:2]
    )
    product = ProductMetafield.objects.filter(shop=shop).first()
    control, path = simulator.control, f"/shops/{shop.sim_domain}/metafields"
    # when: an edited value, a new key in a chosen namespace, one in another namespace, a deletion (one
    # change per owner: the simulator moves an owner's updatedAt a second per write, past the run's start)
    control.call("POST", path, json={"owner_type": "customer", "owner_id": customer.customer.shopify_id,
                                     "namespace": "loyalty", "key": customer.key, "value": "changed"})  # fmt: skip
    added = control.call("POST", path, json={"owner_type": "customer", "owner_id": others[0],
                                             "namespace": "custom", "key": "nickname", "value": "Ace"})  # fmt: skip
    control.call("POST", path, json={"owner_type": "customer", "owner_id": others[1],
                                     "namespace": "erp", "key": "note", "value": "ERP-1"})  # fmt: skip
    control.call("DELETE", f"{path}/{product.shopify_id}")
    session = _run_inline(shop, kind="incremental")
    # then
    assert session.status == "completed", session.error
    assert CustomerMetafield.objects.get(shop=shop, shopify_id=customer.shopify_id).value == "changed"
    assert CustomerMetafield.objects.get(shop=shop, shopify_id=added["metafield"]["id"]).value == "Ace"
    assert not ProductMetafield.objects.filter(shop=shop, shopify_id=product.shopify_id).exists()
    assert not CustomerMetafield.objects.filter(shop=shop, namespace="erp").exists()
    assert _ours(shop) == _truth_metafields(simulator, shop, {"loyalty", "custom"})
    assert_db_equals_truth(simulator, shop, OWNERS)


def test_a_refetch_by_id_carries_the_owners_metafields_in_the_chosen_namespace(simulator, sim_shop):
    # given
    shop = sim_shop(orders=10, customers=5, products=3)
    shop_metafield_namespaces_set(shop=shop, namespaces=["loyalty"])
    truth = _truth_metafields(simulator, shop, {"loyalty"})
    owner_id = next(
        row["owner_id"]
        for row in simulator.control.truth("metafields", shop=shop.sim_domain)["records"]
        if row["owner_type"] == "customer" and row["namespace"] == "loyalty"
    )
    # when
    units = records_fetch_by_ids(client=ShopifyClient(shop), resource="customers", shopify_ids=[owner_id])
    record = unit_parse("customers", units[owner_id])
    # then
    expected = {i for owner, i, _ in truth if owner == "customer"}
    assert {m.namespace for m in record.metafields} == {"loyalty"}
    assert {m.shopify_id for m in record.metafields} <= expected


def test_reconciliation_reports_a_lost_metafield_and_heals_it(simulator, sim_shop, settings):
    # given: a synced shop mirroring one namespace, one of whose metafields we lost
    settings.RECONCILIATION_GRACE_SECONDS = 0
    settings.RECONCILIATION_BULK_POLL_SECONDS = 0.1
    shop = sim_shop(orders=10, customers=8, products=3)
    shop_metafield_namespaces_set(shop=shop, namespaces=["loyalty"])
    _run_inline(shop)
    lost = CustomerMetafield.objects.filter(shop=shop).select_related("customer").first()
    lost.delete()
    # when
    (report,) = reconciliation_run(shop=shop, triggered_by="cli", heal=True, resources=["customers"])
    # then: its owner is stale, and the heal brought the metafield back
    assert report.stale_ids == [lost.customer.shopify_id]
    assert (report.missing_count, report.extra_count) == (0, 0)
    assert CustomerMetafield.objects.filter(shop=shop, shopify_id=lost.shopify_id).exists()
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS])


def test_a_metafield_edit_that_moves_no_owner_is_found_by_reconciliation_and_healed(
    simulator, sim_shop, settings
):
    # given: a synced shop mirroring one namespace, on a store where a metafield write leaves its
    # owner's updatedAt alone (the simulator's default, the contract's safer reading, §8.10)
    settings.RECONCILIATION_GRACE_SECONDS = 0
    settings.RECONCILIATION_BULK_POLL_SECONDS = 0.1
    shop = sim_shop(orders=10, customers=8, products=3)
    shop_metafield_namespaces_set(shop=shop, namespaces=["loyalty"])
    assert _run_inline(shop).status == "completed"
    edited = CustomerMetafield.objects.filter(shop=shop).select_related("customer").first()
    owner = edited.customer
    simulator.control.call("POST", f"/shops/{shop.sim_domain}/metafields", json={
        "owner_type": "customer", "owner_id": owner.shopify_id, "namespace": "loyalty", "key": edited.key,
        "value": "edited behind the owner's back",
    })  # fmt: skip
    # an incremental run follows owners' updated_at: it cannot see the edit
    assert _run_inline(shop, kind="incremental").status == "completed"
    assert CustomerMetafield.objects.get(pk=edited.pk).value == edited.value
    # when
    (report,) = reconciliation_run(shop=shop, triggered_by="cli", heal=True, resources=["customers"])
    # then: the owner is stale by its metafield's version alone, and the heal brought the new value
    assert report.stale_ids == [owner.shopify_id]
    assert (report.missing_count, report.extra_count) == (0, 0)
    healed = CustomerMetafield.objects.get(shop=shop, shopify_id=edited.shopify_id)
    assert healed.value == "edited behind the owner's back"
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS])
    # and the next reconciliation finds nothing
    (again,) = reconciliation_run(shop=shop, triggered_by="cli", resources=["customers"])
    assert (again.stale_count, again.missing_count, again.extra_count) == (0, 0, 0)


def test_an_owner_dead_lettered_for_a_broken_metafield_is_fetched_again_with_its_metafields(
    simulator, sim_shop
):
    # given: a customer whose page came with a metafield Shopify served without its namespace
    shop = sim_shop(orders=5, customers=6, products=2)
    shop_metafield_namespaces_set(shop=shop, namespaces=["loyalty"])
    truth = _truth_metafields(simulator, shop, {"loyalty"})
    owners = {
        row["id"]: row["owner_id"]
        for row in simulator.control.truth("metafields", shop=shop.sim_domain)["records"]
    }
    owner_id = next(owners[i] for owner, i, _ in truth if owner == "customer")
    node = {"id": f"gid://shopify/Customer/{owner_id}", "updatedAt": "2020-01-01T00:00:00Z"}
    broken = {"id": "gid://shopify/Metafield/1", "key": "tier", "value": "gold"}
    (record, invalid) = nodes_parse("customers", [(node, {"metafields": [broken]})], where={"page": 1})
    assert (record, len(invalid)) == ([], 1)
    item = dead_letter_record(shop=shop, entity_type="customer", shopify_id=owner_id, payload=invalid[0].raw,
                              error=invalid[0].error, source_ref="sync-job:1")  # fmt: skip
    # when
    outcome = dead_letter_retry(item=item)
    # then: fetched by id, its metafields in the chosen namespace with it
    assert outcome == RetryOutcome.SUCCEEDED
    assert set(
        CustomerMetafield.objects.filter(shop=shop, customer__shopify_id=owner_id).values_list(
            "shopify_id", flat=True
        )
    ) == {i for owner, i, _ in truth if owner == "customer" and owners[i] == owner_id}
