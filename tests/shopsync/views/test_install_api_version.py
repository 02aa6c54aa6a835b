"""The OAuth install (shopsync/services/install.py) never leaves a shop on an API version the client's
queries cannot run on: it refuses a configured SHOPIFY_API_VERSION that is too old, and a reinstall
moves a shop pinned to such a version onto the configured one. Against the simulator's OAuth."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.urls import reverse

from shopsync.api_versions import CLIENT_API_VERSION
from shopsync.models import Shop
from shopsync.services.install import OAUTH_SESSION_KEY
from tests.factories import ShopFactory


@pytest.fixture
def sim_domain(simulator):
    domain = f"version-{uuid.uuid4().hex[:10]}.myshopify.com"
    simulator.control.create_shop(domain, orders=3, customers=2, products=1, seed=3)
    yield domain
    simulator.control.delete_shop(domain)


@pytest.fixture
def install_client(client_for, owner, settings):
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = True
    settings.SHOPIFY_APP_URL = "http://127.0.0.1:9"  # webhooks are registered there, never delivered
    return client_for(owner)


def _install(client, simulator, domain: str):
    """/shopify/install, Shopify's (auto-approving) authorize page, then our callback."""
    start = client.get(
        reverse("shopify-install"), {"shop": domain, "api_url": f"{simulator.base_url}/shops/{domain}"}
    )
    if start.status_code != 302:
        return start
    authorize = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = authorize.headers["Location"]
    return client.get(callback.removeprefix("http://127.0.0.1:9"))


def test_a_new_shop_installed_through_oauth_gets_the_configured_version(
    install_client, simulator, sim_domain
):
    # given
    # when
    response = _install(install_client, simulator, sim_domain)
    # then
    assert response.status_code == 302, response.content
    assert Shop.objects.get(domain=sim_domain).api_version == CLIENT_API_VERSION


def test_install_refuses_a_configured_version_older_than_the_client_supports(
    install_client, simulator, sim_domain, settings
):
    # given
    settings.SHOPIFY_API_VERSION = "2025-07"
    # when
    response = _install(install_client, simulator, sim_domain)
    # then: refused before anyone is sent to Shopify
    assert response.status_code == 400
    assert (
        "This app is configured with SHOPIFY_API_VERSION it cannot use: API version 2025-07 is older than "
        "2025-10, the oldest the client&#x27;s queries run on" in response.content.decode()
    )
    assert OAUTH_SESSION_KEY not in install_client.session
    assert not Shop.objects.filter(domain=sim_domain).exists()


def test_reinstalling_a_shop_pinned_to_a_too_old_version_moves_it_to_the_configured_one(
    install_client, simulator, sim_domain, owner
):
    # given
    shop = ShopFactory(domain=sim_domain, api_version="2024-10")
    # when
    response = _install(install_client, simulator, sim_domain)
    # then
    assert response.status_code == 302, response.content
    shop.refresh_from_db()
    assert (shop.api_version, shop.access_token.startswith("shpat_")) == (CLIENT_API_VERSION, True)


def test_reinstalling_keeps_a_usable_version_the_shop_was_pinned_to(install_client, simulator, sim_domain):
    # given
    shop = ShopFactory(domain=sim_domain, api_version="2025-10")
    # when
    response = _install(install_client, simulator, sim_domain)
    # then
    assert response.status_code == 302, response.content
    shop.refresh_from_db()
    assert shop.api_version == "2025-10"
