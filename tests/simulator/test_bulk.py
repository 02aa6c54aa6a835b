from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from tests.simulator.conftest import token_of

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount
  fileSize url partialDataUrl createdAt completedAt type query } } }"""
ORDERS_BULK = """{ orders(query: "updated_at:>'2000-01-01T00:00:00Z'") { edges { node { id name updatedAt
  totalPriceSet { shopMoney { amount currencyCode } }
  lineItems { edges { node { id sku quantity variant { id } } } } } } } }"""


def start(sim, query, token=None, shop=None, version="2026-01"):
    return sim.graphql(RUN, {"q": query}, token=token, shop=shop, version=version).json()["data"][
        "bulkOperationRunQuery"
    ]


def wait(sim, operation_id, token=None, shop=None, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        node = sim.graphql(POLL, {"id": operation_id}, token=token, shop=shop).json()["data"]["node"]
        if node["status"] not in ("CREATED", "RUNNING", "CANCELING"):
            return node
        time.sleep(0.05)
    raise AssertionError("bulk operation did not finish")


def lines_of(url):
    response = requests.get(url, timeout=60)
    assert response.status_code == 200
    return [orjson.loads(line) for line in response.content.splitlines()]


def test_bulk_orders_export_writes_parents_followed_by_children(sim):
    # when
    started = start(sim, ORDERS_BULK)
    assert started["userErrors"] == []
    assert started["bulkOperation"]["status"] == "CREATED"
    done = wait(sim, started["bulkOperation"]["id"])
    # then
    assert done["status"] == "COMPLETED" and done["type"] == "QUERY" and done["errorCode"] is None
    lines = lines_of(done["url"])
    orders = [line for line in lines if "__parentId" not in line]
    assert len(orders) == 400 == int(done["rootObjectCount"])
    assert len(lines) == int(done["objectCount"])
    assert int(done["fileSize"]) > 0
    current_parent = None
    for line in lines:
        if "__parentId" in line:
            assert line["__parentId"] == current_parent
            assert list(line) == ["id", "sku", "quantity", "variant", "__parentId"]
        else:
            current_parent = line["id"]
            assert set(line) == {"id", "name", "updatedAt", "totalPriceSet"}
    truth = {r["id"]: r for r in sim.control.truth("orders")["records"]}
    assert {int(o["id"].rsplit("/", 1)[1]) for o in orders} == set(truth)


def test_bulk_with_nothing_matched_has_null_url(sim):
    done = wait(
        sim, start(sim, '{ customers(query: "id:<1") { edges { node { id } } } }')["bulkOperation"]["id"]
    )
    assert done["status"] == "COMPLETED"
    assert done["url"] is None and done["objectCount"] == "0"


def test_bulk_restrictions_are_user_errors(sim):
    cases = {
        "{ shop { name } }": "at least one connection",
        '{ node(id: "gid://shopify/Order/1") { id } }': "node",
        "{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id variant { product { variants { edges { node { id } } } } } } } } } } } } } } }": "nesting depth",
        "{ orders { edges { node { bogus } } } }": "bogus",
        "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }": "must select the 'id' field",
    }
    for query, fragment in cases.items():
        result = start(sim, query)
        assert result["bulkOperation"] is None, query
        assert fragment in result["userErrors"][0]["message"], result


def test_concurrency_limit_depends_on_version(sim, new_shop):
    domain = new_shop(orders=50)
    token = token_of(sim, domain)
    sim.control.set_faults(shop=domain, bulk_rows_per_second=20)
    try:
        query = "{ orders { edges { node { id } } } }"
        first = start(sim, query, token, domain, version="2025-10")
        refused = start(sim, query, token, domain, version="2025-10")
        assert first["userErrors"] == []
        assert refused["bulkOperation"] is None
        assert refused["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
        more = [start(sim, query, token, domain, version="2026-01") for _ in range(4)]
        assert all(m["userErrors"] == [] for m in more)
        sixth = start(sim, query, token, domain, version="2026-01")
        assert sixth["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
        listed = sim.graphql(
            '{ bulkOperations(first: 10, query: "status:RUNNING") { nodes { id status } } }',
            token=token,
            shop=domain,
        ).json()
        assert len(listed["data"]["bulkOperations"]["nodes"]) == 5
        old = sim.graphql(
            "{ bulkOperations(first: 1) { nodes { id } } }", token=token, shop=domain, version="2025-10"
        ).json()
        assert "bulkOperations" in old["errors"][0]["message"]
    finally:
        sim.control.set_faults(shop=domain)
        for operation in sim.control.bulk_operations(domain):
            sim.graphql(
                "mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }",
                {"id": operation["id"]},
                token=token,
                shop=domain,
            )


def test_cancel_moves_to_canceling_then_canceled(sim, new_shop):
    domain = new_shop(orders=60)
    token = token_of(sim, domain)
    sim.control.set_faults(shop=domain, bulk_rows_per_second=10)
    operation = start(sim, "{ orders { edges { node { id } } } }", token, domain)["bulkOperation"]
    cancel = sim.graphql(
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }",
        {"id": operation["id"]},
        token=token,
        shop=domain,
    ).json()["data"]["bulkOperationCancel"]
    assert cancel == {"bulkOperation": {"status": "CANCELING"}, "userErrors": []}
    done = wait(sim, operation["id"], token, domain)
    assert done["status"] == "CANCELED" and done["url"] is None
    current = sim.graphql(
        "{ currentBulkOperation { id status } }", token=token, shop=domain, version="2025-10"
    ).json()
    assert current["data"]["currentBulkOperation"] == {"id": operation["id"], "status": "CANCELED"}


def test_failed_part_way_leaves_partial_data(sim, new_shop):
    domain = new_shop(orders=100)
    token = token_of(sim, domain)
    sim.control.set_faults(
        shop=domain, bulk_fail_share=1.0, bulk_fail_after_fraction=0.3, bulk_error_code="TIMEOUT"
    )
    try:
        done = wait(
            sim,
            start(sim, "{ orders { edges { node { id } } } }", token, domain)["bulkOperation"]["id"],
            token,
            domain,
        )
    finally:
        sim.control.set_faults(shop=domain)
    assert done["status"] == "FAILED" and done["errorCode"] == "TIMEOUT"
    assert done["url"] is None
    partial = lines_of(done["partialDataUrl"])
    assert len(partial) == 30 == int(done["rootObjectCount"])


def test_expired_url_is_refused_and_finish_webhook_sent(sim, new_shop, receiver):
    domain = new_shop(orders=20)
    token = token_of(sim, domain)
    sim.control.subscribe("BULK_OPERATIONS_FINISH", receiver.url, shop=domain)
    done = wait(
        sim,
        start(
            sim, "{ products { edges { node { id variants { edges { node { id } } } } } } }", token, domain
        )["bulkOperation"]["id"],
        token,
        domain,
    )
    assert requests.get(done["url"], timeout=10).status_code == 200
    sim.control.expire_bulk(done["id"], shop=domain)
    assert requests.get(done["url"], timeout=10).status_code in (403, 404)
    expired = wait(sim, done["id"], token, domain)
    assert expired["status"] == "EXPIRED"
    webhook = receiver.wait_for(1)[0]
    assert webhook["headers"]["X-Shopify-Topic"] == "bulk_operations/finish"
    payload = orjson.loads(webhook["body"])
    assert payload == {
        "admin_graphql_api_id": done["id"],
        "completed_at": done["completedAt"],
        "created_at": done["createdAt"],
        "error_code": None,
        "status": "completed",
        "type": "query",
    }


def test_bulk_lines_carry_typename_when_selected(sim):
    # given
    query = """{ orders { edges { node { __typename id totalPriceSet { __typename shopMoney { amount } }
      lineItems { edges { node { __typename id } } } } } } }"""
    # when
    done = wait(sim, start(sim, query)["bulkOperation"]["id"])
    # then: parents and connection children both name their type; inline objects too
    lines = lines_of(done["url"])
    parents = [line for line in lines if "__parentId" not in line]
    children = [line for line in lines if "__parentId" in line]
    assert parents and children
    assert {line["__typename"] for line in parents} == {"Order"}
    assert {line["totalPriceSet"]["__typename"] for line in parents} == {"MoneyBag"}
    assert {line["__typename"] for line in children} == {"LineItem"}
    assert list(children[0]) == ["__typename", "id", "__parentId"]


def test_bulk_url_names_the_file_and_the_download_says_so(sim):
    # given
    done = wait(sim, start(sim, "{ products { edges { node { id } } } }")["bulkOperation"]["id"])
    numeric = done["id"].rsplit("/", 1)[1]
    expected = f"attachment; filename=\"bulk-{numeric}.jsonl\"; filename*=UTF-8''bulk-{numeric}.jsonl"
    # when
    response = requests.get(done["url"], timeout=30)
    # then
    query = parse_qs(urlsplit(done["url"]).query)
    assert query["response-content-disposition"] == [expected]
    assert query["response-content-type"] == ["application/jsonl"]
    assert response.headers["Content-Disposition"] == expected
    assert response.headers["Content-Type"] == "application/jsonl"


def _poll_while_running(sim, operation_id, token, domain, timeout=60):
    """Every poll's (status, objectCount) until the operation ends, and the seconds it took."""
    started = time.monotonic()
    seen = []
    deadline = started + timeout
    while time.monotonic() < deadline:
        node = sim.graphql(POLL, {"id": operation_id}, token=token, shop=domain).json()["data"]["node"]
        seen.append((node["status"], int(node["objectCount"])))
        if node["status"] not in ("CREATED", "RUNNING", "CANCELING"):
            return node, seen, time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"bulk operation did not finish: {seen[-5:]}")


def test_export_rate_paces_the_export_with_object_count_growing_while_running(sim, new_shop):
    # given: a shop whose exports produce 150 objects a second (set through the control API)
    domain = new_shop(orders=60)
    token = token_of(sim, domain)
    settings = sim.control.update_settings(domain, export_rate=150)
    assert settings["export_rate"] == 150
    # when
    operation = start(sim, ORDERS_BULK, token, domain)["bulkOperation"]
    done, seen, seconds = _poll_while_running(sim, operation["id"], token, domain)
    # then: RUNNING for about objects / rate seconds, objectCount rising poll after poll
    assert done["status"] == "COMPLETED"
    total = int(done["objectCount"])
    assert total == len(lines_of(done["url"])) > 150
    running = [count for status, count in seen if status == "RUNNING"]
    assert running == sorted(running)
    assert len({count for count in running if 0 < count < total}) >= 5, seen
    assert seconds >= total / 150 * 0.8, (seconds, total)


def test_export_rate_zero_exports_at_full_speed(sim, new_shop):
    # given
    domain = new_shop(orders=60, export_rate=150)
    token = token_of(sim, domain)
    sim.control.update_settings(domain, export_rate=0)
    # when
    operation = start(sim, ORDERS_BULK, token, domain)["bulkOperation"]
    done, _seen, seconds = _poll_while_running(sim, operation["id"], token, domain)
    # then
    assert done["status"] == "COMPLETED"
    assert seconds < int(done["objectCount"]) / 150 * 0.5
