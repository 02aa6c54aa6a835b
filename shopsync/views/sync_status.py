"""The live sync status (R10): the nav indicator and the progress panel are partials of one template,
polled by htmx every 2 s while a run is active, and not at all once it ends.

The poll sends back the token of what it shows (`u`); when nothing changed the answer is an empty
204, which htmx leaves alone. When the run it was watching (`watch`) has ended, the answer carries
the completion (or failure) toast as an out-of-band swap. The dashboard's panel asks for its Records
card too (`records=1`): live counts while the run goes, the final ones with the answer after it ends.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import get_template
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from shopsync.dashboard_selectors import (
    TERMINAL_STATUSES,
    record_counts_get,
    sync_completion_summary,
    sync_failure_explain,
    sync_indicator_get,
    sync_now_kind,
    sync_session_for_shop,
)
from shopsync.models import Shop, SyncSession
from shopsync.services.sync import SyncInputError, ensure_sync
from shopsync.views.access import get_required_shop_for_user, login_required_htmx

# Preloaded once (R10): these render on every poll.
INDICATOR_TMPL = get_template("shopsync/sync_status.html#sync-indicator")
PROGRESS_TMPL = get_template("shopsync/sync_status.html#sync-progress")
TOAST_TMPL = get_template("shopsync/sync_status.html#toast-oob")
RECORDS_TMPL = get_template("shopsync/dashboard.html#records-card")


@login_required_htmx
@require_GET
def sync_status(request: HttpRequest) -> HttpResponse:
    shop = get_required_shop_for_user(request)
    indicator = sync_indicator_get(shop=shop)
    if request.GET.get("u") == indicator.token:
        return HttpResponse(status=204)
    template = PROGRESS_TMPL if request.GET.get("part") == "progress" else INDICATOR_TMPL
    with_records = template is PROGRESS_TMPL and request.GET.get("records") == "1"
    context = {"shop": shop, "indicator": indicator, "with_records": with_records}
    body = template.render(context, request)
    if with_records:
        counts = record_counts_get(shop=shop, indicator=indicator)
        body += RECORDS_TMPL.render({"counts": counts, "oob": True}, request)
    toast = (
        _finished_toast(request, shop=shop, watched=request.GET.get("watch", ""))
        if template is INDICATOR_TMPL
        else ""
    )
    response = HttpResponse(body + toast)
    if toast:
        # Parts of the page that show synced data (the dashboard's record counts) refresh on this.
        response["HX-Trigger"] = "sync-finished"
    return response


@login_required_htmx
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    """Sync Now: through the guard, so pressing it during a run shows that run and starts nothing."""
    shop = get_required_shop_for_user(request)
    try:
        result = ensure_sync(shop=shop, triggered_by=_trigger(request), **_sync_request(request, shop=shop))
    except SyncInputError as exc:
        level, text = "error", str(exc)
    else:
        session = result.session
        if result.created:
            level, text = "info", f"Sync started ({session.get_kind_display().lower()})."
        else:
            level, text = (
                "info",
                f"A sync is already running (#{session.pk}, started {session.created_at:%H:%M}): showing it.",
            )
    if not request.htmx:
        messages.add_message(request, messages.ERROR if level == "error" else messages.INFO, text)
        return redirect(_safe_next(request))
    indicator = sync_indicator_get(shop=shop)
    body = INDICATOR_TMPL.render({"shop": shop, "indicator": indicator}, request)
    body += TOAST_TMPL.render({"toast_level": level, "toast_text": text, "shop": shop}, request)
    response = HttpResponse(body)
    # Panels on the page listen for this and start polling the run.
    response["HX-Trigger"] = "sync-started"
    return response


def _trigger(request: HttpRequest) -> str:
    """The nav's Sync Now, or the failure panel's "Retry now" (the same guarded start, told apart in
    the history)."""
    if request.POST.get("trigger") == SyncSession.Trigger.RETRY:
        return SyncSession.Trigger.RETRY
    return SyncSession.Trigger.BUTTON


def _sync_request(request: HttpRequest, *, shop: Shop) -> dict:
    """Sync Now catches up; "Retry now" on a failed run starts that run's kind and scope again (its
    jobs pick up the failed run's checkpoints)."""
    session_id = request.POST.get("session", "")
    failed = sync_session_for_shop(shop=shop, session_id=int(session_id) if session_id.isdigit() else None)
    if failed is None or failed.status != SyncSession.Status.FAILED:
        return {"kind": sync_now_kind(shop=shop)}
    return {"kind": failed.kind, "resources": failed.resources or None, "days": failed.days,
            "stale_after_mins": failed.stale_after_mins}  # fmt: skip


def _finished_toast(request: HttpRequest, *, shop: Shop, watched: str) -> str:
    session = sync_session_for_shop(shop=shop, session_id=int(watched) if watched.isdigit() else None)
    if session is None or session.status not in TERMINAL_STATUSES:
        return ""
    if session.status == SyncSession.Status.COMPLETED:
        level, text = "success", sync_completion_summary(session=session)
    elif session.status == SyncSession.Status.FAILED:
        level, text = "error", f"Sync failed. {sync_failure_explain(session=session).headline}"
    else:
        level, text = "info", "Sync cancelled."
    context = {"toast_level": level, "toast_text": text, "shop": shop, "toast_failed": level == "error"}
    return TOAST_TMPL.render(context, request)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "dashboard-home"
