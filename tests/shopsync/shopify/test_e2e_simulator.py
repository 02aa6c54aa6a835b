"""End to end against the Shopify simulator over HTTP: real GraphQL pages, bulk operations, REST
pagination, token refresh, and faults survived (5xx, dropped connections, slow answers, 429, THROTTLED)."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import islice
from typing import Any

import pytest
import requests
from django.utils import timezone

from shopsync.models import Shop
from shopsync.shopify.bulk import (
    BulkOperationInProgress,
    bulk_operation_cancel,
    bulk_operation_get,
    bulk_operation_wait,
    bulk_query_start,
    bulk_result_lines,
)
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import ShopifyAccessDenied, ShopifyPermanentError
from shopsync.shopify.pacing import CostBucket
from shopsync.shopify.queries import connection_pages, count_parse, count_query, gid_to_id
from tests.factories import ShopFactory
from tests.shopsync.shopify.scripted_http import Reply

pytestmark = pytest.mark.e2e

ORDERS_BULK_QUERY = (
    "{ orders { edges { node { id updatedAt lineItems { edges { node { id quantity } } } } } } }"
)
ORDER_PAGE_FIELDS = "id updatedAt lineItems(first: 5) { nodes { id } }"


class FastSleep:
    """Records the waits and sleeps only briefly: injected faults do not depend on time passing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(0.01)


@pytest.fixture
def sim_shop(simulator) -> Iterator[Callable[..., dict[str, Any]]]:
    """Create shops of our own on the shared simulator (faults and bulk state stay per shop)."""
    created: list[str] = []

    def create(**options: Any) -> dict[str, Any]:
        domain = f"client-{uuid.uuid4().hex[:8]}.myshopify.com"
        info = simulator.control.create_shop(
            domain, **{"orders": 40, "customers": 10, "products": 5, **options}
        )
        created.append(domain)
        return info

    yield create
    for domain in created:
        simulator.control.set_faults(shop=domain)
        simulator.control.delete_shop(domain)


def _shop(simulator, info: dict[str, Any], **fields: Any) -> Shop:
    values = {
        "domain": info["domain"],
        "api_base_url": f"{simulator.base_url}/shops/{info['domain']}",
        "api_version": "2026-01",
        "access_token": info["token"],
        **fields,
    }
    return Shop(**values)


def _client(shop: Shop, **options: Any) -> ShopifyClient:
    options.setdefault("cost_bucket", CostBucket())
    return ShopifyClient(shop, **options)


def _truth_ids(simulator, domain: str, resource: str) -> list[int]:
    return sorted(row["id"] for row in simulator.control.truth(resource, shop=domain)["records"])


def test_graphql_pages_through_every_order(simulator, sim_shop):
    # given
    info = sim_shop(orders=45)
    client = _client(_shop(simulator, info))
    # when
    pages = list(connection_pages(client, "orders", ORDER_PAGE_FIELDS, first=10, sort_key="UPDATED_AT"))
    # then
    ids = sorted(gid_to_id(node["id"]) for page in pages for node in page.nodes)
    assert ids == _truth_ids(simulator, info["domain"], "orders")
    assert len(pages) == 5
    assert client.graphql_calls == 5
    assert client.served_api_version == "2026-01"


def test_graphql_count_matches_the_store(simulator, sim_shop):
    # given
    info = sim_shop(orders=33)
    client = _client(_shop(simulator, info))
    request = count_query("orders")
    # when
    count = count_parse(client.graphql(request.query, request.variables), "orders")
    # then
    assert count == 33


def test_rest_pagination_reads_every_order_to_the_end(simulator, sim_shop):
    # given
    info = sim_shop(orders=45)
    client = _client(_shop(simulator, info))
    # when
    pages = list(
        client.rest_paginate("orders.json", {"status": "any", "limit": 10, "fields": "id"}, "orders")
    )
    # then
    ids = sorted(order["id"] for page in pages for order in page)
    assert ids == _truth_ids(simulator, info["domain"], "orders")
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    assert client.rest_count("orders", {"status": "any"}) == 45


def test_bulk_query_exports_orders_with_line_items_as_jsonl(simulator, sim_shop):
    # given
    info = sim_shop(orders=30)
    client = _client(_shop(simulator, info))
    # when
    started = bulk_query_start(client, ORDERS_BULK_QUERY)
    finished = bulk_operation_wait(client, started.id, poll_interval=0.1)
    lines = [json.loads(line) for line in bulk_result_lines(finished.url)]
    # then
    assert finished.status == "COMPLETED"
    roots = [line for line in lines if "__parentId" not in line]
    children = [line for line in lines if "__parentId" in line]
    assert sorted(gid_to_id(line["id"]) for line in roots) == _truth_ids(simulator, info["domain"], "orders")
    assert finished.root_object_count == len(roots) == 30
    assert finished.object_count == len(lines)
    root_ids = {line["id"] for line in roots}
    assert children and all(child["__parentId"] in root_ids for child in children)


def test_second_bulk_query_before_2026_01_is_in_progress_until_cancelled(simulator, sim_shop):
    # given: a slow running export on a version allowing one bulk query per shop
    info = sim_shop(orders=200)
    simulator.control.set_faults(shop=info["domain"], bulk_rows_per_second=20)
    client = _client(_shop(simulator, info, api_version="2025-10"))
    running = bulk_query_start(client, ORDERS_BULK_QUERY)
    # when
    with pytest.raises(BulkOperationInProgress) as raised:
        bulk_query_start(client, ORDERS_BULK_QUERY)
    bulk_operation_cancel(client, running.id)
    cancelled = bulk_operation_wait(client, running.id, poll_interval=0.1, timeout=30)
    # then
    assert raised.value.retryable is True
    assert cancelled.status == "CANCELED"
    assert bulk_query_start(client, ORDERS_BULK_QUERY).status in {"CREATED", "RUNNING"}


def test_failed_bulk_operation_is_reported_with_its_error_code(simulator, sim_shop):
    # given
    info = sim_shop(orders=40)
    simulator.control.set_faults(shop=info["domain"], seed=1, bulk_fail_share=1.0)
    client = _client(_shop(simulator, info))
    # when
    finished = bulk_operation_wait(client, bulk_query_start(client, ORDERS_BULK_QUERY).id, poll_interval=0.1)
    # then
    assert finished.status == "FAILED"
    assert finished.error_code == "INTERNAL_SERVER_ERROR"
    assert finished.url is None


def test_expired_bulk_result_url_is_a_permanent_error(simulator, sim_shop):
    # given
    info = sim_shop(orders=10)
    client = _client(_shop(simulator, info))
    finished = bulk_operation_wait(client, bulk_query_start(client, ORDERS_BULK_QUERY).id, poll_interval=0.1)
    simulator.control.expire_bulk(finished.id, shop=info["domain"])
    # when / then
    with pytest.raises(ShopifyPermanentError) as raised:
        list(bulk_result_lines(finished.url))
    # storage answers 403 (expired signature) or 404 (object gone): neither will ever succeed
    assert raised.value.status in {403, 404}
    assert bulk_operation_get(client, finished.id).status == "EXPIRED"


def _drain_bucket(simulator, domain: str, *, below: int) -> None:
    query = "query Drain($first: Int!) { orders(first: $first) { nodes { id lineItems(first: 5) { nodes { id } } } } }"
    for first in (100, 100, 100, 50, 50, 25, 25, 10, 10, 5):
        body = simulator.graphql(query, {"first": first}, shop=domain).json()
        if body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < below:
            return
    raise AssertionError("could not drain the simulated bucket")


def test_throttled_by_the_real_bucket_is_waited_out(simulator, sim_shop):
    # given: another worker left the shop's bucket nearly empty; this client knows nothing of it
    info = sim_shop(orders=120)
    _drain_bucket(simulator, info["domain"], below=150)
    client = _client(_shop(simulator, info))
    # when: a query requesting about 300 points
    page = next(connection_pages(client, "orders", ORDER_PAGE_FIELDS, first=37))
    # then
    assert len(page.nodes) == 37
    assert client.throttled_waits == 1
    assert 1.0 <= client.counters.seconds_waited <= 3.5


def test_pacing_against_the_real_bucket_avoids_throttling(simulator, sim_shop):
    # given
    info = sim_shop(orders=100)
    client = _client(_shop(simulator, info))
    _drain_bucket(simulator, info["domain"], below=150)
    # the client learns the page cost and the drained bucket (another worker's spending) from one page
    pages = connection_pages(client, "orders", ORDER_PAGE_FIELDS, first=20)
    seen = next(pages).nodes
    throttled_before, paced_before = client.throttled_waits, client.counters.paced_waits
    # when
    for page in islice(pages, 2):
        seen.extend(page.nodes)
    # then: the next pages were paced before sending, and none was throttled
    ids = {gid_to_id(node["id"]) for node in seen}
    assert len(ids) == 60
    assert ids <= set(_truth_ids(simulator, info["domain"], "orders"))
    assert client.counters.paced_waits - paced_before == 2
    assert client.throttled_waits == throttled_before


def _injected(simulator) -> Counter[str]:
    return Counter(simulator.control.faults()["counters"])


def test_graphql_and_rest_survive_injected_faults(simulator, sim_shop):
    # given: 5xx, dropped connections, slow answers (read timeouts), REST 429s and THROTTLED answers
    info = sim_shop(orders=60)
    truth = _truth_ids(simulator, info["domain"], "orders")
    before = _injected(simulator)
    simulator.control.set_faults(
        shop=info["domain"],
        seed=11,
        server_error_share=0.15,
        drop_connection_share=0.15,
        slow_share=0.05,
        slow_seconds=1.0,
        rest_429_share=0.25,
        retry_after_seconds=0.2,
        graphql_throttle_share=0.3,
    )
    sleep = FastSleep()
    client = _client(_shop(simulator, info), sleep=sleep, timeout=(1.0, 0.5), max_attempts=12)
    # when
    graphql_ids = sorted(
        gid_to_id(node["id"])
        for page in connection_pages(client, "orders", ORDER_PAGE_FIELDS, first=5)
        for node in page.nodes
    )
    rest_ids = sorted(
        order["id"]
        for page in client.rest_paginate(
            "orders.json", {"status": "any", "limit": 5, "fields": "id"}, "orders"
        )
        for order in page
    )
    # then
    assert graphql_ids == truth
    assert rest_ids == truth
    injected = _injected(simulator) - before
    assert {"server_error", "dropped_connection", "rest_429", "graphql_throttled"} <= set(injected)
    assert client.retries >= injected["server_error"] + injected["dropped_connection"]
    # a request answered slowly is abandoned by the client but may still be counted as throttled
    assert (
        injected["rest_429"] < client.throttled_waits <= injected["rest_429"] + injected["graphql_throttled"]
    )
    assert 0.2 in sleep.waits  # a 429's Retry-After
    assert 1 in sleep.waits  # a THROTTLED wait (never under a second) or the first backoff step


def test_bulk_download_survives_connections_dropped_mid_stream(simulator, sim_shop, server):
    # given: a finished export, downloaded through a proxy that cuts the first two transfers mid-line
    info = sim_shop(orders=50)
    client = _client(_shop(simulator, info))
    operation = bulk_operation_wait(client, bulk_query_start(client, ORDERS_BULK_QUERY).id, poll_interval=0.1)
    real_body = requests.get(operation.url, timeout=10).content
    cuts = [len(real_body) // 3 + 7, len(real_body) // 2 + 11]

    def flaky_proxy(seen) -> Reply:
        upstream = requests.get(operation.url, timeout=10)
        attempt = len(server.seen("/bulk.jsonl")) - 1
        return Reply(body=upstream.content, drop_after=cuts[attempt] if attempt < len(cuts) else None)

    server.handle("/bulk.jsonl", flaky_proxy)
    sleep = FastSleep()
    # when
    lines = list(bulk_result_lines(f"{server.base_url}/bulk.jsonl", sleep=sleep))
    # then
    assert lines == real_body.splitlines()
    assert len(lines) == operation.object_count
    assert len(server.seen("/bulk.jsonl")) == 3
    assert sleep.waits == [1, 2]


def test_max_cost_exceeded_from_the_simulator_is_permanent(simulator, sim_shop):
    # given
    info = sim_shop()
    client = _client(_shop(simulator, info))
    # when / then
    with pytest.raises(ShopifyPermanentError) as raised:
        next(connection_pages(client, "orders", "id lineItems(first: 250) { nodes { id } }", first=250))
    assert raised.value.code == "MAX_COST_EXCEEDED"
    assert client.graphql_calls == 1


def test_missing_scope_is_access_denied(simulator, sim_shop):
    # given
    info = sim_shop()
    simulator.control.update_settings(shop=info["domain"], scopes=["read_products"])
    client = _client(_shop(simulator, info))
    # when / then
    with pytest.raises(ShopifyAccessDenied):
        next(connection_pages(client, "orders", "id", first=5))


def test_an_unsupported_version_falls_forward_and_is_recorded(simulator, sim_shop):
    # given
    info = sim_shop()
    client = _client(_shop(simulator, info, api_version="2023-01"))
    # when
    next(connection_pages(client, "products", "id", first=5))
    # then
    assert client.served_api_version is not None
    assert client.served_api_version != "2023-01"


@pytest.mark.django_db
def test_expiring_token_is_refreshed_before_a_request(simulator, sim_shop):
    # given: an expiring offline token with a minute left
    info = sim_shop()
    minted = simulator.control.mint_token(shop=info["domain"], expiring=True)
    shop = ShopFactory(
        domain=info["domain"],
        api_base_url=f"{simulator.base_url}/shops/{info['domain']}",
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
        access_token_expires_at=timezone.now() + timedelta(minutes=1),
    )
    client = _client(shop)
    # when
    next(connection_pages(client, "products", "id", first=5))
    # then
    stored = Shop.objects.get(pk=shop.pk)
    assert client.counters.token_refreshes == 1
    assert stored.access_token != minted["access_token"]
    assert stored.refresh_token != minted["refresh_token"]
    assert stored.access_token_expires_at > timezone.now() + timedelta(minutes=50)


@pytest.mark.django_db
def test_rejected_token_is_refreshed_once_and_the_request_retried(simulator, sim_shop):
    # given: the simulator already considers the token expired; our row thinks it has an hour left
    info = sim_shop()
    minted = simulator.control.mint_token(shop=info["domain"], expiring=True, expires_in=-1)
    shop = ShopFactory(
        domain=info["domain"],
        api_base_url=f"{simulator.base_url}/shops/{info['domain']}",
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
        access_token_expires_at=timezone.now() + timedelta(hours=1),
    )
    client = _client(shop)
    # when
    page = next(connection_pages(client, "products", "id", first=5))
    # then
    assert len(page.nodes) == 5
    assert client.counters.token_refreshes == 1
    assert client.graphql_calls == 2
    assert Shop.objects.get(pk=shop.pk).access_token == shop.access_token != minted["access_token"]
