"""The polled status partials: states, the "last updated" token, stopping, and the completion toast."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shopsync.dashboard_selectors import sync_indicator_get
from shopsync.models import SyncSession
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
        shop,
        status="completed",
        jobs={
            "customers": {"synced": 5234, "created": 5234},
            "orders": {"synced": 12891, "created": 12000, "updated": 91, "skipped": 800},
        },
    )
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", u="old", watch=session.pk)
    # then
    assert (
        "Sync complete. Customers: 5,234 new, 0 updated, 0 unchanged. "
        "Orders: 12,000 new, 91 updated, 800 unchanged." in response.text
    )
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
    assert "Sync failed. Shopify no longer accepts this app&#x27;s access to the store." in response.text
    assert 'role="alert"' in response.text
    assert (
        'title="Last sync failed: Shopify no longer accepts this app&#x27;s access to the store."'
        in response.text
    )


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


def test_a_long_failure_reason_is_kept_whole_behind_the_technical_details(
    client_for, staff, shop, make_session
):
    # given
    make_session(shop, status="failed", error="401 " + "x" * 1000, jobs={"orders": {}})
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "<summary>Technical details</summary><pre>401 " + "x" * 1000 + "</pre>" in response.text
    assert "x" * 1000 not in response.text.split("<details")[0]


BULK_FAILED = "bulk operation gid://shopify/BulkOperation/77 ended FAILED (INTERNAL_SERVER_ERROR) 3 times without new data"


def test_a_failed_export_is_told_in_plain_words_with_the_technical_error_behind_a_disclosure(
    client_for, staff, shop, make_session
):
    # given
    make_session(
        shop, kind="initial", status="failed", error=f"orders: {BULK_FAILED}",
        jobs={"customers": {"synced": 40, "total": 40, "status": "completed"},
              "orders": {"synced": 1200, "total": 5000, "status": "failed", "error": BULK_FAILED}},
    )  # fmt: skip
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    before_details, details = response.text.split("<details", 1)
    assert "<strong>Shopify kept failing to prepare the orders export.</strong>" in before_details
    assert "Nothing retries on its own: press Retry now." in before_details
    assert "gid://" not in before_details
    assert f"<summary>Technical details</summary><pre>orders: {BULK_FAILED}</pre>" in details
    assert ">Retry now</button>" in before_details


def test_a_failed_delta_run_of_a_synced_shop_says_when_the_schedule_tries_again(
    client_for, staff, shop, make_session
):
    # given
    make_session(shop, kind="initial", status="completed", finished_at=timezone.now() - timedelta(hours=1))
    failed = make_session(
        shop, kind="incremental", status="failed", error="orders: shop GET /x answered HTTP 502: Bad Gateway",
        jobs={"orders": {"status": "failed", "error": "shop GET /x answered HTTP 502: Bad Gateway"}},
    )  # fmt: skip
    retry_by = timezone.localtime(failed.finished_at + timedelta(minutes=15)).strftime("%H:%M")
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "<strong>Shopify kept answering with errors while we fetched the orders.</strong>" in response.text
    assert f"We will try again by {retry_by}, with the next scheduled sync — or retry now." in response.text


def test_failed_and_partial_progress_is_drawn_as_such_not_as_a_full_bar(
    client_for, staff, shop, make_session
):
    # given
    make_session(
        shop, status="failed", error="boom",
        jobs={"customers": {"synced": 40, "total": 40, "status": "completed"},
              "orders": {"synced": 1200, "total": 5000, "status": "failed"},
              "products": {"synced": 7, "total": None, "status": "failed"}},
    )  # fmt: skip
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    lines = {line.resource: line for line in response.context["indicator"].progress}
    assert [(r, lines[r].state, lines[r].bar_value, lines[r].bar_max) for r in sorted(lines)] == [
        ("customers", "done", 40, 40),
        ("orders", "failed", 1200, 5000),
        ("products", "failed", 0, 1),
    ]
    assert '<li class="progress-line is-failed" data-resource="orders" data-state="failed">' in response.text
    assert "Stopped at <strong>1,200</strong> / 5,000 orders" in response.text
    assert '<span class="progress-line__status">Failed</span>' in response.text
    assert '<span class="progress-line__status">failed</span>' not in response.text


def test_a_run_waiting_out_shopify_errors_says_so_with_the_next_try(client_for, staff, shop, make_session):
    # given
    until = timezone.now() + timedelta(seconds=40)
    make_session(
        shop, status="running", waiting_reason="shopify_errors", waiting_until=until,
        waiting_detail="acme GET /admin/api/2026-01/graphql.json answered HTTP 503: unavailable",
        jobs={"orders": {"synced": 10, "total": 80, "status": "running"}},
    )  # fmt: skip
    next_try = timezone.localtime(until).strftime("%H:%M:%S")
    client = client_for(staff)
    # when
    indicator = _htmx_get(client, shop=shop.domain, part="indicator")
    panel = _htmx_get(client, shop=shop.domain, part="progress")
    # then
    assert f"Waiting for Shopify · next try {next_try}" in indicator.text
    assert 'hx-trigger="every 2s"' in indicator.text
    before_details, details = panel.text.split("<details", 1)
    assert "Shopify is answering with errors, so the sync is waiting before it tries again." in before_details
    assert f"Next try at {next_try}." in before_details
    assert "HTTP 503" not in before_details
    assert "answered HTTP 503: unavailable</pre>" in details


def test_a_throttled_wait_and_a_requeued_run_say_so(client_for, staff, shop, make_session):
    # given
    make_session(
        shop, kind="incremental", status="queued", waiting_reason="shopify_errors", waiting_detail="HTTP 500"
    )
    client = client_for(staff)
    # when
    queued = _htmx_get(client, shop=shop.domain, part="progress")
    SyncSession.objects.filter(shop=shop).update(
        status="running", waiting_reason="throttled", waiting_until=timezone.now() + timedelta(seconds=9)
    )
    throttled = _htmx_get(client, shop=shop.domain, part="progress")
    # then
    assert "We will try again on our own in a few minutes." in queued.text
    assert "Shopify asked us to slow down, so the sync is pausing." in throttled.text


def test_the_running_session_is_shown_and_a_queued_backfill_beside_it(client_for, staff, shop, make_session):
    # given
    make_session(shop, kind="initial", status="completed", finished_at=timezone.now() - timedelta(hours=2))
    running = make_session(
        shop,
        kind="incremental",
        status="running",
        jobs={"orders": {"synced": 7, "total": 9, "status": "running"}},
    )
    queued = make_session(shop, kind="full", status="queued", stage="waiting", waiting_for_slot=True,
                          triggered_by="settings")  # fmt: skip
    client = client_for(staff)
    # when
    indicator = _htmx_get(client, shop=shop.domain, part="indicator")
    panel = _htmx_get(client, shop=shop.domain, part="progress")
    # then
    assert indicator.context["indicator"].session == running
    assert "Synced 7 / 9 orders" in indicator.text
    assert f"Incremental sync #{running.pk} · started with the Sync Now button ·" in panel.text
    assert (
        f"<strong>Next:</strong> full sync #{queued.pk} (started from the Settings page) is queued; "
        "it starts when this one finishes." in panel.text
    )


def test_a_run_that_changed_nothing_says_nothing_changed_not_imported(client_for, staff, shop, make_session):
    # given
    session = make_session(
        shop, kind="incremental", status="completed",
        jobs={"customers": {"synced": 12000, "skipped": 12000, "unchanged": 12000},
              "orders": {"synced": 5003, "skipped": 5003}, "products": {"synced": 400, "skipped": 400}},
    )  # fmt: skip
    # when
    response = _htmx_get(client_for(staff), shop=shop.domain, part="indicator", u="old", watch=session.pk)
    # then
    assert (
        "Sync complete: nothing changed (12,000 customers, 5,003 orders and 400 products checked)."
        in response.text
    )
    assert "imported" not in response.text


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


def test_while_shopify_prepares_the_export_the_panel_counts_what_it_holds_so_far(
    client_for, staff, shop, make_session
):
    # given
    make_session(
        shop, status="running", stage="bulk_running",
        message="Shopify is preparing the orders export (69,000 objects so far).",
        jobs={"customers": {"synced": 12000, "total": 12000, "status": "completed"},
              "orders": {"synced": 0, "total": 50000, "bulk_status": "RUNNING", "bulk_exported": 23000}},
    )  # fmt: skip
    client = client_for(staff)
    # when
    panel = _htmx_get(client, shop=shop.domain, part="progress")
    indicator = _htmx_get(client, shop=shop.domain, part="indicator")
    # then
    line = panel.text.split('data-resource="orders"', 1)[1].split("</li>", 1)[0]
    assert 'data-state="preparing"' in line
    assert "Shopify prepared <strong>23,000</strong> / 50,000 orders" in line
    assert '<progress max="50000" value="23000"' in line
    assert '<span class="progress-line__status">Preparing export</span>' in line
    assert "Synced <strong>0</strong>" not in panel.text
    assert "objects so far" not in panel.text
    assert "an amber bar counts what the export holds so far." in panel.text
    assert "·\n      Shopify is preparing the export, started at " in panel.text
    assert "Preparing 23,000 / 50,000 orders" in indicator.text


def test_once_the_export_is_ready_the_line_counts_what_was_written(client_for, staff, shop, make_session):
    # given
    make_session(
        shop, status="running", stage="writing",
        jobs={"orders": {"synced": 2000, "total": 50000, "bulk_status": "COMPLETED", "bulk_exported": 49000}},
    )  # fmt: skip
    # when
    panel = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert "Synced <strong>2,000</strong> / 50,000 orders" in panel.text
    assert 'data-state="running"' in panel.text.split('data-resource="orders"', 1)[1]
    assert "Shopify prepared" not in panel.text


def test_token_changes_when_the_export_s_count_moves(shop, make_session):
    # given
    session = make_session(
        shop,
        status="running",
        jobs={"orders": {"bulk_status": "RUNNING", "bulk_exported": 100, "total": 900}},
    )
    before = sync_indicator_get(shop=shop).token
    # when
    session.jobs.update(bulk_exported=250)
    after = sync_indicator_get(shop=shop).token
    # then
    assert before != after


def test_the_panel_carries_no_internal_token_in_its_text(client_for, staff, shop, make_session):
    # given
    make_session(shop, status="running", jobs={"customers": {"synced": 10, "total": 80}})
    token = sync_indicator_get(shop=shop).token
    # when
    panel = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    assert f'data-token="{token}"' in panel.text
    assert panel.text.count(token) == 2  # the data attribute and the poll's `u`, never in the words


@pytest.mark.parametrize("left_from_an_earlier_export", [0, 900])
def test_an_export_not_polled_yet_reads_as_being_prepared_without_a_false_count(
    client_for, staff, shop, make_session, left_from_an_earlier_export
):
    # given: the orders export was started with the customers one; it is polled once their turn comes
    orders = {
        "synced": 0,
        "total": 50000,
        "bulk_status": "CREATED",
        "bulk_exported": left_from_an_earlier_export,
    }
    make_session(
        shop, status="running", stage="writing",
        jobs={"customers": {"synced": 0, "total": 12000, "bulk_status": "COMPLETED"}, "orders": orders},
    )  # fmt: skip
    # when
    panel = _htmx_get(client_for(staff), shop=shop.domain, part="progress")
    # then
    line = panel.text.split('data-resource="orders"', 1)[1].split("</li>", 1)[0]
    assert "Shopify is preparing <strong>50,000</strong> orders" in line
    assert '<progress aria-label="Orders: Shopify is preparing the export"></progress>' in line
    assert "prepared <strong>" not in line
