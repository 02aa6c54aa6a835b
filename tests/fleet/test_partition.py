"""Many machines for real: the fleet of tests/fleet/fleet.py (PostgreSQL + Redis, Shopify, web + beat,
two worker hosts, each a network namespace), and a worker host cut off the network mid-backfill."""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
import requests

from shopsync.resources import DECLARATIONS
from tests.fleet.conftest import HEARTBEAT_TIMEOUT_SECONDS
from tests.fleet.fleet import Fleet
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_worker_host_cut_off_mid_backfill_hands_the_sync_to_the_other_host_and_the_mirror_ends_exact(
    fleet: Fleet,
):
    # given: the shop connected and its initial sync started from the web host, and written to by one
    # of the worker hosts, caught in the middle of a batch's transaction (the worst moment: its locks)
    shop, token = fleet.simulator_options["shop"], fleet.simulator_options["token"]
    fleet.manage("web", "connect_shop", "--shop", shop, "--api-url", fleet.simulator_url, "--token", token)
    started = fleet.manage("web", "sync", "--shop", shop, "--mode", "initial")
    session_id = int(re.search(r"session (\d+)", started).group(1))
    assert wait_until(lambda: _written_lines(fleet, session_id) > 0, timeout=120, interval=0.05), fleet.logs()
    holder = _host_running(fleet, _attempt_task_ids(fleet, session_id)[0])
    survivor = next(name for name in fleet.workers if name != holder)
    holder_ip = fleet.network.hosts[holder].ip
    writing = wait_until(lambda: _writing(fleet, holder_ip), timeout=30, interval=0.01)
    # when: the holder's host is cut off (its worker keeps running, unreachable and unreaching)
    fleet.network.cut(holder)
    cut_at = time.monotonic()
    status_at_cut, lines_at_cut = _session(fleet, session_id)[0], _written_lines(fleet, session_id)
    finished = wait_until(
        lambda: _session(fleet, session_id)[0] not in ("queued", "running"), timeout=120, interval=0.5
    )
    recovered_in = time.monotonic() - cut_at
    # then
    assert writing and status_at_cut == "running", "the sync ended before its host could be cut mid-batch"
    assert finished, fleet.logs()
    status, attempts, error = _session(fleet, session_id)
    assert (status, attempts, error) == ("completed", 2, ""), fleet.logs()
    first_task, second_task = _attempt_task_ids(fleet, session_id)
    assert (_host_running(fleet, first_task), _host_running(fleet, second_task)) == (holder, survivor)
    assert fleet.network.is_cut(holder) and fleet.workers[holder].is_running  # partitioned, not dead
    # PostgreSQL ended the vanished host's sessions (its open transaction rolled back, locks released)
    assert fleet.sql("SELECT count(*) FROM pg_stat_activity WHERE client_addr = %s", (holder_ip,)) == [(0,)]
    mirror = json.loads(
        fleet.run("web", [sys.executable, "-m", "tests.fleet.probe", shop, fleet.simulator_url])
    )
    assert {resource: report["exact"] for resource, report in mirror.items()} == dict.fromkeys(
        DECLARATIONS, True
    ), "\n".join(report["summary"] for report in mirror.values())
    assert [mirror[resource]["ours_live"] for resource in ("orders", "customers", "products")] == [
        fleet.simulator_options[resource] for resource in ("orders", "customers", "products")
    ]
    health = fleet.network.run_in("web", lambda: requests.get(f"{fleet.web_url}/healthz", timeout=10))
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok", "redis": "ok"})
    print(f"{holder} cut after {lines_at_cut} lines; {survivor} finished {recovered_in:.1f} s later "
          f"(heartbeat timeout {HEARTBEAT_TIMEOUT_SECONDS} s)")  # fmt: skip


def _session(fleet: Fleet, session_id: int) -> tuple[str, int, str]:
    rows = fleet.sql("SELECT status, attempts, error FROM shopsync_syncsession WHERE id = %s", (session_id,))
    return rows[0]


def _written_lines(fleet: Fleet, session_id: int) -> int:
    """JSONL lines of the session's bulk exports committed so far (the checkpoints)."""
    rows = fleet.sql(
        "SELECT coalesce(sum(bulk_line), 0) FROM shopsync_syncjob WHERE session_id = %s", (session_id,)
    )
    return int(rows[0][0])


def _writing(fleet: Fleet, client_ip: str) -> bool:
    """A write transaction of the host's sync is open: it wrote (has a transaction id) and it is not
    the webhook relay's claim."""
    rows = fleet.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE client_addr = %s AND backend_xid IS NOT NULL"
        " AND query NOT ILIKE '%%webhooks_webhooklog%%'",
        (client_ip,),
    )
    return rows[0][0] > 0


def _attempt_task_ids(fleet: Fleet, session_id: int) -> list[str]:
    rows = fleet.sql(
        "SELECT task_id FROM shopsync_syncattempt WHERE session_id = %s ORDER BY id", (session_id,)
    )
    return [task_id for (task_id,) in rows]


def _host_running(fleet: Fleet, task_id: str) -> str:
    """The worker host whose worker received the task (Celery logs `name[task id] received`)."""
    hosts = [name for name, worker in fleet.workers.items() if worker.log_count(f"[{task_id}] received")]
    assert len(hosts) == 1, f"task {task_id} received by {hosts}"
    return hosts[0]
