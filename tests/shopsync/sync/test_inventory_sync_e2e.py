"""End to end: locations and their inventory levels through the sync engine against the simulator
(bulk initial, paged incremental and full), compared with its truth by the convergence oracle."""

from __future__ import annotations

import pytest

from shopsync.models import InventoryLevel, Location, SyncSession
from shopsync.resources import Resource, declaration_for
from shopsync.shopify import ShopifyClient
from shopsync.shopify.queries import count_parse, count_query
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth

pytestmark = pytest.mark.e2e


def _levels(simulator, shop) -> list[dict]:
    return simulator.control.truth("inventory_levels", shop=shop.sim_domain)["levels"]


def test_an_initial_sync_mirrors_every_location_and_level_exactly(simulator, sim_shop):
    # given: three locations, the last one deactivated (Shopify hides it unless asked)
    shop = sim_shop(orders=4, customers=3, products=6, locations=3)
    # when
    session = _run_inline(shop, resources=["locations"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop, [Resource.LOCATIONS])
    assert sorted(Location.objects.filter(shop=shop).values_list("is_active", flat=True)) == [
        False,
        True,
        True,
    ]
    assert InventoryLevel.objects.filter(shop=shop).count() == len(_levels(simulator, shop)) > 6


def test_the_locations_count_is_asked_in_a_form_the_api_takes(sim_shop):
    # given
    shop = sim_shop(orders=1, customers=1, products=1, locations=3)
    declaration = declaration_for(Resource.LOCATIONS)
    request = count_query(declaration.connection, uncapped=declaration.count_uncapped)
    # when: the progress bar's count, as the sync asks it
    data = ShopifyClient(shop).graphql(request.query, request.variables)
    # then: an answer, not "Field 'locationsCount' doesn't accept argument 'limit'"
    assert count_parse(data, declaration.connection) >= 2


def test_an_incremental_run_picks_up_level_and_location_changes(simulator, sim_shop):
    # given: synced; then stock moves, an item is stocked at a new place and leaves another, and a
    # location is added (none of which moves an existing location's updatedAt)
    shop = sim_shop(orders=4, customers=3, products=6, locations=3)
    assert _run_inline(shop, resources=["locations"]).status == SyncSession.Status.COMPLETED
    levels = _levels(simulator, shop)
    base = f"/shops/{shop.sim_domain}/inventory_levels"
    moved = levels[0]
    simulator.control.call("POST", f"{base}/set", json={
        "inventory_item_id": moved["inventory_item_id"], "location_id": moved["location_id"], "delta": 7,
    })  # fmt: skip
    by_item: dict[int, set[int]] = {}
    for level in levels:
        by_item.setdefault(level["inventory_item_id"], set()).add(level["location_id"])
    twice = next(item for item, places in by_item.items() if len(places) > 1)
    simulator.control.call("POST", f"{base}/disconnect", json={
        "inventory_item_id": twice, "location_id": max(by_item[twice]),
    })  # fmt: skip
    simulator.control.call("POST", f"/shops/{shop.sim_domain}/locations", json={"name": "Annex"})
    # when
    session = _run_inline(shop, kind="incremental", resources=["locations"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop, [Resource.LOCATIONS])
    assert Location.objects.filter(shop=shop, name="Annex").exists()


def test_a_shop_without_the_inventory_scopes_syncs_the_rest_and_says_why_locations_were_not(
    simulator, sim_shop
):
    # given: a shop whose app was granted no read_inventory and no read_locations (Shopify would
    # answer ACCESS_DENIED to its locations query)
    scopes = "read_orders,read_all_orders,read_customers,read_products"
    shop = sim_shop(orders=4, customers=3, products=4, locations=2, scopes=scopes)
    shop.scopes = scopes
    shop.save()
    # when
    session = _run_inline(shop)
    # then: completed, locations skipped with a note in plain words, every other resource exact
    assert session.status == SyncSession.Status.COMPLETED, session.error
    job = session.jobs.get(resource="locations")
    assert (job.status, job.error, job.synced) == ("completed", "", 0)
    assert job.note == (
        "not synced: the shop has not granted the app the read_locations and read_inventory scopes "
        "(reinstall the app with them to mirror locations)"
    )
    assert f"locations {job.note}" in session.message
    assert not Location.objects.filter(shop=shop).exists()
    assert_db_equals_truth(
        simulator, shop, [Resource.ORDERS, Resource.CUSTOMERS, Resource.PRODUCTS, Resource.COLLECTIONS]
    )


def test_read_inventory_alone_is_enough_for_locations_and_their_levels(simulator, sim_shop):
    # given: read_inventory without read_locations (Shopify accepts it for locations too)
    scopes = "read_orders,read_all_orders,read_customers,read_products,read_inventory"
    shop = sim_shop(orders=2, customers=2, products=4, locations=2, scopes=scopes)
    shop.scopes = scopes
    shop.save()
    # when
    session = _run_inline(shop, resources=["locations"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert session.jobs.get().note == ""
    assert_db_equals_truth(simulator, shop, [Resource.LOCATIONS])
