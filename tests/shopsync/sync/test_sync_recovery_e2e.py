"""End to end, recovery: a real worker SIGKILLed mid-bulk-sync and started again, and a session whose
task never reached the broker, against the simulator over HTTP, real PostgreSQL and Redis."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
import requests

from shopsync.models import Order, SyncAttempt, SyncSession
from shopsync.resources import Resource
from shopsync.services.sync import ensure_sync, sync_watchdog
from tests.processes import celery_app_broker, free_port, wait_until
from tests.shopsync.sync.test_sync_e2e import assert_db_equals_truth

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDERS = 6000


def _byte_offset_after_lines(body: bytes, lines: int) -> int:
    """Where the export's first `lines` (non-blank) lines end."""
    offset = 0
    for _ in range(lines):
        offset = body.index(b"\n", offset) + 1
        while body[offset : offset + 1] == b"\n":
            offset += 1
    return offset


def _downloads_since(simulator, url: str, since: float) -> list[dict]:
    """The simulator's log of downloads of `url` (it logs paths without the /shops/{domain} prefix)."""
    path = urlparse(url).path
    recent = simulator.control.requests()["recent"]
    return [r for r in recent if path.endswith(r["path"]) and r["at"] >= since and r["status"] in (200, 206)]


@pytest.mark.slow
def test_a_worker_killed_mid_bulk_sync_is_resumed_by_its_restart_within_a_minute_reading_on_with_a_range(
    simulator, sim_shop, sync_worker
):
    # given: a worker part-way through an initial sync's export
    shop = sim_shop(orders=ORDERS, customers=30, products=10)
    sync_worker.start()
    session = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="install").session
    job = session.jobs.get()
    assert wait_until(lambda: job.refresh_from_db() or job.synced >= ORDERS // 4, timeout=120, interval=0.05)
    # when: it is SIGKILLed (no shutdown, no ack, its pulse stops) and started again
    sync_worker.kill()
    killed_at = time.time()
    job.refresh_from_db()
    assert job.status == "running" and job.synced < ORDERS, "the worker finished before it could be killed"
    committed_lines, url = job.bulk_line, job.bulk_url
    sync_worker.start()
    session.refresh_from_db()
    deadline = time.monotonic() + 120
    while session.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        session.refresh_from_db()
    # then: resumed by the restarted worker well within a minute, and finished equal to the truth
    assert session.status == SyncSession.Status.COMPLETED, (session.status, session.error)
    second = SyncAttempt.objects.filter(session=session).order_by("started_at")[1]
    assert second.started_at.timestamp() - killed_at < 60
    assert session.attempts == 2
    assert Order.objects.filter(shop=shop).count() == ORDERS
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])
    # and it read on from the checkpoint with a Range instead of downloading the export again
    downloads = _downloads_since(simulator, url, killed_at)
    body = requests.get(url, timeout=30).content
    committed_at = _byte_offset_after_lines(body, committed_lines)
    assert downloads and downloads[0]["status"] == 206 and downloads[0]["range"].startswith("bytes=")
    read_again = sum(d["bytes"] for d in downloads) - (len(body) - committed_at)
    assert len(body) > 8_000_000 and committed_at > 0.2 * len(body)
    assert 0 <= read_again < 0.05 * len(body), (read_again, len(body))


def test_a_session_whose_task_was_never_published_is_dispatched_again_and_completes(
    simulator, sim_shop, sync_worker, sync_queue, settings
):
    # given: the trigger's publish fails (the broker unreachable): the session is committed, queued,
    # and has no message
    shop = sim_shop(customers=200)
    with celery_app_broker(f"redis://127.0.0.1:{free_port()}/0"):
        session = ensure_sync(
            shop=shop, kind="initial", resources=["customers"], triggered_by="button"
        ).session
    sync_worker.start()
    time.sleep(3)
    session.refresh_from_db()
    assert (session.status, session.attempts, sync_queue.length()) == ("queued", 0, 0)
    # when: the watchdog looks, once the session has waited longer than the redispatch delay
    settings.SYNC_REDISPATCH_AFTER_SECONDS = 2
    report = sync_watchdog()
    # then
    assert report.redispatched == [session.pk]
    assert wait_until(lambda: session.refresh_from_db() or session.status == "completed", timeout=60)
    assert session.attempts == 1
    assert_db_equals_truth(simulator, shop, [Resource.CUSTOMERS])
