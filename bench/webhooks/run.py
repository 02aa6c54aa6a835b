"""Webhook receiver benchmark: sustained deliveries/s and latency versus a bare Django view on the
same server, then a zero-loss check (every accepted delivery stored once and processed by a worker).

    .venv/bin/python bench/webhooks/run.py [--runs 5] [--seconds 15] [--connections 16] [--workers 4]

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
    body = orjson.dumps(_order_payload())
    DATA.mkdir(parents=True, exist_ok=True)
    body_file = DATA / "webhook-body.json"
    body_file.write_bytes(body)
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    _prepare_database()
    server = _start_server(options.workers)
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
                f"run {number + 1}: bare {bare['rps']:.0f}/s p99 {bare['p99_ms']:.1f} ms | "
                f"webhook {hook['rps']:.0f}/s p99 {hook['p99_ms']:.1f} ms",
                flush=True,
            )
    finally:
        _stop(server)
    accepted = sum(run["webhook"]["accepted"] for run in runs) + _warmup_accepted
    loss = (
        {}
        if options.skip_drain
        else _verify_processed(expected=accepted, worker_concurrency=options.worker_concurrency)
    )
    _report(runs, loss, options)


_warmup_accepted = 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--worker-concurrency", type=int, default=4, help="celery worker processes for the drain"
    )
    parser.add_argument(
        "--skip-drain", action="store_true", help="skip the zero-loss check (tuning runs only)"
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
    _django_shell(
        "from shopsync.models import Shop, Order, LineItem, FailedSyncItem\n"
        "from webhooks.models import WebhookLog\n"
        "WebhookLog.objects.all().delete(); FailedSyncItem.objects.all().delete()\n"
        "LineItem.objects.all().delete(); Order.objects.all().delete()\n"
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


def _start_server(workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "bench.webhooks.wsgi",
            "--preload",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(workers),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=ENV,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
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
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
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


def _verify_processed(*, expected: int, worker_concurrency: int) -> dict:
    """Start a worker after the load and wait until every stored delivery is processed."""
    count_code = (
        "from webhooks.models import WebhookLog as W\n"
        "from django.db.models import Count\n"
        "import json; print(json.dumps(dict(W.objects.values_list('status').annotate(n=Count('id')))))\n"
    )
    stored = json.loads(_django_shell(count_code).strip().splitlines()[-1])
    worker = subprocess.Popen(
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
            str(worker_concurrency),
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
    started = time.monotonic()
    try:
        while True:
            counts = json.loads(_django_shell(count_code).strip().splitlines()[-1])
            pending = sum(n for status, n in counts.items() if status in ("received", "processing", "failed"))
            if pending == 0 or time.monotonic() - started > 900:
                break
            time.sleep(2)
    finally:
        _stop(worker)
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


def _report(runs: list[dict], loss: dict, options: argparse.Namespace) -> None:
    def median(kind: str, key: str) -> float:
        return statistics.median(run[kind][key] for run in runs)

    bare_rps, hook_rps = median("bare", "rps"), median("webhook", "rps")
    summary = {
        "machine": f"{os.cpu_count()} CPUs, {_cpu_model()}",
        "options": vars(options),
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
        "runs": runs,
        "zero_loss_check": loss,
    }
    print("\n| view | req/s (median) | p50 ms | p99 ms |\n|---|---|---|---|")
    for kind in ("bare", "webhook"):
        print(
            f"| {kind} | {summary[kind]['rps']} | {summary[kind]['p50_ms']:.2f} | {summary[kind]['p99_ms']:.2f} |"
        )
    print(f"\nratio webhook/bare: {summary['ratio']:.2f}; zero-loss check: {loss}")
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
