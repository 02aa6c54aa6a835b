"""The Celery app. Every task is a DjangoTask, so `delay_on_commit` is available everywhere."""

from __future__ import annotations

import os

from celery import Celery, signals
from celery.contrib.django.task import DjangoTask

# Production unless told otherwise, like config.wsgi: a worker or beat started without real secrets
# must not run (config/settings/production.py); the demo and the tests name their settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("shopsync", task_cls=DjangoTask)
# force=True reads the settings now, so importing the app fails as loading config.wsgi does, rather
# than on the first task or publish.
app.config_from_object("django.conf:settings", namespace="CELERY", force=True)
app.autodiscover_tasks()

# Every worker consuming the `webhooks` queue also runs the webhook outbox relay (webhooks/worker.py).
from webhooks.worker import WebhookRelayStep  # noqa: E402

app.steps["consumer"].add(WebhookRelayStep)

# A worker consuming `sync` resumes, once ready, the sessions its node's previous process left running
# (shopsync/worker.py; the logic is the service `sync_worker_started`).
from shopsync.worker import on_worker_ready  # noqa: E402

signals.worker_ready.connect(on_worker_ready, weak=False)
