"""/shopify/install: validate the domain, remember a state nonce, redirect to Shopify's authorize URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from shopsync.services.install import OAUTH_SESSION_KEY
from tests.factories import ShopFactory


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def test_install_redirects_to_shopify_authorize_with_a_state_kept_in_the_session(client_for, owner, settings):
    # given
    settings.SHOPIFY_APP_URL = "https://app.example.com"
    client = client_for(owner)
    # when
    response = client.get(reverse("shopify-install"), {"shop": "New-Store.myshopify.com"})
    # then
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://new-store.myshopify.com/admin/oauth/authorize?")
    query = _query(location)
    assert query["client_id"] == [settings.SHOPIFY_API_KEY]
    assert query["scope"] == [settings.SHOPIFY_SCOPES]
    assert query["redirect_uri"] == ["https://app.example.com/shopify/callback"]
    pending = client.session[OAUTH_SESSION_KEY]
    assert query["state"] == [pending["state"]]
    assert len(pending["state"]) >= 32
    assert pending["shop_domain"] == "new-store.myshopify.com"


def test_each_install_gets_a_new_state(client_for, owner):
    # given
    client = client_for(owner)
    # when
    first = _query(client.get(reverse("shopify-install"), {"shop": "a.myshopify.com"})["Location"])["state"]
    second = _query(client.get(reverse("shopify-install"), {"shop": "a.myshopify.com"})["Location"])["state"]
    # then
    assert first != second


def test_bad_domain_gets_a_clear_400_page_and_no_state(client_for, owner):
    # given
    client = client_for(owner)
    # when
    response = client.get(reverse("shopify-install"), {"shop": "evil.example.com/admin"})
    # then
    assert response.status_code == 400
    assert "is not a shop domain; expected your-store.myshopify.com" in response.text
    assert OAUTH_SESSION_KEY not in client.session


def test_missing_domain_gets_400(client_for, owner):
    # when
    response = client_for(owner).get(reverse("shopify-install"))
    # then
    assert response.status_code == 400


def test_api_url_parameter_is_ignored_unless_allowed(client_for, owner, settings):
    # given
    settings.DEBUG = False
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = False
    # when
    response = client_for(owner).get(
        reverse("shopify-install"), {"shop": "a.myshopify.com", "api_url": "http://127.0.0.1:9/"}
    )
    # then
    assert response["Location"].startswith("https://a.myshopify.com/admin/oauth/authorize?")


def test_api_url_parameter_is_used_when_the_setting_allows_it(client_for, owner, settings):
    # given
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = True
    client = client_for(owner)
    # when
    response = client.get(
        reverse("shopify-install"), {"shop": "a.myshopify.com", "api_url": "http://127.0.0.1:9/"}
    )
    # then
    assert response["Location"].startswith("http://127.0.0.1:9/admin/oauth/authorize?")
    assert client.session[OAUTH_SESSION_KEY]["api_base_url"] == "http://127.0.0.1:9"


def test_allowed_api_url_must_be_http(client_for, owner, settings):
    # given
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = True
    # when
    response = client_for(owner).get(
        reverse("shopify-install"), {"shop": "a.myshopify.com", "api_url": "javascript:alert(1)"}
    )
    # then
    assert response.status_code == 400


def test_existing_shop_row_keeps_its_own_api_base_url(client_for, owner, settings):
    # given
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = False
    ShopFactory(domain="sim.myshopify.com", api_base_url="http://127.0.0.1:8123")
    # when
    response = client_for(owner).get(reverse("shopify-install"), {"shop": "sim.myshopify.com"})
    # then
    assert response["Location"].startswith("http://127.0.0.1:8123/admin/oauth/authorize?")
