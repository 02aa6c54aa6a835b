"""The Celery app. Every task is a DjangoTask, so `delay_on_commit` is available everywhere."""

from __future__ import annotations

import os

from celery import Celery, signals
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("shopsync", task_cls=DjangoTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every worker consuming the `webhooks` queue also runs the webhook outbox relay (webhooks/worker.py).
from webhooks.worker import WebhookRelayStep  # noqa: E402

app.steps["consumer"].add(WebhookRelayStep)

# A worker consuming `sync` resumes, once ready, the sessions its node's previous process left running
# (shopsync/worker.py; the logic is the service `sync_worker_started`).
from shopsync.worker import on_worker_ready  # noqa: E402

signals.worker_ready.connect(on_worker_ready, weak=False)
