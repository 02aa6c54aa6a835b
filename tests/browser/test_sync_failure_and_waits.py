"""How a failed run, a run waiting out Shopify, and a queued run read and look in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import SyncJob, SyncSession

BULK_FAILED = "bulk operation gid://shopify/BulkOperation/77 ended FAILED (INTERNAL_SERVER_ERROR) 3 times without new data"
RED = "rgb(192, 38, 45)"  # --red in app.css
GREEN = "rgb(23, 128, 61)"  # --green


def _session(shop, *, kind: str, status: str, jobs: dict, **fields) -> SyncSession:
    now = timezone.now()
    session = SyncSession.objects.create(
        shop=shop, kind=kind, status=status, triggered_by=fields.pop("triggered_by", "install"),
        resources=list(jobs), stage=fields.pop("stage", "fetching"), started_at=now - timedelta(minutes=4),
        **fields,
    )  # fmt: skip
    for resource, values in jobs.items():
        SyncJob.objects.create(session=session, shop=shop, resource=resource, mode=kind, **values)
    return session


@pytest.mark.browser
def test_a_failed_export_reads_in_plain_words_and_its_bars_are_not_full_blue(
    page, login, screenshot, staff, shop
):
    # given
    _session(
        shop, kind="initial", status="failed", stage="finished", finished_at=timezone.now(),
        error=f"orders: {BULK_FAILED}",
        jobs={"customers": {"status": "completed", "synced": 40, "total": 40},
              "orders": {"status": "failed", "synced": 5000, "total": 5000, "error": BULK_FAILED}},
    )  # fmt: skip
    # when
    login(staff)
    # then
    failure = page.locator("#sync-failure")
    expect(failure).to_contain_text("Shopify kept failing to prepare the orders export.")
    expect(failure).to_contain_text("Nothing retries on its own: press Retry now.")
    expect(failure.get_by_role("button", name="Retry now")).to_be_visible()
    expect(failure.get_by_text("gid://shopify/BulkOperation/77", exact=False)).to_be_hidden()
    orders_bar = page.locator('[data-resource="orders"] progress')
    assert orders_bar.evaluate("bar => getComputedStyle(bar).accentColor") == RED
    customers_bar = page.locator('[data-resource="customers"] progress')
    assert customers_bar.evaluate("bar => getComputedStyle(bar).accentColor") == GREEN
    expect(page.locator('[data-resource="orders"] .progress-line__status')).to_have_text("Failed")
    screenshot("failed")
    failure.get_by_text("Technical details").click()
    expect(failure.get_by_text("gid://shopify/BulkOperation/77", exact=False)).to_be_visible()
    screenshot("failed-details")


@pytest.mark.browser
def test_a_run_waiting_out_shopify_errors_says_so_and_when_it_tries_again(
    page, login, screenshot, staff, shop
):
    # given
    until = timezone.now() + timedelta(minutes=1)
    _session(
        shop, kind="initial", status="running", waiting_reason="shopify_errors", waiting_until=until,
        waiting_detail="acme POST /admin/api/2026-01/graphql.json answered HTTP 503: Service Unavailable",
        jobs={"orders": {"status": "running", "synced": 2000, "total": 5000}},
    )  # fmt: skip
    next_try = timezone.localtime(until).strftime("%H:%M:%S")
    # when
    login(staff)
    # then
    expect(page.locator("#sync-indicator")).to_have_text(f"Waiting for Shopify · next try {next_try}")
    wait = page.locator("#sync-wait")
    expect(wait).to_contain_text(
        "Shopify is answering with errors, so the sync is waiting before it tries again."
    )
    expect(wait).to_contain_text(f"Next try at {next_try}.")
    expect(wait.get_by_text("HTTP 503", exact=False)).to_be_hidden()
    expect(page.locator("#sync-progress")).not_to_contain_text("Syncing.")
    screenshot("waiting")


@pytest.mark.browser
def test_the_running_sync_is_shown_with_a_queued_full_sync_beside_it(page, login, screenshot, staff, shop):
    # given
    _session(shop, kind="initial", status="completed", stage="finished", finished_at=timezone.now(),
             jobs={"orders": {"status": "completed", "synced": 9, "total": 9}})  # fmt: skip
    running = _session(
        shop, kind="incremental", status="running", triggered_by="beat",
        jobs={"orders": {"status": "running", "synced": 30, "total": 120}},
    )  # fmt: skip
    queued = _session(shop, kind="full", status="queued", stage="waiting", waiting_for_slot=True,
                      triggered_by="settings", jobs={"orders": {"status": "pending"}})  # fmt: skip
    # when
    login(staff)
    # then
    expect(page.locator("#sync-indicator")).to_have_text("Synced 30 / 120 orders")
    panel = page.locator("#sync-progress")
    expect(panel).to_contain_text(f"Incremental sync #{running.pk} · started by the 15-minute schedule")
    expect(page.locator("#sync-queued")).to_have_text(
        f"Next: full sync #{queued.pk} (started from the Settings page) is queued; it starts when this one finishes."
    )
    screenshot("running-and-queued")
