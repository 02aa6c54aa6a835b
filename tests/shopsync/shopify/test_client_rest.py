"""REST through ShopifyClient: Link-header pagination, counts, and pacing by the REST bucket."""

from __future__ import annotations

import pytest

from shopsync.shopify.errors import ShopifyPacingDeferred, ShopifyPermanentError
from shopsync.shopify.pacing import CostBucket
from tests.shopsync.shopify.scripted_http import Reply

ORDERS_PATH = "/admin/api/2026-01/orders.json"


def _link(server, page_info: str, rel: str = "next") -> str:
    return f'<{server.base_url}{ORDERS_PATH}?limit=2&page_info={page_info}>; rel="{rel}"'


def test_rest_paginate_follows_the_link_header_to_the_end(server, make_client):
    # given: three pages; only the first carries the filters
    server.script(
        ORDERS_PATH,
        Reply(json={"orders": [{"id": 1}, {"id": 2}]}, headers={"Link": _link(server, "p2")}),
        Reply(
            json={"orders": [{"id": 3}, {"id": 4}]},
            headers={"Link": f"{_link(server, 'p1', 'previous')}, {_link(server, 'p3')}"},
        ),
        Reply(json={"orders": [{"id": 5}]}, headers={"Link": _link(server, "p2", "previous")}),
    )
    client = make_client()
    params = {
        "status": "any",
        "updated_at_min": "2025-01-01T00:00:00Z",
        "limit": 2,
        "fields": "id,updated_at",
    }
    # when
    pages = list(client.rest_paginate("orders.json", params, "orders"))
    # then
    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]]
    first, second, third = server.seen(ORDERS_PATH)
    assert first.query == {
        "status": ["any"],
        "updated_at_min": ["2025-01-01T00:00:00Z"],
        "limit": ["2"],
        "fields": ["id,updated_at"],
    }
    assert second.query == {"page_info": ["p2"], "limit": ["2"], "fields": ["id,updated_at"]}
    assert third.query == {"page_info": ["p3"], "limit": ["2"], "fields": ["id,updated_at"]}
    assert client.rest_calls == 3


def test_rest_get_without_link_has_no_next_page(server, make_client):
    # given
    server.script(ORDERS_PATH, Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "1/40"}))
    client = make_client()
    # when
    page = client.rest_get("/orders.json", {"status": "any"})
    # then
    assert page.next_page_info is None
    assert page.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    [request] = server.seen(ORDERS_PATH)
    assert request.header("X-Shopify-Access-Token") == "shpat_initial"


def test_rest_count_reads_the_count_endpoint(server, make_client):
    # given
    server.script("/admin/api/2026-01/orders/count.json", Reply(json={"count": 1234}))
    client = make_client()
    # when
    count = client.rest_count("orders", {"status": "any"})
    # then
    assert count == 1234
    [request] = server.seen("/admin/api/2026-01/orders/count.json")
    assert request.query == {"status": ["any"]}


def test_rest_count_without_a_count_is_permanent(server, make_client):
    # given
    server.script("/admin/api/2026-01/customers/count.json", Reply(json={"customers": []}))
    client = make_client()
    # when / then
    with pytest.raises(ShopifyPermanentError):
        client.rest_count("customers")


def test_rest_paginate_retries_a_failed_page_without_restarting(server, clock, make_client):
    # given: page two fails once with a 503
    server.script(
        ORDERS_PATH,
        Reply(json={"orders": [{"id": 1}]}, headers={"Link": _link(server, "p2")}),
        Reply(status=503),
        Reply(json={"orders": [{"id": 2}]}),
    )
    client = make_client()
    # when
    pages = list(client.rest_paginate("orders.json", {"limit": 1}, "orders"))
    # then
    assert pages == [[{"id": 1}], [{"id": 2}]]
    assert clock.sleeps == [1]
    assert [r.query.get("page_info") for r in server.seen(ORDERS_PATH)] == [None, ["p2"], ["p2"]]


def test_rest_requests_wait_for_the_leaky_bucket_the_call_limit_header_reports(server, clock, make_client):
    # given: the first answer says 40 of 40 used (the bucket leaks 2/s)
    server.script(
        ORDERS_PATH,
        Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}),
        Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}),
    )
    client = make_client()
    client.rest_get("orders.json")
    # when
    client.rest_get("orders.json")
    # then: waited for one request to leak out, before sending rather than after a 429
    assert clock.sleeps == [0.5]
    assert client.counters.paced_waits == 1
    assert len(server.seen(ORDERS_PATH)) == 2


def test_a_429_charges_nothing_from_the_rest_budget(server, clock, make_client):
    # given: a bucket with one request free, then a 429 (someone outside the budget filled it)
    budget = CostBucket()
    server.script(
        ORDERS_PATH,
        Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "39/40"}),
        Reply(
            status=429,
            json={"errors": "Exceeded"},
            headers={"Retry-After": "1.0", "X-Shopify-Shop-Api-Call-Limit": "40/40"},
        ),
        Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}),
    )
    client = make_client(rest_budget=budget)
    client.rest_get("orders.json")
    # when
    client.rest_get("orders.json")
    # then: Retry-After was waited out and the estimate is Shopify's "full"
    assert clock.sleeps[0] == 1.0
    assert client.throttled_waits == 1
    assert budget.estimate(at=clock()) == pytest.approx(0.0)


def test_a_long_rest_pacing_wait_is_deferred_when_the_caller_says_so(server, clock, make_client):
    # given: a full 40-request bucket leaking 2/s; the caller waits at most 0.1 s
    server.script(ORDERS_PATH, Reply(json={"orders": []}, headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}))
    client = make_client(defer_waits_over=0.1)
    client.rest_get("orders.json")
    # when
    with pytest.raises(ShopifyPacingDeferred) as raised:
        client.rest_get("orders.json")
    # then: nothing was sent or slept
    assert raised.value.wait_seconds == pytest.approx(0.5)
    assert clock.sleeps == []
    assert len(server.seen(ORDERS_PATH)) == 1
