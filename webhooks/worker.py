"""The outbox relay inside the Celery worker: a consumer bootstep running `webhook_relay_run` in a
thread of every worker that consumes the `webhooks` queue.

Why there: wherever deliveries can be processed, they are published, with no extra process to
deploy or forget (the demo, the test harnesses and production all start workers already). Several
workers mean several relays, which is safe: a claim skips rows another relay has locked. A consumer
step is stopped when the broker connection is lost and started again once it is back, and so is the
relay. Switch it off with WEBHOOK_RELAY_IN_WORKER=false and run `manage.py webhook_relay` instead.

This module is imported by `config.celery` before Django is set up: Django imports stay inside.
"""

from __future__ import annotations

import logging
import threading

from celery import bootsteps

logger = logging.getLogger(__name__)

QUEUE = "webhooks"


class WebhookRelayStep(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, parent) -> None:
        from django.conf import settings

        consumed = set(parent.app.amqp.queues.consume_from or parent.app.amqp.queues)
        if not settings.WEBHOOK_RELAY_IN_WORKER or QUEUE not in consumed:
            return
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-relay", daemon=True)
        self._thread.start()
        logger.info("webhook relay started in this worker")

    def stop(self, parent) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=10)

    def shutdown(self, parent) -> None:
        self.stop(parent)

    def _run(self) -> None:
        from webhooks.services.relaying import webhook_relay_run

        webhook_relay_run(stop=self._stop)
