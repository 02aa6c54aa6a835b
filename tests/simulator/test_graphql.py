from __future__ import annotations

from tests.simulator.conftest import token_of

ORDERS_PAGE = """
query($after: String, $sortKey: OrderSortKeys, $query: String, $reverse: Boolean) {
  orders(first: 50, after: $after, sortKey: $sortKey, query: $query, reverse: $reverse) {
    edges { cursor node { id legacyResourceId updatedAt createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def page_all(sim, document=ORDERS_PAGE, key="orders", token=None, shop=None, **variables):
    ids, after, pages = [], None, 0
    while True:
        response = sim.graphql(document, {**variables, "after": after}, token=token, shop=shop).json()
        connection = response["data"][key]
        ids.extend(edge["node"]["id"] for edge in connection["edges"])
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return ids, pages
        after = connection["pageInfo"]["endCursor"]


def test_orders_paginate_to_the_end_without_gaps_or_repeats(sim):
    # given
    truth = sim.control.truth("orders")
    # when
    ids, pages = page_all(sim, sortKey="UPDATED_AT")
    # then
    assert len(ids) == len(set(ids)) == truth["count"] == 400
    assert pages == 8
    assert {int(i.rsplit("/", 1)[1]) for i in ids} == {r["id"] for r in truth["records"]}


def test_sort_keys_and_reverse_order_records(sim):
    for sort_key, field in (("UPDATED_AT", "updatedAt"), ("CREATED_AT", "createdAt")):
        data = sim.graphql(ORDERS_PAGE, {"sortKey": sort_key}).json()["data"]["orders"]["edges"]
        values = [(e["node"][field], int(e["node"]["legacyResourceId"])) for e in data]
        assert values == sorted(values)
        reverse = sim.graphql(ORDERS_PAGE, {"sortKey": sort_key, "reverse": True}).json()["data"]["orders"][
            "edges"
        ]
        values = [(e["node"][field], int(e["node"]["legacyResourceId"])) for e in reverse]
        assert values == sorted(values, reverse=True)


def test_backward_pagination_returns_previous_page(sim):
    first = sim.graphql(ORDERS_PAGE, {"sortKey": "ID"}).json()["data"]["orders"]
    second = sim.graphql(ORDERS_PAGE, {"sortKey": "ID", "after": first["pageInfo"]["endCursor"]}).json()[
        "data"
    ]["orders"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    query = """query($before: String) { orders(last: 50, before: $before, sortKey: ID) {
        edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }"""
    back = sim.graphql(query, {"before": second["pageInfo"]["startCursor"]}).json()["data"]["orders"]
    assert [e["node"]["id"] for e in back["edges"]] == [e["node"]["id"] for e in first["edges"]]
    assert back["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


def test_updated_at_filters_accept_quoted_unquoted_and_date_only_values(sim):
    truth = sim.control.truth("orders")["records"]
    pivot = sorted(r["updated_at"] for r in truth)[200]
    expected_after = {r["id"] for r in truth if r["updated_at"] > pivot}
    for query in (f"updated_at:>'{pivot}'", f'updated_at:>"{pivot}"', f"updated_at:>{pivot}"):
        ids, _ = page_all(sim, sortKey="UPDATED_AT", query=query)
        assert {int(i.rsplit("/", 1)[1]) for i in ids} == expected_after
    at_least = {r["id"] for r in truth if r["updated_at"] >= pivot}
    ids, _ = page_all(sim, sortKey="UPDATED_AT", query=f"updated_at:>={pivot} AND id:>0")
    assert {int(i.rsplit("/", 1)[1]) for i in ids} == at_least
    # A date-only value is read in the shop's time zone (-05:00): midnight there is 05:00Z.
    day = pivot[:10]
    ids, _ = page_all(sim, sortKey="UPDATED_AT", query=f"updated_at:<{day}")
    expected_before = {r["id"] for r in truth if r["updated_at"] < f"{day}T05:00:00Z"}
    assert {int(i.rsplit("/", 1)[1]) for i in ids} == expected_before


def test_id_filter_and_counts(sim):
    truth = sorted(r["id"] for r in sim.control.truth("orders")["records"])
    pivot = truth[99]
    data = sim.graphql(
        f'{{ ordersCount(query: "id:>{pivot}") {{ count precision }} customersCount {{ count precision }} productsCount(limit: 5) {{ count precision }} }}'
    ).json()["data"]
    assert data["ordersCount"] == {"count": 300, "precision": "EXACT"}
    assert data["customersCount"] == {"count": 120, "precision": "EXACT"}
    assert data["productsCount"] == {"count": 5, "precision": "AT_LEAST"}


def test_single_lookups_node_and_nodes(sim):
    order = sim.control.truth("orders")["records"][0]
    customer = sim.control.truth("customers")["records"][0]
    order_gid, customer_gid = f"gid://shopify/Order/{order['id']}", f"gid://shopify/Customer/{customer['id']}"
    query = """query($o: ID!, $c: ID!) {
      order(id: $o) { id legacyResourceId updatedAt }
      customer(id: $c) { id numberOfOrders amountSpent { amount currencyCode } }
      node(id: $o) { id ... on Order { name } }
      nodes(ids: [$o, $c, "gid://shopify/Order/1"]) { id __typename }
    }"""
    data = sim.graphql(query, {"o": order_gid, "c": customer_gid}).json()["data"]
    assert data["order"] == {
        "id": order_gid,
        "legacyResourceId": str(order["id"]),
        "updatedAt": order["updated_at"],
    }
    assert data["customer"]["id"] == customer_gid and isinstance(data["customer"]["numberOfOrders"], str)
    assert data["node"]["name"].startswith("#")
    assert data["nodes"][0]["__typename"] == "Order" and data["nodes"][1]["__typename"] == "Customer"
    assert data["nodes"][2] is None


def test_order_fields_render_shopify_shapes(sim):
    query = """{ orders(first: 5, query: "financial_status:paid") { nodes {
        id name email tags test note currencyCode displayFinancialStatus displayFulfillmentStatus
        processedAt cancelledAt closedAt
        totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        customer { id }
        lineItems(first: 10) { edges { cursor node { id sku title variantTitle vendor quantity
            originalUnitPriceSet { shopMoney { amount } } totalDiscountSet { shopMoney { amount } }
            variant { id } product { id } } } }
    } } }"""
    orders = sim.graphql(query).json()["data"]["orders"]["nodes"]
    assert len(orders) == 5
    for order in orders:
        assert order["id"].startswith("gid://shopify/Order/")
        assert order["displayFinancialStatus"] == "PAID"
        assert isinstance(order["tags"], list)
        assert order["processedAt"].endswith("Z")
        amount = order["totalPriceSet"]["shopMoney"]["amount"]
        assert isinstance(amount, str) and "." in amount
        for edge in order["lineItems"]["edges"]:
            assert edge["node"]["id"].startswith("gid://shopify/LineItem/")


def test_customers_and_products_connections(sim):
    query = """{ customers(first: 3) { nodes { id firstName lastName email phone state tags note verifiedEmail
        taxExempt numberOfOrders amountSpent { amount currencyCode } defaultAddress { address1 city }
        createdAt updatedAt } }
      products(first: 3) { nodes { id title handle vendor productType status tags descriptionHtml publishedAt
        variants(first: 5) { nodes { id title sku price compareAtPrice inventoryQuantity position barcode
        createdAt updatedAt } } } } }"""
    data = sim.graphql(query).json()["data"]
    assert len(data["customers"]["nodes"]) == 3
    assert data["customers"]["nodes"][0]["state"] in {"ENABLED", "DISABLED", "INVITED", "DECLINED"}
    product = data["products"]["nodes"][0]
    assert product["status"] in {"ACTIVE", "DRAFT", "ARCHIVED"}
    assert isinstance(product["variants"]["nodes"][0]["price"], str)


def test_unknown_field_fails_validation_with_200_in_shopify_wording(sim):
    # when
    response = sim.graphql("{ orders(first: 1) { nodes { id bogusField } } }")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [
        {
            "message": "Field 'bogusField' doesn't exist on type 'Order'",
            "locations": [{"line": 1, "column": 33}],
            "path": ["query", "orders", "nodes", "bogusField"],
            "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "bogusField"},
        }
    ]
    assert "data" not in body
    assert "cost" in body["extensions"]


def test_other_validation_errors_in_shopify_wording(sim):
    # given
    cases = {
        "query Named { orders(first: 1, bogus: 2) { nodes { id } } }": (
            "Field 'orders' doesn't accept argument 'bogus'",
            ["query Named", "orders", "bogus"],
            {"code": "argumentNotAccepted", "name": "orders", "typeName": "Field", "argumentName": "bogus"},
        ),
        "{ order { id } }": (
            "Field 'order' is missing required arguments: id",
            ["query", "order"],
            {"code": "missingRequiredArguments", "className": "Field", "name": "order", "arguments": "id"},
        ),
        "{ shop { plan } }": (
            "Field must have selections (field 'plan' returns ShopPlan but has no selections. "
            "Did you mean 'plan { ... }'?)",
            ["query", "shop", "plan"],
            {"code": "selectionMismatch", "nodeName": "field 'plan'", "typeName": "ShopPlan"},
        ),
        '{ orders(first: "x") { nodes { id } } }': (
            "Argument 'first' on Field 'orders' has an invalid value (\"x\"). Expected type 'Int'.",
            ["query", "orders", "first"],
            {"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "first"},
        ),
    }
    for query, (message, path, extensions) in cases.items():
        # when
        error = sim.graphql(query).json()["errors"][0]
        # then
        assert (error["message"], error["path"], error["extensions"]) == (message, path, extensions), query


def test_bad_token_is_401_with_shopify_body(sim):
    response = sim.graphql("{ shop { name } }", token="nope")
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_version_header_echoed_and_falls_forward(sim):
    assert sim.graphql("{ shop { name } }", version="2026-04").headers["X-Shopify-API-Version"] == "2026-04"
    assert sim.graphql("{ shop { name } }", version="2023-01").headers["X-Shopify-API-Version"] == "2025-10"
    assert sim.graphql("{ shop { name } }", version="unstable").headers["X-Shopify-API-Version"] == "unstable"
    assert sim.graphql("{ shop { name } }", version="2026-02").status_code == 404


def test_cost_extension_has_real_shape_and_refunds(sim, new_shop):
    domain = new_shop(orders=120)
    token = token_of(sim, domain)
    body = sim.graphql("{ orders(first: 100) { nodes { id } } }", token=token, shop=domain).json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 102
    status = cost["throttleStatus"]
    assert isinstance(status["maximumAvailable"], float) and status["maximumAvailable"] == 2000.0
    assert isinstance(status["restoreRate"], float) and status["restoreRate"] == 100.0
    assert isinstance(status["currentlyAvailable"], int)
    refunded = sim.graphql(
        '{ orders(first: 100, query: "id:<0") { nodes { id } } }', token=token, shop=domain
    ).json()
    assert refunded["extensions"]["cost"]["requestedQueryCost"] == 102
    assert refunded["extensions"]["cost"]["actualQueryCost"] == 2


def test_max_cost_exceeded_and_page_size_limit(sim):
    body = sim.graphql("{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert "exceeds the single query max cost limit (1000)" in body["errors"][0]["message"]
    too_big = sim.graphql("{ orders(first: 251) { nodes { id } } }").json()
    assert "251" in too_big["errors"][0]["message"]
    assert "data" not in too_big


def test_cost_throttling_returns_throttled_200(sim, new_shop):
    domain = new_shop(orders=300)
    token = token_of(sim, domain)
    query = "{ orders(first: 249) { nodes { id customer { id } } } }"  # 2 + 249 * 2 = 500 points
    bodies = [sim.graphql(query, token=token, shop=domain) for _ in range(8)]
    assert all(b.status_code == 200 for b in bodies)
    throttled = [b.json() for b in bodies if "errors" in b.json()]
    assert throttled, "the 2000-point bucket must run out"
    error = throttled[0]
    assert error["errors"][0] == {
        "message": "Throttled",
        "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
    }
    assert error["extensions"]["cost"]["actualQueryCost"] is None
    assert error.get("data") is None
    assert sim.control.requests()["throttled"][domain] == len(throttled)  # counted per shop in the log


def test_missing_scope_is_access_denied(sim, new_shop):
    domain = new_shop()
    limited = sim.control.mint_token(domain, scopes=["read_products"])["access_token"]
    body = sim.graphql("{ orders(first: 1) { nodes { id } } }", token=limited, shop=domain).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "cost" in body["extensions"]


def test_without_read_all_orders_only_last_60_days_visible(sim, new_shop):
    domain = new_shop(orders=80, anchor="")
    token = token_of(sim, domain)
    everything = sim.graphql("{ ordersCount(limit: null) { count } }", token=token, shop=domain).json()
    sim.control.update_settings(domain, read_all_orders=False)
    recent = sim.graphql("{ ordersCount(limit: null) { count } }", token=token, shop=domain).json()
    assert everything["data"]["ordersCount"]["count"] == 80
    assert 0 < recent["data"]["ordersCount"]["count"] < 80
