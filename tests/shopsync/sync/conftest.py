"""Fixtures for the sync engine's tests: the real Redis broker's `sync` queue, and session factories."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[3]


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


class WorkerProcess:
    """A real `celery -A config worker` subprocess on the sync queue, against the test DB and Redis db."""

    def __init__(self, *, database_url: str, broker_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.broker_url = broker_url
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.shopsync.sync.worker_settings",
            "PYTHONPATH": str(BASE_DIR),
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "sync,maintenance",
             "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"sync-e2e-{uuid.uuid4().hex[:8]}@%h", "--loglevel", "INFO"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole worker, as a crashed machine would: no cleanup, no ack."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def sync_worker(transactional_db, sync_queue, tmp_path):
    """Start with `sync_worker.start()`; stopped (or killed) at the end of the test."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    worker = WorkerProcess(database_url=database_url, broker_url=settings.CELERY_BROKER_URL,
                           log_path=tmp_path / "worker.log")  # fmt: skip
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
