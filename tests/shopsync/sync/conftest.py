"""Fixtures for the sync engine's tests: the real Redis broker's `sync` queue, and session factories."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from tests.factories import ShopFactory
from tests.processes import ManagedProcess, celery_worker, database_url


@pytest.fixture
def sync_queue():
    """The `sync` queue in the test Redis db, emptied before the test; `.length()` counts messages."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    class Queue:
        def keys(self) -> list[bytes]:
            return [key for key in client.keys(b"sync*") if client.type(key) == b"list"]

        def length(self) -> int:
            return sum(client.llen(key) for key in self.keys())

        def purge(self) -> None:
            for key in self.keys():
                client.delete(key)

    queue = Queue()
    queue.purge()
    yield queue
    queue.purge()
    client.close()


@pytest.fixture
def sync_worker(transactional_db, sync_queue, tmp_path) -> Iterator[ManagedProcess]:
    """A real worker on the sync and maintenance queues (solo pool), against the test database and
    Redis db, with small batches and fast heartbeats (`worker_settings.py`) so a test can kill it
    between two committed batches. Start with `sync_worker.start()`; stopped (or killed) at the end."""
    worker = celery_worker(
        log_path=tmp_path / "worker.log", queues=("sync", "sync_backfill", "maintenance"), database_url=database_url(),
        broker_url=settings.CELERY_BROKER_URL, settings_module="tests.shopsync.sync.worker_settings",
        pool="solo", concurrency=1, name="sync-e2e",
    )  # fmt: skip
    yield worker
    worker.stop()


@pytest.fixture
def fake_shopify(db, settings):
    """A scripted Shopify (see fake_shopify.py) and a shop of ours pointing at it."""
    from tests.factories import ShopFactory
    from tests.shopsync.shopify.scripted_http import ScriptedServer
    from tests.shopsync.sync.fake_shopify import FakeShopify

    settings.SYNC_BULK_POLL_INTERVAL_SECONDS = 0.05
    settings.SYNC_WRITE_ATTEMPTS = 2
    server = ScriptedServer()
    fake = FakeShopify(server=server)
    fake.shop = ShopFactory(api_base_url=server.base_url, api_version="2026-01")
    yield fake
    server.close()


@pytest.fixture
def fake_shopify_live(transactional_db, settings):
    """`fake_shopify` for transactional tests (its server thread may write to the database)."""
    from tests.factories import ShopFactory
    from tests.shopsync.shopify.scripted_http import ScriptedServer
    from tests.shopsync.sync.fake_shopify import FakeShopify

    settings.SYNC_BULK_POLL_INTERVAL_SECONDS = 0.05
    server = ScriptedServer()
    fake = FakeShopify(server=server)
    shop = ShopFactory(api_base_url=server.base_url, api_version="2026-01")
    yield fake, shop
    server.close()


@pytest.fixture(params=["thread", "process"])
def bulk_parsing(request, settings, monkeypatch):
    """Bulk exports parsed in a thread of the worker, or in the bulk child process whatever their
    size (the engine picks the child for large exports on PostgreSQL only)."""
    threshold = -1 if request.param == "thread" else 0
    settings.SYNC_BULK_PARSE_PROCESS_MIN_LINES = threshold
    # Worker subprocesses started by the test read it from their environment.
    monkeypatch.setenv("SYNC_BULK_PARSE_PROCESS_MIN_LINES", str(threshold))
    return request.param


@pytest.fixture
def sim_shop(simulator, db):
    """A fresh simulated shop of our own (tests change its data and faults) and our Shop row for it."""

    def make(**options):
        domain = f"e2e-{uuid.uuid4().hex[:8]}.myshopify.com"
        token = f"shpat_{uuid.uuid4().hex}"
        options = {"orders": 120, "customers": 40, "products": 15, "seed": 11, **options}
        simulator.control.create_shop(domain, token=token, **options)
        shop = ShopFactory(domain=domain, access_token=token, api_base_url=f"{simulator.base_url}/shops/{domain}",
                           api_version=options.get("api_version", "2026-01"))  # fmt: skip
        shop.sim_domain = domain
        return shop

    yield make
    simulator.control.clear_faults()
