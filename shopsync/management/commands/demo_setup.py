"""`manage.py demo_setup`: connect the simulated demo store and create the demo login.

Run by `bin/demo` (the Procfile's web process, `--serve HOST:PORT`, which then runs the web server in
this process and prints the address and login once it answers). Idempotent: a second run reuses the
shop, the user and the webhook subscriptions, and starts no second initial sync:

- never synced (fresh database): nothing starts here. As for any shop connected without OAuth, the
  initial sync starts when staff first open the dashboard ("auto on first run"), so a newcomer
  watches it live from the start (the simulator paces its exports, `DEMO_EXPORT_RATE`);
- its initial sync failed or was cancelled by a previous run: the initial sync starts again;
- synced, and the simulator kept its store: an incremental sync catches up on what changed meanwhile;
- synced, but the simulator generated its store afresh (its data dir was deleted, or DEMO_ORDERS etc.
  changed): a full sync makes the copy match the new store (records gone from it are soft-deleted).

Sessions a previous `bin/demo` left running or queued (its worker stopped with it; the filesystem
broker loses a message a worker had taken) are resumed at once rather than after the watchdog's
heartbeat timeout.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shopsync.models import SyncSession
from shopsync.models.sync import SyncKind
from shopsync.selectors import shop_is_synced, sync_session_active
from shopsync.services.install import shop_webhooks_register
from shopsync.services.sync import ensure_sync, shop_connect, sync_sessions_resume_orphaned
from shopsync.shopify.errors import ShopifyError


class Command(BaseCommand):
    help = "Connect the demo shop on the simulator and create the demo login (the dashboard starts the first sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", default=os.environ.get("DEMO_SHOP", "demo.myshopify.com"))
        parser.add_argument(
            "--api-url", default=os.environ.get("SHOPSYNC_DEMO_API_URL", "http://127.0.0.1:8001")
        )
        parser.add_argument("--token", default=os.environ.get("DEMO_TOKEN", "shpat_demo_token"))
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "demo"))
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo-password"))
        parser.add_argument("--app-url", default=os.environ.get("SHOPIFY_APP_URL", settings.SHOPIFY_APP_URL))
        parser.add_argument("--wait-seconds", type=int, default=900)
        parser.add_argument(
            "--serve",
            metavar="HOST:PORT",
            default="",
            help="then run the web server here (runserver, no reloader) and print the login once it answers",
        )

    def handle(self, *args, **options) -> None:
        app_url = options["app_url"].rstrip("/")
        sim = self._wait_for_simulator(options["api_url"], options["shop"], options["wait_seconds"])
        shop, _ = shop_connect(domain=options["shop"], api_url=options["api_url"], token=options["token"])
        user = self._demo_user(options["username"], options["password"])
        shop.members.add(user)
        self._register_webhooks(shop, app_url)
        self._resume_left_over(shop)
        sync_note = self._start_sync(shop, regenerated=bool(sim.get("generation")))
        counts = sim.get("counts") or {}
        banner = (
            "\n"
            "  ============================================================================\n"
            f"   shopsync demo is running:   open {app_url}/\n"
            f"   login:                      {options['username']} / {options['password']}\n"
            f"   store:                      {shop.domain} (simulated at {options['api_url']}/_sim/shops;\n"
            f"                               {counts.get('orders', '?')} orders, "
            f"{counts.get('customers', '?')} customers, {counts.get('products', '?')} products)\n"
            f"   sync:                       {sync_note}\n"
            f"   progress:                   {app_url}/sync/status\n"
            "   Ctrl-C stops everything.\n"
            "  ============================================================================\n"
        )
        if not options["serve"]:
            self.stdout.write(self.style.SUCCESS(banner))
            return
        self._serve(options["serve"], app_url, banner)

    # -- the simulator ------------------------------------------------------------------------------
    def _wait_for_simulator(self, api_url: str, domain: str, wait_seconds: int) -> dict:
        """Wait until the simulator serves the demo shop (generating 50,000 orders takes a while);
        returns its info (`counts`, `generation` non-null when it generated the store at this start)."""
        deadline = time.monotonic() + wait_seconds
        self.stdout.write(f"Waiting for the simulated store at {api_url} (generating it takes a moment) ...")
        last_error = ""
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"{api_url}/_sim/shops", timeout=5)
                if response.ok:
                    info = next((s for s in response.json()["shops"] if s["domain"] == domain), None)
                    if info is None:
                        raise CommandError(f"The simulator at {api_url} does not serve {domain}.")
                    if info.get("api_secret") != settings.SHOPIFY_API_SECRET:
                        raise CommandError(
                            f"The simulator at {api_url} signs webhooks with another api secret than "
                            "SHOPIFY_API_SECRET: every webhook would be refused. Start both with the same one."
                        )
                    return info
                last_error = f"HTTP {response.status_code}"
            except (requests.RequestException, ValueError, KeyError) as exc:
                last_error = str(exc)
            time.sleep(1)
        raise CommandError(
            f"The simulator at {api_url} did not answer within {wait_seconds} s ({last_error})."
        )

    # -- the login ---------------------------------------------------------------------------------
    def _demo_user(self, username: str, password: str):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(password):
            user.set_password(password)  # the login we print must work
            user.save(update_fields=["password"] if not created else None)
        return user

    # -- webhooks ----------------------------------------------------------------------------------
    def _register_webhooks(self, shop, app_url: str) -> None:
        try:
            results = shop_webhooks_register(shop=shop, callback_url=f"{app_url}/webhooks/shopify/")
        except ShopifyError as exc:  # the demo still works without webhooks: incremental syncs catch up
            self.stderr.write(f"Could not register webhooks: {exc}")
            return
        self.stdout.write(f"Webhooks: {len(results)} topics subscribed to {app_url}/webhooks/shopify/")

    # -- syncs -------------------------------------------------------------------------------------
    def _resume_left_over(self, shop) -> None:
        """Sessions a previous bin/demo left active: their worker stopped with that run, and the
        filesystem broker drops a message once a worker has taken it, so resume them now (the
        watchdog would only after the heartbeat timeout). Each resumes from its checkpoints; an export
        the restarted simulator no longer has is replaced by the engine itself."""
        started = os.environ.get("SHOPSYNC_DEMO_STARTED_AT", "")
        if not started:
            return
        this_run = datetime.fromtimestamp(int(started), tz=UTC)
        report = sync_sessions_resume_orphaned(before=this_run, shop=shop)
        for session_id in [*report.resumed, *report.redispatched]:
            self.stdout.write(f"Resuming sync session {session_id} left by the previous run.")

    def _start_sync(self, shop, *, regenerated: bool) -> str:
        if not shop_is_synced(shop=shop):
            active = sync_session_active(shop=shop)
            if active is not None:
                return f"initial sync running (session {active.pk}); watch it on the dashboard"
            if not SyncSession.objects.filter(shop=shop).exists():
                return "the initial sync starts when you open the dashboard (watch its live count there)"
            result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=SyncSession.Trigger.INSTALL)
            return (
                f"initial sync started again (session {result.session.pk}); the previous one did not complete"
            )
        if regenerated:
            # The simulator made a new store: the copy must follow it, deletions included.
            result = ensure_sync(shop=shop, kind=SyncKind.FULL, triggered_by=SyncSession.Trigger.RECONNECT)
            return f"the simulator generated a new store: full sync (session {result.session.pk})"
        result = ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=SyncSession.Trigger.RECONNECT)
        return f"already synced; catching up with an incremental sync (session {result.session.pk})"

    # -- the web server ----------------------------------------------------------------------------
    def _serve(self, addrport: str, app_url: str, banner: str) -> None:
        port = addrport.rsplit(":", 1)[-1]

        def announce() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    requests.get(f"http://127.0.0.1:{port}/login/", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.3)
            self.stdout.write(self.style.SUCCESS(banner))
            self.stdout.flush()

        threading.Thread(target=announce, daemon=True, name="demo-banner").start()
        # Static files too (DEBUG is off): this is the demo's only web server.
        call_command("runserver", addrport, use_reloader=False, insecure_serving=True, skip_checks=True)
