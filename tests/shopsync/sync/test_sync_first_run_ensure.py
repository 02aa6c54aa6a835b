from __future__ import annotations

import pytest
from django.utils import timezone

from shopsync.dashboard_selectors import sync_trigger_phrase
from shopsync.models import SyncSession
from shopsync.services.sync import ensure_sync, sync_first_run_ensure
from tests.factories import SyncSessionFactory

Status = SyncSession.Status
Trigger = SyncSession.Trigger


def test_a_shop_never_synced_gets_its_initial_sync_enqueued_once(shop, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sync_first_run_ensure(shop=shop)
    # then
    assert result is not None and result.created is True
    session = result.session
    assert (session.kind, session.status, session.triggered_by) == (
        "initial",
        Status.QUEUED,
        Trigger.FIRST_RUN,
    )
    assert len(callbacks) == 1


def test_a_second_call_gets_the_running_initial_sync_back(shop, django_capture_on_commit_callbacks):
    # given
    first = sync_first_run_ensure(shop=shop)
    assert first is not None
    now = timezone.now()
    SyncSession.objects.filter(pk=first.session.pk).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now
    )
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = sync_first_run_ensure(shop=shop)
    # then
    assert again is not None
    assert (again.session.pk, again.created) == (first.session.pk, False)
    assert callbacks == []
    assert SyncSession.objects.filter(shop=shop).count() == 1


def test_an_initial_sync_started_another_way_is_returned_not_doubled(shop):
    # given
    button = ensure_sync(shop=shop, kind="initial", triggered_by=Trigger.BUTTON).session
    # when
    result = sync_first_run_ensure(shop=shop)
    # then
    assert result is not None
    assert (result.session.pk, result.created) == (button.pk, False)


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
@pytest.mark.parametrize("kind", ["initial", "full"])
def test_nothing_starts_once_a_backfill_ended(shop, kind, status, django_capture_on_commit_callbacks):
    # given
    SyncSessionFactory(shop=shop, kind=kind, status=status)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sync_first_run_ensure(shop=shop)
    # then
    assert result is None
    assert callbacks == []
    assert SyncSession.objects.filter(shop=shop).count() == 1


def test_nothing_starts_while_another_kind_of_sync_runs(shop, django_capture_on_commit_callbacks):
    # given: a shop some other trigger is already syncing incrementally
    SyncSessionFactory(shop=shop, kind="incremental", status=Status.RUNNING)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sync_first_run_ensure(shop=shop)
    # then
    assert result is None
    assert callbacks == []
    assert list(SyncSession.objects.filter(shop=shop).values_list("kind", flat=True)) == ["incremental"]


def test_nothing_starts_for_a_shop_that_uninstalled_the_app(shop):
    # given
    shop.status = "uninstalled"
    shop.save()
    # when
    result = sync_first_run_ensure(shop=shop)
    # then
    assert result is None
    assert SyncSession.objects.filter(shop=shop).count() == 0


def test_the_first_run_reads_as_started_on_the_first_visit(shop):
    # when
    result = sync_first_run_ensure(shop=shop)
    # then
    assert result is not None
    assert sync_trigger_phrase(session=result.session) == "started automatically on your first visit"
    assert result.session.get_triggered_by_display() == "First visit to the dashboard"


@pytest.mark.parametrize("status", [Status.RUNNING, Status.COMPLETED, Status.FAILED])
def test_nothing_starts_once_another_kind_of_sync_was_started(
    shop, status, django_capture_on_commit_callbacks
):
    # given
    SyncSessionFactory(shop=shop, kind="incremental", status=status)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sync_first_run_ensure(shop=shop)
    # then
    assert result is None
    assert callbacks == []
    assert list(SyncSession.objects.filter(shop=shop).values_list("kind", flat=True)) == ["incremental"]
