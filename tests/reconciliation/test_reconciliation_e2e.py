"""End to end against the simulator: a store changed behind our back (no webhooks) is named exactly
by the reconciliation, healed through the write path, and reads ok on the next run."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests
from django.core.management import call_command

from reconciliation.models import ReconciliationReport
from reconciliation.tasks import reconciliation_report_run_task
from shopsync.models import (
    CollectionProduct,
    Customer,
    CustomerAddress,
    Fulfillment,
    InventoryLevel,
    LineItem,
    Order,
    Product,
    Refund,
)
from shopsync.payloads.catalogue import CollectionProductRecord
from shopsync.payloads.rest import parse_transaction_rest
from shopsync.resources import declaration_for
from shopsync.services.upsert import records_upsert
from tests.convergence.mirror import _truth_level, beyond_rest
from tests.factories import ShopFactory, UserFactory

DOMAIN = "recon-e2e.myshopify.com"
RESOURCES = ("orders", "customers", "products", "collections", "locations")
MODELS = {"orders": Order, "customers": Customer, "products": Product}


@pytest.fixture
def sim_shop(simulator, db, settings):
    """A fresh small store on the session simulator, and our shop pointing at it, seeded to equal it."""
    settings.RECONCILIATION_GRACE_SECONDS = 0
    control = f"{simulator.base_url}/_sim/shops"
    requests.delete(f"{control}/{DOMAIN}", timeout=10)
    created = requests.post(
        control,
        json={"domain": DOMAIN, "orders": 25, "customers": 12, "products": 6, "seed": 11, "fresh": True},
        timeout=60,
    )
    created.raise_for_status()
    settings.RECONCILIATION_BULK_POLL_SECONDS = 0.1
    # The /shops/{domain} prefix routes our calls to this shop on the shared simulator.
    shop = ShopFactory(
        domain=DOMAIN,
        api_base_url=f"{simulator.base_url}/shops/{DOMAIN}",
        access_token=created.json()["token"],
    )
    transactions: dict[int, list] = {}
    for row in _truth(simulator, "transactions", full=True)["records"]:
        transactions.setdefault(row["order_id"], []).append(parse_transaction_rest(row["record"]))
    for resource in RESOURCES:
        truth = _truth(simulator, resource, full=True)
        records = [declaration_for(resource).parse_rest(row["record"]) for row in truth["records"]]
        for row, record in zip(truth["records"], records, strict=True):
            beyond_rest(declaration_for(resource), record, row.get("beyond_rest") or {})
        if resource == "orders":  # REST orders do not embed their transactions: seeded from the truth's
            for record in records:
                record.transactions = transactions.get(record.shopify_id, [])
        if resource == "collections":  # nor do REST collections their members
            members = _members(simulator)
            for record in records:
                record.members = [CollectionProductRecord(i) for i in members[record.shopify_id]]
        if resource == "locations":  # nor do REST locations their inventory levels
            levels: dict[int, list] = {}
            for level in _truth(simulator, "inventory_levels")["levels"]:
                levels.setdefault(level["location_id"], []).append(_truth_level(level))
            for record in records:
                record.levels = levels.get(record.shopify_id, [])
        records_upsert(shop=shop, resource=resource, records=records)
    yield shop
    requests.delete(f"{control}/{DOMAIN}", timeout=10)


def _truth(simulator, resource: str, *, full: bool = False) -> dict:
    response = requests.get(
        f"{simulator.base_url}/_sim/shops/{DOMAIN}/truth/{resource}", params={"full": int(full)}, timeout=60
    )
    response.raise_for_status()
    return response.json()


def _members(simulator) -> dict[int, list[int]]:
    return {row["collection_id"]: row["product_ids"] for row in _truth(simulator, "collects")["memberships"]}


def _level_keys(pairs) -> dict[int, set[int]]:
    """{location id: its items' ids}."""
    found: dict[int, set[int]] = {}
    for location_id, item_id in pairs:
        found.setdefault(location_id, set()).add(item_id)
    return found


def _custom(simulator) -> set[int]:
    return {row["id"] for row in _truth(simulator, "collections", full=True)["records"]
            if "rules" not in row["record"]}  # fmt: skip


def _versions(simulator, resource: str) -> dict[int, datetime]:
    return {
        row["id"]: datetime.fromisoformat(row["updated_at"]) for row in _truth(simulator, resource)["records"]
    }


def _sim(simulator, method: str, path: str, **kwargs) -> dict:
    response = requests.request(
        method, f"{simulator.base_url}/_sim/shops/{DOMAIN}/{path}", timeout=30, **kwargs
    )
    response.raise_for_status()
    return response.json()


def _expected(before: dict[int, datetime], after: dict[int, datetime]) -> dict[str, list[int]]:
    return {
        "missing": sorted(after.keys() - before.keys()),
        "extra": sorted(before.keys() - after.keys()),
        "stale": sorted(i for i in before.keys() & after.keys() if after[i] != before[i]),
    }


def _reconcile(client, capture_on_commit, **params) -> list[dict]:
    """POST a run (queued), run each queued report's task as the worker would, read the reports."""
    with capture_on_commit() as callbacks:
        queued = client.post(
            "/api/admin/reconciliation", {"shop": DOMAIN, **params}, content_type="application/json"
        )
    assert queued.status_code == 202
    entries = queued.json()["reports"]
    assert len(callbacks) == len(entries)
    for entry in entries:
        assert client.get(entry["api_url"]).json()["status"] == "queued"
        reconciliation_report_run_task(entry["id"])
    return [client.get(entry["api_url"]).json() for entry in entries]


def _found(report: dict) -> dict[str, list[int]]:
    return {kind: report[f"{kind}_ids"] for kind in ("missing", "extra", "stale")}


@pytest.mark.e2e
def test_reconciliation_names_changes_made_behind_our_back_and_heals_them(
    simulator, sim_shop, client, capsys, django_capture_on_commit_callbacks
):
    # given: our copy equals the store ...
    ops = UserFactory(username="ops", is_staff=True)
    sim_shop.members.add(ops)
    client.force_login(ops)
    baseline = _reconcile(client, django_capture_on_commit_callbacks)
    seeded = {resource: _versions(simulator, resource) for resource in RESOURCES}
    seeded_members = _members(simulator)
    order_ids = sorted(seeded["orders"])
    product_ids = sorted(seeded["products"])
    # ... then the store changes without telling us
    for order_id in order_ids[:2]:
        _sim(simulator, "DELETE", f"orders/{order_id}")
    changed_order = order_ids[5]
    _sim(simulator, "PATCH", f"orders/{changed_order}", json={"note": "changed behind our back"})
    new_order = _sim(simulator, "POST", "orders", json={})["order"]["id"]
    new_customer = _sim(simulator, "POST", "customers", json={})["customer"]["id"]
    # Deleting a product clears its line items' ids, and the orders' updated_at does not move:
    # only the content sample sees those orders (the ones not changed otherwise).
    sold = LineItem.objects.filter(shop=sim_shop, product_shopify_id=product_ids[0])
    sold = set(sold.values_list("order__shopify_id", flat=True))
    differing_orders = sorted(sold - {*order_ids[:2], changed_order})
    _sim(simulator, "DELETE", f"products/{product_ids[0]}")
    _sim(simulator, "PATCH", f"products/{product_ids[1]}", json={"title": "Renamed"})
    # an address added to a customer (its version moves), and one of ours lost at the same version
    customer_ids = sorted(seeded["customers"])
    added = _sim(simulator, "POST", f"customers/{customer_ids[0]}/addresses", json={"city": "Moncton"})
    lost = CustomerAddress.objects.filter(customer__shop=sim_shop).exclude(
        customer__shopify_id=customer_ids[0]
    )
    lost = lost.select_related("customer").order_by("shopify_id").first()
    lost.delete()
    # an inventory level of ours lost, one Shopify still has (its location does not move in Shopify)
    still = {
        (row["location_id"], row["inventory_item_id"])
        for row in _truth(simulator, "inventory_levels")["levels"]
    }
    lost_level = next(
        level
        for level in InventoryLevel.objects.filter(shop=sim_shop).select_related("location").order_by("pk")
        if (level.location.shopify_id, level.shopify_id) in still
    )
    lost_level.delete()
    expected = {
        resource: _expected(seeded[resource], _versions(simulator, resource)) for resource in RESOURCES
    }
    expected["customers"]["stale"] = sorted({*expected["customers"]["stale"], lost.customer.shopify_id})
    # ... and a product leaves a custom collection: Shopify moves neither the collection's updatedAt
    # nor sends a webhook (contract §8.8), only its member ids tell
    custom = _custom(simulator)
    left = next(
        (cid, ids[-1]) for cid, ids in sorted(_members(simulator).items())
        if ids and product_ids[0] not in ids and cid in custom
    )  # fmt: skip
    _sim(simulator, "DELETE", f"collections/{left[0]}/products/{left[1]}")
    members_after = _members(simulator)
    expected = {
        resource: _expected(seeded[resource], _versions(simulator, resource)) for resource in RESOURCES
    }
    expected["customers"]["stale"] = sorted({*expected["customers"]["stale"], lost.customer.shopify_id})
    # The collections whose members differ (the deleted product's ones too) are stale.
    expected["collections"]["stale"] = sorted(
        cid for cid, ids in seeded_members.items() if ids != members_after[cid]
    )
    # The locations whose level ids differ from ours: the lost level's, and those that stocked the
    # deleted product (Shopify drops its levels without moving the location).
    ours_levels = _level_keys(
        InventoryLevel.objects.filter(shop=sim_shop).values_list("location__shopify_id", "shopify_id")
    )
    theirs_levels = _level_keys(
        (row["location_id"], row["inventory_item_id"])
        for row in _truth(simulator, "inventory_levels")["levels"]
    )
    expected["locations"]["stale"] = sorted(
        location for location in ours_levels.keys() | theirs_levels.keys()
        if ours_levels.get(location) != theirs_levels.get(location)
    )  # fmt: skip
    assert lost_level.location.shopify_id in expected["locations"]["stale"]
    time.sleep(1.1)  # Shopify's updatedAt has whole seconds: let the changes fall before the snapshot
    # when
    healed = _reconcile(client, django_capture_on_commit_callbacks, heal=True)
    after = _reconcile(client, django_capture_on_commit_callbacks)
    call_command("reconcile", "--shop", DOMAIN, "--resource", "orders")
    # then: the oracle itself covers what we did
    assert expected["orders"]["missing"] == [new_order]
    assert expected["orders"]["extra"] == order_ids[:2]
    assert changed_order in expected["orders"]["stale"]
    assert new_customer in expected["customers"]["missing"]
    assert expected["products"] == {"missing": [], "extra": [product_ids[0]], "stale": [product_ids[1]]}
    assert left[0] in expected["collections"]["stale"]
    assert seeded["collections"][left[0]] == _versions(simulator, "collections")[left[0]]  # did not move
    # ... the first run was clean, the second named exactly those ids
    assert {r["resource"]: r["status"] for r in baseline} == dict.fromkeys(RESOURCES, "ok")
    assert {r["resource"]: r["content_checked_count"] for r in baseline} == {
        resource: len(seeded[resource]) for resource in RESOURCES
    }
    assert differing_orders
    by_resource = {report["resource"]: report for report in healed}
    for resource in RESOURCES:
        report = by_resource[resource]
        assert _found(report) == expected[resource], resource
        content = differing_orders if resource == "orders" else []
        assert (report["content_mismatch_ids"], report["content_mismatch_count"]) == (content, len(content))
        assert report["heal_result"]["content_rewritten"] == len(content)
        assert report["status"] == "warning"
        assert report["heal_requested"] is True
        assert report["heal_result"]["failed"] == 0
        assert report["heal_result"]["soft_deleted"] == len(expected[resource]["extra"])
        assert (
            report["shopify_count"]
            == report["shopify_snapshot_count"]
            == len(seeded[resource]) + len(expected[resource]["missing"]) - len(expected[resource]["extra"])
        )
    # ... healing wrote through the write path, and the next run is ok
    assert Order.objects.get(shop=sim_shop, shopify_id=new_order).deleted_at is None
    assert Order.objects.get(shop=sim_shop, shopify_id=changed_order).note == "changed behind our back"
    assert (
        Order.objects.filter(shop=sim_shop, shopify_id__in=order_ids[:2], deleted_at__isnull=False).count()
        == 2
    )
    assert Product.objects.get(shop=sim_shop, shopify_id=product_ids[1]).title == "Renamed"
    assert (
        CustomerAddress.objects.get(shop=sim_shop, shopify_id=added["customer_address"]["id"]).city
        == "Moncton"
    )
    assert CustomerAddress.objects.filter(shop=sim_shop, shopify_id=lost.shopify_id).exists()
    assert InventoryLevel.objects.filter(
        shop=sim_shop, location__shopify_id=lost_level.location.shopify_id, shopify_id=lost_level.shopify_id
    ).exists()
    assert customer_ids[0] in expected["customers"]["stale"]
    assert {
        cid: sorted(
            CollectionProduct.objects.filter(collection__shopify_id=cid).values_list("shopify_id", flat=True)
        )
        for cid in expected["collections"]["stale"]
    } == {cid: sorted(members_after[cid]) for cid in expected["collections"]["stale"]}
    assert {
        r["resource"]: (r["status"], r["missing_count"] + r["extra_count"] + r["stale_count"]) for r in after
    } == (dict.fromkeys(RESOURCES, ("ok", 0)))
    assert {r["resource"]: r["content_mismatch_count"] for r in after} == dict.fromkeys(RESOURCES, 0)
    assert not LineItem.objects.filter(shop=sim_shop, product_shopify_id=product_ids[0]).exists()
    printed = capsys.readouterr().out
    assert "orders: OK" in printed
    assert ReconciliationReport.objects.filter(shop=sim_shop, triggered_by="cli").count() == 1


@pytest.mark.e2e
def test_reconciliation_names_and_heals_a_missing_refund_and_a_fulfillment_that_did_not_move_its_order(
    simulator, sim_shop, client, django_capture_on_commit_callbacks
):
    # given: a fulfillment Shopify made without moving its order's updatedAt (contract §8.15.4, the
    # reconciliation case), and a refund of ours lost at the order's current version
    ops = UserFactory(username="ops", is_staff=True)
    sim_shop.members.add(ops)
    client.force_login(ops)
    _sim(simulator, "PATCH", "settings", json={"order_updated_by_transactions": False})
    orders = [row["record"] for row in _truth(simulator, "orders", full=True)["records"]]
    unshipped = next(
        o for o in orders if o["financial_status"] == "paid" and o["fulfillment_status"] is None
        and o["cancelled_at"] is None and o["closed_at"] is None
    )  # fmt: skip
    shipped = _sim(simulator, "PATCH", f"orders/{unshipped['id']}", json={"fulfill": True})["order"]
    assert shipped["updated_at"] == unshipped["updated_at"]
    lost = Refund.objects.filter(shop=sim_shop).order_by("shopify_id").first()
    lost_parts = sorted(lost.refund_line_items.values_list("shopify_id", flat=True))
    lost_links = sorted(lost.refund_transactions.values_list("shopify_id", flat=True))
    assert lost_links
    lost_order = lost.order.shopify_id
    lost.delete()
    # when
    healed = _reconcile(client, django_capture_on_commit_callbacks, resource="orders", heal=True)
    after = _reconcile(client, django_capture_on_commit_callbacks, resource="orders")
    # then: both orders named stale (their child ids differ at the same version), both healed
    assert [_found(report) for report in healed] == [
        {"missing": [], "extra": [], "stale": sorted({unshipped["id"], lost_order})}
    ]
    assert healed[0]["heal_result"]["failed"] == 0
    fulfillment = Fulfillment.objects.get(shop=sim_shop, shopify_id=shipped["fulfillments"][-1]["id"])
    assert fulfillment.fulfillment_line_items.count() == len(shipped["fulfillments"][-1]["line_items"])
    refund = Refund.objects.get(shop=sim_shop, shopify_id=lost.shopify_id)
    assert sorted(refund.refund_line_items.values_list("shopify_id", flat=True)) == lost_parts
    assert sorted(refund.refund_transactions.values_list("shopify_id", flat=True)) == lost_links
    assert [(r["status"], r["stale_count"]) for r in after] == [("ok", 0)]
