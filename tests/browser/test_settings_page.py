"""The settings page: connection, history, the guarded Force full sync."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import SyncJob, SyncSession
from tests.factories import FailedSyncItemFactory


@pytest.mark.browser
def test_settings_page_keeps_force_full_sync_behind_advanced_and_a_confirmation(
    page, login, screenshot, live_server, owner, shop
):
    # given
    finished = timezone.now() - timedelta(hours=2)
    session = SyncSession.objects.create(
        shop=shop, kind="initial", status="completed", triggered_by="install", stage="finished",
        started_at=finished - timedelta(seconds=42), finished_at=finished,
    )  # fmt: skip
    SyncJob.objects.create(
        session=session,
        shop=shop,
        resource="customers",
        mode="initial",
        status="completed",
        synced=80,
        created=80,
    )
    FailedSyncItemFactory(shop=shop, retry_count=5, max_retries=5)
    login(owner, path="/settings/")
    # then: the everyday page
    expect(page.locator("#sync-history tbody tr")).to_have_count(1)
    expect(page.locator("#sync-history")).to_contain_text("42 s")
    expect(page.locator("#dead-letters-exhausted")).to_have_text("1")
    full_sync = page.get_by_role("button", name="Force full sync")
    expect(full_sync).to_be_hidden()
    screenshot("settings")
    # when: opening Advanced and submitting without ticking the box
    page.get_by_text("Advanced").click()
    full_sync.click()
    # then: nothing starts
    expect(page).to_have_url(f"{live_server.url}/settings/")
    assert SyncSession.objects.filter(shop=shop, kind="full").count() == 0
    assert page.locator("#id_confirm").evaluate("el => el.validity.valueMissing") is True
    screenshot("advanced-open")
