"""/shopify/callback refuses anything it cannot verify, before any call to Shopify."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from django.urls import reverse

from shopsync.models import Shop
from shopsync.services.install import OAUTH_SESSION_KEY


def _signed(params: dict[str, str], secret: str) -> dict[str, str]:
    message = "&".join(f"{key}={params[key]}" for key in sorted(params))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


@pytest.fixture
def pending_client(client_for, owner):
    client = client_for(owner)
    session = client.session
    session[OAUTH_SESSION_KEY] = {
        "state": "nonce-123",
        "shop_domain": "new-store.myshopify.com",
        "api_base_url": "http://127.0.0.1:9",  # nothing listens: a test reaching it fails loudly
    }
    session.save()
    return client


def _params(**overrides: str) -> dict[str, str]:
    params = {
        "code": "abc",
        "shop": "new-store.myshopify.com",
        "state": "nonce-123",
        "timestamp": str(int(time.time())),
    }
    return {**params, **overrides}


def test_callback_signed_with_another_secret_is_refused(pending_client):
    # when
    response = pending_client.get(reverse("shopify-callback"), _signed(_params(), "not-the-secret"))
    # then
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert not Shop.objects.filter(domain="new-store.myshopify.com").exists()


def test_callback_with_an_unsigned_query_is_refused(pending_client):
    # when
    response = pending_client.get(reverse("shopify-callback"), _params())
    # then
    assert response.status_code == 400


def test_callback_with_a_state_we_did_not_issue_is_refused(pending_client, settings):
    # when
    response = pending_client.get(
        reverse("shopify-callback"), _signed(_params(state="forged"), settings.SHOPIFY_API_SECRET)
    )
    # then
    assert response.status_code == 400
    assert "not one we started" in response.text


def test_callback_older_than_24_hours_is_refused(pending_client, settings):
    # given
    old = str(int(time.time()) - 25 * 3600)
    # when
    response = pending_client.get(
        reverse("shopify-callback"), _signed(_params(timestamp=old), settings.SHOPIFY_API_SECRET)
    )
    # then
    assert response.status_code == 400
    assert "has expired" in response.text


def test_callback_for_another_shop_than_the_pending_one_is_refused(pending_client, settings):
    # when
    response = pending_client.get(
        reverse("shopify-callback"), _signed(_params(shop="other.myshopify.com"), settings.SHOPIFY_API_SECRET)
    )
    # then
    assert response.status_code == 400
    assert "different shop" in response.text


def test_callback_without_a_pending_install_is_refused(client_for, owner, settings):
    # when
    response = client_for(owner).get(
        reverse("shopify-callback"), _signed(_params(), settings.SHOPIFY_API_SECRET)
    )
    # then
    assert response.status_code == 400


def test_state_is_single_use_even_when_the_callback_fails(pending_client, settings):
    # given
    pending_client.get(
        reverse("shopify-callback"), _signed(_params(state="forged"), settings.SHOPIFY_API_SECRET)
    )
    # when
    response = pending_client.get(
        reverse("shopify-callback"), _signed(_params(), settings.SHOPIFY_API_SECRET)
    )
    # then
    assert response.status_code == 400
    assert OAUTH_SESSION_KEY not in pending_client.session
