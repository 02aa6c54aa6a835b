"""The catalogue (contract §8.8, §8.9, §8.14): collections and their members, locations, inventory
levels; each surface (GraphQL pages and node, bulk JSONL, REST, webhooks) against the truth."""

from __future__ import annotations

import uuid

import orjson
import pytest
import requests

from shopify_sim.testing import SimulatorProcess
from tests.simulator.conftest import ANCHOR
from tests.simulator.test_bulk import lines_of, start, wait

SCOPES = "read_orders,read_customers,read_products,read_inventory,read_locations"


@pytest.fixture
def catalogue_shop(sim: SimulatorProcess):
    def make(**options) -> tuple[str, str]:
        domain = f"cat{uuid.uuid4().hex[:10]}.myshopify.com"
        token = f"shpat_{uuid.uuid4().hex}"
        defaults = {
            "orders": 20,
            "customers": 10,
            "products": 25,
            "seed": 5,
            "anchor": ANCHOR,
            "locations": 3,
            "collections": 6,
            "scopes": SCOPES,
            "plan": "plus",
            "webhook_time_scale": 0.0005,
        }
        sim.control.create_shop(domain, token=token, **{**defaults, **options})
        return domain, token

    return make


def control(sim: SimulatorProcess, method: str, domain: str, path: str, body: dict | None = None) -> dict:
    response = requests.request(method, f"{sim.base_url}/_sim/shops/{domain}/{path}", json=body, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


def numeric(value: str) -> int:
    return int(value.split("?")[0].rsplit("/", 1)[1])


def test_collections_and_members_agree_with_truth_both_ways(sim, catalogue_shop):
    # given
    domain, token = catalogue_shop()
    memberships = control(sim, "GET", domain, "truth/collects")["memberships"]
    query = """{ collections(first: 10) { nodes { id ruleSet { rules { column } } productsCount { count }
      products(first: 30) { nodes { id } } } }
      products(first: 30) { nodes { id collections(first: 10) { nodes { id } } } } }"""
    # when
    data = sim.graphql(query, token=token, shop=domain).json()["data"]
    # then: Collection.products, in position order, is the truth's membership
    served = {
        numeric(c["id"]): [numeric(p["id"]) for p in c["products"]["nodes"]]
        for c in data["collections"]["nodes"]
    }
    assert served == {m["collection_id"]: m["product_ids"] for m in memberships}
    assert {numeric(c["id"]): c["productsCount"]["count"] for c in data["collections"]["nodes"]} == {
        m["collection_id"]: len(m["product_ids"]) for m in memberships
    }
    # smart collections have a rule set, custom ones null
    kinds = {m["collection_id"]: m["kind"] for m in memberships}
    assert {numeric(c["id"]): c["ruleSet"] is not None for c in data["collections"]["nodes"]} == {
        cid: kind == "smart" for cid, kind in kinds.items()
    }
    assert set(kinds.values()) == {"smart", "custom"}
    # Product.collections is the same relation read from the other side
    by_product: dict[int, set[int]] = {}
    for m in memberships:
        for pid in m["product_ids"]:
            by_product.setdefault(pid, set()).add(m["collection_id"])
    assert {
        numeric(p["id"]): {numeric(c["id"]) for c in p["collections"]["nodes"]}
        for p in data["products"]["nodes"]
    } == {numeric(p["id"]): by_product.get(numeric(p["id"]), set()) for p in data["products"]["nodes"]}


def test_smart_collection_members_are_the_products_its_rules_match(sim, catalogue_shop):
    # given
    domain, _token = catalogue_shop()
    products = {
        r["id"]: r["record"] for r in sim.control.truth("products", full=True, shop=domain)["records"]
    }
    collections = control(sim, "GET", domain, "truth/collections?full=1")["records"]
    members = {
        m["collection_id"]: m["product_ids"]
        for m in control(sim, "GET", domain, "truth/collects")["memberships"]
    }
    field = {"tag": "tags", "vendor": "vendor", "type": "product_type"}

    def matches(rule, product):
        value = product[field[rule["column"]]]
        if rule["column"] == "tag":
            return rule["condition"].lower() in [t.lower() for t in value.split(", ") if t]
        return value.lower() == rule["condition"].lower()

    # when
    smart = [c["record"] for c in collections if "rules" in c["record"]]
    # then
    assert smart
    for collection in smart:
        test = any if collection["disjunctive"] else all
        expected = sorted(
            pid for pid, p in products.items() if test(matches(r, p) for r in collection["rules"])
        )
        assert sorted(members[collection["id"]]) == expected


def test_locations_hide_inactive_unless_asked_and_rest_lists_all(sim, catalogue_shop):
    # given
    domain, token = catalogue_shop(locations=3)
    query = """{ active: locations(first: 10) { nodes { id isActive deactivatedAt } }
      all: locations(first: 10, includeInactive: true) { nodes { id isActive deactivatedAt deletable } }
      locationsCount { count } }"""
    # when
    data = sim.graphql(query, token=token, shop=domain).json()["data"]
    rest = sim.rest("locations.json", token=token, shop=domain).json()["locations"]
    # then: the third location is deactivated (a string deactivatedAt), gone without includeInactive
    assert [n["isActive"] for n in data["all"]["nodes"]] == [True, True, False]
    assert [n["id"] for n in data["active"]["nodes"]] == [n["id"] for n in data["all"]["nodes"][:2]]
    inactive = data["all"]["nodes"][2]
    assert isinstance(inactive["deactivatedAt"], str) and inactive["deletable"] is True
    assert data["locationsCount"] == {"count": 2}
    assert [r["active"] for r in rest] == [True, True, False]
    assert [r["admin_graphql_api_id"] for r in rest] == [n["id"] for n in data["all"]["nodes"]]


def test_levels_sum_to_each_variants_quantity_and_available_never_exceeds_on_hand(sim, catalogue_shop):
    # given
    domain, _token = catalogue_shop()
    sim.control.mutate(
        count=40,
        seed=9,
        mix={
            "inventory_levels/update": 5,
            "products/update": 2,
            "inventory_levels/connect": 1,
            "inventory_levels/disconnect": 1,
            "products/create": 1,
        },
        shop=domain,
    )
    # when
    levels = control(sim, "GET", domain, "truth/inventory_levels")["levels"]
    products = sim.control.truth("products", full=True, shop=domain)["records"]
    # then
    totals: dict[int, int] = {}
    for level in levels:
        assert level["available"] <= level["on_hand"]
        assert (
            level["on_hand"]
            == level["available"]
            + level["committed"]
            + level["reserved"]
            + level["damaged"]
            + level["quality_control"]
            + level["safety_stock"]
        )
        totals[level["inventory_item_id"]] = totals.get(level["inventory_item_id"], 0) + level["available"]
    variants = [v for p in products for v in p["record"]["variants"]]
    assert {v["inventory_item_id"]: v["inventory_quantity"] for v in variants} == totals


def test_graphql_levels_and_quantities_agree_with_truth(sim, catalogue_shop):
    # given
    domain, token = catalogue_shop()
    truth = {
        (lv["inventory_item_id"], lv["location_id"]): lv
        for lv in control(sim, "GET", domain, "truth/inventory_levels")["levels"]
    }
    query = """query($after: String) { inventoryItems(first: 50, after: $after) {
      pageInfo { hasNextPage endCursor } nodes { id locationsCount { count }
      inventoryLevels(first: 3) { nodes { id updatedAt location { id }
        quantities(names: ["available", "on_hand", "committed", "incoming"]) { name quantity } } } } } }"""
    # when
    items, after = [], None
    while True:
        page = sim.graphql(query, {"after": after}, token=token, shop=domain).json()["data"]["inventoryItems"]
        items += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    served = {}
    for item in items:
        assert item["locationsCount"]["count"] == len(item["inventoryLevels"]["nodes"])
        for node in item["inventoryLevels"]["nodes"]:
            key = (numeric(item["id"]), numeric(node["location"]["id"]))
            assert node["id"] == f"gid://shopify/InventoryLevel/{key[1]}?inventory_item_id={key[0]}"
            served[key] = {q["name"]: q["quantity"] for q in node["quantities"]}
    assert served == {
        key: {name: lv[name] for name in ("available", "on_hand", "committed", "incoming")}
        for key, lv in truth.items()
    }
    # node(id:) finds a level by its composite id; an unknown quantity name is an error
    level_id = items[0]["inventoryLevels"]["nodes"][0]["id"]
    found = sim.graphql(
        "query($id: ID!) { node(id: $id) { id ... on InventoryLevel { item { id } } } }",
        {"id": level_id},
        token=token,
        shop=domain,
    ).json()["data"]["node"]
    assert found == {"id": level_id, "item": {"id": items[0]["id"]}}
    bad = sim.graphql(
        '{ inventoryItems(first: 1) { nodes { inventoryLevels(first: 1) { nodes { quantities(names: ["sold"]) { quantity } } } } } }',
        token=token,
        shop=domain,
    ).json()
    assert "sold" in bad["errors"][0]["message"]


def test_bulk_collections_products_and_locations_levels_are_child_lines(sim, catalogue_shop):
    # given
    domain, token = catalogue_shop()
    memberships = {
        m["collection_id"]: m["product_ids"]
        for m in control(sim, "GET", domain, "truth/collects")["memberships"]
    }
    levels = control(sim, "GET", domain, "truth/inventory_levels")["levels"]
    # when
    done = wait(
        sim,
        start(
            sim,
            "{ collections { edges { node { id handle updatedAt products { edges { node { id } } } } } } }",
            token,
            domain,
        )["bulkOperation"]["id"],
        token,
        domain,
    )
    collection_lines = lines_of(done["url"])
    done = wait(
        sim,
        start(
            sim,
            """{ locations(includeInactive: true) { edges { node { id name
        inventoryLevels { edges { node { id item { id } quantities(names: ["available", "on_hand"]) { name quantity } } } } } } } }""",
            token,
            domain,
        )["bulkOperation"]["id"],
        token,
        domain,
    )
    location_lines = lines_of(done["url"])
    # then: one line per collection, then one {id, __parentId} line per member
    children: dict[int, list[int]] = {}
    for line in collection_lines:
        if "__parentId" in line:
            assert set(line) == {"id", "__parentId"}
            children.setdefault(numeric(line["__parentId"]), []).append(numeric(line["id"]))
        else:
            children.setdefault(numeric(line["id"]), [])
    assert children == memberships
    # levels under their location, quantities inline
    served = {}
    for line in location_lines:
        if "__parentId" in line:
            quantities = {q["name"]: q["quantity"] for q in line["quantities"]}
            served[(numeric(line["item"]["id"]), numeric(line["__parentId"]))] = quantities
    assert served == {
        (lv["inventory_item_id"], lv["location_id"]): {"available": lv["available"], "on_hand": lv["on_hand"]}
        for lv in levels
    }


def test_rest_collects_list_custom_memberships_and_levels_need_ids(sim, catalogue_shop):
    # given
    domain, token = catalogue_shop()
    memberships = control(sim, "GET", domain, "truth/collects")["memberships"]
    # when
    collects = sim.rest("collects.json", {"limit": 250}, token=token, shop=domain).json()["collects"]
    custom = sim.rest("custom_collections.json", token=token, shop=domain).json()["custom_collections"]
    smart = sim.rest("smart_collections.json", token=token, shop=domain).json()["smart_collections"]
    refused = sim.rest("inventory_levels.json", token=token, shop=domain)
    # then
    expected = sorted(
        (m["collection_id"], pid) for m in memberships if m["kind"] == "custom" for pid in m["product_ids"]
    )
    assert sorted((c["collection_id"], c["product_id"]) for c in collects) == expected
    assert {c["id"] for c in custom} == {m["collection_id"] for m in memberships if m["kind"] == "custom"}
    assert all("rules" in c and "disjunctive" in c for c in smart)
    assert all("rules" not in c for c in custom)
    assert refused.status_code == 422


def test_inventory_change_sends_level_and_product_webhooks(sim, catalogue_shop, receiver):
    # given
    domain, _token = catalogue_shop()
    level = next(
        lv for lv in control(sim, "GET", domain, "truth/inventory_levels")["levels"] if lv["available"] > 5
    )
    sim.control.subscribe(["inventory_levels/update", "products/update"], receiver.url, shop=domain)
    # when
    control(
        sim,
        "POST",
        domain,
        "inventory_levels/set",
        {"inventory_item_id": level["inventory_item_id"], "location_id": level["location_id"], "delta": -2},
    )
    # then
    deliveries = receiver.wait_for(2)
    by_topic = {d["headers"]["X-Shopify-Topic"]: orjson.loads(d["body"]) for d in deliveries}
    payload = by_topic["inventory_levels/update"]
    assert set(payload) == {
        "inventory_item_id",
        "location_id",
        "available",
        "updated_at",
        "admin_graphql_api_id",
    }
    assert (payload["inventory_item_id"], payload["location_id"]) == (
        level["inventory_item_id"],
        level["location_id"],
    )
    variant = next(
        v
        for v in by_topic["products/update"]["variants"]
        if v["inventory_item_id"] == level["inventory_item_id"]
    )
    after = {
        (lv["inventory_item_id"], lv["location_id"]): lv
        for lv in control(sim, "GET", domain, "truth/inventory_levels")["levels"]
    }
    assert after[(level["inventory_item_id"], level["location_id"])]["available"] == level["available"] - 2
    assert variant["inventory_quantity"] == sum(
        lv["available"] for key, lv in after.items() if key[0] == level["inventory_item_id"]
    )


def test_membership_change_is_silent_unless_the_shop_bumps_collections(sim, catalogue_shop, receiver):
    # given
    domain, _token = catalogue_shop()
    memberships = control(sim, "GET", domain, "truth/collects")["memberships"]
    custom = next(m for m in memberships if m["kind"] == "custom")
    outsider = next(
        r["id"]
        for r in sim.control.truth("products", shop=domain)["records"]
        if r["id"] not in custom["product_ids"]
    )
    before = {r["id"]: r["updated_at"] for r in control(sim, "GET", domain, "truth/collections")["records"]}
    sim.control.subscribe(["collections/update"], receiver.url, shop=domain)
    # when: a product joins the collection
    control(sim, "POST", domain, f"collections/{custom['collection_id']}/products", {"product_id": outsider})
    sim.control.flush_webhooks(shop=domain)
    silent = list(receiver.requests)
    after = {r["id"]: r["updated_at"] for r in control(sim, "GET", domain, "truth/collections")["records"]}
    members = control(sim, "GET", domain, "truth/collects")["memberships"]
    sim.control.update_settings(shop=domain, membership_bumps_collection=True)
    control(sim, "DELETE", domain, f"collections/{custom['collection_id']}/products/{outsider}")
    # then: observable in the membership, not on the collection, until the setting is on
    assert (
        outsider in next(m for m in members if m["collection_id"] == custom["collection_id"])["product_ids"]
    )
    assert silent == [] and after == before
    bumped = receiver.wait_for(1)
    assert orjson.loads(bumped[0]["body"])["id"] == custom["collection_id"]


def test_same_seed_same_catalogue(sim, catalogue_shop):
    # given
    first, _ = catalogue_shop(seed=17)
    second, _ = catalogue_shop(seed=17)
    # when
    views = [
        (
            control(sim, "GET", d, "truth/collections")["records"],
            control(sim, "GET", d, "truth/collects"),
            control(sim, "GET", d, "truth/inventory_levels"),
            control(sim, "GET", d, "truth/locations")["records"],
        )
        for d in (first, second)
    ]
    # then
    assert views[0] == views[1]
    assert views[0][2]["levels"]
