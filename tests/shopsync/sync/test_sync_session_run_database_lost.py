"""A run whose database connection is cut (pg_terminate_backend, as a database restart would) while it
talks to Shopify: it reconnects and resumes from its checkpoints, and is never failed for it."""

from __future__ import annotations

import pytest
from django.db import connection, connections

from shopsync.models import Customer, SyncSession
from shopsync.services.sync import ensure_sync, sync_session_run

pytestmark = pytest.mark.django_db(transaction=True)


def _cut_the_runs_connection_on_count_queries(fake, *, times: int) -> list[int]:
    """While the run waits for a count answer, terminate its backend (the run's next query is the
    count's UPDATE, outside any transaction). Returns the cut backends' pids."""
    runner_connection = connections["default"]  # this thread's, the one the run uses
    original = fake._graphql
    cut: list[int] = []

    def answer(seen):
        if "Count(" in seen.json()["query"] and len(cut) < times:
            pid = runner_connection.connection.info.backend_pid
            with connection.cursor() as cursor:  # the server thread's own connection
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            connection.close()  # a server thread's connection would outlive the test database
            cut.append(pid)
        return original(seen)

    fake.server.handle(f"/admin/api/{fake.api_version}/graphql.json", answer)
    return cut


def test_a_run_whose_database_connection_is_cut_resumes_in_the_same_attempt_and_completes(fake_shopify_live):
    # given
    fake, shop = fake_shopify_live
    ids = sorted(fake.add("customers") for _ in range(30))
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="cli",
                          enqueue=False).session  # fmt: skip
    cut = _cut_the_runs_connection_on_count_queries(fake, times=1)
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    # then
    session.refresh_from_db()
    assert len(cut) == 1
    assert (session.status, session.attempts, session.error) == (SyncSession.Status.COMPLETED, 1, "")
    assert sorted(Customer.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == ids
    assert session.jobs.get().total == 30


def test_a_run_that_keeps_losing_its_database_connection_is_given_back_queued_with_a_new_task(
    fake_shopify_live, sync_queue
):
    # given: every try is cut before it commits anything
    fake, shop = fake_shopify_live
    [fake.add("customers") for _ in range(5)]
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="cli",
                          enqueue=False).session  # fmt: skip
    cut = _cut_the_runs_connection_on_count_queries(fake, times=100)
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    # then: the first try and three resumes, then back to queued with its checkpoints and a task to
    # resume it (a session left queued without one waited for minutes: the e2e cut test's "queued")
    session.refresh_from_db()
    assert len(cut) == 4
    assert (session.status, session.attempts, session.error) == (SyncSession.Status.QUEUED, 1, "")
    assert session.events.order_by("-pk").first().note.startswith("database connection lost: ")
    assert session.jobs.get().status == "running"
    assert not Customer.objects.filter(shop=shop).exists()
    assert sync_queue.length() == 1


def test_a_batch_whose_every_write_attempt_loses_the_connection_is_resumed_not_dead_lettered(
    fake_shopify_live, settings, monkeypatch
):
    # given: the database connection is cut inside each of the batch's write attempts
    from shopsync.models import FailedSyncItem
    from shopsync.services.sync import writing

    fake, shop = fake_shopify_live
    ids = sorted(fake.add("customers") for _ in range(5))
    settings.SYNC_WRITE_ATTEMPTS = 2
    real_upsert, cuts = writing.records_upsert, []

    def upsert_on_a_dying_connection(**kwargs):
        if len(cuts) < 2:
            cuts.append(connection.connection.info.backend_pid)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real_upsert(**kwargs)

    monkeypatch.setattr(writing, "records_upsert", upsert_on_a_dying_connection)
    session = ensure_sync(shop=shop, kind="initial", resources=["customers"], triggered_by="cli",
                          enqueue=False).session  # fmt: skip
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    # then: no failed batch; the run reconnected and wrote the batch from its checkpoint
    session.refresh_from_db()
    assert len(cuts) == 2
    assert (session.status, session.error) == (SyncSession.Status.COMPLETED, "")
    assert not FailedSyncItem.objects.exists()
    assert sorted(Customer.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == ids


def test_a_task_whose_claim_finds_the_connection_cut_reconnects_and_runs_the_session(
    fake_shopify_live, monkeypatch
):
    # given: the worker's connection was cut while it was idle; the task's first query (the claim) fails
    from shopsync.services.sync import runner

    fake, shop = fake_shopify_live
    ids = sorted(fake.add("customers") for _ in range(3))
    session = ensure_sync(shop=shop, kind="incremental", resources=["customers"], triggered_by="cli",
                          enqueue=False).session  # fmt: skip
    real_claim, cut = runner.session_claim, []

    def claim_on_a_cut_connection(**kwargs):
        if not cut:
            cut.append(connection.connection.info.backend_pid if connection.connection else None)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real_claim(**kwargs)

    monkeypatch.setattr(runner, "session_claim", claim_on_a_cut_connection)
    # when
    sync_session_run(session_id=session.pk, task_id="test")
    # then: not left queued with its message gone, but run to the end
    session.refresh_from_db()
    assert len(cut) == 1
    assert (session.status, session.attempts) == (SyncSession.Status.COMPLETED, 1)
    assert sorted(Customer.objects.filter(shop=shop).values_list("shopify_id", flat=True)) == ids
