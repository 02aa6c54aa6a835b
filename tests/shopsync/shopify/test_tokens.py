"""Token exchange and refresh of expiring offline tokens (contract §5.3), including the client's 401
path and concurrent refreshes under a row lock on real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from shopsync.models import Shop
from shopsync.shopify.errors import ShopifyAuthError, ShopifyRetryableError
from shopsync.shopify.tokens import (
    shop_access_token_ensure_fresh,
    token_exchange_code,
    token_refresh,
)
from tests.factories import ShopFactory
from tests.shopsync.shopify.scripted_http import GRAPHQL_PATH, Reply, graphql_ok

TOKEN_PATH = "/admin/oauth/access_token"


def _grant(access: str, refresh: str, *, expires_in: int = 3600, delay: float = 0.0) -> Reply:
    return Reply(
        delay=delay,
        json={
            "access_token": access,
            "scope": "read_orders,read_customers",
            "expires_in": expires_in,
            "refresh_token": refresh,
            "refresh_token_expires_in": 7776000,
        },
    )


def _expiring_shop(server, *, expires_in: timedelta) -> Shop:
    return ShopFactory(
        api_base_url=server.base_url,
        access_token="shpat_old",
        refresh_token="shprt_old",
        access_token_expires_at=timezone.now() + expires_in,
    )


def test_token_exchange_code_asks_for_an_expiring_token(server, settings):
    # given
    settings.SHOPIFY_API_KEY = "key-1"
    settings.SHOPIFY_API_SECRET = "secret-1"
    server.script(TOKEN_PATH, _grant("shpat_new", "shprt_new"))
    before = timezone.now()
    # when
    grant = token_exchange_code(
        shop_domain="acme.myshopify.com", base_url=server.base_url, code="c0de", expiring=True
    )
    # then
    [request] = server.seen(TOKEN_PATH)
    assert request.method == "POST"
    assert request.form() == {
        "client_id": "key-1",
        "client_secret": "secret-1",
        "code": "c0de",
        "expiring": "1",
    }
    assert grant.access_token == "shpat_new"
    assert grant.refresh_token == "shprt_new"
    assert grant.scope == "read_orders,read_customers"
    assert before + timedelta(seconds=3600) <= grant.expires_at <= timezone.now() + timedelta(seconds=3600)


def test_token_exchange_code_for_a_non_expiring_token(server):
    # given
    server.script(TOKEN_PATH, Reply(json={"access_token": "shpat_forever", "scope": "read_orders"}))
    # when
    grant = token_exchange_code(
        shop_domain="acme.myshopify.com", base_url=server.base_url, code="c", expiring=False
    )
    # then
    assert "expiring" not in server.seen(TOKEN_PATH)[0].form()
    assert grant.expires_at is None
    assert grant.refresh_token is None


def test_token_exchange_with_an_invalid_code_is_an_auth_error(server):
    # given
    server.script(TOKEN_PATH, Reply(status=400, json={"error": "invalid_request"}))
    # when / then
    with pytest.raises(ShopifyAuthError) as raised:
        token_exchange_code(
            shop_domain="acme.myshopify.com", base_url=server.base_url, code="bad", expiring=True
        )
    assert raised.value.retryable is False


def test_token_refresh_sends_the_refresh_grant(server, db):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=2))
    server.script(TOKEN_PATH, _grant("shpat_2", "shprt_2"))
    # when
    grant = token_refresh(shop=shop)
    # then
    form = server.seen(TOKEN_PATH)[0].form()
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "shprt_old"
    assert grant.access_token == "shpat_2"


def test_ensure_fresh_does_nothing_while_the_token_is_far_from_expiry(server, db, django_assert_num_queries):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=30))
    # when
    with django_assert_num_queries(0):
        refreshed = shop_access_token_ensure_fresh(shop=shop)
    # then
    assert refreshed is False
    assert server.seen() == []
    assert shop.access_token == "shpat_old"


def test_ensure_fresh_refreshes_near_expiry_and_stores_rotated_tokens_encrypted(server, db):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=4))
    server.script(TOKEN_PATH, _grant("shpat_rotated", "shprt_rotated"))
    # when
    refreshed = shop_access_token_ensure_fresh(shop=shop)
    # then
    assert refreshed is True
    assert (shop.access_token, shop.refresh_token) == ("shpat_rotated", "shprt_rotated")
    stored = Shop.objects.get(pk=shop.pk)
    assert (stored.access_token, stored.refresh_token) == ("shpat_rotated", "shprt_rotated")
    assert stored.access_token_expires_at > timezone.now() + timedelta(minutes=59)
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM shopsync_shop WHERE id = %s", [shop.pk])
        raw_access, raw_refresh = cursor.fetchone()
    assert "shpat_rotated" not in raw_access
    assert "shprt_rotated" not in raw_refresh


def test_refresh_failure_keeps_the_still_valid_token(server, db):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=3))
    server.script(TOKEN_PATH, Reply(status=503))
    # when
    refreshed = shop_access_token_ensure_fresh(shop=shop)
    # then
    assert refreshed is False
    assert shop.access_token == "shpat_old"
    assert Shop.objects.get(pk=shop.pk).refresh_token == "shprt_old"


def test_refresh_failure_with_an_expired_token_raises(server, db):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=-1))
    server.script(TOKEN_PATH, Reply(status=503))
    # when / then
    with pytest.raises(ShopifyRetryableError):
        shop_access_token_ensure_fresh(shop=shop)


def test_client_refreshes_before_a_request_when_the_token_is_about_to_expire(server, db, make_client):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=1))
    server.script(TOKEN_PATH, _grant("shpat_fresh", "shprt_fresh"))
    server.script(GRAPHQL_PATH, graphql_ok({"ok": True}))
    client = make_client(shop)
    # when
    client.graphql("{ ok }")
    # then
    assert server.seen(GRAPHQL_PATH)[0].header("X-Shopify-Access-Token") == "shpat_fresh"
    assert client.counters.token_refreshes == 1


def test_client_401_refreshes_once_and_retries(server, db, clock, make_client):
    # given: the stored token was revoked early although it is not near expiry
    shop = _expiring_shop(server, expires_in=timedelta(minutes=40))
    server.script(GRAPHQL_PATH, Reply(status=401), graphql_ok({"ok": True}))
    server.script(TOKEN_PATH, _grant("shpat_after_401", "shprt_after_401"))
    client = make_client(shop)
    # when
    data = client.graphql("{ ok }")
    # then
    assert data == {"ok": True}
    tokens_used = [r.header("X-Shopify-Access-Token") for r in server.seen(GRAPHQL_PATH)]
    assert tokens_used == ["shpat_old", "shpat_after_401"]
    assert len(server.seen(TOKEN_PATH)) == 1
    assert Shop.objects.get(pk=shop.pk).refresh_token == "shprt_after_401"
    assert clock.sleeps == []


def test_client_401_after_a_refresh_is_an_auth_error(server, db, make_client):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=40))
    server.script(GRAPHQL_PATH, Reply(status=401), Reply(status=401))
    server.script(TOKEN_PATH, _grant("shpat_also_bad", "shprt_2"))
    client = make_client(shop)
    # when
    with pytest.raises(ShopifyAuthError):
        client.graphql("{ ok }")
    # then
    assert len(server.seen(GRAPHQL_PATH)) == 2
    assert len(server.seen(TOKEN_PATH)) == 1


def test_client_401_with_a_rejected_refresh_token_is_an_auth_error(server, db, make_client):
    # given
    shop = _expiring_shop(server, expires_in=timedelta(minutes=40))
    server.script(GRAPHQL_PATH, Reply(status=401))
    server.script(TOKEN_PATH, Reply(status=400, json={"error": "invalid_grant"}))
    client = make_client(shop)
    # when / then
    with pytest.raises(ShopifyAuthError):
        client.graphql("{ ok }")
    assert Shop.objects.get(pk=shop.pk).access_token == "shpat_old"


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_under_the_row_lock_refresh_once(server):
    # given: two workers hold their own copy of the shop; the token endpoint is slow enough to overlap
    shop = _expiring_shop(server, expires_in=timedelta(minutes=2))
    server.script(TOKEN_PATH, _grant("shpat_once", "shprt_once", delay=0.3))
    server.script(TOKEN_PATH, _grant("shpat_twice", "shprt_twice"))
    start = threading.Barrier(2)
    results: dict[str, tuple[bool, str]] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            copy = Shop.objects.get(pk=shop.pk)
            start.wait()
            refreshed = shop_access_token_ensure_fresh(shop=copy)
            results[name] = (refreshed, copy.access_token)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # then
    assert errors == []
    assert len(server.seen(TOKEN_PATH)) == 1
    assert sorted(refreshed for refreshed, _ in results.values()) == [False, True]
    assert {token for _, token in results.values()} == {"shpat_once"}
    stored = Shop.objects.get(pk=shop.pk)
    assert (stored.access_token, stored.refresh_token) == ("shpat_once", "shprt_once")
