"""Benchmark the sync engine end to end: an initial sync of an N-order store from the simulator into
PostgreSQL through a real Celery worker, then an incremental run after `--changes` order updates.
Prints one JSON line (and appends it to bench/sync/results.jsonl).

    .venv/bin/python bench/sync/bench_sync.py --orders 100000 [--changes 100] [--data-dir DIR]

- A fresh database `shopsync_bench_sync` (dropped and migrated), Redis db 9, a `celery worker
  --pool solo -Q sync` subprocess with the base settings (batch size 2,000), the simulator on a free
  port (plan plus, seed 42, anchor 2026-11-01; `--data-dir` reuses a store generated with the same
  options).
- orders/s = orders written / (job finished - job started): bulk operation + download + parse +
  write, everything the run does. Peak RSS = the worker's VmHWM from /proc (solo pool: the task runs
  in that process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DB_NAME = "shopsync_bench_sync"
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/9"
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "CELERY_BROKER_URL": BROKER,
    "LOG_LEVEL": "WARNING",
}


def status_mb(pid: int, field: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) / 1024, 1)


def database_recreate() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def worker_start(log_path: Path) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", "sync,sync_backfill", "--pool", "solo",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]  # fmt: skip
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **ENV, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def tree_rss_mb(pid: int) -> float:
    """VmRSS of the worker plus its descendants (the bulk parsing child), MB."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += status_mb(current, "VmRSS")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return round(total, 1)


def session_follow(session, worker_pid: int, *, timeout: float) -> tuple[float, float | None]:
    """Wait for the session to end; returns the highest sampled VmRSS (MB) of the worker and its
    parsing child together, and when (monotonic) the export was ready (the stage moved from
    bulk_running to writing)."""
    deadline = time.monotonic() + timeout
    peak, export_ready = 0.0, None
    while time.monotonic() < deadline:
        session.refresh_from_db()
        peak = max(peak, tree_rss_mb(worker_pid))
        if export_ready is None and session.stage == "writing":
            export_ready = time.monotonic()
        if session.status not in ("queued", "running"):
            return peak, export_ready
        time.sleep(0.2)
    raise SystemExit(f"session {session.pk} still {session.status} after {timeout}s: {session.message}")


def baseline_on_export(url: str, orders: int) -> dict:
    """The write-path benchmark's baseline (orjson + COPY, no validation, no merge) over the very
    export this run synced, in the same run: downloaded to a file first, then written into the
    write-path benchmark's own database."""
    import requests

    sys.path.insert(0, str(ROOT / "bench" / "writepath"))
    import run as writepath

    path = ROOT / "var" / "bench-sync-export.jsonl"
    with requests.get(url, stream=True, timeout=60) as response, path.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 20):
            out.write(chunk)
    args = argparse.Namespace(database=writepath.DEFAULT_DATABASE, batch_size=2000, switch_interval=0.0005,
                              parse="thread", orders=orders)  # fmt: skip
    writepath.prepare_database(args.database)
    figures = writepath.measure("baseline", args, path)
    path.unlink()
    return {key: round(value, 3) for key, value in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--settings", default="config.settings.local", help="e.g. bench.sync.settings_no_prefetch"
    )
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the write-path baseline on the same export (default: yes)",
    )
    args = parser.parse_args()
    ENV["DJANGO_SETTINGS_MODULE"] = args.settings

    os.environ.update(ENV)
    database_recreate()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    # Only the queue's messages: kombu's bindings must stay, or a message sent before the worker
    # (re)declares its queue is dropped.
    redis.Redis.from_url(BROKER).delete("sync", "sync_backfill")

    from shopify_sim.testing import start_simulator
    from shopsync.models import SyncSession
    from shopsync.services.sync import ensure_sync, shop_connect

    options = {"orders": args.orders, "customers": max(100, args.orders // 8), "products": 2000, "seed": 42,
               "anchor": "2026-11-01T00:00:00Z", "plan": "plus", "quiet": True}  # fmt: skip
    if args.data_dir:
        options["data_dir"] = args.data_dir
    started = time.monotonic()
    sim = start_simulator(startup_timeout=3600, **options)
    simulator_ready_seconds = round(time.monotonic() - started, 1)
    worker = None
    try:
        shop, _ = shop_connect(domain=sim.shop, api_url=sim.base_url, token=sim.token, api_version="2026-01")
        worker = worker_start(ROOT / "var" / "bench-sync-worker.log")
        base_rss = status_mb(worker.pid, "VmRSS")

        session = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="cli").session
        sampled_peak, export_ready = session_follow(session, worker.pid, timeout=args.timeout)
        ended = time.monotonic()
        job = session.jobs.get()
        if session.status != SyncSession.Status.COMPLETED:
            raise SystemExit(f"initial sync {session.status}: {session.error}")
        seconds = (job.finished_at - job.started_at).total_seconds()
        initial = {
            "orders": job.synced, "seconds": round(seconds, 1), "orders_per_second": round(job.synced / seconds),
            "api_calls": job.api_calls, "worker_rss_start_mb": base_rss,
            "worker_and_parser_rss_peak_sampled_mb": sampled_peak,
            "worker_vmhwm_mb": status_mb(worker.pid, "VmHWM"),
            "write_phase_seconds": round(ended - export_ready, 1) if export_ready else None,
            "write_phase_orders_per_second": round(job.synced / (ended - export_ready)) if export_ready else None,
        }  # fmt: skip

        baseline = baseline_on_export(job.bulk_url, job.synced) if args.baseline else None
        changed = sim.control.mutate(count=args.changes, seed=1, mix={"orders/update": 1.0})
        sim.control.reset_requests()
        started = time.monotonic()
        session = ensure_sync(shop=shop, kind="incremental", resources=["orders"], triggered_by="cli").session
        session_follow(session, worker.pid, timeout=600)
        job = session.jobs.get()
        incremental = {
            "changes": len(changed), "synced": job.synced, "updated": job.updated, "api_calls": job.api_calls,
            "simulator_requests": sim.control.requests()["total"],
            "seconds_wall": round(time.monotonic() - started, 2),
            "seconds_run": round((job.finished_at - job.started_at).total_seconds(), 2), "status": session.status,
        }  # fmt: skip
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        sim.stop()
    result = {
        "bench": "sync", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "simulator_ready_seconds": simulator_ready_seconds,
        "settings": args.settings,
        "initial": initial, "incremental": incremental, "baseline": baseline,
        "ratio_to_baseline": round(initial["orders_per_second"] / baseline["orders_per_second"], 3) if baseline else None,
    }  # fmt: skip
    line = json.dumps(result)
    print(line)
    with (ROOT / "bench" / "sync" / "results.jsonl").open("a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    main()
