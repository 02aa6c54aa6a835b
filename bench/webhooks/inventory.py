"""Inventory webhook benchmark (issue #22): `inventory_levels/update` deliveries at a target rate,
accepted by the receiver and applied by the webhook workers while the load runs.

    .venv/bin/python bench/webhooks/inventory.py [--rate 1000] [--seconds 30] [--items 10000]
        [--locations 3] [--runs 1] [--connections 64] [--workers 8] [--worker-concurrency 4]

Per run:
1. The README's deployment layout on one machine: gunicorn serving the project's WSGI application
   (`bench.webhooks.wsgi`: `config.wsgi` with its webhook fast path, the bench settings' secret),
   `--workers` sync workers; a Celery worker `-Q webhooks -c --worker-concurrency` with the outbox
   relay inside it (the default), started before the load.
2. The store (set up once, not timed): one shop, `--locations` locations and a level for every one
   of `--items` inventory items at each, written through the write path.
3. `--rate` deliveries a second for `--seconds` (wrk, `inventory_load.lua`, paced per thread over
   `--connections` connections): each a level picked at random, a new `available`, `updated_at`
   growing with the delivery (milliseconds), signed as Shopify signs (`inventory_deliveries.py`).
4. Then it waits (up to `--drain-timeout`) until every stored delivery of the run is processed.

Figures: accepted/s (200s over wrk's duration), refused and socket errors, intake p50/p99 (wrk's
request round trip, the pacing wait excluded), stored, processed, **lost** (accepted but not
stored, or stored but not processed), **apply latency** (the stored `processed_at - received_at`:
receipt to the delivery marked processed, which happens right after the transaction writing its
level committed, so it bounds the level's own update from above), the drain after the load, and
**levels wrong**: the levels the run touched whose `available` is not that of their newest
delivery (0 expected: coalescing and last-write-wins held). One JSON line per run is appended to
`bench/webhooks/results-inventory.jsonl`.

Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 and `wrk` (apt-get install wrk).
Uses its own database (`--database`, dropped and recreated) and Redis db (`--redis-db`, flushed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.webhooks import inventory_deliveries as deliveries
from bench.webhooks import run as harness

ROOT = harness.ROOT
HERE = Path(__file__).resolve().parent
LOGS = ROOT / "var" / "bench-inventory"
RESULTS = HERE / "results-inventory.jsonl"
SEED_BATCH = 5000


def main() -> None:
    options = _arguments()
    env = _environment(options)
    os.environ.update(env)
    harness.DATA.mkdir(parents=True, exist_ok=True)
    disk = harness._disk_sync_probe(seconds=options.disk_probe_seconds)
    print(f"disk fdatasync (8 KB, {options.disk_probe_seconds} s): {disk}", flush=True)
    _database_recreate(options.database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _broker_flush(env["CELERY_BROKER_URL"])
    _store_seed(items=options.items, locations=options.locations)
    LOGS.mkdir(parents=True, exist_ok=True)
    server = harness._start_server(["-w", str(options.workers)], port=options.port, env=env)
    worker = _worker_start(env, options.worker_concurrency)
    try:
        for number in range(options.runs):
            result = _run_once(options, {"web": server.pid, "worker": worker.pid}, number, disk)
            _print_run(result)
            with RESULTS.open("a") as out:
                out.write(json.dumps(result) + "\n")
    finally:
        _worker_stop(worker)
        harness._stop(server)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000, help="deliveries a second (target)")
    parser.add_argument("--seconds", type=int, default=30, help="load duration per run")
    parser.add_argument("--items", type=int, default=10_000, help="inventory items (each stocked everywhere)")
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--connections", type=int, default=64, help="wrk connections (enough to keep the rate)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn sync workers")
    parser.add_argument("--worker-concurrency", type=int, default=4, help="celery -Q webhooks -c N")
    parser.add_argument(
        "--intake",
        choices=("http", "direct"),
        default="http",
        help="http: wrk against gunicorn (the deployment); direct: the receiver's service "
        "(webhook_event_record) called from this process, without HTTP or gunicorn, to measure "
        "the apply side at a rate one web host of this machine cannot take in",
    )
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--disk-probe-seconds", type=float, default=5)
    parser.add_argument("--database", default="shopsync_bench_inventory", help="dropped and recreated")
    parser.add_argument("--redis-db", type=int, default=7, help="flushed")
    parser.add_argument("--port", type=int, default=8766)
    return parser.parse_args()


def _environment(options: argparse.Namespace) -> dict[str, str]:
    return {
        **harness.ENV,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{options.database}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{options.redis_db}",
    }


def _database_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _broker_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()  # this benchmark's own db only


def _store_seed(*, items: int, locations: int) -> Any:
    """One shop, its locations, and a level of every item at every location (the mirror after an
    initial sync), written through the write path."""
    from shopsync.models import Shop
    from shopsync.payloads.inventory import parse_inventory_level_rest, parse_location_rest
    from shopsync.services.upsert import child_records_upsert, records_upsert

    shop, _ = Shop.objects.get_or_create(domain=harness.SHOP)
    long_ago = "2026-01-01T00:00:00-00:00"
    location_ids = deliveries.location_ids(locations)
    records_upsert(shop=shop, resource="locations", records=[
        parse_location_rest({"id": location_id, "name": f"Warehouse {number + 1}", "active": True,
                             "created_at": long_ago, "updated_at": long_ago})
        for number, location_id in enumerate(location_ids)
    ])  # fmt: skip
    item_ids = deliveries.item_ids(items)
    for start in range(0, items, SEED_BATCH):
        chunk = item_ids[start : start + SEED_BATCH]
        child_records_upsert(shop=shop, resource="locations", child="levels", records_by_parent={
            location_id: [parse_inventory_level_rest({"inventory_item_id": item_id, "location_id": location_id,
                                                      "available": 10, "updated_at": long_ago})
                          for item_id in chunk]
            for location_id in location_ids
        })  # fmt: skip
    return shop


def _worker_start(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    """The webhooks worker as the README runs it (the relay inside), ready before the load."""
    log_path = LOGS / "worker-webhooks.log"
    log = log_path.open("wb")
    worker = subprocess.Popen(
        [harness.PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks", "-c", str(concurrency),
         "-l", "info", "--without-gossip", "--without-mingle", "-n", f"bench-inventory-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while b" ready." not in log_path.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"webhooks worker did not start:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    return worker


def _worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


def _run_once(
    options: argparse.Namespace, processes: dict[str, int], number: int, disk: dict
) -> dict[str, Any]:
    run_id = f"inv{number}-{uuid.uuid4().hex[:8]}"
    # A few seconds' more lines than the load can send at the rate: wrk's clock, not the file, ends it.
    count = int(options.rate * (options.seconds + 2))
    made = list(deliveries.level_deliveries(
        count=count, items=options.items, locations=options.locations, rate=options.rate,
        starting_at=datetime.now(UTC), secret=harness.SECRET, seed=number + 1,
    ))  # fmt: skip
    path = LOGS / f"deliveries-{run_id}.tsv"
    deliveries.write_delivery_file(made, path)
    load_average_before = os.getloadavg()
    cpu_before = _cpu_seconds(processes)
    intake = (
        _load(options, path, run_id) if options.intake == "http" else _direct_intake(options, made, run_id)
    )
    load_ended = time.monotonic()
    path.unlink()
    drain = _drain(run_id, timeout=options.drain_timeout)
    drain["seconds_after_load"] = round(time.monotonic() - load_ended, 1)
    cpu = _cpu_spent(cpu_before, _cpu_seconds(processes))
    stored = max(1, drain["stored"])
    cpu_ms_per_delivery = {name: round(seconds * 1000 / stored, 3) for name, seconds in cpu.items()}
    applied = _applied(run_id, made)
    return {
        "bench": "webhooks-inventory", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_id": run_id, "machine": f"{os.cpu_count()} CPUs", "disk_fdatasync": disk,
        "load_average_before": [round(x, 2) for x in load_average_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "options": {key: value for key, value in vars(options).items()},
        "intake": {**intake, "accepted_per_second": round(intake["accepted"] / intake["seconds"], 1)},
        **drain, **applied,
        # CPU spent from the load's start to the drain's end, per stored delivery: on a shared
        # machine a steadier figure than the rates (what one delivery costs, whoever else runs).
        "cpu_seconds": cpu, "cpu_ms_per_delivery": cpu_ms_per_delivery,
        "cpu_ms_per_delivery_total": round(sum(cpu_ms_per_delivery.values()), 3),
        "lost": max(0, intake["accepted"] - drain["stored"]) + (drain["stored"] - drain["processed"]),
    }  # fmt: skip


def _cpu_seconds(processes: dict[str, int]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each process tree (gunicorn and its workers; the Celery worker, its
    pool and relay) and of this database's PostgreSQL backends, by pid."""
    from django.db import connection

    found = {name: {pid: _own_cpu_seconds(pid) for pid in _tree(root)} for name, root in processes.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        found["postgres"] = {pid: _own_cpu_seconds(pid) for (pid,) in cursor.fetchall()}
    return found


def _cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group spent in between (a process born in between counts from 0)."""
    return {
        name: round(sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in by_pid.items()), 2)
        for name, by_pid in after.items()
    }


def _tree(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(options: argparse.Namespace, path: Path, run_id: str) -> dict[str, Any]:
    command = [
        "wrk", "-t", str(options.threads), "-c", str(options.connections), "-d", f"{options.seconds}s",
        "--timeout", "5s", "-s", str(HERE / "inventory_load.lua"),
        f"http://127.0.0.1:{options.port}/webhooks/shopify/", "--",
        str(path), harness.SHOP, deliveries.TOPIC, run_id, str(options.rate), str(options.threads),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _direct_intake(options: argparse.Namespace, made: list[deliveries.LevelDelivery], run_id: str) -> dict:
    """The receiver's own service (verify, record: one INSERT each, as the view does) for each
    delivery at the rate, from `options.connections` threads (each with its own database
    connection), for `options.seconds`; the same figures as the wrk script reports."""
    import threading

    from django.db import connection

    from webhooks.services.receiving import WebhookDelivery, webhook_event_record, webhook_signature_is_valid

    threads = max(1, min(options.connections, 16))
    started, ends = time.monotonic(), time.monotonic() + options.seconds
    latencies: list[float] = []
    counts = {"sent": 0, "accepted": 0, "not_accepted": 0}
    lock = threading.Lock()

    def send(first: int) -> None:
        for index in range(first, len(made), threads):
            due = started + index / options.rate
            if due >= ends:
                break
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            delivery = made[index]
            headers = {
                "X-Shopify-Topic": deliveries.TOPIC, "X-Shopify-Shop-Domain": harness.SHOP,
                "X-Shopify-Event-Id": f"ev-{run_id}-{index}", "X-Shopify-Webhook-Id": f"wh-{run_id}-{index}",
                "X-Shopify-API-Version": "2026-01",
                "X-Shopify-Triggered-At": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }  # fmt: skip
            began = time.monotonic()
            accepted = webhook_signature_is_valid(body=delivery.body, signature=delivery.signature) and (
                webhook_event_record(
                    delivery=WebhookDelivery.from_headers(headers=headers, body=delivery.body)
                )
                == "stored"
            )
            with lock:
                latencies.append((time.monotonic() - began) * 1000)
                counts["sent"] += 1
                counts["accepted" if accepted else "not_accepted"] += 1
        connection.close()

    workers = [threading.Thread(target=send, args=(first,)) for first in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ordered = sorted(latencies)
    return {
        "requests": counts["sent"], **counts, "socket_errors": 0, "seconds": round(time.monotonic() - started, 3),
        **{f"p{share}_ms": deliveries.percentile(ordered, share / 100) or 0.0 for share in (50, 90, 99)},
        "max_ms": ordered[-1] if ordered else 0.0,
    }  # fmt: skip


def _run_logs(run_id: str) -> Any:
    from webhooks.models import WebhookLog

    return WebhookLog.objects.filter(event_id__startswith=f"ev-{run_id}-")


def _drain(run_id: str, *, timeout: float) -> dict[str, Any]:
    """Wait until no delivery of the run is waiting or being processed (or `timeout`); polled
    every 0.25 s, so the drain time is known to that."""
    from django.db.models import Count

    started = time.monotonic()
    while _run_logs(run_id).filter(status__in=("received", "processing", "failed")).exists():
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.25)
    statuses = dict(_run_logs(run_id).values_list("status").annotate(n=Count("id")))
    return {"stored": sum(statuses.values()), "processed": statuses.get("processed", 0), "statuses": statuses}


def _applied(run_id: str, made: list[deliveries.LevelDelivery]) -> dict[str, Any]:
    """Apply latency of the run's processed deliveries, and the levels they touched that do not
    hold their newest stored delivery's `available`."""
    from shopsync.models import InventoryLevel

    rows = list(_run_logs(run_id).values_list("event_id", "status", "received_at", "processed_at"))
    latencies = [(done - received).total_seconds() for _, status, received, done in rows
                 if status == "processed" and done is not None]  # fmt: skip
    stored = [made[deliveries.delivery_index(event_id)] for event_id, *_ in rows]
    expected = deliveries.expected_levels(stored)
    held = {
        (location, item): available
        for location, item, available in InventoryLevel.objects.filter(
            location__shopify_id__in={location for location, _ in expected}
        ).values_list("location__shopify_id", "shopify_id", "available")
    }
    wrong = [key for key, available in expected.items() if held.get(key) != available]
    return {
        "apply_seconds": deliveries.spread(latencies),
        "levels_touched": len(expected),
        "levels_wrong": len(wrong),
        "levels_wrong_sample": [list(key) for key in wrong[:5]],
    }


def _print_run(result: dict[str, Any]) -> None:
    intake, apply = result["intake"], result["apply_seconds"]
    print(
        f"{result['run_id']}: target {result['options']['rate']:.0f}/s for {result['options']['seconds']} s | "
        f"accepted {intake['accepted']} ({intake['accepted_per_second']:.0f}/s), not accepted "
        f"{intake['not_accepted']}, socket errors {intake['socket_errors']} | intake p50 {intake['p50_ms']:.1f} "
        f"p99 {intake['p99_ms']:.1f} ms | stored {result['stored']}, processed {result['processed']}, lost "
        f"{result['lost']} | apply p50 {apply['p50']} p99 {apply['p99']} max {apply['max']} s | drained "
        f"{result['seconds_after_load']} s after the load | levels wrong {result['levels_wrong']} of "
        f"{result['levels_touched']} | CPU ms/delivery {result['cpu_ms_per_delivery']} | load "
        f"{result['load_average_before'][0]} -> {result['load_average_after'][0]}",
        flush=True,
    )
    print("JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    main()
