"""Benchmark the sync engine end to end: an initial sync of an N-order store from the simulator into
PostgreSQL through a real Celery worker, then an incremental run after `--changes` order updates.
Prints one JSON line (and appends it to bench/sync/results.jsonl).

    .venv/bin/python bench/sync/bench_sync.py --orders 100000 [--changes 100] [--data-dir DIR]

The store is the simulator's default mix: orders with their transactions, discounts, shipping and
tax lines (inline in each order's export line) and line items; customers with consent and address
books; products with options, variants and images; collections with members. The rest of the
store (customers, `--products` products (2,000), collections: every declared resource but orders)
is synced first, each in a session of its own (`other_resources` in the output), then the orders
(`initial`, the figure; the worker's VmHWM is reset before it, so its peak is the orders session's). At the end the rows of every table written are counted and checked against
the exports (per table, as `bench/writepath/run.py` counts them); the baseline loads the orders
export into every table the write path writes for orders.

- A fresh database `shopsync_bench_sync` (dropped and migrated), Redis db 9, a `celery worker
  --pool solo -Q sync` subprocess with the base settings (batch size 2,000), the simulator on a free
  port (plan plus, seed 42, anchor 2026-11-01; `--data-dir` reuses a store generated with the same
  options).
- orders/s = orders written / (job finished - job started): bulk operation + download + parse +
  write, everything the run does. Peak RSS = the worker's VmHWM from /proc (solo pool: the task runs
  in that process); worker + parser = the highest sampled VmRSS of the worker and its descendants
  together (the bulk parsing child), every 0.2 s, and the sum of the worker's and the child's own
  VmHWM (a bound: the two peaks need not coincide).
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
from dataclasses import asdict
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


def database_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


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


def tree_rss_mb(pid: int, child_hwm: dict[int, float] | None = None) -> float:
    """VmRSS of the worker plus its descendants (the bulk parsing child), MB. Each descendant's
    VmHWM so far is noted in `child_hwm` (by pid)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += status_mb(current, "VmRSS")
            if current != pid and child_hwm is not None:
                child_hwm[current] = max(child_hwm.get(current, 0.0), status_mb(current, "VmHWM"))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return round(total, 1)


def session_follow(
    session, worker_pid: int, *, timeout: float, child_hwm: dict[int, float] | None = None
) -> tuple[float, float | None]:
    """Wait for the session to end; returns the highest sampled VmRSS (MB) of the worker and its
    parsing child together, and when (monotonic) the export was ready (the stage moved from
    bulk_running to writing). The children's VmHWM seen go to `child_hwm`."""
    deadline = time.monotonic() + timeout
    peak, export_ready = 0.0, None
    while time.monotonic() < deadline:
        session.refresh_from_db()
        peak = max(peak, tree_rss_mb(worker_pid, child_hwm))
        if export_ready is None and session.stage == "writing":
            export_ready = time.monotonic()
        if session.status not in ("queued", "running"):
            return peak, export_ready
        time.sleep(0.2)
    raise SystemExit(f"session {session.pk} still {session.status} after {timeout}s: {session.message}")


def _writepath():
    """bench/writepath/run.py: its baseline, and its count of the rows an export holds per table."""
    sys.path.insert(0, str(ROOT / "bench" / "writepath"))
    import run as writepath

    return writepath


def _generate():
    """bench/writepath/generate.py: the store's options for a catalogue scale."""
    sys.path.insert(0, str(ROOT / "bench" / "writepath"))
    import generate

    return generate


def export_rows(path: Path, resource: str) -> dict[str, int]:
    """Rows an export file holds for each table its resource writes (every declared child)."""
    return _writepath().expected_rows({resource: path})


def table_rows(tables) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        found = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            found[table] = cursor.fetchone()[0]
        # The variants' option values (`option1..3`, from `selectedOptions`) are columns, not rows.
        cursor.execute("SELECT count(*) FROM shopsync_productvariant WHERE option1 IS NOT NULL")
        found["shopsync_productvariant.option1_set"] = cursor.fetchone()[0]
    return found


def export_download(url: str, path: Path) -> Path:
    import requests

    with requests.get(url, stream=True, timeout=60) as response, path.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 20):
            out.write(chunk)
    return path


def initial_sync(shop, resource: str, worker_pid: int, *, timeout: float, child_hwm: dict[int, float]):
    from shopsync.models import SyncSession
    from shopsync.services.sync import ensure_sync

    session = ensure_sync(shop=shop, kind="initial", resources=[resource], triggered_by="cli").session
    sampled_peak, export_ready = session_follow(session, worker_pid, timeout=timeout, child_hwm=child_hwm)
    ended = time.monotonic()
    job = session.jobs.get()
    if session.status != SyncSession.Status.COMPLETED:
        raise SystemExit(f"initial {resource} sync {session.status}: {session.error}")
    return job, sampled_peak, export_ready, ended


def store_baseline_on_exports(
    paths: dict[str, Path], orders: int, database: str, write_phases: dict[str, float], namespaces: str
) -> dict:
    """The baseline over every resource's export this run synced (COPY into every table the write
    path writes: orders and their children, customers, products with variants, options, media and
    metafields, collections with members, locations with inventory levels), against the syncs'
    write phases (export ready -> session ended; a session too short for the poll to see it
    writing counts whole, bulk operation included, which only lowers the ratio)."""
    writepath = _writepath()
    args = argparse.Namespace(database=database, batch_size=2000, switch_interval=0.0005, parse="thread",
                              orders=orders, metafield_namespaces=namespaces)  # fmt: skip
    writepath.prepare_database(args.database)
    figures = writepath.measure("baseline", args, paths)
    by_resource = figures["seconds_by_resource"]
    return {
        "seconds": round(figures["seconds"], 2), "seconds_by_resource": by_resource,
        "write_phase_seconds": write_phases, "write_phase_seconds_total": round(sum(write_phases.values()), 2),
        "ratio": round(figures["seconds"] / sum(write_phases.values()), 3),
        "ratio_by_resource": {name: round(by_resource[name] / write_phases[name], 3) for name in by_resource},
        "tables": {table: found["rows"] for table, found in figures["tables"].items()},
    }  # fmt: skip


def baseline_on_export(path: Path, orders: int, database: str) -> dict:
    """The write-path benchmark's baseline (orjson + COPY of the orders' rows into every table the
    write path writes for them, no validation, no merge) over the very export this run synced
    (downloaded to `path`), in the same run, written into the write-path benchmark's database."""
    writepath = _writepath()
    args = argparse.Namespace(database=database, batch_size=2000, switch_interval=0.0005,
                              parse="thread", orders=orders)  # fmt: skip
    writepath.prepare_database(args.database)
    figures = writepath.measure("baseline", args, {"orders": path})
    figures.pop("roots"), figures.pop("seconds_by_resource")
    tables = {table: found["rows"] for table, found in figures.pop("tables").items()}
    return {**{key: round(value, 3) for key, value in figures.items()}, "tables": tables}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    _generate().add_catalogue_arguments(parser)  # --products, --variants-per-product, --locations, ...
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
    parser.add_argument("--database", default=DB_NAME, help="dropped and recreated")
    parser.add_argument(
        "--baseline-database", default="shopsync_bench_writepath", help="dropped and recreated"
    )
    parser.add_argument("--redis-db", type=int, default=9)
    args = parser.parse_args()
    ENV["DJANGO_SETTINGS_MODULE"] = args.settings
    ENV["DATABASE_URL"] = f"{PG}/{args.database}"
    ENV["CELERY_BROKER_URL"] = broker = f"redis://127.0.0.1:6379/{args.redis_db}"

    os.environ.update(ENV)
    database_recreate(args.database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    # Only the queue's messages: kombu's bindings must stay, or a message sent before the worker
    # (re)declares its queue is dropped.
    redis.Redis.from_url(broker).delete("sync", "sync_backfill")

    from shopify_sim.testing import start_simulator
    from shopsync.resources import DECLARATIONS
    from shopsync.services.sync import ensure_sync, shop_connect

    catalogue = _generate().catalogue_from(args)
    # The write-path benchmark's store for this catalogue (the same options, the same data).
    options = {**_generate().store_options(args.orders, catalogue), "quiet": True}
    if args.data_dir:
        options["data_dir"] = args.data_dir
    started = time.monotonic()
    sim = start_simulator(startup_timeout=3600, **options)
    simulator_ready_seconds = round(time.monotonic() - started, 1)
    worker = None
    try:
        shop, _ = shop_connect(domain=sim.shop, api_url=sim.base_url, token=sim.token, api_version="2026-01")
        if catalogue.metafield_namespaces:
            # Set directly: the simulator's subscriptions do not matter to an initial sync.
            shop.metafield_namespaces = list(catalogue.metafield_namespaces)
            shop.save(update_fields=["metafield_namespaces"])
        worker = worker_start(ROOT / "var" / "bench-sync-worker.log")
        base_rss = status_mb(worker.pid, "VmRSS")

        # The rest of the store first (customers, products, collections: every declared resource but
        # orders), each in a session of its own, so the orders' figures stay what they were: the
        # orders session alone.
        others, exports = {}, {}
        for name in DECLARATIONS:
            if name == "orders":
                continue
            job, peak, ready, ended = initial_sync(shop, name, worker.pid, timeout=args.timeout, child_hwm={})
            path = export_download(job.bulk_url, ROOT / "var" / f"bench-sync-{name}-{args.database}.jsonl")
            exports[name] = path  # kept for the whole store's baseline
            others[name] = {
                "records": job.synced, "seconds": round((job.finished_at - job.started_at).total_seconds(), 1),
                "write_phase_seconds": round(ended - ready, 2) if ready else None,
                "worker_and_parser_rss_peak_sampled_mb": peak, "export_rows": export_rows(path, name),
            }  # fmt: skip

        # The worker's VmHWM from here on is the orders session's alone (Linux >= 4.0: "5" resets it).
        Path(f"/proc/{worker.pid}/clear_refs").write_text("5")
        child_hwm: dict[int, float] = {}
        job, sampled_peak, export_ready, ended = initial_sync(shop, "orders", worker.pid, timeout=args.timeout,
                                                              child_hwm=child_hwm)  # fmt: skip
        seconds = (job.finished_at - job.started_at).total_seconds()
        initial = {
            "orders": job.synced, "seconds": round(seconds, 1), "orders_per_second": round(job.synced / seconds),
            "api_calls": job.api_calls, "worker_rss_start_mb": base_rss,
            "worker_and_parser_rss_peak_sampled_mb": sampled_peak,
            "worker_vmhwm_mb": (worker_hwm := status_mb(worker.pid, "VmHWM")),
            "parser_vmhwm_mb": max(child_hwm.values(), default=None),
            "worker_and_parser_vmhwm_sum_mb": round(worker_hwm + max(child_hwm.values(), default=0.0), 1),
            "write_phase_seconds": round(ended - export_ready, 1) if export_ready else None,
            "write_phase_orders_per_second": round(job.synced / (ended - export_ready)) if export_ready else None,
        }  # fmt: skip

        export_path = export_download(job.bulk_url, ROOT / "var" / f"bench-sync-export-{args.database}.jsonl")
        orders_export = export_rows(export_path, "orders")
        rows_expected = {**orders_export}
        for other in others.values():
            rows_expected.update(other["export_rows"])
        rows_after_initial = table_rows(rows_expected)
        baseline = (
            baseline_on_export(export_path, job.synced, args.baseline_database) if args.baseline else None
        )
        exports["orders"] = export_path
        write_phases = {
            name: other["write_phase_seconds"] or other["seconds"] for name, other in others.items()
        }
        write_phases["orders"] = initial["write_phase_seconds"] or initial["seconds"]
        store_baseline = (
            store_baseline_on_exports(exports, job.synced, args.baseline_database, write_phases,
                                      ",".join(catalogue.metafield_namespaces))
            if args.baseline else None
        )  # fmt: skip
        for path in exports.values():
            path.unlink()
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
        "settings": args.settings, "catalogue": {**asdict(catalogue), "simulator_variants_max": catalogue.variants_max},
        "other_resources": others, "initial": initial, "incremental": incremental, "baseline": baseline,
        "store_baseline": store_baseline,
        "rows_after_initial": rows_after_initial, "rows_expected": rows_expected, "rows_at_end": table_rows(rows_expected),
        "rows_match": {k: v for k, v in rows_after_initial.items() if k in rows_expected} == rows_expected
        and (baseline is None or baseline["tables"] == orders_export),
        "ratio_to_baseline": round(initial["orders_per_second"] / baseline["orders_per_second"], 3) if baseline else None,
    }  # fmt: skip
    line = json.dumps(result)
    print(line)
    with (ROOT / "bench" / "sync" / "results.jsonl").open("a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    main()
