from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, OrderFactory


def test_dashboard_shows_counts_without_deleted_records_and_the_nav_widget(client_for, staff, shop):
    # given
    CustomerFactory.create_batch(3, shop=shop)
    CustomerFactory(shop=shop, deleted_at=timezone.now())
    OrderFactory(shop=shop, is_historical=True)
    OrderFactory(shop=shop)
    # when
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    counts = response.context["counts"]
    assert (counts.customers, counts.orders, counts.historical_orders) == (3, 2, 1)
    assert 'id="sync-indicator"' in response.text
    assert 'id="sync-now-button"' in response.text
    assert 'aria-live="polite"' in response.text
    assert "This shop has not been synced yet" in response.text


def test_dashboard_of_an_uninstalled_shop_offers_to_reconnect(client_for, staff, shop):
    # given
    shop.status = "uninstalled"
    shop.save()
    # when
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    assert "uninstalled the app" in response.text
    assert f"{reverse('shopify-install')}?shop=acme.myshopify.com" in response.text


def test_failed_run_shows_the_reason_a_retry_button_and_the_settings_link(
    client_for, staff, shop, make_session
):
    # given
    make_session(
        shop,
        status="failed",
        error="Bulk operation failed: ACCESS_DENIED",
        jobs={"orders": {"synced": 3, "status": "failed"}},
    )
    # when
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    assert (
        "<strong>Shopify refused to share the store&#x27;s orders: the app is missing a permission.</strong>"
        in response.text
    )
    assert (
        "<summary>Technical details</summary><pre>Bulk operation failed: ACCESS_DENIED</pre>" in response.text
    )
    assert ">Retry now</button>" in response.text
    assert ">Reconnect the store</a>" in response.text
    assert f"{reverse('shop-settings')}?shop=acme.myshopify.com" in response.text
    assert 'data-state="failed"' in response.text
