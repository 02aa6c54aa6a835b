"""A sync run goes to its kind's queue (shopsync/queues.py): short runs and backfills apart."""

from __future__ import annotations

import base64
import json

import pytest
import redis
from django.conf import settings

from shopsync.enqueue import TaskMessage
from shopsync.models import SyncSession
from shopsync.models.sync import SyncKind
from shopsync.queues import SYNC_QUEUES, sync_queue_for_kind
from shopsync.services.sync import ensure_sync
from shopsync.services.sync.guard import sync_queue_backlog


@pytest.fixture
def sync_queues():
    """Both sync queues of the test Redis db, emptied before and after: `.read()` gives
    {queue: [session ids]}, oldest first."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*SYNC_QUEUES)

    def read() -> dict[str, list[int]]:
        return {
            queue: [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0]
                    for raw in reversed(client.lrange(queue, 0, -1))]  # kombu LPUSHes
            for queue in SYNC_QUEUES
        }  # fmt: skip

    yield read
    client.delete(*SYNC_QUEUES)
    client.close()


@pytest.mark.parametrize(
    ("kind", "queue"),
    [
        (SyncKind.INITIAL, "sync_backfill"),
        (SyncKind.FULL, "sync_backfill"),
        (SyncKind.POPULATE, "sync_backfill"),
        (SyncKind.INCREMENTAL, "sync"),
        (SyncKind.UPDATE, "sync"),
    ],
)
def test_a_new_session_is_published_to_its_kinds_queue(shop, django_capture_on_commit_callbacks, kind, queue):
    # given
    options = {"stale_after_mins": 60} if kind == SyncKind.UPDATE else {}
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ensure_sync(shop=shop, kind=kind, triggered_by=SyncSession.Trigger.API, **options)
    # then
    assert sync_queue_for_kind(kind) == queue
    assert callbacks == [
        TaskMessage("shopsync.tasks.sync_session_run_task", (result.session.pk,), {"queue": queue}, True)
    ]


@pytest.mark.django_db(transaction=True)
def test_backfills_and_incrementals_land_on_separate_queues_of_the_broker(sync_queues):
    # given
    from tests.factories import ShopFactory

    backfilling, quiet = ShopFactory(), ShopFactory()
    # when
    backfill = ensure_sync(shop=backfilling, kind=SyncKind.INITIAL, triggered_by=SyncSession.Trigger.INSTALL)
    incremental = ensure_sync(shop=quiet, kind=SyncKind.INCREMENTAL, triggered_by=SyncSession.Trigger.BEAT)
    # then
    assert sync_queues() == {"sync": [incremental.session.pk], "sync_backfill": [backfill.session.pk]}
    assert (sync_queue_backlog(queue="sync"), sync_queue_backlog(queue="sync_backfill")) == (1, 1)
