from __future__ import annotations

import time

import orjson
import pytest
import requests

from tests.simulator.conftest import token_of
from tests.simulator.test_bulk import lines_of, start, wait


@pytest.fixture
def faulty(sim, new_shop):
    domain = new_shop(orders=40)
    yield domain, token_of(sim, domain)
    sim.control.set_faults(shop=domain)


def test_rest_429_share(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(shop=domain, seed=1, rest_429_share=1.0, retry_after_seconds=0.5)
    response = sim.rest("orders.json", token=token, shop=domain)
    assert response.status_code == 429 and response.headers["Retry-After"] == "0.5"
    assert sim.control.faults()["counters"]["rest_429"] >= 1


def test_graphql_throttled_share(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(shop=domain, seed=1, graphql_throttle_share=1.0)
    body = sim.graphql("{ shop { name } }", token=token, shop=domain).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_server_errors_and_max_faults(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(
        shop=domain, seed=2, server_error_share=1.0, server_error_statuses=[503], max_faults=2
    )
    statuses = [sim.graphql("{ shop { name } }", token=token, shop=domain).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_slow_responses(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(shop=domain, slow_share=1.0, slow_seconds=0.6)
    started = time.monotonic()
    assert sim.rest("shop.json", token=token, shop=domain).status_code == 200
    assert time.monotonic() - started >= 0.6


def test_dropped_connections(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(shop=domain, drop_connection_share=1.0, paths=["graphql"])
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{sim.base_url}/shops/{domain}/admin/api/2026-01/graphql.json",
            json={"query": "{ shop { name } }"},
            headers={"X-Shopify-Access-Token": token},
            timeout=5,
        )
    assert sim.rest("shop.json", token=token, shop=domain).status_code == 200  # paths limit the fault
    assert sim.control.faults()["counters"]["dropped_connection"] >= 1


def test_malformed_records_in_graphql_pages_are_reported(sim, faulty):
    domain, token = faulty
    sim.control.clear_faults()
    sim.control.set_faults(shop=domain, seed=4, malformed_record_share=0.2, malformed_kinds=["missing_id"])
    nodes = sim.graphql("{ orders(first: 40) { nodes { id updatedAt } } }", token=token, shop=domain).json()[
        "data"
    ]["orders"]["nodes"]
    broken = [n for n in nodes if "id" not in n]
    reported = [
        m for m in sim.control.faults()["malformed"] if m["shop"] == domain and m["where"] == "graphql"
    ]
    assert broken and len(broken) == len(reported)
    assert all(m["kind"] == "missing_id" and m["type"] == "Order" for m in reported)


def test_malformed_records_in_bulk_files_are_reported(sim, faulty):
    domain, token = faulty
    sim.control.clear_faults()
    sim.control.set_faults(
        shop=domain, seed=5, malformed_record_share=0.25, malformed_kinds=["bad_updated_at"]
    )
    done = wait(
        sim,
        start(sim, "{ orders { edges { node { id updatedAt } } } }", token, domain)["bulkOperation"]["id"],
        token,
        domain,
    )
    lines = lines_of(done["url"])
    bad = {line["id"] for line in lines if line["updatedAt"] == "not-a-timestamp"}
    reported = {
        f"gid://shopify/Order/{m['id']}" for m in sim.control.faults()["malformed"] if m["where"] == "bulk"
    }
    assert bad and bad == reported


def test_a_bulk_parent_malformed_without_its_id_keeps_its_children_attached(sim, faulty):
    # given: orders whose lines lose their id at random
    domain, token = faulty
    sim.control.clear_faults()
    sim.control.set_faults(shop=domain, seed=5, malformed_record_share=0.25, malformed_kinds=["missing_id"])
    query = "{ orders { edges { node { id updatedAt lineItems { edges { node { id } } } } } } }"
    # when
    done = wait(sim, start(sim, query, token, domain)["bulkOperation"]["id"], token, domain)
    # then: every line item line still names its real parent (Shopify writes `__parentId` from the
    # parent's id, not from its served line), and the parents of those after a broken line are the
    # reported ones
    lines = lines_of(done["url"])
    children = [line for line in lines if line.get("id", "").startswith("gid://shopify/LineItem/")]
    assert children and all("__parentId" in line for line in children)
    parents_of_broken, broken = set(), False
    for line in lines:
        if "__parentId" not in line:
            broken = "id" not in line
        elif broken:
            parents_of_broken.add(line["__parentId"])
    reported = {
        f"gid://shopify/Order/{m['id']}" for m in sim.control.faults()["malformed"] if m["where"] == "bulk"
    }
    assert reported and parents_of_broken == reported


def test_duplicate_and_delayed_and_out_of_order_webhooks(sim, faulty, receiver):
    domain, _ = faulty
    sim.control.subscribe("customers/update", receiver.url, shop=domain)
    customer_id = sim.control.truth("customers", shop=domain)["records"][0]["id"]
    sim.control.set_faults(shop=domain, seed=6, webhook_duplicate_share=1.0)
    sim.control.update("customers", customer_id, shop=domain, note="dup")
    first, second = receiver.wait_for(2)[:2]
    assert first["headers"]["X-Shopify-Event-Id"] == second["headers"]["X-Shopify-Event-Id"]
    assert first["headers"]["X-Shopify-Webhook-Id"] != second["headers"]["X-Shopify-Webhook-Id"]
    receiver.requests.clear()
    sim.control.set_faults(shop=domain, seed=7, webhook_out_of_order_share=1.0, max_faults=None)
    sim.control.update("customers", customer_id, shop=domain, note="first")
    sim.control.set_faults(shop=domain)
    sim.control.update("customers", customer_id, shop=domain, note="second")
    notes = [orjson.loads(r["body"])["note"] for r in receiver.wait_for(2)]
    assert notes[:2] == ["second", "first"]
    receiver.requests.clear()
    sim.control.set_faults(shop=domain, webhook_delay_share=1.0, webhook_delay_seconds=0.8)
    started = time.monotonic()
    sim.control.update("customers", customer_id, shop=domain, note="late")
    receiver.wait_for(1)
    assert time.monotonic() - started >= 0.8
    counters = sim.control.faults()["counters"]
    assert (
        counters["webhook_duplicate"] >= 1
        and counters["webhook_out_of_order"] >= 1
        and counters["webhook_delayed"] >= 1
    )


def test_bulk_fail_with_internal_error_is_in_profile(sim, faulty):
    domain, token = faulty
    sim.control.set_faults(shop=domain, bulk_fail_share=1.0, bulk_fail_after_fraction=0.5)
    done = wait(
        sim,
        start(sim, "{ customers { edges { node { id } } } }", token, domain)["bulkOperation"]["id"],
        token,
        domain,
    )
    assert done["status"] == "FAILED" and done["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert done["partialDataUrl"] and done["url"] is None
