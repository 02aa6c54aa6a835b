"""`manage.py sync --shop DOMAIN --mode MODE [--resources orders,customers] [--days N]
[--stale-after-mins N] [--wait | --inline] [--clear]`.

Every path goes through the same guard (`ensure_sync`) as the web and the schedule:
- default: queue the run (or find the active one) and print its id;
- `--wait`: queue it, then follow it with a live progress bar until it ends;
- `--inline`: run it in this process (no worker needed), with the same services and checkpoints;
- `--clear`: clear the shop's stuck active run of this mode (admins).
"""

from __future__ import annotations

import argparse
import threading
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from shopsync.models import Shop, SyncSession
from shopsync.models.sync import ACTIVE_STATUSES, SyncKind
from shopsync.resources import DECLARATIONS
from shopsync.selectors import SyncStatus, sync_status_get
from shopsync.services.sync import SyncInputError, ensure_sync, sync_session_clear, sync_session_run

BAR_WIDTH = 24


class Command(BaseCommand):
    help = "Start (or follow) a sync of one shop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="NAME.myshopify.com")
        parser.add_argument("--mode", default=SyncKind.INCREMENTAL, choices=SyncKind.values)
        parser.add_argument(
            "--resources", default=",".join(DECLARATIONS), help="comma-separated (default: every resource)"
        )
        parser.add_argument(
            "--days", type=int, default=None, help="populate: only records created in the last N days"
        )
        parser.add_argument(
            "--stale-after-mins", type=int, default=None, help="update: records changed in the last N minutes"
        )
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--wait", action="store_true", help="queue it and follow it to the end")
        how.add_argument("--inline", action="store_true", help="run it in this process")
        how.add_argument("--clear", action="store_true", help="clear the active (stuck) run of this mode")
        parser.add_argument("--poll", type=float, default=1.0, help=argparse.SUPPRESS)

    def handle(self, *args, **options) -> None:
        shop = Shop.objects.filter(domain=options["shop"].strip().lower()).first()
        if shop is None:
            raise CommandError(f"No shop {options['shop']}; register it with connect_shop first.")
        if options["clear"]:
            return self._clear(shop, options["mode"])
        try:
            result = ensure_sync(
                shop=shop,
                kind=options["mode"],
                resources=options["resources"].split(","),
                days=options["days"],
                stale_after_mins=options["stale_after_mins"],
                triggered_by=SyncSession.Trigger.CLI,
                enqueue=not options["inline"],
            )
        except SyncInputError as exc:
            raise CommandError(str(exc)) from exc
        session = result.session
        verb = "Started" if result.created else "Joined the active"
        self.stdout.write(f"{verb} {session.kind} sync of {shop.domain}: session {session.pk}.")
        if options["inline"] and session.status == SyncSession.Status.QUEUED:
            # Ours to run (or a queued one no worker picked up yet: whoever claims it first runs it).
            self._run_inline(session, poll=options["poll"])
        elif options["wait"] or options["inline"]:
            self._follow(session, poll=options["poll"])
        else:
            return None
        session.refresh_from_db()
        self._summary(session)
        if session.status != SyncSession.Status.COMPLETED:
            raise CommandError(f"Sync {session.status}: {session.error or session.message}")
        return None

    def _clear(self, shop: Shop, kind: str) -> None:
        session = SyncSession.objects.filter(shop=shop, kind=kind, status__in=ACTIVE_STATUSES).first()
        if session is None:
            self.stdout.write(f"No active {kind} sync for {shop.domain}.")
            return
        sync_session_clear(session=session, reason="cleared from the command line")
        self.stdout.write(f"Cleared session {session.pk}: {session.status}.")

    def _run_inline(self, session: SyncSession, *, poll: float) -> None:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                sync_session_run(session_id=session.pk, task_id="cli-inline")
            except BaseException as exc:  # reported below, after the progress bar stops
                errors.append(exc)
            finally:
                close_old_connections()

        worker = threading.Thread(target=run, name=f"sync-session-{session.pk}", daemon=True)
        worker.start()
        self._follow(session, poll=poll, alive=worker.is_alive)
        worker.join()
        if errors:
            raise CommandError(f"Sync raised {type(errors[0]).__name__}: {errors[0]}") from errors[0]

    def _follow(self, session: SyncSession, *, poll: float, alive=None) -> None:
        tty = self.stdout.isatty()
        last = ""
        while True:
            session.refresh_from_db()
            line = progress_line(sync_status_get(shop=session.shop, session=session))
            if line != last:
                self.stdout.write(f"\r{line}\x1b[K" if tty else line, ending="" if tty else "\n")
                self.stdout.flush()
                last = line
            if session.status not in ACTIVE_STATUSES or (alive is not None and not alive()):
                break
            time.sleep(poll)
        if tty:
            self.stdout.write("")

    def _summary(self, session: SyncSession) -> None:
        style = self.style.SUCCESS if session.status == SyncSession.Status.COMPLETED else self.style.ERROR
        duration = session.duration.total_seconds() if session.duration else 0.0
        self.stdout.write(style(f"{session.status} in {duration:.1f}s: {session.message}"))
        for job in session.jobs.all():
            self.stdout.write(
                f"  {job.resource:<10} synced {job.synced:>9,}  created {job.created:>9,}  updated {job.updated:>8,}  "
                f"skipped {job.skipped:>8,}  failed {job.failed:>6,}  deleted {job.deleted:>6,}  "
                f"api calls {job.api_calls:>5,}"
            )
            for failure in job.failures[:10]:
                self.stdout.write(f"    failed: {failure}")


def progress_line(status: SyncStatus) -> str:
    parts = [f"[{status.status}/{status.stage}]"]
    for resource, progress in status.progress.items():
        if progress.total:
            done = min(progress.synced / progress.total, 1.0)
            bar = "#" * int(done * BAR_WIDTH) + "." * (BAR_WIDTH - int(done * BAR_WIDTH))
            parts.append(f"{resource} [{bar}] {progress.synced:,}/{progress.total:,}")
        else:
            parts.append(f"{resource} {progress.synced:,}")
    return "  ".join(parts)
