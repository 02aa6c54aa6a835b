"""Live status without reloading: the browser polls while a run is active, shows each new count,
brings the completion toast, then stops polling. The run's rows are moved by the test itself here,
so every step is deterministic; test_sync_e2e.py drives the same page with a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import SyncJob, SyncSession


@pytest.mark.browser
def test_counts_update_live_then_the_toast_appears_and_polling_stops(page, login, screenshot, staff, shop):
    # given
    now = timezone.now()
    session = SyncSession.objects.create(
        shop=shop, kind="initial", status="running", triggered_by="button", stage="writing",
        started_at=now - timedelta(minutes=2), heartbeat_at=now,
    )  # fmt: skip
    customers = SyncJob.objects.create(
        session=session,
        shop=shop,
        resource="customers",
        mode="initial",
        status="running",
        synced=1234,
        total=5000,
    )
    orders = SyncJob.objects.create(
        session=session, shop=shop, resource="orders", mode="initial", status="pending"
    )
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/sync/status" in request.url else None)
    login(staff)
    page.evaluate("window.notReloaded = true")
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_text("Synced 1,234 / 5,000 customers")
    expect(indicator.locator(".spinner")).to_be_visible()
    screenshot("running")
    # when: the worker writes more
    SyncJob.objects.filter(pk=customers.pk).update(synced=2500)
    # then
    expect(indicator).to_have_text("Synced 2,500 / 5,000 customers")
    expect(page.locator('#sync-progress [data-resource="customers"]')).to_contain_text(
        "Synced 2,500 / 5,000 customers"
    )
    screenshot("running-later")
    # when: the run completes
    SyncJob.objects.filter(pk=customers.pk).update(status="completed", synced=5234, total=5234, created=5234)
    SyncJob.objects.filter(pk=orders.pk).update(
        status="completed", synced=12891, total=12891, created=12000, updated=91, skipped=800
    )
    SyncSession.objects.filter(pk=session.pk).update(
        status="completed", stage="finished", finished_at=timezone.now()
    )
    # then
    toast = page.locator("#toasts .toast")
    expect(toast.locator(".toast__text")).to_have_text(
        "Sync complete. Customers: 5,234 new, 0 updated, 0 unchanged. Orders: 12,000 new, 91 updated, 800 unchanged."
    )
    expect(indicator).to_have_attribute("data-state", "idle")
    expect(page.locator("#sync-progress")).to_have_attribute("data-state", "idle")
    assert page.evaluate("window.notReloaded") is True
    screenshot("complete-toast")
    polls_at_completion = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == polls_at_completion
    assert any("u=" in url for url in polls)
    # the toast can be dismissed
    page.get_by_role("button", name="Dismiss notification").click()
    expect(toast).to_have_count(0)


@pytest.mark.browser
def test_the_export_s_count_then_the_records_card_move_live_during_a_sync(
    page, login, screenshot, staff, shop
):
    # given: Shopify is preparing the orders export
    now = timezone.now()
    session = SyncSession.objects.create(
        shop=shop, kind="initial", status="running", triggered_by="first_run", stage="bulk_running",
        started_at=now - timedelta(seconds=20), heartbeat_at=now,
    )  # fmt: skip
    orders = SyncJob.objects.create(
        session=session, shop=shop, resource="orders", mode="initial", status="running", total=50000,
        bulk_status="RUNNING", bulk_exported=5000,
    )  # fmt: skip
    login(staff)
    line = page.locator('#sync-progress [data-resource="orders"]')
    records = page.locator("#records-card")
    expect(line).to_contain_text("Shopify prepared 5,000 / 50,000 orders")
    expect(line).to_have_attribute("data-state", "preparing")
    expect(page.locator("#sync-progress")).to_contain_text("started automatically on your first visit")
    expect(records.locator("dd").nth(1)).to_have_text("0")
    # when: the export grows
    SyncJob.objects.filter(pk=orders.pk).update(bulk_exported=23000)
    # then
    expect(line).to_contain_text("Shopify prepared 23,000 / 50,000 orders")
    expect(page.locator("#sync-indicator")).to_have_text("Preparing 23,000 / 50,000 orders")
    screenshot("preparing")
    # when: the export is ready and the first batches are written
    SyncJob.objects.filter(pk=orders.pk).update(bulk_status="COMPLETED", synced=4000, created=4000)
    SyncSession.objects.filter(pk=session.pk).update(stage="writing")
    # then
    expect(line).to_contain_text("Synced 4,000 / 50,000 orders")
    expect(line).to_have_attribute("data-state", "running")
    expect(records.locator("dd").nth(1)).to_have_text("4,000")
    expect(records).to_contain_text("historical orders are counted when it finishes")
    screenshot("writing")
