"""Sync Now goes through the guard: one session however often it is pressed."""

from __future__ import annotations

from django.urls import reverse

from shopsync.models import SyncSession


def test_sync_now_starts_an_initial_sync_for_a_shop_never_synced(
    client_for, staff, shop, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(staff).post(reverse("sync-now"), {"shop": shop.domain})
    # then
    session = SyncSession.objects.get(shop=shop)
    assert (session.kind, session.status, session.triggered_by) == ("initial", "queued", "button")
    assert len(callbacks) == 1
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard-home")


def test_sync_now_after_a_completed_initial_sync_starts_an_incremental_one(
    client_for, staff, shop, make_session, django_capture_on_commit_callbacks
):
    # given
    make_session(shop, kind="initial", status="completed")
    # when
    with django_capture_on_commit_callbacks():
        client_for(staff).post(reverse("sync-now"), {"shop": shop.domain})
    # then
    newest = SyncSession.objects.filter(shop=shop).order_by("-pk").first()
    assert (newest.kind, newest.status) == ("incremental", "queued")


def test_pressing_sync_now_twice_shows_the_running_session_and_starts_no_second(
    client_for, staff, shop, django_capture_on_commit_callbacks
):
    # given
    client = client_for(staff)
    htmx = {"HTTP_HX_REQUEST": "true"}
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(reverse("sync-now"), {"shop": shop.domain}, **htmx)
        second = client.post(reverse("sync-now"), {"shop": shop.domain}, **htmx)
    # then
    session = SyncSession.objects.get(shop=shop)
    assert len(callbacks) == 1
    assert "Sync started (initial)." in first.text
    assert f"A sync is already running (#{session.pk}" in second.text
    assert 'data-state="running"' in second.text
    assert second["HX-Trigger"] == "sync-started"


def test_sync_now_for_an_uninstalled_shop_explains_and_starts_nothing(client_for, staff, shop):
    # given
    shop.status = "uninstalled"
    shop.save()
    # when
    response = client_for(staff).post(reverse("sync-now"), {"shop": shop.domain}, follow=True)
    # then
    assert "uninstalled the app; reconnect it before syncing" in response.text
    assert shop.sync_sessions.count() == 0


def test_sync_now_redirects_back_to_a_local_next_url_only(
    client_for, staff, shop, django_capture_on_commit_callbacks
):
    # given
    client = client_for(staff)
    # when
    with django_capture_on_commit_callbacks():
        local = client.post(reverse("sync-now"), {"shop": shop.domain, "next": "/customers/?q=ada"})
        foreign = client.post(reverse("sync-now"), {"shop": shop.domain, "next": "https://evil.example/"})
    # then
    assert local["Location"] == "/customers/?q=ada"
    assert foreign["Location"] == reverse("dashboard-home")


def test_sync_now_get_is_not_allowed(client_for, staff, shop):
    # when
    response = client_for(staff).get(reverse("sync-now"), {"shop": shop.domain})
    # then
    assert response.status_code == 405
    assert shop.sync_sessions.count() == 0


def test_retry_now_on_a_failed_run_starts_that_runs_kind_again_marked_as_a_retry(
    client_for, staff, shop, make_session, django_capture_on_commit_callbacks
):
    # given
    make_session(shop, kind="initial", status="completed")
    failed = make_session(shop, kind="full", status="failed", jobs={"orders": {"status": "failed"}})
    # when
    with django_capture_on_commit_callbacks():
        client_for(staff).post(
            reverse("sync-now"), {"shop": shop.domain, "trigger": "retry", "session": failed.pk}
        )
    # then
    newest = SyncSession.objects.filter(shop=shop).order_by("-pk").first()
    assert (newest.kind, newest.status, newest.triggered_by, newest.resources) == (
        "full", "queued", "retry", ["orders"],
    )  # fmt: skip
