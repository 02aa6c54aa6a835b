"""The Celery worker against a Redis that restarts: it reconnects and goes on consuming."""

from __future__ import annotations

import time

import pytest

from shopsync.models import SyncSession
from shopsync.tasks import sync_watchdog_task
from tests import processes
from tests.factories import ShopFactory, SyncSessionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker_and_worker(tmp_path):
    """A private Redis on a free port, and a real worker using it on the `maintenance` queue, with
    the product's settings and its deployed pool (prefork)."""
    broker = processes.private_redis(tmp_path)
    worker = processes.celery_worker(
        log_path=tmp_path / "worker.log", queues=("maintenance",), database_url=processes.database_url(),
        broker_url=broker.url, pool="prefork", concurrency=1, name="broker-restart",
    )  # fmt: skip
    broker.start()
    try:
        with processes.celery_app_broker(broker.url):
            worker.start()
            yield broker, worker
    finally:
        worker.stop()
        broker.stop()


def _watchdog_resumes_a_dead_session() -> SyncSession:
    """A task with a visible effect: the watchdog requeues a session whose worker died."""
    dead = SyncSessionFactory(shop=ShopFactory(), status="running", attempts=1, heartbeat_at=None)
    sync_watchdog_task.apply_async(queue="maintenance")  # as beat sends it
    return dead


def _processed(session: SyncSession, worker: processes.ManagedProcess) -> bool:
    def requeued() -> bool:
        session.refresh_from_db()
        return session.status == SyncSession.Status.QUEUED

    return processes.wait_until(lambda: requeued() or not worker.is_running, timeout=60) and requeued()


def test_the_worker_survives_redis_restarts_and_processes_tasks_sent_after_them(broker_and_worker):
    # given: a worker that has processed a task
    broker, worker = broker_and_worker
    assert _processed(_watchdog_resumes_a_dead_session(), worker), worker.log_tail()
    # when: Redis crashes and is back at once, then shuts down and stays away for a few seconds
    # (the worker's first reconnect attempts fail); each time every message is lost with it
    broker.kill()
    broker.start()
    after_crash = _watchdog_resumes_a_dead_session()
    crash_processed = _processed(after_crash, worker)
    broker.stop()
    time.sleep(5)
    broker.start()
    after_outage = _watchdog_resumes_a_dead_session()
    outage_processed = _processed(after_outage, worker)
    # then: the same worker process reconnected and went on consuming
    assert (crash_processed, outage_processed) == (True, True), worker.log_tail()
    assert worker.is_running and worker.starts == 1
    assert worker.log_count("Unrecoverable error") == 0
    assert worker.log_count("Connected to redis://") == 3
    assert worker.log_count("Trying again in 4.00 seconds... (2/None)") >= 1  # no limit on the tries
