"""End to end: installing and reconnecting a store through the simulator's OAuth, with a real worker."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import Shop, SyncSession

SYNC_COMPLETE = (
    "Sync complete. Collections: 8 new, 0 updated, 0 unchanged. Customers: 40 new, 0 updated, 0 unchanged. "
    "Locations: 2 new, 0 updated, 0 unchanged. Orders: 60 new, 0 updated, 0 unchanged. Products: 10 new, 0 updated, 0 unchanged."
)


@pytest.fixture
def app_url(settings, live_server) -> str:
    # Shopify redirects the browser back to SHOPIFY_APP_URL and delivers webhooks there.
    settings.SHOPIFY_APP_URL = live_server.url
    return live_server.url


@pytest.mark.browser
@pytest.mark.e2e
def test_install_connects_the_store_registers_webhooks_and_runs_one_initial_sync(
    page,
    login,
    screenshot,
    app_url,
    settings,
    celery_worker,
    simulator,
    sim_store,
    staff,
    wait_for_session_end,
):
    # given: a member of no shop, in a deployment that may point shops at the simulator
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = True
    login(staff)
    expect(page.get_by_role("heading", name="Connect your first store")).to_be_visible()
    page.get_by_label("Shop domain").fill(sim_store.domain)
    page.get_by_label("API URL (development only)").fill(sim_store.api_base_url)
    screenshot("connect-form")
    # when: Connect store -> Shopify's authorize page (auto-approved) -> our callback
    # (the callback registers every webhook topic with Shopify before it answers: seconds on a busy machine)
    page.get_by_role("button", name="Connect store").click(timeout=60_000)
    # then
    page.wait_for_url(f"{app_url}/?shop={sim_store.domain}")
    expect(
        page.get_by_role("status").filter(has_text=f"{sim_store.domain} installed; initial sync started.")
    ).to_be_visible()
    screenshot("installed-syncing")
    expect(page.locator("#toasts .toast--success .toast__text")).to_have_text(SYNC_COMPLETE, timeout=90_000)
    screenshot("installed-complete")
    shop = Shop.objects.get(domain=sim_store.domain)
    session = wait_for_session_end(SyncSession.objects.get(shop=shop).pk)
    assert (session.kind, session.triggered_by, session.status) == ("initial", "install", "completed")
    assert list(shop.members.all()) == [staff]
    assert shop.is_installed and shop.api_base_url == sim_store.api_base_url
    assert shop.access_token.startswith("shpat_") and shop.access_token != sim_store.token
    assert shop.refresh_token.startswith("shprt_")
    assert shop.access_token_expires_at > timezone.now()
    addresses = {
        subscription["uri"] for subscription in simulator.control.subscriptions(shop=sim_store.domain)
    }
    assert addresses == {f"{app_url}/webhooks/shopify/"}

    # when: the store is reconnected after its initial sync completed
    page.goto(f"{app_url}/settings/")
    page.get_by_role("link", name="Reconnect store").click(timeout=60_000)
    page.wait_for_url(f"{app_url}/?shop={sim_store.domain}")
    # then: no second initial sync; an incremental one catches up
    expect(
        page.get_by_role("status").filter(has_text="reconnected; incremental sync started.")
    ).to_be_visible()
    screenshot("reconnected")
    latest = wait_for_session_end(SyncSession.objects.filter(shop=shop).order_by("-pk").first().pk)
    assert (latest.kind, latest.triggered_by, latest.status) == ("incremental", "reconnect", "completed")
    assert SyncSession.objects.filter(shop=shop, kind="initial").count() == 1


@pytest.mark.browser
@pytest.mark.e2e
def test_failed_initial_sync_shows_the_failure_and_reconnecting_runs_exactly_one_new_initial(
    page,
    login,
    screenshot,
    app_url,
    settings,
    celery_worker,
    sim_store,
    sim_shop,
    staff,
    wait_for_session_end,
):
    # given: a shop whose token Shopify no longer accepts, and no custom API URLs allowed (the shop
    # row's own API address is used)
    settings.SHOPIFY_ALLOW_CUSTOM_API_URL = False
    sim_shop.access_token = "shpat_revoked"
    sim_shop.save()
    login(staff)
    # when: its first sync runs (the dashboard's first visit started it; a Sync Now click here would
    # race the failure: after it, Sync Now rightly starts a new run)
    # then: the failed state, with the reason and what to do
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_attribute("data-state", "failed", timeout=60_000)
    failed = wait_for_session_end(SyncSession.objects.get(shop=sim_shop).pk)
    assert failed.status == "failed"
    headline = "Shopify no longer accepts this app's access to the store."
    expect(page.locator("#toasts .toast--error").first).to_contain_text(f"Sync failed. {headline}")
    expect(indicator).to_have_attribute("title", f"Last sync failed: {headline}")
    page.reload()
    failure = page.locator("#sync-failure")
    expect(failure.get_by_role("button", name="Retry now")).to_be_visible()
    expect(failure.get_by_role("link", name="Reconnect the store")).to_be_visible()
    screenshot("failed-run")
    # when: staff reconnect the store
    page.goto(f"{app_url}/settings/")
    page.get_by_role("link", name="Reconnect store").click(timeout=60_000)
    page.wait_for_url(f"{app_url}/?shop={sim_store.domain}")
    # then: exactly one new initial sync, and it completes
    expect(page.locator("#toasts .toast--success .toast__text")).to_have_text(SYNC_COMPLETE, timeout=90_000)
    screenshot("reconnected-complete")
    initials = list(SyncSession.objects.filter(shop=sim_shop, kind="initial").order_by("pk"))
    assert [(s.status, s.triggered_by) for s in initials[:1]] == [("failed", "first_run")]
    assert len(initials) == 2
    retried = wait_for_session_end(initials[1].pk)
    assert (retried.status, retried.triggered_by) == ("completed", "reconnect")
    assert SyncSession.objects.filter(shop=sim_shop).count() == 2
