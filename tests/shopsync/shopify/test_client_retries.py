"""Retry, backoff and error classification of ShopifyClient, over real HTTP to a scripted local server."""

from __future__ import annotations

import socket

import pytest

from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.errors import (
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyPermanentError,
    ShopifyRetryableError,
)
from shopsync.shopify.transport import default_timeout
from tests.shopsync.shopify.scripted_http import GRAPHQL_PATH, Reply, graphql_ok, unsaved_shop

ORDERS_PATH = "/admin/api/2026-01/orders.json"
QUERY = "{ shop { name } }"


def test_5xx_is_retried_with_exponential_backoff_until_it_succeeds(server, clock, make_client):
    # given
    server.script(
        GRAPHQL_PATH, Reply(status=503), Reply(status=502), Reply(status=500), graphql_ok({"shop": {}})
    )
    client = make_client()
    # when
    data = client.graphql(QUERY)
    # then
    assert data == {"shop": {}}
    assert clock.sleeps == [1, 2, 4]
    assert client.retries == 3
    assert client.graphql_calls == 4
    assert len(server.seen(GRAPHQL_PATH)) == 4


def test_backoff_is_capped_at_60_seconds_and_attempts_are_bounded(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, *[Reply(status=500) for _ in range(9)])
    client = make_client(max_attempts=9)
    # when
    with pytest.raises(ShopifyRetryableError) as raised:
        client.graphql(QUERY)
    # then
    assert raised.value.status == 500
    assert raised.value.retryable is True
    assert clock.sleeps == [1, 2, 4, 8, 16, 32, 60, 60]
    assert len(server.seen(GRAPHQL_PATH)) == 9


def test_dropped_connections_are_retried(server, clock, make_client):
    # given: one hang-up before any answer, one body cut short, then a good answer
    server.script(
        ORDERS_PATH,
        Reply(hang_up=True),
        Reply(json={"orders": [{"id": 1}, {"id": 2}]}, drop_after=10),
        Reply(json={"orders": [{"id": 1}, {"id": 2}]}),
    )
    client = make_client()
    # when
    page = client.rest_get("orders.json", {"status": "any"})
    # then
    assert page.json == {"orders": [{"id": 1}, {"id": 2}]}
    assert clock.sleeps == [1, 2]
    assert client.retries == 2
    assert client.rest_calls == 3


def test_read_timeout_is_retried(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, Reply(delay=0.5, json={"data": {}}), graphql_ok({"shop": {"name": "x"}}))
    client = make_client(timeout=(1.0, 0.15))
    # when
    data = client.graphql(QUERY)
    # then
    assert data == {"shop": {"name": "x"}}
    assert clock.sleeps == [1]


def test_connection_refused_is_retryable_and_bounded(clock, make_client):
    # given: a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(unsaved_shop(f"http://127.0.0.1:{port}"), max_attempts=3)
    # when
    with pytest.raises(ShopifyRetryableError) as raised:
        client.graphql(QUERY)
    # then
    assert raised.value.code == "NETWORK"
    assert clock.sleeps == [1, 2]


def test_429_honours_retry_after(server, clock, make_client):
    # given
    server.script(
        ORDERS_PATH,
        Reply(status=429, headers={"Retry-After": "2.5"}, json={"errors": "Exceeded 2 calls per second"}),
        Reply(json={"orders": []}),
    )
    client = make_client()
    # when
    page = client.rest_get("orders.json")
    # then
    assert page.json == {"orders": []}
    assert clock.sleeps == [2.5]
    assert client.throttled_waits == 1
    assert client.retries == 0


def test_429_that_never_clears_gives_up_with_a_retryable_error(server, clock, make_client):
    # given
    server.script(ORDERS_PATH, *[Reply(status=429, headers={"Retry-After": "2.0"}) for _ in range(5)])
    client = make_client(throttle_budget_seconds=5)
    # when
    with pytest.raises(ShopifyRetryableError) as raised:
        client.rest_get("orders.json")
    # then: 2 + 2 fits the budget, a third wait would not
    assert type(raised.value) is ShopifyRetryableError
    assert raised.value.status == 429
    assert clock.sleeps == [2.0, 2.0]
    assert len(server.seen(ORDERS_PATH)) == 3


def test_429_throttling_does_not_use_up_the_error_attempts(server, clock, make_client):
    # given: more 429s than max_attempts, then success
    server.script(
        ORDERS_PATH,
        *[Reply(status=429, headers={"Retry-After": "1"}) for _ in range(4)],
        Reply(json={"orders": []}),
    )
    client = make_client(max_attempts=2)
    # when
    page = client.rest_get("orders.json")
    # then
    assert page.json == {"orders": []}
    assert clock.sleeps == [1, 1, 1, 1]


@pytest.mark.parametrize("status", [400, 402, 404, 406, 422, 423])
def test_other_4xx_are_permanent_and_not_retried(server, clock, make_client, status):
    # given
    server.script(ORDERS_PATH, Reply(status=status, json={"errors": "nope"}))
    client = make_client()
    # when
    with pytest.raises(ShopifyPermanentError) as raised:
        client.rest_get("orders.json")
    # then
    assert raised.value.status == status
    assert raised.value.retryable is False
    assert clock.sleeps == []
    assert len(server.seen(ORDERS_PATH)) == 1


def test_403_is_access_denied(server, clock, make_client):
    # given
    server.script(ORDERS_PATH, Reply(status=403, json={"errors": "requires read_orders"}))
    client = make_client()
    # when
    with pytest.raises(ShopifyAccessDenied) as raised:
        client.rest_get("orders.json")
    # then
    assert raised.value.status == 403
    assert clock.sleeps == []


def test_401_without_refresh_token_is_an_auth_error(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, Reply(status=401, json={"errors": "[API] Invalid API key or access token"}))
    client = make_client()
    # when
    with pytest.raises(ShopifyAuthError):
        client.graphql(QUERY)
    # then
    assert len(server.seen(GRAPHQL_PATH)) == 1
    assert server.seen("/admin/oauth/access_token") == []


def test_non_json_200_is_retried(server, clock, make_client):
    # given
    server.script(GRAPHQL_PATH, Reply(body=b"<html>bad gateway</html>"), graphql_ok({"ok": True}))
    client = make_client()
    # when
    data = client.graphql(QUERY)
    # then
    assert data == {"ok": True}
    assert clock.sleeps == [1]


def test_default_timeout_is_explicit_with_a_shorter_connect_timeout(settings):
    # given
    settings.SHOPIFY_HTTP_TIMEOUT_SECONDS = 30
    # when
    client = ShopifyClient(unsaved_shop("http://127.0.0.1:9"))
    # then
    assert default_timeout() == (5.0, 30.0)
    assert client._timeout == (5.0, 30.0)
