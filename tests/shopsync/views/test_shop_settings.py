from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from reconciliation.models import ReconciliationReport, SyncHealthMetric
from shopsync.models import SyncSession
from tests.factories import FailedSyncItemFactory


def test_settings_page_shows_connection_history_and_counts(client_for, owner, shop, make_session):
    # given
    shop.access_token_expires_at = timezone.now() + timedelta(minutes=50)
    shop.refresh_token = "shprt_x"
    shop.save()
    make_session(
        shop, kind="initial", status="completed", triggered_by="install",
        jobs={"customers": {"created": 80, "updated": 2, "skipped": 1, "failed": 0},
              "orders": {"created": 200, "updated": 0, "skipped": 0, "failed": 3}},
    )  # fmt: skip
    # when
    response = client_for(owner).get(reverse("shop-settings"))
    # then
    history = response.context["history"]
    assert [(row.session.kind, row.created, row.updated, row.unchanged, row.failed) for row in history] == [
        ("initial", 280, 2, 1, 3)
    ]
    assert "Installed" in response.text
    assert "version 2026-01" in response.text
    assert "refreshed automatically" in response.text
    assert "<summary>Advanced</summary>" in response.text
    assert 'type="radio" name="mode" value="update"' in response.text
    assert "No reconciliation has run for this shop yet." in response.text


def test_settings_page_counts_only_exhausted_open_dead_letters_of_the_shop(client_for, owner, shop):
    # given
    FailedSyncItemFactory.create_batch(2, shop=shop, retry_count=5, max_retries=5)
    FailedSyncItemFactory(shop=shop, retry_count=1, max_retries=5)
    FailedSyncItemFactory(
        shop=shop, retry_count=5, max_retries=5, resolved_at=timezone.now(), resolution="manual"
    )
    FailedSyncItemFactory(retry_count=5, max_retries=5)  # another shop
    # when
    response = client_for(owner).get(reverse("shop-settings"))
    # then
    assert (response.context["dead_letters"].exhausted, response.context["dead_letters"].open) == (2, 3)
    assert '<strong id="dead-letters-exhausted">2</strong>' in response.text
    assert (
        f'href="/admin/shopsync/failedsyncitem/?state=exhausted&amp;shop__id__exact={shop.pk}"'
        in response.text
    )


def test_settings_page_lists_reconciliation_reports_and_latest_health_metrics(client_for, owner, shop):
    # given
    now = timezone.now()
    ReconciliationReport.objects.create(
        shop=shop, resource="orders", status="warning", triggered_by="beat", started_at=now, missing_count=4
    )
    for minutes, value in ((10, 1.0), (1, 7.0)):
        SyncHealthMetric.objects.create(
            shop=shop, kind="order_lag", value=value, warning_threshold=5, critical_threshold=50,
            status="ok" if value < 5 else "warning", measured_at=now - timedelta(minutes=minutes),
        )  # fmt: skip
    # when
    response = client_for(owner).get(reverse("shop-settings"))
    # then
    assert [report.missing_count for report in response.context["reports"]] == [4]
    assert [metric.value for metric in response.context["health_metrics"]] == [7.0]


def test_start_update_sync_passes_mode_resources_and_stale_after(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # given
    data = {"shop": shop.domain, "mode": "update", "resources": ["orders"], "stale_after_mins": "30"}
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(owner).post(reverse("shop-settings-sync-start"), data)
    # then
    session = SyncSession.objects.get(shop=shop)
    assert (session.kind, session.resources, session.stale_after_mins, session.days) == (
        "update",
        ["orders"],
        30,
        None,
    )
    assert len(callbacks) == 1
    assert response.status_code == 302


def test_start_populate_sync_with_days(client_for, owner, shop, django_capture_on_commit_callbacks):
    # given
    data = {"shop": shop.domain, "mode": "populate", "resources": ["customers", "orders"], "days": "7"}
    # when
    with django_capture_on_commit_callbacks():
        client_for(owner).post(reverse("shop-settings-sync-start"), data)
    # then
    session = SyncSession.objects.get(shop=shop)
    assert (session.kind, session.resources, session.days) == ("populate", ["orders", "customers"], 7)


def test_update_mode_without_minutes_is_refused_with_a_field_error(client_for, owner, shop):
    # when
    response = client_for(owner).post(
        reverse("shop-settings-sync-start"), {"shop": shop.domain, "mode": "update", "resources": ["orders"]}
    )
    # then
    assert response.status_code == 400
    assert "Update mode needs the number of minutes." in response.text
    assert shop.sync_sessions.count() == 0


def test_force_full_sync_without_the_confirmation_starts_nothing(client_for, owner, shop):
    # when
    response = client_for(owner).post(reverse("shop-settings-full-sync"), {"shop": shop.domain})
    # then
    assert response.status_code == 400
    assert "Tick the box to confirm the full sync." in response.text
    assert '<details class="advanced" open>' in response.text
    assert shop.sync_sessions.count() == 0


def test_force_full_sync_with_the_confirmation_starts_one(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks():
        response = client_for(owner).post(
            reverse("shop-settings-full-sync"), {"shop": shop.domain, "confirm": "on"}
        )
    # then
    session = SyncSession.objects.get(shop=shop)
    assert (session.kind, session.triggered_by) == ("full", "settings")
    assert response["Location"] == f"{reverse('shop-settings')}?shop=acme.myshopify.com"


def test_starting_a_sync_while_one_runs_reports_the_running_one(client_for, owner, shop, make_session):
    # given
    running = make_session(shop, kind="initial", status="running", jobs={"orders": {}})
    # when
    response = client_for(owner).post(
        reverse("shop-settings-sync-start"),
        {"shop": shop.domain, "mode": "incremental", "resources": ["orders"]},
        follow=True,
    )
    # then
    assert f"Initial sync #{running.pk} is already running: showing it." in response.text
    assert shop.sync_sessions.count() == 1


def test_a_sync_started_from_settings_is_recorded_and_shown_as_started_there(
    client_for, owner, shop, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks():
        response = client_for(owner).post(
            reverse("shop-settings-sync-start"),
            {"shop": shop.domain, "mode": "incremental", "resources": ["orders"]},
            follow=True,
        )
    # then
    session = SyncSession.objects.get(shop=shop)
    assert session.triggered_by == "settings"
    assert f"Incremental sync #{session.pk} · started from the Settings page ·" in response.text
    assert "<td>Started from the Settings page</td>" in response.text
    assert "Sync Now button" not in response.text


def test_settings_page_names_the_store_s_permissions_in_words(client_for, owner, shop):
    # given
    shop.scopes = "read_orders,read_all_orders"
    shop.save()
    # when
    response = client_for(owner).get(reverse("shop-settings"))
    # then
    assert (
        '<dt>Permissions</dt><dd><span class="tag" title="read_orders">Read orders</span>'
        '<span class="tag" title="read_all_orders">Read all orders</span></dd>'
    ) in response.text
    assert ">read_orders" not in response.text
