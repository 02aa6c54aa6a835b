"""`records_fetch_by_ids` against the simulator over HTTP."""

from __future__ import annotations

import uuid

import pytest

from shopsync.resources import Resource
from shopsync.services.sync import records_fetch_by_ids
from shopsync.services.sync.graphql_queries import page_query
from shopsync.services.sync.query_cost import page_size
from shopsync.services.sync.units import unit_parse
from shopsync.shopify import ShopifyClient
from tests.factories import ShopFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim_shop(simulator, db):
    """A simulated shop of our own with one order of 120 line items, and our Shop for it."""
    domain = f"byid-{uuid.uuid4().hex[:8]}.myshopify.com"
    token = f"shpat_{uuid.uuid4().hex}"
    simulator.control.create_shop(domain, token=token, orders=6, customers=4, products=6, seed=9,
                                  big_orders=1, big_order_lines=120)  # fmt: skip
    shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                       api_version="2026-01")  # fmt: skip
    shop.truth = lambda resource: {
        row["id"]: row["record"]
        for row in simulator.control.truth(resource, full=True, shop=domain)["records"]
    }
    yield shop
    simulator.control.delete_shop(domain)


def test_records_come_back_by_id_in_the_order_asked_with_every_child_and_without_unknown_ids(sim_shop):
    # given
    truth = sim_shop.truth("orders")
    big = max(truth, key=lambda shopify_id: len(truth[shopify_id]["line_items"]))
    asked = [*sorted(set(truth) - {big})[:2], 999_999_999, big]
    # when
    units = records_fetch_by_ids(
        client=ShopifyClient.for_shop(sim_shop), resource="orders", shopify_ids=asked
    )
    # then
    assert list(units) == [asked[0], asked[1], big]
    assert len(units[big]["children"]["line_items"]) == len(truth[big]["line_items"]) == 120
    records = {shopify_id: unit_parse(Resource.ORDERS, unit) for shopify_id, unit in units.items()}
    assert sorted(line.shopify_id for line in records[big].line_items) == sorted(
        line["id"] for line in truth[big]["line_items"]
    )
    assert "lineItems" not in units[big]["node"]


def test_roots_already_fetched_are_completed_by_their_id_without_being_asked_for_again(sim_shop):
    # given: a sync page's roots, each with the first 5 of its line items
    client = ShopifyClient.for_shop(sim_shop)
    page = client.graphql(
        page_query(Resource.ORDERS),
        {"first": page_size(Resource.ORDERS), "after": None, "query": "", "childFirst": 5},
    )
    fetched = {int(node["id"].rsplit("/", 1)[1]): node for node in page["orders"]["nodes"]}
    big = max(fetched, key=lambda shopify_id: len(sim_shop.truth("orders")[shopify_id]["line_items"]))
    asked = []
    graphql = client.graphql
    client.graphql = lambda query, variables=None, **kw: (
        asked.append(query.split("(")[0]) or graphql(query, variables, **kw)
    )
    # when
    units = records_fetch_by_ids(client=client, resource=Resource.ORDERS, shopify_ids=[big], fetched=fetched)
    # then: 115 more line items in pages of 50, the rest of its refunds' and fulfillments' parts by
    # their node(id:), and no nodes(ids:) query
    assert len(units[big]["children"]["line_items"]) == 120
    order = sim_shop.truth("orders")[big]
    parts = [(len(f["line_items"]), 5) for f in order["fulfillments"]]
    parts += [
        (len(r[key]), first)
        for r in order["refunds"]
        for key, first in (("refund_line_items", 3), ("refund_shipping_lines", 1), ("order_adjustments", 1))
    ]
    nested = sum(-(-max(0, n - first) // 50) for n, first in parts)
    assert asked == ["query SyncNestedChildren"] * nested + ["query SyncChildren"] * 3


def test_a_query_over_shopifys_cost_limit_is_split_until_it_fits(sim_shop):
    # given: five products per query with 250 variants each asked would cost far over 1000 points
    truth = sim_shop.truth("products")
    client = ShopifyClient.for_shop(sim_shop)
    # when
    units = records_fetch_by_ids(
        client=client, resource="products", shopify_ids=sorted(truth), child_page_size=250
    )
    # then
    assert sorted(units) == sorted(truth)
    assert {i: len(u["children"]["variants"]) for i, u in units.items()} == {
        i: len(r["variants"]) for i, r in truth.items()
    }
    assert client.graphql_calls > 2  # 6 products fit 2 queries of 5: the first was refused, then split
