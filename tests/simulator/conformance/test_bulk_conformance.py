"""Bulk operations (contract §2): lifecycle, JSONL (parents then children, __parentId, __typename),
the signed URL naming its file, agreement with truth."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from tests.simulator.conformance.conftest import truth
from tests.simulator.test_bulk import start, wait

QUERY = """{ orders { edges { node { __typename id updatedAt
  lineItems { edges { node { __typename id quantity } } } } } } }"""


def test_bulk_lifecycle_and_jsonl_agree_with_truth(sim, shop):
    # given
    expected = {r["id"]: r["updated_at"] for r in truth(sim, shop, "orders")["records"]}
    lines_expected = {
        r["id"]: len(r["record"]["line_items"]) for r in truth(sim, shop, "orders", full=True)["records"]
    }
    # when
    started = start(sim, QUERY, shop.token, shop.domain)
    done = wait(sim, started["bulkOperation"]["id"], shop.token, shop.domain)
    download = requests.get(done["url"], timeout=30)
    lines = [orjson.loads(line) for line in download.content.splitlines()]
    # then: the lifecycle fields as the contract types them
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    assert done["status"] == "COMPLETED" and done["errorCode"] is None and done["type"] == "QUERY"
    assert done["objectCount"] == str(len(lines)) and done["rootObjectCount"] == str(len(expected))
    assert done["fileSize"] == str(len(download.content))
    # every parent then its children, each line naming its type
    parents, children, current = {}, {}, None
    for line in lines:
        if "__parentId" in line:
            assert line["__typename"] == "LineItem" and line["__parentId"] == current
            children[current] = children.get(current, 0) + 1
        else:
            assert line["__typename"] == "Order"
            current = line["id"]
            parents[int(current.rsplit("/", 1)[1])] = line["updatedAt"]
    assert parents == expected
    assert {int(k.rsplit("/", 1)[1]): v for k, v in children.items()} == {
        k: v for k, v in lines_expected.items() if v
    }
    # the file name, in the URL and on the download
    numeric = done["id"].rsplit("/", 1)[1]
    disposition = parse_qs(urlsplit(done["url"]).query)["response-content-disposition"][0]
    assert f'filename="bulk-{numeric}.jsonl"' in disposition
    assert download.headers["Content-Disposition"] == disposition


def test_bulk_finish_webhook_has_lowercase_fields(sim, new_shop, receiver):
    # given
    domain = new_shop()
    token = sim.control.shop_info(domain)["token"]
    sim.control.subscribe("bulk_operations/finish", receiver.url, shop=domain)
    # when
    started = start(sim, "{ products { edges { node { id } } } }", token, domain)
    done = wait(sim, started["bulkOperation"]["id"], token, domain)
    # then
    [delivery] = receiver.wait_for(1)
    assert delivery["headers"]["X-Shopify-Topic"] == "bulk_operations/finish"
    assert orjson.loads(delivery["body"]) == {
        "admin_graphql_api_id": done["id"],
        "completed_at": done["completedAt"],
        "created_at": done["createdAt"],
        "error_code": None,
        "status": "completed",
        "type": "query",
    }
