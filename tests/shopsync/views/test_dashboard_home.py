from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from shopsync.models import SyncJob, SyncSession
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
    assert (session.kind, session.status, session.triggered_by) == ("initial", "queued", "first_run")
    assert len(callbacks) == 1
    assert 'id="sync-progress" class="card sync-progress is-running"' in response.text
    assert f"Initial sync #{session.pk} · started automatically on your first visit ·" in response.text
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
    assert ">Retry now</button>" in response.text


def _records_card(html: str) -> str:
    return html.split('id="records-card"', 1)[1].split("</section>", 1)[0]


def test_the_records_card_follows_a_running_sync_from_its_counters(client_for, staff, shop, make_session):
    # given: 2 customers and 1 order stored when the page opens, mid-run
    CustomerFactory.create_batch(2, shop=shop)
    OrderFactory(shop=shop, is_historical=True)
    session = make_session(
        shop, status="running", stage="writing",
        jobs={"customers": {"synced": 0, "total": 12000}, "orders": {"synced": 0, "total": 50000, "status": "pending"}},
    )  # fmt: skip
    client = client_for(staff)
    page = client.get(reverse("dashboard-home"))
    # when: the run's counters move (no row is added here: the card must follow the counters, not a COUNT)
    SyncJob.objects.filter(session=session, resource="customers").update(synced=12000, created=12000)
    SyncJob.objects.filter(session=session, resource="orders").update(
        status="running", synced=3000, created=2990, deleted=0
    )
    poll = client.get(
        reverse("sync-status"), {"shop": shop.domain, "part": "progress", "records": "1", "u": "old"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    # then
    first = page.context["counts"]
    assert (first.customers, first.orders, first.historical_orders, first.is_live) == (2, 1, 1, True)
    card = _records_card(poll.text)
    assert 'hx-swap-oob="true"' in poll.text.split('id="records-card"', 1)[1].split(">", 1)[0]
    assert '<dt>Customers</dt><dd><a href="/customers/">12,002</a></dd>' in card
    assert '<dt>Orders</dt><dd><a href="/orders/">2,991</a></dd>' in card
    assert "<dt>Historical orders</dt><dd>1</dd>" in card
    assert "historical orders are counted when it finishes" in card
    assert "records=1" in poll.text.split('id="sync-progress"', 1)[1].split(">", 1)[0]


def test_the_records_card_counts_the_rows_again_once_the_sync_ended(client_for, staff, shop, make_session):
    # given
    session = make_session(shop, status="running", jobs={"customers": {"synced": 0, "total": 3}})
    client = client_for(staff)
    client.get(reverse("dashboard-home"))
    CustomerFactory.create_batch(3, shop=shop)
    SyncJob.objects.filter(session=session).update(status="completed", synced=3, created=1000)
    SyncSession.objects.filter(pk=session.pk).update(status="completed", finished_at=timezone.now())
    # when
    poll = client.get(
        reverse("sync-status"), {"shop": shop.domain, "part": "progress", "records": "1", "u": "old"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    # then
    card = _records_card(poll.text)
    assert '<dt>Customers</dt><dd><a href="/customers/">3</a></dd>' in card
    assert 'data-live="false"' in poll.text
    assert "counted when it finishes" not in card


def test_the_records_card_is_not_counted_twice_when_the_run_had_already_written(
    client_for, staff, shop, make_session
):
    # given: the page is first opened mid-run, 4 of whose customers are stored already
    CustomerFactory.create_batch(4, shop=shop)
    make_session(shop, status="running", jobs={"customers": {"synced": 4, "created": 4, "total": 10}})
    # when
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    assert response.context["counts"].customers == 4


def test_the_status_panel_outside_the_dashboard_brings_no_records_card(client_for, staff, shop, make_session):
    # given
    make_session(shop, status="running", jobs={"customers": {"synced": 4, "created": 4, "total": 10}})
    # when
    poll = client_for(staff).get(
        reverse("sync-status"), {"shop": shop.domain, "part": "progress"}, HTTP_HX_REQUEST="true"
    )
    # then
    assert poll.status_code == 200
    assert "records-card" not in poll.text
    assert "records=1" not in poll.text


def test_a_queued_first_run_shows_no_internal_words(client_for, staff, shop):
    # when: the first visit queues the initial sync ("Queued (first_run)." is its engine message)
    response = client_for(staff).get(reverse("dashboard-home"))
    # then
    session = SyncSession.objects.get(shop=shop)
    assert session.message == "Queued (first_run)."
    assert "first_run" not in response.text
    assert "Queued (" not in response.text
