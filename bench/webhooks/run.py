"""Webhook receiver benchmark: sustained deliveries/s and latency versus a bare Django view on the
same server, then a zero-loss check (every accepted delivery stored once and processed by a worker)
and a receipt-to-processed latency probe.

The outbox relay (`manage.py webhook_relay`) runs during the whole load, bare and webhook phases
alike, so the publishing the request no longer does is still paid for on the same CPUs.

    .venv/bin/python bench/webhooks/run.py [--runs 5] [--seconds 15] [--connections 16] [--workers 8]
        [--topology shared|split]

`--topology split` gives the web host's processes (gunicorn, relay, worker) a CPU of their own and
puts PostgreSQL, Redis and wrk on the other (a deployment's separate hosts, emulated by CPU
affinity; `topology.py`).

Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 and `wrk` (apt-get install wrk).
Uses its own database (shopsync_bench) and Redis db (7). Prints a Markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.webhooks import topology

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DATA = ROOT / "bench" / "data"
DATABASE = "shopsync_bench"
SECRET = "bench-webhook-secret"
SHOP = "bench.myshopify.com"
TOPIC = "orders/updated"
PORT = 8765

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.webhooks.settings",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/7",
    "SHOPIFY_API_SECRET": SECRET,
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
}
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def main() -> None:
    options = _arguments()
    disk = _disk_sync_probe(seconds=options.disk_probe_seconds)
    print(f"disk fdatasync (8 KB, {options.disk_probe_seconds} s): {disk}", flush=True)
    with topology.placed(options.topology) as placement:
        print(f"topology: {placement}", flush=True)
        runs, loss, probe = _measure(options)
    _report(runs, loss, probe, options, {"topology": placement, "disk_fdatasync": disk})


def _measure(options: argparse.Namespace) -> tuple[list[dict], dict, dict]:
    body = orjson.dumps(_order_payload())
    DATA.mkdir(parents=True, exist_ok=True)
    body_file = DATA / "webhook-body.json"
    body_file.write_bytes(body)
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    _prepare_database()
    server = _start_server(["-w", str(options.workers)])
    relay = _start_relay()
    worker = None
    loss: dict = {}
    probe: dict = {}
    try:
        _load("warmup-bare", "/bench/bare/", body_file, signature, seconds=5, connections=options.connections)
        _load(
            "warmup-hook",
            "/webhooks/shopify/",
            body_file,
            signature,
            seconds=3,
            connections=options.connections,
        )
        runs = []
        for number in range(options.runs):
            bare = _load(
                f"bare{number}", "/bench/bare/", body_file, signature, options.seconds, options.connections
            )
            hook = _load(
                f"hook{number}",
                "/webhooks/shopify/",
                body_file,
                signature,
                options.seconds,
                options.connections,
            )
            runs.append({"bare": bare, "webhook": hook})
            print(
                f"run {number + 1}: bare {bare['rps']:.0f}/s p50 {bare['p50_ms']:.1f} p99 {bare['p99_ms']:.1f} ms | "
                f"webhook {hook['rps']:.0f}/s p50 {hook['p50_ms']:.1f} p99 {hook['p99_ms']:.1f} ms | "
                f"ratio {hook['rps'] / bare['rps']:.2f} | load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        accepted = sum(run["webhook"]["accepted"] for run in runs) + _warmup_accepted
        if not options.skip_drain:
            worker = _start_worker(options.worker_concurrency)
            loss = _verify_processed(expected=accepted)
            probe = _latency_probe(body, signature, count=options.probe_deliveries)
    finally:
        _stop(relay)
        if worker is not None:
            _stop(worker)
        _stop(server)
    return runs, loss, probe


_warmup_accepted = 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=8,
        help="gunicorn sync workers (both views: the bare view and the receiver share the server)",
    )
    parser.add_argument(
        "--worker-concurrency", type=int, default=4, help="celery worker processes for the drain"
    )
    parser.add_argument(
        "--skip-drain",
        action="store_true",
        help="skip the zero-loss check and the latency probe (tuning runs only)",
    )
    parser.add_argument(
        "--topology",
        choices=("shared", "split"),
        default="shared",
        help="shared: every process on every CPU; split: PostgreSQL and Redis on a CPU of their own",
    )
    parser.add_argument(
        "--disk-probe-seconds", type=float, default=10, help="fdatasync latency probe before the load"
    )
    parser.add_argument(
        "--probe-deliveries", type=int, default=200, help="deliveries sent at ~20/s for the latency probe"
    )
    return parser.parse_args()


def _order_payload() -> dict:
    return {
        "id": 820982911946154508,
        "name": "#1001",
        "order_number": 1001,
        "email": "bench@example.com",
        "created_at": "2025-01-01T00:00:00-00:00",
        "updated_at": "2025-01-01T00:00:00-00:00",
        "currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "199.00",
        "subtotal_price": "199.00",
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "tags": "bench",
        "line_items": [
            {
                "id": 8209829119461545080 + i,
                "quantity": 1,
                "price": "19.90",
                "title": f"Item {i}",
                "sku": f"SKU-{i}",
            }
            for i in range(10)
        ],
        "customer": {"id": 115310627314723954, "email": "bench@example.com"},
    }


def _disk_sync_probe(*, seconds: float) -> dict:
    """The disk's fdatasync latency, on the filesystem of this checkout (here also PostgreSQL's):
    every accepted delivery waits for one WAL flush, so the disk's tail is a floor under the
    receiver's p99 that no code above it can lower."""
    path = DATA / "fsync-probe.tmp"
    block = b"\0" * 8192
    latencies = []
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            os.pwrite(descriptor, block, 0)
            started = time.perf_counter()
            os.fdatasync(descriptor)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(descriptor)
        path.unlink()
    latencies.sort()
    count = len(latencies)
    return {
        "syncs": count,
        "p50_ms": round(latencies[count // 2], 2),
        "p99_ms": round(latencies[int(count * 0.99)], 2),
        "p999_ms": round(latencies[int(count * 0.999)], 2),
        "max_ms": round(latencies[-1], 1),
        "over_50_ms": sum(1 for latency in latencies if latency > 50),
    }


def _prepare_database() -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], check=True)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--skip-checks", "-v", "0"], cwd=ROOT, env=ENV, check=True
    )
    # TRUNCATE, not DELETE: a DELETE leaves every earlier run's rows behind as dead tuples (and
    # index entries) until a vacuum, and this machine's PostgreSQL runs without autovacuum, so
    # each run would insert into a larger, more bloated table than the one before.
    _django_shell(
        "from django.db import connection\n"
        "from shopsync.models import Shop, Order, LineItem, FailedSyncItem\n"
        "from webhooks.models import WebhookLog\n"
        "tables = ', '.join(m._meta.db_table for m in (WebhookLog, FailedSyncItem, LineItem, Order))\n"
        "connection.cursor().execute(f'TRUNCATE {tables} CASCADE')\n"
        f"Shop.objects.get_or_create(domain='{SHOP}')\n"
    )
    import redis

    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()


def _django_shell(code: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _start_server(
    server_args: list[str],
    application: str = "bench.webhooks.wsgi",
    *,
    preload: bool = True,
    port: int = PORT,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """gunicorn serving `application` (both views) with `server_args` (workers, worker class).
    Without `preload` each worker imports the application itself, after its worker class has
    set up (gevent's monkey-patching must come before Django creates its connection handler)."""
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            application,
            *(["--preload"] if preload else []),
            "-b",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            *server_args,
        ],
        cwd=ROOT,
        env=env or ENV,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def _load(run_id: str, path: str, body_file: Path, signature: str, seconds: int, connections: int) -> dict:
    global _warmup_accepted
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(HERE / "load.lua"),
        f"http://127.0.0.1:{PORT}{path}",
        "--",
        str(body_file),
        signature,
        SHOP,
        TOPIC,
        f"{run_id}-{uuid.uuid4().hex[:8]}",
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, preexec_fn=topology.pin_load_generator
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    if run_id == "warmup-hook":
        _warmup_accepted = result["accepted"]
    return result


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _start_relay() -> subprocess.Popen:
    """The outbox relay as its own process (the drain worker runs one too, in its consumer)."""
    return subprocess.Popen(
        [PYTHON, "manage.py", "webhook_relay"], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL
    )


def _start_worker(concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "webhooks",
            "-c",
            str(concurrency),
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "bench-webhooks@%h",
        ],
        cwd=ROOT,
        env=ENV,
    )


_COUNT_CODE = (
    "from webhooks.models import WebhookLog as W\n"
    "from django.db.models import Count\n"
    "import json; print(json.dumps(dict(W.objects.values_list('status').annotate(n=Count('id')))))\n"
)


def _status_counts() -> dict[str, int]:
    return json.loads(_django_shell(_COUNT_CODE).strip().splitlines()[-1])


def _verify_processed(*, expected: int) -> dict:
    """With the worker started after the load, wait until every stored delivery is processed."""
    stored = _status_counts()
    started = time.monotonic()
    while True:
        counts = _status_counts()
        pending = sum(n for status, n in counts.items() if status in ("received", "processing", "failed"))
        if pending == 0 or time.monotonic() - started > 900:
            break
        time.sleep(2)
    drained_in = time.monotonic() - started
    return {
        "accepted_by_http": expected,
        "stored": sum(stored.values()),
        "final_statuses": counts,
        "drain_seconds": round(drained_in, 1),
        # wrk counts only responses it read before its deadline; the server may have stored a few
        # more (in flight at the cut-off). Lost = accepted but not stored, plus stored but not processed.
        "lost": max(0, expected - sum(stored.values())) + (sum(stored.values()) - counts.get("processed", 0)),
    }


def _latency_probe(body: bytes, signature: str, *, count: int) -> dict:
    """Receipt to processed, relay and worker idle: `count` deliveries at about 20/s, then the
    stored `processed_at - received_at` of each."""
    import requests

    run_id = f"probe-{uuid.uuid4().hex[:8]}"
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Topic": TOPIC,
        "X-Shopify-API-Version": "2026-01",
    }
    with requests.Session() as session:
        for number in range(count):
            ids = {
                "X-Shopify-Event-Id": f"ev-{run_id}-{number}",
                "X-Shopify-Webhook-Id": f"wh-{run_id}-{number}",
            }
            response = session.post(
                f"http://127.0.0.1:{PORT}/webhooks/shopify/",
                data=body,
                headers={**headers, **ids},
                timeout=10,
            )
            response.raise_for_status()
            time.sleep(0.05)
    code = (
        "from webhooks.models import WebhookLog as W\n"
        "import json, time\n"
        f"q = W.objects.filter(event_id__startswith='ev-{run_id}-')\n"
        "deadline = time.monotonic() + 120\n"
        f"while q.filter(status='processed').count() < {count} and time.monotonic() < deadline: time.sleep(0.5)\n"
        "print(json.dumps(sorted((p - r).total_seconds() * 1000 for r, p in q.values_list('received_at', 'processed_at') if p)))\n"
    )
    latencies = json.loads(_django_shell(code).strip().splitlines()[-1])
    if not latencies:
        return {"deliveries": count, "processed": 0}
    return {
        "deliveries": count,
        "processed": len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "max_ms": round(latencies[-1], 1),
    }


def _report(runs: list[dict], loss: dict, probe: dict, options: argparse.Namespace, setting: dict) -> None:
    def median(kind: str, key: str) -> float:
        return statistics.median(run[kind][key] for run in runs)

    bare_rps, hook_rps = median("bare", "rps"), median("webhook", "rps")
    summary = {
        "machine": f"{os.cpu_count()} CPUs, {_cpu_model()}",
        "options": vars(options),
        **setting,
        "bare": {
            "rps": round(bare_rps),
            "p50_ms": median("bare", "p50_ms"),
            "p99_ms": median("bare", "p99_ms"),
        },
        "webhook": {
            "rps": round(hook_rps),
            "p50_ms": median("webhook", "p50_ms"),
            "p99_ms": median("webhook", "p99_ms"),
        },
        "ratio": round(hook_rps / bare_rps, 3),
        # The other engineers' load moves within seconds: the per-run ratio (bare and webhook
        # measured back to back) is less exposed to it than the ratio of the two medians.
        "ratio_median_of_runs": round(
            statistics.median(run["webhook"]["rps"] / run["bare"]["rps"] for run in runs), 3
        ),
        "runs": runs,
        "zero_loss_check": loss,
        "latency_probe": probe,
    }
    print("\n| view | req/s (median) | p50 ms | p99 ms |\n|---|---|---|---|")
    for kind in ("bare", "webhook"):
        print(
            f"| {kind} | {summary[kind]['rps']} | {summary[kind]['p50_ms']:.2f} | {summary[kind]['p99_ms']:.2f} |"
        )
    print(
        f"\nratio webhook/bare: {summary['ratio']:.2f} (of the medians), "
        f"{summary['ratio_median_of_runs']:.2f} (median of the runs); zero-loss check: {loss}"
    )
    print(f"receipt-to-processed latency probe: {probe}")
    print("JSON " + json.dumps(summary))
    (DATA / "webhooks-bench.json").write_text(json.dumps(summary, indent=2))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    main()
