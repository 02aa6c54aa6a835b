"""The nav indicator's states as staff see them, in a real browser."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import SyncJob, SyncSession


def _session(
    shop, *, status: str, finished_at=None, error: str = "", jobs: dict | None = None
) -> SyncSession:
    session = SyncSession.objects.create(
        shop=shop, kind="initial", status=status, triggered_by="install", error=error,
        stage="finished", started_at=(finished_at or timezone.now()) - timedelta(minutes=4), finished_at=finished_at,
    )  # fmt: skip
    for resource, synced in (jobs or {}).items():
        SyncJob.objects.create(
            session=session, shop=shop, resource=resource, mode="initial", status=status, synced=synced
        )
    return session


@pytest.mark.browser
def test_stale_badge_for_a_shop_last_synced_over_24_hours_ago(page, login, screenshot, staff, shop):
    # given
    _session(
        shop, status="completed", finished_at=timezone.now() - timedelta(hours=30), jobs={"customers": 80}
    )
    # when
    login(staff)
    # then
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_attribute("data-state", "stale")
    expect(indicator).to_contain_text("Synced 1\xa0day, 6\xa0hours ago")
    expect(indicator.locator(".dot--red")).to_be_visible()
    expect(indicator).to_have_attribute(
        "title", re.compile(r"^No completed sync in the last 24 hours \(last: ")
    )
    screenshot("stale")


@pytest.mark.browser
def test_failed_state_shows_red_widget_reason_on_hover_and_what_to_do(page, login, screenshot, staff, shop):
    # given
    _session(
        shop,
        status="failed",
        finished_at=timezone.now(),
        error="Shopify answered 401: the access token was revoked",
        jobs={"orders": 12},
    )
    # when
    login(staff)
    # then
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_attribute("data-state", "failed")
    expect(indicator).to_contain_text("Sync failed")
    expect(indicator).to_have_attribute(
        "title", "Last sync failed: Shopify no longer accepts this app's access to the store."
    )
    panel = page.locator("#sync-progress")
    expect(panel.get_by_role("alert")).to_contain_text("Reconnect the store (and approve what it asks for)")
    expect(panel.get_by_text("the access token was revoked", exact=False)).to_be_hidden()
    expect(panel.get_by_role("button", name="Retry now")).to_be_visible()
    expect(panel.get_by_role("link", name="Settings")).to_be_visible()
    indicator.hover()
    screenshot("failed")


@pytest.mark.browser
def test_idle_state_and_empty_pages(page, login, screenshot, live_server, staff, shop):
    # given
    _session(
        shop, status="completed", finished_at=timezone.now() - timedelta(minutes=5), jobs={"customers": 0}
    )
    # when
    login(staff)
    # then
    expect(page.locator("#sync-indicator")).to_have_attribute("data-state", "idle")
    expect(page.locator("#sync-indicator")).to_contain_text("Synced 5\xa0minutes ago")
    screenshot("idle")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Sync Now")).to_be_visible()
    screenshot("idle-mobile")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/customers/")
    expect(page.get_by_text("No customers yet.")).to_be_visible()
    screenshot("customers-empty")
