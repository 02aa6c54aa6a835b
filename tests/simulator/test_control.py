from __future__ import annotations

from tests.simulator.conftest import token_of


def test_shops_listed_with_their_credentials(sim, new_shop):
    domain = new_shop()
    shops = {s["domain"]: s for s in sim.control.shops()}
    assert sim.shop in shops and domain in shops
    assert shops[domain]["counts"] == {"orders": 60, "customers": 25, "products": 10}


def test_update_bumps_updated_at_strictly_and_truth_follows(sim, new_shop):
    domain = new_shop()
    order_id = sim.control.truth("orders", shop=domain)["records"][0]["id"]
    before = {r["id"]: r for r in sim.control.truth("orders", shop=domain)["records"]}[order_id]
    first = sim.control.update("orders", order_id, shop=domain, add_line_items=2)
    second = sim.control.update("orders", order_id, shop=domain, remove_line_items=1)
    assert first["updated_at"] < second["updated_at"]
    after = {r["id"]: r for r in sim.control.truth("orders", shop=domain)["records"]}[order_id]
    assert after["hash"] != before["hash"]
    assert len(second["line_items"]) == len(first["line_items"]) - 1


def test_random_update_with_empty_body_changes_the_record(sim, new_shop):
    domain = new_shop()
    customer_id = sim.control.truth("customers", shop=domain)["records"][0]["id"]
    before = sim.control.get("customers", customer_id, shop=domain)
    after = sim.control.update("customers", customer_id, shop=domain)
    assert after["updated_at"] > before["updated_at"]


def test_mutate_returns_changes_that_the_api_shows(sim, new_shop):
    domain = new_shop()
    token = token_of(sim, domain)
    changes = sim.control.mutate(count=15, seed=9, shop=domain)
    assert len(changes) == 15
    truth = {r["id"] for r in sim.control.truth("orders", shop=domain)["records"]}
    for change in changes:
        if change["resource"] == "orders" and change["action"] != "delete":
            assert change["id"] in truth
            node = sim.graphql(
                f'{{ order(id: "gid://shopify/Order/{change["id"]}") {{ updatedAt }} }}',
                token=token,
                shop=domain,
            ).json()
            assert node["data"]["order"]["updatedAt"] >= change["updated_at"]


def test_customer_with_orders_cannot_be_deleted(sim, new_shop):
    domain = new_shop()
    order = sim.control.create(
        "orders", shop=domain, customer_id=sim.control.truth("customers", shop=domain)["records"][0]["id"]
    )
    response = sim.control.session.delete(
        f"{sim.base_url}/_sim/shops/{domain}/customers/{order['customer']['id']}"
    )
    assert response.status_code == 422


def test_truth_full_matches_rest(sim):
    truth = sim.control.truth("customers", full=True)
    first = truth["records"][0]
    body = sim.rest(f"customers/{first['id']}.json").json()["customer"]
    assert body == first["record"]
    assert truth["count"] == 120 and truth["deleted_ids"] == []


def test_request_log_counts_per_endpoint(sim):
    sim.control.reset_requests()
    sim.graphql("{ shop { name } }")
    sim.rest("orders/count.json")
    log = sim.control.requests()
    assert log["counts"] == {
        "POST /admin/api/{version}/graphql.json": 1,
        "GET /admin/api/{version}/orders/count.json": 1,
    }


def test_settings_toggle_plan(sim, new_shop):
    domain = new_shop()
    token = token_of(sim, domain)
    sim.control.update_settings(domain, plan="plus")
    status = sim.graphql("{ shop { plan { shopifyPlus } } }", token=token, shop=domain).json()
    assert status["data"]["shop"]["plan"]["shopifyPlus"] is True
    assert status["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 20000.0
