"""Every page needs a login; members see their shops only; the current shop follows `?shop=`."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CustomerFactory, ShopFactory

PAGES = ["dashboard-home", "customer-list", "order-list", "shop-settings", "sync-status", "shopify-install"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_user_is_redirected_to_login(db, name):
    # given
    url = reverse(name)
    # when
    response = Client().get(url)
    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_post_to_sync_now_is_redirected_and_starts_nothing(shop):
    # when
    response = Client().post(reverse("sync-now"), {"shop": shop.domain})
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert shop.sync_sessions.count() == 0


def test_sync_api_requires_login(shop):
    # when
    response = Client().get("/api/shopify/sync/status", {"shop": shop.domain})
    # then
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    "name", ["dashboard-home", "customer-list", "order-list", "shop-settings", "sync-status"]
)
def test_outsider_asking_for_a_shop_gets_404(client_for, outsider, shop, name):
    # when
    response = client_for(outsider).get(reverse(name), {"shop": shop.domain})
    # then
    assert response.status_code == 404


def test_outsider_cannot_open_a_customer_of_another_shop(client_for, outsider, shop):
    # given
    customer = CustomerFactory(shop=shop)
    # when
    response = client_for(outsider).get(reverse("customer-detail", args=[customer.pk]))
    # then
    assert response.status_code == 404


def test_user_without_a_shop_sees_the_connect_store_empty_state(client_for, outsider):
    # when
    response = client_for(outsider).get(reverse("dashboard-home"))
    # then
    assert response.status_code == 200
    assert "Connect your first store" in response.text
    assert 'id="sync-indicator"' not in response.text


def test_member_of_two_shops_switches_with_the_shop_parameter_and_the_choice_sticks(client_for, owner, shop):
    # given
    other = ShopFactory(domain="zeta.myshopify.com", name="Zeta")
    other.members.add(owner)
    client = client_for(owner)
    # when
    first = client.get(reverse("dashboard-home"))
    switched = client.get(reverse("dashboard-home"), {"shop": "zeta.myshopify.com"})
    after = client.get(reverse("customer-list"))
    # then
    assert first.context["shop"] == shop
    assert switched.context["shop"] == other
    assert after.context["shop"] == other
    assert 'id="shop-switcher"' in after.text


def test_login_page_renders_a_labelled_form_and_logs_in(owner):
    # given
    client = Client()
    # when
    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "owner", "password": "password"})
    # then
    assert page.status_code == 200
    assert '<label for="id_username">Username</label>' in page.text
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard-home")


def test_logout_is_a_post_and_ends_the_session(client_for, owner, shop):
    # given
    client = client_for(owner)
    # when
    response = client.post(reverse("logout"))
    # then
    assert response.status_code == 302
    assert client.get(reverse("dashboard-home")).status_code == 302


def test_anonymous_htmx_poll_is_sent_to_login_instead_of_swapping_the_login_page_in(db):
    # when
    response = Client().get(
        reverse("sync-status"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/customers/?q=a"
    )
    # then
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/customers/%3Fq%3Da"
