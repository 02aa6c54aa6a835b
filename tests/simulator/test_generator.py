from __future__ import annotations

from tests.simulator.conftest import ANCHOR


def test_same_seed_same_store(sim, new_shop):
    first, second = new_shop(seed=77), new_shop(seed=77)
    for resource in ("orders", "customers", "products"):
        a = [(r["id"], r["hash"]) for r in sim.control.truth(resource, shop=first)["records"]]
        b = [(r["id"], r["hash"]) for r in sim.control.truth(resource, shop=second)["records"]]
        assert a == b


def test_realistic_spreads_and_large_ids(sim):
    orders = [r["record"] for r in sim.control.truth("orders", full=True)["records"]]
    assert any(o["id"] > 2**53 for o in orders) and all(o["id"] > 2**40 for o in orders)
    assert any(o["customer"] is None for o in orders)
    assert any(li["variant_id"] is None for o in orders for li in o["line_items"])
    assert all(o["updated_at"] >= o["created_at"] for o in orders)
    assert {o["financial_status"] for o in orders} >= {"paid", "pending", "refunded"}
    assert {o["presentment_currency"] for o in orders} > {"USD"}
    years = {o["created_at"][:4] for o in orders}
    assert len(years) >= 2 and max(o["updated_at"] for o in orders) < ANCHOR


def test_shared_updated_at_and_big_orders_paginate_cleanly(sim, new_shop):
    domain = new_shop(orders=300, same_updated_at_share=0.4, big_orders=2, big_order_lines=300)
    token = sim.control.shop_info(domain)["token"]
    records = sim.control.truth("orders", shop=domain)["records"]
    shared = max({r["updated_at"] for r in records}, key=lambda v: sum(r["updated_at"] == v for r in records))
    assert sum(r["updated_at"] == shared for r in records) > 80
    seen, after = [], None
    query = "query($after: String) { orders(first: 7, after: $after, sortKey: UPDATED_AT) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    while True:
        page = sim.graphql(query, {"after": after}, token=token, shop=domain).json()["data"]["orders"]
        seen.extend(n["id"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 300
    rest_ids, url = [], None
    response = sim.rest(
        "orders.json", {"status": "any", "limit": 9, "order": "updated_at asc"}, token=token, shop=domain
    )
    while True:
        rest_ids.extend(o["id"] for o in response.json()["orders"])
        links = response.headers.get("Link", "")
        if 'rel="next"' not in links:
            break
        url = next(part.split(">")[0].lstrip(" <") for part in links.split(",") if 'rel="next"' in part)
        response = sim.session.get(url, headers={"X-Shopify-Access-Token": token}, timeout=30)
    assert len(rest_ids) == len(set(rest_ids)) == 300
    sizes = sorted(
        len(r["record"]["line_items"]) for r in sim.control.truth("orders", full=True, shop=domain)["records"]
    )
    assert sizes[-2:] == [300, 300]


def test_share_zero_leaves_no_pile_up_at_the_anchor(sim, new_shop):
    # given: a shop of recent orders (history of 20 days, so many "touched later" delays overshoot
    # the anchor) and no shared updated_at asked for
    domain = new_shop(orders=600, customers=60, products=20, history_days=20, same_updated_at_share=0)
    # when
    truths = {r: sim.control.truth(r, shop=domain)["records"] for r in ("orders", "customers", "products")}
    # then: nothing sits on the anchor, and no second holds more than a chance handful of records
    for resource, records in truths.items():
        stamps = [r["updated_at"] for r in records]
        assert max(stamps) < ANCHOR, resource
        assert max(stamps.count(s) for s in set(stamps)) <= 3, resource
