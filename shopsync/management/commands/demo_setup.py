"""`manage.py demo_setup`: connect the simulated demo store, create the demo login, start the first sync.

Run by `bin/demo` (the Procfile's web process) before the web server starts. Idempotent: a second run
reuses the shop and the user, and starts no sync if one already completed or is running.
"""

from __future__ import annotations

import os
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shopsync.models import SyncSession
from shopsync.selectors import shop_is_synced
from shopsync.services.sync import ensure_sync, shop_connect
from shopsync.shopify.errors import ShopifyError
from webhooks.services.registration import webhook_subscriptions_register


class Command(BaseCommand):
    help = "Connect the demo shop on the simulator, create the demo login and start the initial sync."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", default=os.environ.get("DEMO_SHOP", "demo.myshopify.com"))
        parser.add_argument(
            "--api-url", default=os.environ.get("SHOPSYNC_DEMO_API_URL", "http://127.0.0.1:8001")
        )
        parser.add_argument("--token", default=os.environ.get("DEMO_TOKEN", "shpat_demo_token"))
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "demo"))
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "demo-password"))
        parser.add_argument("--app-url", default=os.environ.get("SHOPIFY_APP_URL", settings.SHOPIFY_APP_URL))
        parser.add_argument("--wait-seconds", type=int, default=600)

    def handle(self, *args, **options) -> None:
        self._wait_for_simulator(options["api_url"], options["wait_seconds"])
        shop, _ = shop_connect(domain=options["shop"], api_url=options["api_url"], token=options["token"])
        user = self._demo_user(options["username"], options["password"])
        shop.members.add(user)
        self._register_webhooks(shop, options["app_url"])
        self._start_first_sync(shop)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nshopsync is starting at {options['app_url']}/\n"
                f"  login: {options['username']} / {options['password']}\n"
                f"  store: {shop.domain} (simulated at {options['api_url']})\n"
            )
        )

    def _wait_for_simulator(self, api_url: str, wait_seconds: int) -> None:
        deadline = time.monotonic() + wait_seconds
        self.stdout.write(f"Waiting for the simulated store at {api_url} ...")
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{api_url}/_sim/shops", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise CommandError(f"The simulator at {api_url} did not answer within {wait_seconds} s.")

    def _demo_user(self, username: str, password: str):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        return user

    def _register_webhooks(self, shop, app_url: str) -> None:
        try:
            webhook_subscriptions_register(shop=shop, callback_url=f"{app_url}/webhooks/shopify/")
        except ShopifyError as exc:  # the demo still works without webhooks: incremental syncs catch up
            self.stderr.write(f"Could not register webhooks: {exc}")

    def _start_first_sync(self, shop) -> None:
        if shop_is_synced(shop=shop):
            return
        result = ensure_sync(shop=shop, kind="initial", triggered_by=SyncSession.Trigger.INSTALL)
        verb = "Started" if result.created else "Following"
        self.stdout.write(f"{verb} the initial sync (session {result.session.pk}).")
