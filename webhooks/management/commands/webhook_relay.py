"""`manage.py webhook_relay`: the outbox relay as its own process (when WEBHOOK_RELAY_IN_WORKER is
off, or to run it beside the web servers). Stops on SIGINT/SIGTERM after the current pass."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from webhooks.services.relaying import webhook_relay_run


class Command(BaseCommand):
    help = "Publish stored webhook deliveries to the broker in batches until stopped."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--poll-seconds", type=float, default=None, help="idle poll interval")

    def handle(self, *args, poll_seconds: float | None, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("webhook relay running")
        webhook_relay_run(stop=stop, poll_seconds=poll_seconds)
        self.stdout.write("webhook relay stopped")
