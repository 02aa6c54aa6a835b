"""`bin/demo` as a newcomer runs it: SQLite and the filesystem broker (no DATABASE_URL, no
CELERY_BROKER_URL), a fresh var dir, free ports, a small generated store.

It must print the address and a login that works, connect the store without syncing it until staff
open the dashboard, then run that initial sync at a pace where its live count is seen rising (the
simulator paces its exports as Shopify does), end with a copy equal to the simulator's store (webhooks
carrying the changes the simulator keeps making), leave nothing in the repository's root, and stop
every process it started on one Ctrl-C (SIGINT to its process group).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import pytest
import requests

from shopsync.resources import DECLARATIONS

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
SHOP = "demo.myshopify.com"
STORE = {"DEMO_ORDERS": "1000", "DEMO_CUSTOMERS": "250", "DEMO_PRODUCTS": "50"}
# The orders export (about 4,000 objects) then stays RUNNING for about 20 s, polled every 2 s, so the
# dashboard's count is seen rising. (It was 2,000 orders at 400 objects/s: the same 20 s of export for
# twice the generating, parsing and writing.)
EXPORT_RATE = "200"
NOT_STARTED_FOR = 4  # seconds the connected store stays unsynced while nobody opens the dashboard
# The progress panel's line while Shopify exports: "Shopify prepared <strong>734</strong> / 1,000 orders".
EXPORTING_RE = re.compile(r"Shopify prepared <strong>([\d,]+)</strong>(?: / [\d,]+)? (\w+)</span>")
BANNER_TIMEOUT = 150  # venv check + migrate on a fresh SQLite file + store generation + setup
SYNC_TIMEOUT = 240
CONVERGE_TIMEOUT = 90
STOP_TIMEOUT = 20
RESOURCES = {name: declaration.model._meta.db_table for name, declaration in DECLARATIONS.items()}


def _free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Demo:
    """`bin/demo` in its own process group, its output collected by a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: deque[str] = deque(maxlen=5000)
        self.proc = subprocess.Popen(
            [str(ROOT / "bin" / "demo")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self, last: int = 150) -> str:
        return "\n".join(list(self.lines)[-last:])

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := regex.search(line):
                    return match
            if self.proc.poll() is not None:
                pytest.fail(f"bin/demo exited ({self.proc.returncode}) before {pattern!r}:\n{self.output()}")
            time.sleep(0.3)
        pytest.fail(f"bin/demo printed no {pattern!r} within {timeout} s:\n{self.output()}")

    def interrupt(self) -> float:
        """Ctrl-C: SIGINT to the process group; returns how long everything took to exit."""
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return float("inf")
        return time.monotonic() - started

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _processes_with(marker: str) -> list[tuple[int, str]]:
    """Live processes whose environment carries the marker: everything bin/demo started, in whatever
    session or process group honcho put it."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes():
                continue
            status = (entry / "stat").read_text()
            if status.rsplit(")", 1)[-1].split()[0] == "Z":  # a zombie is already dead
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((int(entry.name), cmdline.strip()))
    return found


def _kill_all(processes: list[tuple[int, str]]) -> None:
    for pid, _ in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _copy_ids(db_path: Path) -> dict[str, set[int]]:
    """The ids of live (not soft-deleted) records in the product's SQLite database (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        (shop_id,) = conn.execute("SELECT id FROM shopsync_shop WHERE domain = ?", [SHOP]).fetchone()
        return {
            resource: {
                row[0]
                for row in conn.execute(
                    f"SELECT shopify_id FROM {table} WHERE shop_id = ? AND deleted_at IS NULL",
                    [shop_id],
                )
            }
            for resource, table in RESOURCES.items()
        }
    finally:
        conn.close()


def _store_ids(sim_url: str) -> dict[str, set[int]]:
    ids = {}
    for resource in RESOURCES:
        response = requests.get(f"{sim_url}/_sim/shops/{SHOP}/truth/{resource}", timeout=30)
        response.raise_for_status()
        ids[resource] = {record["id"] for record in response.json()["records"]}
    return ids


def _initial_session(api: requests.Session, app_url: str) -> dict | None:
    response = api.get(f"{app_url}/api/shopify/sync/jobs", params={"shop": SHOP, "limit": 50}, timeout=10)
    response.raise_for_status()
    initial = [s for s in response.json() if s["mode"] == "initial"]
    return min(initial, key=lambda s: s["sessionId"]) if initial else None


def _sessions(api: requests.Session, app_url: str) -> list[dict]:
    response = api.get(f"{app_url}/api/shopify/sync/jobs", params={"shop": SHOP, "limit": 50}, timeout=10)
    response.raise_for_status()
    return response.json()


def _watch_progress(
    browser: requests.Session, api: requests.Session, app_url: str
) -> tuple[dict | None, list]:
    """Poll the dashboard's progress panel (as its htmx poll does) until the initial sync ends:
    returns the session and every (resource, records exported so far) the panel showed meanwhile."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    exporting: list[tuple[str, int]] = []
    session = None
    while time.monotonic() < deadline:
        panel = browser.get(f"{app_url}/sync/status", params={"shop": SHOP, "part": "progress"}, timeout=10)
        assert panel.status_code == 200, panel.text
        exporting += [(resource, int(n.replace(",", ""))) for n, resource in EXPORTING_RE.findall(panel.text)]
        session = _initial_session(api, app_url)
        if session is not None and session["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.5)
    return session, exporting


def test_bin_demo_syncs_the_store_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    web_port, sim_port = _free_ports(2)
    marker = f"shopsync-demo-test-{uuid.uuid4().hex}"
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    # A newcomer's machine: no database or broker configured (the test settings set both).
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SHOPIFY_APP_URL", "SHOPSYNC_VAR_DIR"):
        env.pop(name, None)
    env.update(
        STORE,
        SHOPSYNC_VAR_DIR=str(var_dir),
        WEB_PORT=str(web_port),
        SIM_PORT=str(sim_port),
        DEMO_CHANGES_PER_MINUTE="20",
        DEMO_EXPORT_RATE=EXPORT_RATE,
        SHOPSYNC_DEMO_TEST_MARKER=marker,
    )
    sim_url = f"http://127.0.0.1:{sim_port}"
    root_before = set(os.listdir(ROOT))
    demo = Demo(env)
    stopped_in = None
    try:
        started = time.monotonic()
        app_url = demo.wait_for(r"open (http://\S+?)/?\s*$", BANNER_TIMEOUT).group(1)
        username, password = demo.wait_for(r"login:\s+(\S+) / (\S+)\s*$", 5).groups()
        banner_after = time.monotonic() - started
        assert app_url == f"http://127.0.0.1:{web_port}"
        demo.wait_for(r"sync:\s+the initial sync starts when you open the dashboard", 5)
        api = requests.Session()
        api.auth = (username, password)

        # The store is connected, and nothing syncs it until somebody opens the dashboard.
        status = api.get(f"{app_url}/api/shopify/sync/status", params={"shop": SHOP}, timeout=10)
        assert status.status_code == 200, status.text
        time.sleep(NOT_STARTED_FOR)
        assert _sessions(api, app_url) == [], demo.output()

        # The printed login works, on the page a person opens and on the API; logging in lands on the
        # dashboard, whose first visit starts the initial sync.
        browser = requests.Session()
        login_page = browser.get(f"{app_url}/login/", timeout=10)
        assert login_page.status_code == 200
        response = browser.post(
            f"{app_url}/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": f"{app_url}/login/"},
            timeout=10,
        )
        assert response.status_code == 200 and response.url.rstrip("/") == app_url, demo.output()
        started_by_visit = _sessions(api, app_url)
        assert [(s["mode"], s["triggeredBy"]) for s in started_by_visit] == [("initial", "first_run")], (
            demo.output()
        )
        browser.get(f"{app_url}/", timeout=10)  # a second visit starts nothing more

        # The dashboard's live count moves while Shopify exports, then the sync completes.
        session, exporting = _watch_progress(browser, api, app_url)
        assert session is not None, f"no initial sync was started:\n{demo.output()}"
        assert session["status"] == "completed", f"{session}\n{demo.output()}"
        assert session["sessionId"] == started_by_visit[0]["sessionId"]
        orders_exported = [n for resource, n in exporting if resource == "orders"]
        assert len(set(orders_exported)) >= 3, exporting
        assert orders_exported == sorted(orders_exported), exporting
        assert 0 <= orders_exported[0] < orders_exported[-1], exporting  # 0: the export was just created
        sync_seconds = session["durationSeconds"]
        jobs = {job["resource"]: job for job in session["jobs"]}
        assert set(jobs) == set(RESOURCES)
        assert jobs["orders"]["synced"] >= int(STORE["DEMO_ORDERS"]) - 50, jobs["orders"]

        # The copy converges on the store: the same ids (the simulator keeps changing it, webhooks follow).
        deadline = time.monotonic() + CONVERGE_TIMEOUT
        while True:
            store, copy = _store_ids(sim_url), _copy_ids(var_dir / "shopsync.sqlite3")
            if store == copy or time.monotonic() > deadline:
                break
            time.sleep(1)
        for resource in RESOURCES:
            assert copy[resource] == store[resource], (
                f"{resource}: {len(copy[resource])} in the copy, {len(store[resource])} in the store; "
                f"missing {sorted(store[resource] - copy[resource])[:5]}, "
                f"extra {sorted(copy[resource] - store[resource])[:5]}\n{demo.output()}"
            )
        assert len(store["orders"]) >= int(STORE["DEMO_ORDERS"]) - 50

        # Webhooks from the simulator reached the app (signed with the secret it knows).
        deliveries = requests.get(f"{sim_url}/_sim/shops/{SHOP}/webhooks/deliveries", timeout=10).json()
        delivered = [d for d in deliveries["deliveries"] if d["status"] == "delivered"]
        assert delivered, deliveries
        assert all(d["address"] == f"{app_url}/webhooks/shopify/" for d in deliveries["deliveries"])
        assert "database is locked" not in "\n".join(demo.lines), demo.output(400)
    finally:
        stopped_in = demo.interrupt()
        if stopped_in == float("inf"):
            demo.kill()
        time.sleep(0.5)
        left = _processes_with(marker)
        _kill_all(left)
    assert stopped_in <= STOP_TIMEOUT, f"bin/demo did not stop within {STOP_TIMEOUT} s:\n{demo.output()}"
    assert not left, f"processes left after Ctrl-C: {left}\n{demo.output()}"
    assert sorted(set(os.listdir(ROOT)) - root_before) == []  # e.g. no ./control of the broker
    print(f"banner after {banner_after:.1f} s, initial sync {sync_seconds} s, stopped in {stopped_in:.1f} s")
