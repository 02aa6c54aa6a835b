from __future__ import annotations

import re

from tests.simulator.conftest import token_of

LINK_RE = re.compile(r'<([^>]+)>; rel="(next|previous)"')


def links(response):
    return {rel: url for url, rel in LINK_RE.findall(response.headers.get("Link", ""))}


def page_all(sim, resource, params, token=None, shop=None):
    ids, response = [], sim.rest(f"{resource}.json", params, token=token, shop=shop)
    while True:
        assert response.status_code == 200, response.text
        ids.extend(r["id"] for r in response.json()[resource])
        following = links(response).get("next")
        if not following:
            return ids, response
        response = sim.session.get(
            following, headers={"X-Shopify-Access-Token": token or sim.token}, timeout=30
        )


def test_orders_pages_follow_link_header_to_the_end(sim):
    truth = {r["id"] for r in sim.control.truth("orders")["records"]}
    ids, last = page_all(sim, "orders", {"status": "any", "limit": 70})
    assert len(ids) == len(set(ids)) == len(truth)
    assert set(ids) == truth
    assert "previous" in links(last) and "next" not in links(last)


def test_previous_link_returns_the_previous_page(sim):
    first = sim.rest("orders.json", {"status": "any", "limit": 25})
    second = sim.session.get(links(first)["next"], headers={"X-Shopify-Access-Token": sim.token}, timeout=30)
    back = sim.session.get(
        links(second)["previous"], headers={"X-Shopify-Access-Token": sim.token}, timeout=30
    )
    assert [o["id"] for o in back.json()["orders"]] == [o["id"] for o in first.json()["orders"]]
    assert list(links(first)) == ["next"]


def test_page_info_mixed_with_filters_is_400(sim):
    first = sim.rest("orders.json", {"status": "any", "limit": 5})
    following = links(first)["next"] + "&status=any"
    response = sim.session.get(following, headers={"X-Shopify-Access-Token": sim.token}, timeout=30)
    assert response.status_code == 400
    assert sim.rest("orders.json", {"page": 2}).status_code == 400


def test_default_status_is_open_and_any_returns_all(sim):
    records = sim.control.truth("orders", full=True)["records"]
    open_ids = {
        r["id"] for r in records if r["record"]["closed_at"] is None and r["record"]["cancelled_at"] is None
    }
    default_ids, _ = page_all(sim, "orders", {"limit": 250})
    assert set(default_ids) == open_ids
    assert sim.rest("orders/count.json").json() == {"count": len(open_ids)}
    assert sim.rest("orders/count.json", {"status": "any"}).json() == {"count": len(records)}


def test_filters_since_id_updated_at_and_ids(sim):
    records = sorted(sim.control.truth("customers")["records"], key=lambda r: r["id"])
    pivot = records[49]["id"]
    ids, _ = page_all(sim, "customers", {"since_id": pivot, "limit": 250})
    assert ids == [r["id"] for r in records[50:]]
    moment = sorted(r["updated_at"] for r in records)[60]
    ids, _ = page_all(sim, "customers", {"updated_at_min": moment, "limit": 250})
    assert set(ids) == {r["id"] for r in records if r["updated_at"] >= moment}
    wanted = [records[3]["id"], records[7]["id"]]
    body = sim.rest("customers.json", {"ids": ",".join(map(str, wanted))}).json()
    assert sorted(c["id"] for c in body["customers"]) == sorted(wanted)


def test_limit_default_and_max(sim):
    assert len(sim.rest("orders.json", {"status": "any"}).json()["orders"]) == 50
    assert len(sim.rest("orders.json", {"status": "any", "limit": 1000}).json()["orders"]) == 250


def test_single_and_count_and_shapes(sim):
    order = sim.rest("orders.json", {"status": "any", "limit": 1}).json()["orders"][0]
    single = sim.rest(f"orders/{order['id']}.json").json()["order"]
    assert single == order
    assert single["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    assert isinstance(single["total_price"], str) and isinstance(single["tags"], str)
    assert single["created_at"].endswith("-05:00")
    assert single["total_price_set"]["shop_money"]["currency_code"] == "USD"
    assert sim.rest("orders/1.json").status_code == 404
    assert sim.rest("products/count.json").json() == {"count": 40}


def test_products_rest_caps_variants_at_100(sim, new_shop):
    domain = new_shop(products=3)
    token = token_of(sim, domain)
    product = sim.control.create("products", shop=domain)
    sim.control.update("products", product["id"], shop=domain, add_variants=110)
    truth = {r["id"]: r for r in sim.control.truth("products", full=True, shop=domain)["records"]}
    assert len(truth[product["id"]]["record"]["variants"]) > 100
    body = sim.rest(f"products/{product['id']}.json", token=token, shop=domain).json()
    assert len(body["product"]["variants"]) == 100


def test_leaky_bucket_429_with_retry_after(sim, new_shop):
    domain = new_shop()
    token = token_of(sim, domain)
    # Calls until the first 429: the bucket holds 40 and leaks 2/s, so 45 calls in a row fill it on an
    # idle machine; a loaded one may need more (each call that takes over 0.5 s leaks one away).
    responses = []
    while len(responses) < 400 and (not responses or responses[-1].status_code != 429):
        responses.append(sim.rest("shop.json", token=token, shop=domain))
    limits = [r.headers["X-Shopify-Shop-Api-Call-Limit"] for r in responses if r.status_code == 200]
    assert limits[0] == "1/40"
    rejected = [r for r in responses if r.status_code == 429]
    assert rejected
    assert float(rejected[0].headers["Retry-After"]) > 0
    assert "Exceeded 2 calls per second" in rejected[0].json()["errors"]


def test_orders_asked_for_their_refunds_and_fulfillments_only_equal_the_whole_orders_trimmed(sim):
    # given: orders with refunds and fulfillments (their line items embed the order's line items)
    truth = sim.control.truth("orders", full=True)["records"]
    ids = [r["id"] for r in truth if r["record"]["refunds"] or r["record"]["fulfillments"]][:250]
    asked = {"status": "any", "limit": 250, "ids": ",".join(map(str, ids))}
    # when: the fields the parts pass asks for (rendered alone), and with a field beyond them (whole)
    alone = sim.rest("orders.json", {**asked, "fields": "fulfillments,id,refunds,line_items"})
    whole = sim.rest("orders.json", {**asked, "fields": "fulfillments,id,refunds,line_items,email"})
    # then: the same orders, fields and values, in the order `fields` names them
    assert alone.status_code == whole.status_code == 200
    trimmed = [{k: v for k, v in order.items() if k != "email"} for order in whole.json()["orders"]]
    assert [list(order) for order in alone.json()["orders"]] == [
        ["fulfillments", "id", "refunds", "line_items"]
    ] * len(ids)
    assert alone.json()["orders"] == trimmed
    assert any(order["refunds"] for order in trimmed) and any(order["fulfillments"] for order in trimmed)
