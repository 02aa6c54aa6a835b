"""Services enqueue tasks by name (shopsync/enqueue.py): after commit, on the routed queue, and only
names that are registered tasks."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest
import redis
from django.conf import settings

from config.celery import app as celery_app
from shopsync.enqueue import TaskMessage, task_enqueue_on_commit, task_send
from shopsync.models import SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync import ensure_sync

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("shopsync", "webhooks", "reconciliation")


@pytest.fixture
def sync_queue_messages():
    """Reads, then empties, the `sync` queue of the test Redis db: (task name, args), oldest first."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("sync")

    def read() -> list[tuple[str, list]]:
        messages = [json.loads(raw) for raw in reversed(client.lrange("sync", 0, -1))]  # kombu LPUSHes
        return [
            (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0])
            for message in messages
        ]

    yield read
    client.delete("sync")


def test_a_message_enqueued_in_a_transaction_waits_for_the_commit(db, django_capture_on_commit_callbacks):
    # given
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task_enqueue_on_commit("shopsync.tasks.sync_session_run_task", 41)
    # then
    assert callbacks == [TaskMessage("shopsync.tasks.sync_session_run_task", (41,))]


def test_a_committed_message_is_published_on_the_queue_its_route_names(
    db, django_capture_on_commit_callbacks, sync_queue_messages
):
    # given
    # when
    with django_capture_on_commit_callbacks(execute=True):
        task_enqueue_on_commit("shopsync.tasks.sync_session_run_task", 42)
        published_before_commit = sync_queue_messages()
    # then
    assert published_before_commit == []
    assert sync_queue_messages() == [("shopsync.tasks.sync_session_run_task", [42])]


def test_task_send_publishes_at_once(sync_queue_messages):
    # given
    # when
    task_send("shopsync.tasks.sync_session_run_task", 43, retry=False)
    # then
    assert sync_queue_messages() == [("shopsync.tasks.sync_session_run_task", [43])]


def test_a_new_session_enqueues_its_run_task_by_name_with_its_id(shop, django_capture_on_commit_callbacks):
    # given
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=SyncSession.Trigger.INSTALL)
    # then
    assert callbacks == [
        TaskMessage(
            "shopsync.tasks.sync_session_run_task", (result.session.pk,), {"queue": "sync_backfill"}, True
        )
    ]


def _enqueued_names() -> list[tuple[str, int, object]]:
    """(file, line, first argument) of every task_enqueue_on_commit / task_send call in the product."""
    calls = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("task_enqueue_on_commit", "task_send")
                ):
                    first = node.args[0] if node.args else None
                    name = (
                        first.value if isinstance(first, ast.Constant) else ast.dump(first) if first else None
                    )
                    calls.append((str(path.relative_to(ROOT)), node.lineno, name))
    return calls


def test_every_task_the_product_enqueues_by_name_is_a_registered_task():
    # given
    celery_app.loader.import_default_modules()  # the worker's autodiscovery: every app's tasks
    calls = _enqueued_names()
    # when
    unknown = [call for call in calls if call[2] not in celery_app.tasks]
    # then
    assert unknown == []
    assert {name for _, _, name in calls} == {
        "shopsync.tasks.sync_session_run_task",
        "reconciliation.tasks.reconciliation_report_run_task",
        "reconciliation.tasks.alert_incident_notify_task",
        "webhooks.tasks.webhook_logs_process_task",
        "webhooks.tasks.webhook_log_process_task",
        "webhooks.tasks.webhook_subscriptions_register_task",
    }
