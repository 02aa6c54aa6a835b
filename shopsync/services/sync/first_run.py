"""Auto on first run: a connected shop that has never synced starts its initial sync when staff first
open its dashboard (a shop connected by `connect_shop` or `bin/demo`; an OAuth install starts it at
once), so the first thing staff see is that sync's live progress."""

from __future__ import annotations

from shopsync.models import Shop, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, SyncKind
from shopsync.services.sync.guard import EnsureResult, ensure_sync


def sync_first_run_ensure(*, shop: Shop) -> EnsureResult | None:
    """The shop's initial sync if it has never synced: started now, or the one already running
    (`ensure_sync`, so any number of first visits start one). None when there is nothing to start:
    the shop uninstalled the app, or it has any other sync session (a backfill that completed,
    failed or was cancelled, an incremental run in progress)."""
    if not shop.is_installed:
        return None
    # Any session but an initial sync in progress (an ended backfill, a running incremental) means
    # this is not the first run: a failed or cancelled backfill stays on the page for staff to retry,
    # and a shop another trigger is already syncing is left to it.
    others = SyncSession.objects.filter(shop=shop).exclude(kind=SyncKind.INITIAL, status__in=ACTIVE_STATUSES)
    if others.exists():
        return None
    return ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=SyncSession.Trigger.INSTALL)
