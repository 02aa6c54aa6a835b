"""The polled status partials: states, the "last updated" token, stopping, and the completion toast."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shopsync.dashboard_selectors import sync_indicator_get
from shopsync.models.sync import WORKER_STOPPED_MESSAGE


def _htmx_get(client, **params):
    return client.get(reverse("sync-status"), params, HTTP_HX_REQUEST="true")


def test_running_session_shows_live_count_and_keeps_polling(client_for, staff, shop, make_session):
    # given
    make_session(
        shop, status="running", jobs={"customers": {"synced": 1234, "total": 5000, "status": "running"}}
    )
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator")
    # then
    assert response.status_code == 200
    assert "Synced 1,234 / 5,000 customers" in response.text
    assert 'hx-trigger="every 2s"' in response.text
    assert 'class="spinner"' in response.text


def test_progress_panel_shows_every_resource_line(client_for, staff, shop, make_session):
    # given
    make_session(
        shop,
        status="running",
        jobs={
            "customers": {"synced": 1234, "total": 5000, "status": "running"},
            "orders": {"synced": 0, "total": None, "status": "pending"},
        },
    )
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "Synced <strong>1,234</strong> / 5,000 customers" in response.text
    assert "Synced <strong>0</strong> orders" in response.text
    assert 'aria-current="step"' in response.text


def test_unchanged_token_answers_204_so_nothing_is_swapped(client_for, staff, shop, make_session):
    # given
    make_session(shop, status="running", jobs={"customers": {"synced": 10, "total": 80}})
    token = sync_indicator_get(shop=shop).token
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", u=token)
    # then
    assert response.status_code == 204
    assert response.content == b""


def test_token_changes_when_the_count_moves_even_if_updated_at_does_not(shop, make_session):
    # given
    session = make_session(shop, status="running", jobs={"customers": {"synced": 10, "total": 80}})
    before = sync_indicator_get(shop=shop).token
    # when
    session.jobs.update(synced=11)  # an F()-style update: no updated_at change
    after = sync_indicator_get(shop=shop).token
    # then
    assert before != after


def test_completed_watched_session_stops_polling_and_brings_the_toast(client_for, staff, shop, make_session):
    # given
    session = make_session(
        shop, status="completed", jobs={"customers": {"synced": 5234}, "orders": {"synced": 12891}}
    )
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", u="old", watch=session.pk)
    # then
    assert "Sync complete: 5,234 customers, 12,891 orders imported" in response.text
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert "hx-trigger" not in response.text.split('id="sync-indicator"')[1].split(">")[0]
    assert 'data-state="idle"' in response.text
    assert response["HX-Trigger"] == "sync-finished"


def test_failed_watched_session_brings_an_error_toast_with_the_reason(client_for, staff, shop, make_session):
    # given
    session = make_session(
        shop, status="failed", error="Shopify answered 401: token revoked", jobs={"orders": {}}
    )
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", u="old", watch=session.pk)
    # then
    assert "Sync failed: Shopify answered 401: token revoked" in response.text
    assert 'role="alert"' in response.text
    assert 'title="Last sync failed: Shopify answered 401: token revoked"' in response.text


def test_no_toast_without_a_watched_session(client_for, staff, shop, make_session):
    # given
    make_session(shop, status="completed", jobs={"customers": {"synced": 5}})
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator")
    # then
    assert "toasts" not in response.text


def test_watching_another_shops_session_brings_no_toast(client_for, staff, shop, make_session):
    # given
    from tests.factories import ShopFactory

    foreign = make_session(ShopFactory(), status="completed", jobs={"customers": {"synced": 5}})
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", watch=foreign.pk)
    # then
    assert "Sync complete" not in response.text


@pytest.mark.parametrize(
    ("hours_ago", "state", "text"),
    [(5, "idle", "Synced 5\xa0hours ago"), (25, "stale", "Synced 1\xa0day, 1\xa0hour ago")],
)
def test_idle_and_stale_states_follow_the_last_completed_sync(
    client_for, staff, shop, make_session, hours_ago, state, text
):
    # given
    make_session(shop, status="completed", finished_at=timezone.now() - timedelta(hours=hours_ago))
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator")
    # then
    assert f'data-state="{state}"' in response.text
    assert text in response.text
    assert ("dot--red" in response.text) is (state == "stale")


def test_shop_never_synced_shows_not_synced_yet(client_for, staff, shop):
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator")
    # then
    assert 'data-state="never"' in response.text
    assert "Not synced yet" in response.text


def test_a_long_failure_reason_is_shortened_with_the_full_text_one_click_away(
    client_for, staff, shop, make_session
):
    # given
    make_session(shop, status="failed", error="401 " + "x" * 1000, jobs={"orders": {}})
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "<summary>Full error</summary><pre>401 " + "x" * 1000 + "</pre>" in response.text
    assert "401 " + "x" * 275 + "…</p>" in response.text


def test_a_running_session_whose_worker_went_silent_says_it_stopped_and_is_resuming(
    client_for, staff, shop, make_session
):
    # given: no heartbeat for 20 s (three missed beats and more), progress frozen at 1,234
    make_session(shop, status="running", heartbeat_at=timezone.now() - timedelta(seconds=20),
                 message="Writing customers.", jobs={"customers": {"synced": 1234, "total": 5000, "status": "running"}})  # fmt: skip
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "The worker running this sync stopped — resuming." in response.text
    assert "Writing customers." not in response.text
    assert 'hx-trigger="every 2s"' in response.text


def test_a_session_given_back_by_the_watchdog_says_its_worker_stopped_until_a_worker_claims_it(
    shop, make_session
):
    # given
    session = make_session(shop, status="queued", stage="waiting", message=WORKER_STOPPED_MESSAGE)
    # when
    stopped = sync_indicator_get(shop=shop).worker_stopped
    session.status, session.message, session.heartbeat_at = "running", "Syncing.", timezone.now()
    session.save()
    claimed = sync_indicator_get(shop=shop).worker_stopped
    # then
    assert (stopped, claimed) == (True, False)


def test_a_running_session_heart_beating_shows_its_own_message(client_for, staff, shop, make_session):
    # given
    make_session(shop, status="running", heartbeat_at=timezone.now() - timedelta(seconds=4),
                 message="Writing customers.", jobs={"customers": {"synced": 10, "total": 80, "status": "running"}})  # fmt: skip
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "Writing customers." in response.text
    assert "stopped" not in response.text
