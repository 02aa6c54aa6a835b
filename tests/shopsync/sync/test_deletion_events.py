"""Deletion events read by incremental runs: the query's filter, the page's checks, and a run against a
scripted Shopify (an events page, an `events` Shopify refuses). End to end against the simulator:
`test_deletion_events_e2e.py`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from shopsync.models import Customer, SyncCursor, SyncSession
from shopsync.resources import DeletionEvent
from shopsync.services.sync import ensure_sync, sync_session_run
from shopsync.services.sync.deletion_events import Deletion, deletion_events_search, deletions_from_events
from tests.shopsync.shopify.scripted_http import Reply

ORDER_DELETION = DeletionEvent("ORDER")
END = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _event(
    subject_id: int, created_at: datetime, *, action="destroy", subject_type="ORDER", kind="Order"
) -> dict:
    return {"id": f"gid://shopify/BasicEvent/{subject_id + 7}", "action": action,
            "createdAt": created_at.isoformat().replace("+00:00", "Z"),
            "subjectId": f"gid://shopify/{kind}/{subject_id}", "subjectType": subject_type}  # fmt: skip


def _run(fake, kind, resources):
    session = ensure_sync(shop=fake.shop, kind=kind, resources=resources, triggered_by="beat").session
    sync_session_run(session_id=session.pk, task_id="test")
    session.refresh_from_db()
    return session


def test_the_search_asks_for_the_resources_deletions_created_in_the_window_in_whole_seconds_around_it():
    # given
    start = datetime(2026, 3, 1, 11, 58, 0, 400_000, tzinfo=UTC)
    end = END + timedelta(microseconds=1)
    # when
    search = deletion_events_search(deletion_event=ORDER_DELETION, start=start, end=end)
    # then
    assert search == (
        "action:destroy AND subject_type:ORDER AND created_at:>='2026-03-01T11:58:00Z' "
        "AND created_at:<='2026-03-01T12:00:01Z'"
    )


def test_only_the_resources_deletion_events_up_to_the_end_are_deletions():
    # given: what a search that ignored a term could return
    nodes = [
        _event(1, END - timedelta(minutes=1)),
        _event(2, END),
        _event(3, END + timedelta(seconds=1)),  # after the run's start: the next run's
        _event(4, END - timedelta(minutes=1), action="update"),
        _event(5, END - timedelta(minutes=1), subject_type="PRODUCT", kind="Product"),
        {**_event(6, END), "createdAt": "not a time"},
        {name: value for name, value in _event(7, END).items() if name != "subjectId"},
    ]
    # when
    deletions = deletions_from_events(deletion_event=ORDER_DELETION, nodes=nodes, end=END)
    # then
    assert deletions == [Deletion(1, END - timedelta(minutes=1)), Deletion(2, END)]


def test_an_incremental_run_soft_deletes_the_subjects_of_deletion_events_at_their_time(fake_shopify):
    # given: three customers synced, one deleted in Shopify since (its webhook lost)
    ids = [fake_shopify.add("customers") for _ in range(3)]
    assert _run(fake_shopify, "initial", ["customers"]).status == SyncSession.Status.COMPLETED
    fake_shopify.delete("customers", ids[1])
    deleted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    fake_shopify.events = [_event(ids[1], deleted_at, subject_type="CUSTOMER", kind="Customer")]
    # when
    session = _run(fake_shopify, "incremental", ["customers"])
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert list(
        Customer.objects.filter(deleted_at__isnull=False).values_list("shopify_id", "deleted_at")
    ) == [(ids[1], deleted_at)]
    assert session.jobs.get().deleted == 1
    [request] = fake_shopify.events_requests()
    assert request["variables"]["query"].startswith(
        "action:destroy AND subject_type:CUSTOMER AND created_at:>='"
    )
    assert SyncCursor.objects.get(resource="customers").deletion_events_until == session.started_at


def test_events_shopify_refuses_are_logged_once_and_the_runs_complete(fake_shopify, caplog):
    # given: `events` answered as an API version without it answers
    fake_shopify.add("customers")
    assert _run(fake_shopify, "initial", ["customers"]).status == SyncSession.Status.COMPLETED
    undefined = {"errors": [{"message": "Field 'events' doesn't exist on type 'QueryRoot'",
                             "extensions": {"code": "undefinedField"}}]}  # fmt: skip
    fake_shopify.server.handle(
        f"/admin/api/{fake_shopify.api_version}/graphql.json", _refusing_events(fake_shopify, undefined)
    )
    # when
    with caplog.at_level(logging.DEBUG, logger="shopsync.services.sync.deletion_events"):
        runs = [_run(fake_shopify, "incremental", ["customers"]) for _ in range(2)]
    # then
    assert [run.status for run in runs] == [SyncSession.Status.COMPLETED] * 2, [run.error for run in runs]
    assert len(fake_shopify.events_requests()) == 2
    logged = [
        (r.levelno, "undefinedField" in r.getMessage())
        for r in caplog.records
        if r.name.endswith("deletion_events")
    ]
    assert logged == [(logging.WARNING, True), (logging.DEBUG, True)]
    assert SyncCursor.objects.get(resource="customers").deletion_events_until is None


def _refusing_events(fake, answer: dict):
    """The fake's GraphQL handler, but every `events` query gets `answer`."""
    handler = fake._graphql

    def handle(seen):
        if "SyncDeletionEvents" in seen.json()["query"]:
            fake.graphql_requests.append(seen.json())
            return Reply(status=200, json=answer)
        return handler(seen)

    return handle
