"""Webhook test kit: signing, posting over real HTTP, and a real Celery worker on the `webhooks` queue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import redis
import requests
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer

from tests import processes
from tests.processes import ManagedProcess

RECEIVER_PATH = "/webhooks/shopify/"

# The live server's listen backlog is 10 by default (Django's WSGIServer): fifty simultaneous
# connects would be reset by the kernel before Django sees them. A production server (gunicorn)
# listens with a backlog of 2048; give the test server a realistic one too.
ThreadedWSGIServer.request_queue_size = 256


def sign(body: bytes, secret: str | None = None) -> str:
    key = (secret or settings.SHOPIFY_API_SECRET).encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def webhook_headers(
    *,
    topic: str,
    body: bytes,
    shop_domain: str = "acme.myshopify.com",
    event_id: str | None = None,
    webhook_id: str | None = None,
    triggered_at: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """`triggered_at` defaults to now, as Shopify stamps a fresh delivery (an implausible one is
    quarantined by the receiver)."""
    if triggered_at is None:
        triggered_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
    }


def deliver(
    base_url: str, *, topic: str, payload: object, session: requests.Session | None = None, **headers_kwargs
) -> requests.Response:
    """POST one signed delivery the way Shopify does."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    headers = webhook_headers(topic=topic, body=body, **headers_kwargs)
    return (session or requests).post(base_url + RECEIVER_PATH, data=body, headers=headers, timeout=10)


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0, interval: float = 0.1) -> bool:
    """`processes.wait_until` with the webhook tests' defaults."""
    return processes.wait_until(condition, timeout=timeout, interval=interval)


def redis_url() -> str:
    return settings.CELERY_BROKER_URL


DEAD_BROKER_URL = "redis://127.0.0.1:6390/0"  # nothing listens there


def webhooks_queue_length() -> int:
    return redis.Redis.from_url(redis_url()).llen("webhooks")


def start_celery_worker(
    *, extra_env: dict[str, str] | None = None, log_path: Path | None = None
) -> ManagedProcess:
    """A real `celery worker -Q webhooks` against the pytest test database and this run's Redis db
    (it runs the webhook relay too, unless `extra_env` switches it off). Stop it with `stop_process`."""
    worker = processes.celery_worker(
        log_path=log_path or Path(tempfile.mkdtemp(prefix="webhooks-worker-")) / "worker.log",
        queues=("webhooks",),
        database_url=processes.database_url(),
        broker_url=redis_url(),
        pool="threads",
        concurrency=4,
        name="webhooks-test",
        env={"WEBHOOK_RELAY_POLL_SECONDS": "0.05", **(extra_env or {})},
    )
    worker.start()
    return worker


def stop_process(process: ManagedProcess) -> None:
    process.kill()


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, tmp_path_factory) -> Iterator[ManagedProcess]:
    """The real worker (with its relay) shared by one test module. Use it through `celery_worker`,
    which drains it after each test."""
    # Messages left by tests without a worker point at rows flushed long ago: drop them.
    redis.Redis.from_url(redis_url()).delete("webhooks")
    worker = start_celery_worker(log_path=tmp_path_factory.mktemp("webhooks-worker") / "worker.log")
    yield worker
    stop_process(worker)


@pytest.fixture
def celery_worker(transactional_db, celery_worker_process) -> Iterator[ManagedProcess]:
    """The module's worker, for one test. At teardown it waits until the worker is idle (no
    unfinished delivery, empty queue): a task still writing while the test database is flushed
    deadlocks with the TRUNCATE."""
    yield celery_worker_process
    from webhooks.models import WebhookLog

    unfinished = (WebhookLog.Status.RECEIVED, WebhookLog.Status.PROCESSING, WebhookLog.Status.FAILED)
    wait_until(
        lambda: (
            webhooks_queue_length() == 0 and not WebhookLog.objects.filter(status__in=unfinished).exists()
        ),
        timeout=30,
    )
    # Deliveries never queued (the broker-down test) would wait forever: drop what is left.
    WebhookLog.objects.filter(status__in=unfinished).delete()


def post_concurrently(url: str, *, body: bytes, headers: dict[str, str], copies: int) -> list[int]:
    """Send the same delivery `copies` times at once (threads released together); the statuses."""
    barrier = threading.Barrier(copies)
    statuses: list[int] = []

    def send() -> None:
        with requests.Session() as session:
            barrier.wait()
            statuses.append(session.post(url, data=body, headers=headers, timeout=30).status_code)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
