"""GraphQL Admin API (contract §1): envelope, cost, throttling, agreement with truth."""

from __future__ import annotations

from tests.simulator.conformance.conftest import VERSION, truth

PAGE = """query($after: String) { %s(first: 9, after: $after, sortKey: UPDATED_AT) {
  edges { cursor node { id legacyResourceId updatedAt } } pageInfo { hasNextPage endCursor } } }"""


def test_graphql_connections_agree_with_truth_record_for_record(sim, shop):
    for resource in ("orders", "customers", "products"):
        # given
        expected = {r["id"]: r["updated_at"] for r in truth(sim, shop, resource)["records"]}
        # when
        seen, after = {}, None
        while True:
            body = sim.graphql(PAGE % resource, {"after": after}, token=shop.token, shop=shop.domain).json()
            connection = body["data"][resource]
            for edge in connection["edges"]:
                node = edge["node"]
                assert node["id"] == f"gid://shopify/{resource[:-1].title()}/{node['legacyResourceId']}"
                seen[int(node["legacyResourceId"])] = node["updatedAt"]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        # then
        assert seen == expected, resource
        assert list(seen.values()) == sorted(seen.values())


def test_graphql_envelope_carries_cost_with_shopify_types(sim, shop):
    # when
    response = sim.graphql(
        "{ shop { name } ordersCount(limit: null) { count precision } }", token=shop.token, shop=shop.domain
    )
    # then
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == VERSION
    body = response.json()
    assert set(body) == {"data", "extensions"}
    cost = body["extensions"]["cost"]
    assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    status = cost["throttleStatus"]
    assert isinstance(status["maximumAvailable"], float) and isinstance(status["restoreRate"], float)
    assert isinstance(status["currentlyAvailable"], int)
    assert (status["maximumAvailable"], status["restoreRate"]) == (20000.0, 1000.0)
    assert body["data"]["ordersCount"] == {
        "count": len(truth(sim, shop, "orders")["records"]),
        "precision": "EXACT",
    }


def test_graphql_over_max_cost_and_over_page_size_are_refused(sim, shop):
    # when
    too_costly = sim.graphql(
        "{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } } }",
        token=shop.token,
        shop=shop.domain,
    ).json()
    too_big = sim.graphql(
        "{ orders(first: 251) { nodes { id } } }", token=shop.token, shop=shop.domain
    ).json()
    # then
    assert too_costly["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert too_costly["extensions"]["cost"]["actualQueryCost"] is None
    assert "first" in too_big["errors"][0]["message"]


def test_graphql_throttled_is_200_with_throttled_code(sim, new_shop):
    # given: a shop whose bucket the fault profile reports empty (the throttle's shape, §1.5)
    domain = new_shop()
    token = sim.control.shop_info(domain)["token"]
    sim.control.set_faults(shop=domain, graphql_throttle_share=1.0)
    # when
    response = sim.graphql("{ orders(first: 10) { nodes { id } } }", token=token, shop=domain)
    sim.control.set_faults(shop=domain)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 12
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body.get("data") is None


def test_graphql_unknown_field_has_shopify_code(sim, shop):
    # when
    body = sim.graphql("{ shop { nope } }", token=shop.token, shop=shop.domain).json()
    # then
    assert body["errors"][0]["extensions"] == {
        "code": "undefinedField",
        "typeName": "Shop",
        "fieldName": "nope",
    }
    assert body["errors"][0]["message"] == "Field 'nope' doesn't exist on type 'Shop'"


def test_graphql_missing_scope_is_access_denied_with_cost(sim, shop):
    # given
    token = sim.control.mint_token(shop=shop.domain, scopes=["read_products"])["access_token"]
    # when
    body = sim.graphql("{ orders(first: 1) { nodes { id } } }", token=token, shop=shop.domain).json()
    # then
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"] is None
    assert "cost" in body["extensions"]
