"""The pages work under the Content Security Policy production serves (SECURE_CSP in
config/settings/base.py, the same for every settings module): the dashboard's htmx polling and the
Sync Now button run, and the browser reports no violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shopsync.models import SyncJob, SyncSession

# What the dashboard's polling shows next: a poll or two, slower in a loaded test lane (5 s once
# saw only the earlier count).
POLLED_MS = 15_000

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.browser
def test_the_dashboard_polls_and_syncs_under_the_policy_without_a_violation(page, login, staff, shop):
    # given: a run in progress, so the sync indicator polls every 2 s
    now = timezone.now()
    session = SyncSession.objects.create(
        shop=shop, kind="incremental", status="running", triggered_by="button", stage="writing",
        started_at=now - timedelta(minutes=1), heartbeat_at=now,
    )  # fmt: skip
    job = SyncJob.objects.create(
        session=session,
        shop=shop,
        resource="orders",
        mode="incremental",
        status="running",
        synced=10,
        total=40,
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)
    policies: list[str] = []
    page.on(
        "response",
        lambda response: (
            policies.append(response.headers.get("content-security-policy", ""))
            if response.request.resource_type == "document"
            else None
        ),
    )
    login(staff)
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_text("Synced 10 / 40 orders")
    # when: the worker writes more, then the run ends
    SyncJob.objects.filter(pk=job.pk).update(synced=25)
    expect(indicator).to_have_text("Synced 25 / 40 orders", timeout=POLLED_MS)
    SyncJob.objects.filter(pk=job.pk).update(status="completed", synced=40)
    SyncSession.objects.filter(pk=session.pk).update(
        status="completed", stage="finished", finished_at=timezone.now()
    )
    expect(indicator).to_have_attribute("data-state", "idle", timeout=POLLED_MS)
    # and Sync Now (an hx-post) starts the next one
    page.get_by_role("button", name="Sync Now").click()
    expect(indicator).not_to_have_attribute("data-state", "idle")
    # then
    assert policies and all("script-src 'self'" in policy for policy in policies)
    assert page.evaluate("window.cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text] == []
    # and the page would have reported one: an inline style attribute is refused
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<div style="color: red">x</div>')""")
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.cspViolations") == ["style-src-attr inline"]
