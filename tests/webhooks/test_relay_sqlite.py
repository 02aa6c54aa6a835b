"""The relay in demo mode: SQLite and kombu's filesystem broker (no DATABASE_URL, no
CELERY_BROKER_URL), in subprocesses with their own var dir, as `bin/demo` runs it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.processes import ROOT
from tests.webhooks.conftest import wait_until

# Not in the SQLite lane (`sqlite`): its subprocesses run on SQLite whichever lane starts them.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

STORE_DELIVERIES = """
import json, orjson, uuid
from shopsync.models import Shop
from tests.webhooks.factories import order_payload
from webhooks.services.receiving import WebhookDelivery, webhook_event_record
Shop.objects.get_or_create(domain="demo.myshopify.com")
outcomes = [
    webhook_event_record(delivery=WebhookDelivery(
        topic="orders/updated", shop_domain="demo.myshopify.com", event_id=str(uuid.uuid4()),
        webhook_id=str(uuid.uuid4()), api_version="2026-01", triggered_at=None,
        resource_id_header=None, body=orjson.dumps(order_payload(shopify_id, version=1))))
    for shopify_id in range({first}, {last})
]
print(json.dumps(outcomes))
"""

RELAY_ONCE = """
import json
from webhooks.services.relaying import webhook_logs_relay
result = webhook_logs_relay(ids_per_task=20)
print(json.dumps([result.claimed, len(result.published_ids), result.publish_failures]))
"""


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "SHOPSYNC_VAR_DIR": str(tmp_path / "var"),
            "WEBHOOK_RELAY_POLL_SECONDS": "0.1",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def _shell(env: dict[str, str], code: str) -> object:
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _statuses(env: dict[str, str]) -> dict[str, int]:
    database = Path(env["SHOPSYNC_VAR_DIR"]) / "shopsync.sqlite3"
    with sqlite3.connect(database, timeout=30) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM webhooks_webhooklog GROUP BY status").fetchall())


def test_on_sqlite_and_the_filesystem_broker_stored_deliveries_are_batched_and_processed(demo_env):
    # given: 30 deliveries stored with no worker running
    assert _shell(demo_env, STORE_DELIVERIES.format(first=1, last=31)) == ["stored"] * 30
    # when: one relay pass
    claimed, published, failures = _shell(demo_env, RELAY_ONCE)
    # then: two messages (20 + 10 ids) in the filesystem queue
    assert (claimed, published, failures) == (30, 30, 0)
    messages = list((Path(demo_env["SHOPSYNC_VAR_DIR"]) / "broker" / "out").glob("*.msg"))
    assert len(messages) == 2
    # when: a worker starts (its relay publishes what arrives next) and 5 more deliveries arrive
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks", "-P", "threads",
         "-c", "2", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=demo_env,
    )  # fmt: skip
    try:
        assert _shell(demo_env, STORE_DELIVERIES.format(first=31, last=36)) == ["stored"] * 5
        # then
        assert wait_until(lambda: _statuses(demo_env) == {"processed": 35}, timeout=120, interval=0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    database = Path(demo_env["SHOPSYNC_VAR_DIR"]) / "shopsync.sqlite3"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM shopsync_order").fetchone() == (35,)
        assert db.execute("SELECT DISTINCT attempts FROM webhooks_webhooklog").fetchall() == [(1,)]
