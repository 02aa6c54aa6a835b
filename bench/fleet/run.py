"""Fleet benchmark (issue #24): one simulator process serving many small shops, a big one being
backfilled and one with a large update, the README's worker layout with real Celery workers, the
webhook intake under load. One JSON line per run (appended to bench/fleet/results.jsonl) and a
summary (medians over the runs) at the end.

    .venv/bin/python bench/fleet/run.py --orders 1000000 --small-shops 100 --runs 3
    .venv/bin/python bench/fleet/run.py --orders 50000 --small-shops 100 --webhook-rate 50 --runs 3   # quick

Per run, on a fresh database (`--database`, dropped and migrated) and Redis db (`--redis-db`, flushed):
1. Processes: the simulator (standard plan for every shop; shops kept in `--data-dir`), gunicorn
   `config.wsgi` (the webhook intake; `--web-workers`), and the workers of `--layout`:
   - `readme`: `-Q webhooks -c 4`, `-Q sync,maintenance -c 2`, `-Q sync_backfill,sync -c 2`
     (SYNC_WORKER_CONCURRENCY=4), the README's layout;
   - `scaled`: the same with `-c 4` for both sync workers (SYNC_WORKER_CONCURRENCY=8).
   The watchdog task is sent to `maintenance` every 15 s, as beat does. `--backfill-nice N` starts
   the worker consuming `sync_backfill` under `nice -n N` (a process priority for backfills).
2. Set-up (not measured): an initial sync of every small shop and of the update shop.
3. Webhooks alone: `--webhook-rate` signed `orders/updated` deliveries per second for
   `--webhook-seconds` to the intake (real orders of the small shops, `updated_at` now), open loop
   from `WEBHOOK_THREADS` threads. Intake latency = the POST's round trip; apply latency = the
   stored `processed_at - received_at` (relay, queue, worker, write path).
4. Backfill alone: the initial sync of `big-b` (`--orders` orders), nothing else running.
5. The fleet: the initial sync of `big-a` (same store as `big-b`) starts; once it is writing,
   `--changes` order updates in the update shop and `--small-changes` in each small shop, the
   webhook load starts again, and the beat tick (`sync_incremental_all_shops`, the beat task's
   service, called here) ensures an incremental run for every shop with a completed initial sync.
   Per-shop wait = the incremental session's `finished_at` - the tick. THROTTLED = the simulator's
   GraphQL THROTTLED answers during the phase. The webhook load stops when the backfill ends.
   Backfill slowdown = its seconds here / its seconds in 4 (the webhooks and the 100+ incrementals
   together).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LOGS = ROOT / "var" / "bench-fleet"
WEBHOOK_THREADS = 8
WATCHDOG_EVERY_SECONDS = 15.0
LAYOUTS = {
    "readme": [("webhooks", 4), ("sync,maintenance", 2), ("sync_backfill,sync", 2)],
    "scaled": [("webhooks", 4), ("sync,maintenance", 4), ("sync_backfill,sync", 4)],
}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1)


def spread(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 0.5), "p99": percentile(values, 0.99),
            "max": round(max(values), 1) if values else None}  # fmt: skip


def database_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start")


class Processes:
    """The product's processes of one run, stopped together."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[subprocess.Popen] = []
        LOGS.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (LOGS / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.started.append(process)
        return process

    def worker(self, queues: str, concurrency: int, *, nice: int = 0) -> subprocess.Popen:
        name = queues.replace(",", "-")
        log_path = LOGS / f"worker-{name}.log"
        process = self.start(f"worker-{name}", [
            *(["nice", "-n", str(nice)] if nice else []), PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-c", str(concurrency),
            "-l", "info", "--without-gossip", "--without-mingle", "-n", f"fleet-{name}@%h",
        ])  # fmt: skip
        deadline = time.monotonic() + 90
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {queues} did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class WebhookLoad:
    """Signed `orders/updated` deliveries at `rate` per second, open loop, until stopped."""

    def __init__(self, *, port: int, secret: str, orders: dict[str, list[dict]], rate: float) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/shopify/"
        self.secret = secret.encode()
        self.orders = [(shop, order) for shop, records in orders.items() for order in records]
        self.rate = rate
        self.run_id = uuid.uuid4().hex[:8]
        self.latencies: list[tuple[float, float]] = []  # (sent at, ms)
        self.failures = 0
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> WebhookLoad:
        self.started = time.monotonic()
        for number in range(WEBHOOK_THREADS):
            thread = threading.Thread(target=self._send, args=(number,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

    def _send(self, number: int) -> None:
        import requests

        session = requests.Session()
        sequence = number
        while not self.stopping.is_set():
            due = self.started + sequence / self.rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            shop, order = self.orders[sequence % len(self.orders)]
            now = (
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
            )
            body = json.dumps({**order, "updated_at": now}).encode()
            signature = base64.b64encode(hmac.new(self.secret, body, hashlib.sha256).digest()).decode()
            headers = {
                "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": signature,
                "X-Shopify-Shop-Domain": shop, "X-Shopify-Topic": "orders/updated",
                "X-Shopify-API-Version": "2026-01", "X-Shopify-Order-Id": str(order["id"]),
                "X-Shopify-Event-Id": f"fleet-{self.run_id}-{sequence}",
                "X-Shopify-Webhook-Id": f"fleet-{self.run_id}-{sequence}",
            }  # fmt: skip
            sent = time.monotonic()
            try:
                ok = session.post(self.url, data=body, headers=headers, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                self.latencies.append((sent, (time.monotonic() - sent) * 1000))
            else:
                self.failures += 1
            sequence += WEBHOOK_THREADS

    def figures(self, *, until: float | None = None) -> dict[str, Any]:
        """Intake latency of the deliveries sent before `until` (monotonic), and their apply latency."""
        from webhooks.models import WebhookLog

        sent = [ms for at, ms in self.latencies if until is None or at <= until]
        logs = WebhookLog.objects.filter(event_id__startswith=f"fleet-{self.run_id}-")
        deadline = time.monotonic() + 120
        while logs.exclude(status="processed").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        applied = [(p - r).total_seconds() for r, p in logs.values_list("received_at", "processed_at") if p]
        seconds = (min(until or time.monotonic(), time.monotonic()) - self.started) or 1.0
        return {
            "sent": len(self.latencies) + self.failures, "failed": self.failures,
            "rate_achieved": round(len(self.latencies) / seconds, 1), "intake_ms": spread(sent),
            "apply_seconds": {k: (round(v / 1000, 3) if isinstance(v, float) else v)
                              for k, v in spread([a * 1000 for a in applied]).items()},
            "not_processed": logs.exclude(status="processed").count(),
        }  # fmt: skip


def watchdog_ticks(stopping: threading.Event) -> None:
    from shopsync.tasks import sync_watchdog_task

    while not stopping.wait(WATCHDOG_EVERY_SECONDS):
        sync_watchdog_task.apply_async(queue="maintenance")


def sessions_wait(sessions: list, *, timeout: float) -> None:
    from shopsync.models import SyncSession

    ids = [s.pk for s in sessions]
    deadline = time.monotonic() + timeout
    active = SyncSession.objects.filter(pk__in=ids, status__in=["queued", "running"])
    while active.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{active.count()} sessions still active after {timeout:.0f} s")
        time.sleep(0.5)


def job_writing(session, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    job = session.jobs.get()
    while job.bulk_line == 0 and job.status != "completed":
        if time.monotonic() > deadline:
            raise SystemExit(f"backfill not writing after {timeout:.0f} s: {session.message}")
        time.sleep(0.2)
        job.refresh_from_db()


def backfill_figures(session) -> dict[str, Any]:
    session.refresh_from_db()
    job = session.jobs.get()
    seconds = (job.finished_at - job.started_at).total_seconds()
    return {"status": session.status, "orders": job.synced, "seconds": round(seconds, 1),
            "orders_per_second": round(job.synced / seconds)}  # fmt: skip


def run_once(args: argparse.Namespace, sim, domains: dict[str, Any], number: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from shopsync.models import Shop, SyncSession
    from shopsync.services.sync import ensure_sync, shop_connect, sync_incremental_all_shops

    connections.close_all()
    database_recreate(args.database)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()

    shops = {}
    for domain, token in domains.items():
        api_url = sim.base_url if domain == sim.shop else f"{sim.base_url}/shops/{domain}"
        shops[domain], _ = shop_connect(domain=domain, api_url=api_url, token=token, api_version="2026-01")
    small = [d for d in domains if d.startswith("small-")]
    update_shop = "update-shop.myshopify.com"

    processes = Processes(dict(os.environ))
    stopping = threading.Event()
    try:
        web = processes.start("web", [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{args.port}",
                                      "-w", str(args.web_workers), "--log-level", "warning"])  # fmt: skip
        wait_for_port(args.port, web, "gunicorn")
        for queues, concurrency in LAYOUTS[args.layout]:
            processes.worker(queues, concurrency, nice=args.backfill_nice if "sync_backfill" in queues else 0)
        threading.Thread(target=watchdog_ticks, args=(stopping,), daemon=True).start()

        # 2. set-up: every small shop and the update shop synced once
        started = time.monotonic()
        setup = [ensure_sync(shop=shops[d], kind="initial", triggered_by="install").session
                 for d in [*small, update_shop]]  # fmt: skip
        sessions_wait(setup, timeout=args.timeout)
        setup_seconds = round(time.monotonic() - started, 1)
        print(f"run {number}: set-up {setup_seconds} s", flush=True)

        orders = {d: sim.control.truth("orders", full=True, shop=d)["records"][:20] for d in small}
        orders = {d: [row["record"] for row in rows] for d, rows in orders.items()}

        # 3. webhooks alone
        load = WebhookLoad(
            port=args.port, secret=settings.SHOPIFY_API_SECRET, orders=orders, rate=args.webhook_rate
        )
        load.start()
        time.sleep(args.webhook_seconds)
        load.stop()
        webhooks_alone = load.figures()
        print(f"run {number}: webhooks alone {json.dumps(webhooks_alone)}", flush=True)

        # 4. backfill alone
        alone = ensure_sync(shop=shops["big-b.myshopify.com"], kind="initial", resources=["orders"],
                            triggered_by="install").session  # fmt: skip
        sessions_wait([alone], timeout=args.timeout)
        backfill_alone = backfill_figures(alone)
        # Out of the fleet from here on: its other resources were never synced (the tick would backfill them).
        Shop.objects.filter(pk=shops["big-b.myshopify.com"].pk).update(status=Shop.Status.UNINSTALLED)
        print(f"run {number}: backfill alone {json.dumps(backfill_alone)}", flush=True)

        # 5. the fleet
        backfill = ensure_sync(
            shop=shops[sim.shop], kind="initial", resources=["orders"], triggered_by="install"
        ).session
        job_writing(backfill, timeout=args.timeout)
        sim.control.mutate(count=args.changes, seed=number, mix={"orders/update": 1.0}, shop=update_shop)
        for index, domain in enumerate(small):
            sim.control.mutate(count=args.small_changes, seed=number * 1000 + index, mix={"orders/update": 1.0},
                               shop=domain)  # fmt: skip
        sim.control.reset_requests()
        load = WebhookLoad(
            port=args.port, secret=settings.SHOPIFY_API_SECRET, orders=orders, rate=args.webhook_rate
        )
        load.start()
        tick = timezone.now()
        sync_incremental_all_shops()
        incrementals = list(
            SyncSession.objects.filter(kind="incremental", created_at__gte=tick).select_related("shop")
        )
        sessions_wait(incrementals, timeout=args.timeout)
        incrementals_done = time.monotonic()
        sessions_wait([backfill], timeout=args.timeout)
        backfill_done = time.monotonic()
        load.stop()
        throttled = sim.control.requests().get("throttled", {})
        waits = {s.shop.domain: (s.finished_at - tick).total_seconds() for s in SyncSession.objects.filter(
            pk__in=[s.pk for s in incrementals]).select_related("shop")}  # fmt: skip
        update_job = next(s for s in incrementals if s.shop.domain == update_shop).jobs.get(resource="orders")
        fleet = {
            "small_shop_wait_seconds": spread([waits[d] for d in small if d in waits]),
            "small_shops_over_60s": sum(waits[d] > 60 for d in small if d in waits),
            "update_shop": {"wait_seconds": round(waits[update_shop], 1), "orders": update_job.synced,
                            "path": "bulk" if update_job.bulk_rounds else "paged"},
            "incremental_statuses": sorted({s.status for s in SyncSession.objects.filter(pk__in=[s.pk for s in incrementals])}),
            "throttled": sum(throttled.values()), "throttled_by_shop": throttled,
            "backfill": backfill_figures(backfill),
            "webhooks_during_backfill": load.figures(until=backfill_done),
            "incrementals_done_before_backfill": incrementals_done < backfill_done,
        }  # fmt: skip
        fleet["backfill_slowdown"] = round(fleet["backfill"]["seconds"] / backfill_alone["seconds"], 2)
    finally:
        stopping.set()
        processes.stop()
    return {"setup_seconds": setup_seconds, "webhooks_alone": webhooks_alone, "backfill_alone": backfill_alone,
            "fleet": fleet}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of each big shop")
    parser.add_argument("--small-shops", type=int, default=100)
    parser.add_argument("--small-orders", type=int, default=40)
    parser.add_argument("--small-changes", type=int, default=3)
    parser.add_argument("--update-orders", type=int, default=20000)
    parser.add_argument("--changes", type=int, default=700, help="order updates in the update shop")
    parser.add_argument("--webhook-rate", type=float, default=200.0)
    parser.add_argument("--webhook-seconds", type=float, default=30.0)
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="readme")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument(
        "--backfill-nice", type=int, default=0, help="nice level of the backfill worker (0: none)"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "data" / "fleet-sim"))
    parser.add_argument("--database", default="shopsync_bench_fleet", help="dropped and recreated")
    parser.add_argument("--redis-db", type=int, default=13, help="flushed")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    processes_per_sync_queue = sum(c for q, c in LAYOUTS[args.layout] if "sync" in q)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": f"{PG}/{args.database}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}", "LOG_LEVEL": "WARNING",
        "SYNC_WORKER_CONCURRENCY": str(processes_per_sync_queue), "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    database_recreate(args.database)
    import django

    django.setup()
    from shopify_sim.testing import start_simulator

    common = {"plan": "standard", "seed": 42, "anchor": "2026-11-01T00:00:00Z"}
    big = {**common, "orders": args.orders, "customers": max(100, args.orders // 8), "products": 2000}
    started = time.monotonic()
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    sim = start_simulator(startup_timeout=7200, shop="big-a.myshopify.com", token="shpat_big_a", quiet=True,
                          data_dir=args.data_dir, **big)  # fmt: skip
    results = []
    try:
        domains = {"big-a.myshopify.com": "shpat_big_a"}
        shops = [
            ("big-b.myshopify.com", big),
            (
                "update-shop.myshopify.com",
                {**common, "orders": args.update_orders, "customers": 500, "products": 50},
            ),
        ]
        shops += [(f"small-{n:03d}.myshopify.com", {**common, "seed": n, "orders": args.small_orders, "customers": 20,
                                                     "products": 5}) for n in range(args.small_shops)]  # fmt: skip
        for domain, options in shops:
            token = f"shpat_{domain.split('.')[0].replace('-', '_')}"
            sim.control.create_shop(domain, token=token, **options)
            domains[domain] = token
        simulator_ready_seconds = round(time.monotonic() - started, 1)
        for number in range(1, args.runs + 1):
            result = {
                "bench": "fleet", "run": number, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "layout": args.layout, "backfill_nice": args.backfill_nice, "orders": args.orders, "small_shops": args.small_shops,
                "changes": args.changes, "webhook_rate": args.webhook_rate, "cpus": os.cpu_count(),
                "load_avg_before": os.getloadavg(), **run_once(args, sim, domains, number),
                "load_avg_after": os.getloadavg(), "python": platform.python_version(),
                "simulator_ready_seconds": simulator_ready_seconds,
            }  # fmt: skip
            line = json.dumps(result)
            print(line, flush=True)
            with (ROOT / "bench" / "fleet" / "results.jsonl").open("a") as out:
                out.write(line + "\n")
            results.append(result)
    finally:
        sim.stop()
    print(json.dumps({"medians": medians(results)}, indent=1))


def medians(results: list[dict]) -> dict[str, Any]:
    def median(path: str) -> float | None:
        values = []
        for result in results:
            value: Any = result
            for key in path.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, int | float):
                values.append(value)
        return round(statistics.median(values), 2) if values else None

    paths = [
        "fleet.small_shop_wait_seconds.p50", "fleet.small_shop_wait_seconds.p99", "fleet.small_shop_wait_seconds.max",
        "fleet.small_shops_over_60s", "fleet.update_shop.wait_seconds", "fleet.throttled",
        "fleet.backfill.orders_per_second", "backfill_alone.orders_per_second", "fleet.backfill_slowdown",
        "webhooks_alone.intake_ms.p99", "fleet.webhooks_during_backfill.intake_ms.p99",
        "webhooks_alone.apply_seconds.p99", "fleet.webhooks_during_backfill.apply_seconds.p99",
        "webhooks_alone.rate_achieved", "fleet.webhooks_during_backfill.rate_achieved",
    ]  # fmt: skip
    return {path: median(path) for path in paths}


if __name__ == "__main__":
    main()
