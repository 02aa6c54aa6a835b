"""REST Admin API (contract §3): list/count/show, Link paging, the call-limit header, agreement with truth."""

from __future__ import annotations

import re

from tests.simulator.conformance.conftest import VERSION, links, truth

CALL_LIMIT_RE = re.compile(r"^\d+/\d+$")


def rest_all(sim, shop, resource, params):
    """Every record through rel="next" links, as a client follows them."""
    records, pages = [], 0
    response = sim.rest(f"{resource}.json", params, token=shop.token, shop=shop.domain)
    while True:
        assert response.status_code == 200
        assert CALL_LIMIT_RE.match(response.headers["X-Shopify-Shop-Api-Call-Limit"])
        assert response.headers["X-Shopify-API-Version"] == VERSION
        records.extend(response.json()[resource])
        pages += 1
        following = links(response).get("next")
        if following is None:
            return records, pages
        assert "page_info=" in following and f"/admin/api/{VERSION}/{resource}.json" in following
        response = sim.session.get(following, headers={"X-Shopify-Access-Token": shop.token}, timeout=30)


def test_rest_lists_agree_with_truth_record_for_record(sim, shop):
    for resource in ("orders", "customers", "products"):
        # given
        expected = {r["id"]: r["record"] for r in truth(sim, shop, resource, full=True)["records"]}
        params = {"limit": 7, "status": "any"} if resource == "orders" else {"limit": 7}
        # when
        records, pages = rest_all(sim, shop, resource, params)
        # then
        assert pages == -(-len(expected) // 7)
        assert {r["id"]: r for r in records} == expected, resource
        count = sim.rest(f"{resource}/count.json", params, token=shop.token, shop=shop.domain).json()
        assert count == {"count": len(expected)}


def test_rest_show_matches_the_list_and_a_deleted_record_is_404(sim, shop):
    # given
    facts = truth(sim, shop, "orders", full=True)
    first = facts["records"][0]
    # when
    shown = sim.rest(f"orders/{first['id']}.json", token=shop.token, shop=shop.domain)
    gone = sim.rest(f"orders/{facts['deleted_ids'][0]}.json", token=shop.token, shop=shop.domain)
    # then
    assert shown.json() == {"order": first["record"]}
    assert gone.status_code == 404 and gone.json() == {"errors": "Not Found"}


def test_rest_first_page_has_only_next_and_a_middle_page_both(sim, shop):
    # when
    first = sim.rest("customers.json", {"limit": 5}, token=shop.token, shop=shop.domain)
    second = sim.session.get(links(first)["next"], headers={"X-Shopify-Access-Token": shop.token}, timeout=30)
    # then
    assert set(links(first)) == {"next"}
    assert set(links(second)) == {"next", "previous"}
    back = sim.session.get(
        links(second)["previous"], headers={"X-Shopify-Access-Token": shop.token}, timeout=30
    )
    assert back.json() == first.json()


def test_rest_page_info_with_a_filter_is_400_and_page_is_400(sim, shop):
    # given
    first = sim.rest("customers.json", {"limit": 5}, token=shop.token, shop=shop.domain)
    mixed = links(first)["next"] + "&updated_at_min=2020-01-01"
    # when
    refused = sim.session.get(mixed, headers={"X-Shopify-Access-Token": shop.token}, timeout=30)
    paged = sim.rest("customers.json", {"page": 2}, token=shop.token, shop=shop.domain)
    # then
    assert refused.status_code == 400 and "page_info" in refused.json()["errors"]
    assert paged.status_code == 400


def test_rest_orders_default_to_open_status(sim, shop):
    # given
    records = [r["record"] for r in truth(sim, shop, "orders", full=True)["records"]]
    open_ids = {o["id"] for o in records if o["closed_at"] is None and o["cancelled_at"] is None}
    # when
    listed, _ = rest_all(sim, shop, "orders", {"limit": 250})
    # then
    assert {o["id"] for o in listed} == open_ids


def test_rest_bad_token_is_401_with_shopify_body(sim, shop):
    # when
    response = sim.rest("orders.json", token="shpat_wrong", shop=shop.domain)
    # then
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_rest_bucket_fills_to_429_with_retry_after(sim, new_shop):
    # given: a standard plan (40 requests, leaking 2/s)
    domain = new_shop(plan="standard")
    token = sim.control.shop_info(domain)["token"]
    # when
    answers = [sim.rest("shop.json", token=token, shop=domain) for _ in range(50)]
    # then
    assert answers[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    refused = [a for a in answers if a.status_code == 429]
    assert refused and refused[0].headers["Retry-After"] == "2.0"
    assert refused[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    assert refused[0].json()["errors"].startswith("Exceeded 2 calls per second")
