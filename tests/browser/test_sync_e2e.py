"""End to end: the browser, the live server, a real Celery worker and the simulator over HTTP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shopsync.models import Customer, SyncSession

# Records every count the page shows while it polls, so the test can tell that the count rose.
RECORD_COUNTS_JS = """
() => {
  window.seenCounts = [];
  const record = () => {
    for (const el of document.querySelectorAll('#sync-indicator .sync-indicator__text, #sync-progress .progress-line__label')) {
      const text = el.textContent.replace(/\\s+/g, ' ').trim();
      if (window.seenCounts[window.seenCounts.length - 1] !== text) window.seenCounts.push(text);
    }
  };
  record();
  new MutationObserver(record).observe(document.body, {childList: true, subtree: true});
}
"""
COUNT_RE = re.compile(r"Synced ([\d,]+)(?: / ([\d,]+))? (customers|orders|products)")


def _counts_by_resource(texts: list[str]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for text in texts:
        for synced, _total, resource in COUNT_RE.findall(text):
            values = counts.setdefault(resource, [])
            if not values or values[-1] != int(synced.replace(",", "")):
                values.append(int(synced.replace(",", "")))
    return counts


@pytest.mark.browser
@pytest.mark.e2e
def test_sync_now_twice_runs_one_session_whose_count_rises_to_the_completion_toast(
    page, login, screenshot, celery_worker, simulator, sim_store, sim_shop, staff, wait_for_session_end
):
    # given: Shopify takes a while to export, so the run is watched in flight
    simulator.control.set_faults(shop=sim_store.domain, bulk_rows_per_second=15)
    login(staff)
    page.evaluate(RECORD_COUNTS_JS)
    indicator = page.locator("#sync-indicator")
    sync_now = page.get_by_role("button", name="Sync Now")
    # when: Sync Now, then Sync Now again during the run (the dashboard's first visit already
    # started the shop's initial sync: both presses get that session back)
    sync_now.click()
    expect(indicator).to_have_attribute("data-state", "running")
    sync_now.click()
    # then: the second press shows the running session
    session = SyncSession.objects.get(shop=sim_shop)
    expect(page.locator("#toasts")).to_contain_text(f"A sync is already running (#{session.pk}")
    expect(indicator.locator(".spinner")).to_be_visible()
    screenshot("running")
    toast = page.locator("#toasts .toast--success .toast__text")
    expect(toast).to_have_text(
        "Sync complete. Collections: 8 new, 0 updated, 0 unchanged. Customers: 40 new, 0 updated, "
        "0 unchanged. Locations: 2 new, 0 updated, 0 unchanged. Orders: 60 new, 0 updated, 0 unchanged. Products: 10 new, 0 updated, 0 unchanged.",
        timeout=90_000,
    )
    screenshot("complete-toast")
    session = wait_for_session_end(session.pk)
    assert (session.kind, session.status, session.triggered_by) == ("initial", "completed", "first_run")
    assert SyncSession.objects.filter(shop=sim_shop).count() == 1
    expect(page.locator("#sync-progress")).to_have_attribute("data-state", "idle")
    counts = _counts_by_resource(page.evaluate("window.seenCounts"))
    assert counts["orders"][-1] == 60
    assert any(len(values) >= 2 and values == sorted(values) for values in counts.values()), counts
    expect(indicator).to_have_attribute("data-state", "idle")
    expect(page.locator("#records-card dd").first).to_have_text("40")


@pytest.mark.browser
@pytest.mark.e2e
def test_local_note_is_kept_when_a_resync_brings_the_customers_new_shopify_fields(
    page,
    login,
    screenshot,
    live_server,
    celery_worker,
    simulator,
    sim_store,
    sim_shop,
    staff,
    wait_for_session_end,
):
    # given: the shop synced once
    login(staff)
    page.get_by_role("button", name="Sync Now").click()
    expect(page.locator("#toasts .toast--success")).to_contain_text("Sync complete", timeout=90_000)
    wait_for_session_end(SyncSession.objects.get(shop=sim_shop).pk)
    customer = Customer.objects.filter(shop=sim_shop, deleted_at__isnull=True).order_by("shopify_id").first()
    # and staff wrote a note on a customer
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_label("Notes", exact=True).fill("Asked for a call back on Monday.")
    page.get_by_label("Tags", exact=True).fill("call-back")
    page.get_by_role("button", name="Save notes and tags").click()
    expect(page.get_by_text("Notes and tags saved.")).to_be_visible()
    # when: the customer changes in Shopify and staff sync again
    simulator.control.update("customers", customer.shopify_id, shop=sim_store.domain, first_name="Renamed")
    page.get_by_role("button", name="Sync Now").click()
    # (the write path's own counts: the renamed customer is the one update)
    expect(page.locator("#toasts .toast--success")).to_contain_text(
        "Customers: 0 new, 1 updated,", timeout=90_000
    )
    resync = SyncSession.objects.filter(shop=sim_shop).order_by("-pk").first()
    wait_for_session_end(resync.pk)
    page.reload()
    # then: Shopify's field is new, our note and tag are unchanged
    assert resync.kind == "incremental"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renamed")
    expect(page.get_by_label("Notes", exact=True)).to_have_value("Asked for a call back on Monday.")
    expect(page.get_by_label("Tags", exact=True)).to_have_value("call-back")
    screenshot("note-kept-after-resync")
    customer.refresh_from_db()
    assert (customer.first_name, customer.local_notes, customer.local_tags) == (
        "Renamed",
        "Asked for a call back on Monday.",
        ["call-back"],
    )
