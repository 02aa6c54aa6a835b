"""Sessions refused a slot are dispatched again round-robin between shops: the shop served longest
ago first, not the oldest session first."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from shopsync.enqueue import TaskMessage
from shopsync.models import SyncAttempt, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.services.sync.guard import sessions_dispatch_waiting
from tests.factories import ShopFactory, SyncSessionFactory

Status = SyncSession.Status


def _served(shop, *, minutes_ago: int) -> None:
    """The shop had a turn `minutes_ago` (an attempt of a finished session of it)."""
    finished = SyncSessionFactory(shop=shop, kind=SyncKind.INCREMENTAL, status=Status.COMPLETED)
    attempt = SyncAttempt.objects.create(session=finished, task_id="earlier")
    SyncAttempt.objects.filter(pk=attempt.pk).update(
        started_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def _waiting(shop, *, kind=SyncKind.INCREMENTAL, minutes_ago: int) -> SyncSession:
    session = SyncSessionFactory(shop=shop, kind=kind, waiting_for_slot=True, stage=SyncSession.Stage.WAITING)
    SyncSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return session


def test_the_shop_served_longest_ago_is_dispatched_first_and_a_never_served_one_before_it(
    db, django_capture_on_commit_callbacks
):
    # given: the busy shop's session waits longest, but the busy shop just had a turn
    busy, served_long_ago, never_served = ShopFactory(), ShopFactory(), ShopFactory()
    _served(busy, minutes_ago=1)
    _served(served_long_ago, minutes_ago=30)
    busy_waiting = _waiting(busy, kind=SyncKind.INITIAL, minutes_ago=20)
    long_ago_waiting = _waiting(served_long_ago, minutes_ago=5)
    never_waiting = _waiting(never_served, minutes_ago=2)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatched = sessions_dispatch_waiting()
    # then
    assert dispatched == 3
    assert [message.args for message in callbacks] == [
        (never_waiting.pk,), (long_ago_waiting.pk,), (busy_waiting.pk,),
    ]  # fmt: skip
    assert [message.options for message in callbacks] == [{"queue": "sync"}, {"queue": "sync"},
                                                          {"queue": "sync_backfill"}]  # fmt: skip
    assert all(isinstance(message, TaskMessage) for message in callbacks)
    assert not SyncSession.objects.filter(waiting_for_slot=True).exists()


def test_within_one_shop_the_oldest_waiting_session_goes_first(db, django_capture_on_commit_callbacks):
    # given
    shop = ShopFactory()
    newer = _waiting(shop, kind=SyncKind.INCREMENTAL, minutes_ago=1)
    older = _waiting(shop, kind=SyncKind.UPDATE, minutes_ago=9)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sessions_dispatch_waiting()
    # then
    assert [message.args for message in callbacks] == [(older.pk,), (newer.pk,)]


def test_sessions_not_waiting_for_a_slot_are_not_dispatched(db, django_capture_on_commit_callbacks):
    # given
    SyncSessionFactory(shop=ShopFactory(), kind=SyncKind.INCREMENTAL)
    SyncSessionFactory(
        shop=ShopFactory(), kind=SyncKind.INCREMENTAL, status=Status.RUNNING, waiting_for_slot=True
    )
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatched = sessions_dispatch_waiting()
    # then
    assert (dispatched, callbacks) == (0, [])
