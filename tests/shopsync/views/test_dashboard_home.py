from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from shopsync.models import SyncSession
from tests.factories import CustomerFactory, OrderFactory


def test_dashboard_shows_counts_without_deleted_records_and_the_nav_widget(
    client_for, staff, shop, make_session
):
    # given
    make_session(shop, kind="initial", status="completed", jobs={"customers": {"synced": 3}})
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


def test_first_visit_to_a_shop_never_synced_starts_its_initial_sync_and_shows_it(
    client_for, staff, shop, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(staff).get(reverse("dashboard-home"))
    # then
    session = SyncSession.objects.get(shop=shop)
    assert (session.kind, session.status, session.triggered_by) == ("initial", "queued", "install")
    assert len(callbacks) == 1
    assert 'id="sync-progress" class="card sync-progress is-running"' in response.text
    assert f"Initial sync #{session.pk}" in response.text
    assert "This shop has not been synced yet" not in response.text


def test_a_second_visit_shows_the_same_initial_sync_and_starts_nothing(
    client_for, staff, shop, django_capture_on_commit_callbacks
):
    # given
    client = client_for(staff)
    client.get(reverse("dashboard-home"))
    first = SyncSession.objects.get(shop=shop)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(reverse("dashboard-home"))
    # then
    assert list(SyncSession.objects.filter(shop=shop).values_list("pk", flat=True)) == [first.pk]
    assert callbacks == []
    assert f"Initial sync #{first.pk}" in response.text


def test_a_failed_initial_sync_is_not_restarted_by_a_visit(client_for, staff, shop, make_session):
    # given
    failed = make_session(shop, kind="initial", status="failed", error="Shopify answered 401")
    # when
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    assert list(SyncSession.objects.filter(shop=shop).values_list("pk", flat=True)) == [failed.pk]
    assert "Retry now" in response.text
