"""Auto on first run: a connected shop that has never synced starts its initial sync when staff first
open its dashboard (a shop connected by `connect_shop` or `bin/demo`; an OAuth install starts it at
once), so the first thing staff see is that sync's live progress."""

from __future__ import annotations

from shopsync.models import Shop, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, BACKFILL_KINDS, SyncKind
from shopsync.services.sync.guard import EnsureResult, ensure_sync


def sync_first_run_ensure(*, shop: Shop) -> EnsureResult | None:
    """The shop's initial sync if nothing ever synced it: started now, or the one already running
    (`ensure_sync`, so any number of first visits start one). None when there is nothing to start:
    the shop uninstalled the app, or some run other than an active backfill exists or existed (a
    completed backfill: it is synced; a failed or cancelled one: staff chose to stop it or see why it
    failed, and retry from the page; any other run: someone is already syncing it their own way)."""
    if not shop.is_installed:
        return None
    other_runs = SyncSession.objects.filter(shop=shop).exclude(
        kind__in=BACKFILL_KINDS, status__in=ACTIVE_STATUSES
    )
    if other_runs.exists():
        return None
    return ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=SyncSession.Trigger.FIRST_RUN)
