from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from shopsync.models import SyncSession
from tests.factories import SyncSessionFactory


def test_sync_queues_a_session_through_the_guard(shop, django_capture_on_commit_callbacks):
    # given
    out = StringIO()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command(
            "sync",
            "--shop",
            shop.domain,
            "--mode",
            "populate",
            "--resources",
            "orders,customers",
            "--days",
            "30",
            stdout=out,
        )
    # then
    session = SyncSession.objects.get()
    assert (session.kind, session.resources, session.days, session.triggered_by) == (
        "populate",
        ["orders", "customers"],
        30,
        "cli",
    )
    assert len(callbacks) == 1
    assert f"session {session.pk}" in out.getvalue()


def test_sync_joins_the_active_session(shop, django_capture_on_commit_callbacks):
    # given
    active = SyncSessionFactory(
        shop=shop, kind="initial", status="running", attempts=1, heartbeat_at=timezone.now()
    )
    out = StringIO()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("sync", "--shop", shop.domain, "--mode", "incremental", stdout=out)
    # then
    assert SyncSession.objects.count() == 1
    assert callbacks == []
    assert f"Joined the active initial sync of {shop.domain}: session {active.pk}" in out.getvalue()


def test_sync_reports_invalid_options_as_errors(shop):
    # given
    # when
    with pytest.raises(CommandError, match="Update mode needs staleAfterMins greater than 0"):
        call_command("sync", "--shop", shop.domain, "--mode", "update", stdout=StringIO())
    # then
    assert SyncSession.objects.count() == 0


def test_sync_of_an_unknown_shop_is_an_error(db):
    # given
    # when
    with pytest.raises(CommandError, match=r"No shop nope\.myshopify\.com"):
        call_command("sync", "--shop", "nope.myshopify.com", stdout=StringIO())
    # then
    assert SyncSession.objects.count() == 0


def test_sync_clear_ends_the_stuck_run(shop):
    # given
    stuck = SyncSessionFactory(shop=shop, kind="initial", status="running", attempts=1)
    out = StringIO()
    # when
    call_command("sync", "--shop", shop.domain, "--mode", "initial", "--clear", stdout=out)
    # then
    stuck.refresh_from_db()
    assert stuck.status == "cancelled"
    assert f"Cleared session {stuck.pk}: cancelled." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_sync_inline_runs_the_session_in_process_and_prints_the_summary(fake_shopify_live):
    # given
    fake, shop = fake_shopify_live
    [fake.add("customers") for _ in range(3)]
    out = StringIO()
    # when
    call_command("sync", "--shop", shop.domain, "--mode", "initial", "--resources", "customers", "--inline",
                 "--poll", "0.05", stdout=out)  # fmt: skip
    # then
    session = SyncSession.objects.get()
    assert (session.status, session.triggered_by) == ("completed", "cli")
    text = out.getvalue()
    assert "completed in" in text
    assert "customers  synced         3  created         3" in text
