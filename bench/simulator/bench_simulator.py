"""Benchmark: generate and serve an N-order store, export all orders (with line items) through bulk
operations, download the JSONL, and read the simulator's peak RSS per phase. Prints one JSON line.

    .venv/bin/python bench/simulator/bench_simulator.py --orders 1000000 [--exports 3] [--reuse]

Peak RSS per phase: VmHWM from /proc/{pid}/status, reset between phases by writing "5" to
/proc/{pid}/clear_refs (Linux >= 4.0), so "export" is the peak *during* the exports, not the
generation's peak carried over. `--reuse` keeps a store already generated in --data-dir with the
same options (no generation figures then).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shopify_sim.testing import start_simulator  # noqa: E402

BULK = """{ orders { edges { node { id name createdAt updatedAt email displayFinancialStatus
  totalPriceSet { shopMoney { amount currencyCode } } customer { id }
  lineItems { edges { node { id sku quantity title originalUnitPriceSet { shopMoney { amount } } variant { id } } } } } } } }"""
RUN = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { message } } }"
POLL = "query($id: ID!) { node(id: $id) { ... on BulkOperation { status objectCount rootObjectCount fileSize url } } }"


def status_mb(pid: int, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024, 1)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def bulk_export(sim) -> dict:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    op_id = sim.graphql(RUN, {"q": BULK}).json()["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    while True:
        node = sim.graphql(POLL, {"id": op_id}).json()["data"]["node"]
        if node["status"] not in ("CREATED", "RUNNING"):
            break
        time.sleep(0.2)
    export_seconds = time.monotonic() - started
    return {
        "status": node["status"],
        "export_seconds": round(export_seconds, 2),
        "roots": int(node["rootObjectCount"]),
        "objects": int(node["objectCount"]),
        "orders_per_second": round(int(node["rootObjectCount"]) / export_seconds),
        "file_mb": round(int(node["fileSize"]) / 1e6, 1),
        # The machine is shared: the 1-minute load average around the run says how contended it was.
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "url": node["url"],
    }


def download(url: str) -> dict:
    started = time.monotonic()
    size = 0
    with requests.get(url, stream=True, timeout=600) as response:
        for chunk in response.iter_content(1 << 20):
            size += len(chunk)
    seconds = time.monotonic() - started
    return {"download_seconds": round(seconds, 2), "download_mb_per_second": round(size / 1e6 / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--exports", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep a matching store in --data-dir")
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "data" / "simulator"))
    args = parser.parse_args()
    started = time.monotonic()
    sim = start_simulator(
        startup_timeout=3600,
        orders=args.orders,
        customers=max(100, args.orders // 8),
        products=2000,
        seed=42,
        anchor="2026-11-01T00:00:00Z",
        data_dir=args.data_dir,
        fresh=not args.reuse,
        plan="plus",
        quiet=False,
    )
    pid = sim.process.pid
    try:
        ready_seconds = time.monotonic() - started
        generation = next(
            (line for line in sim.output if line.startswith("generated ") and "seconds" in line), ""
        )
        gen_seconds = float(re.search(r"'seconds': ([\d.]+)", generation).group(1)) if generation else None
        figures: dict = {
            "orders": args.orders,
            "generation_seconds": round(gen_seconds, 1) if gen_seconds else None,
            "ready_seconds": round(ready_seconds, 1),
            "peak_rss_startup_mb": status_mb(pid, "VmHWM"),
        }
        reset_peak(pid)
        exports = [bulk_export(sim) for _ in range(args.exports)]
        figures["peak_rss_export_mb"] = status_mb(pid, "VmHWM")
        reset_peak(pid)
        figures.update(download(exports[-1].pop("url")))
        figures["peak_rss_download_mb"] = status_mb(pid, "VmHWM")
        for run in exports:
            run.pop("url", None)
        operations = sim.control.bulk_operations()
        for run, operation in zip(exports, operations, strict=False):
            # Exports of >= 50k roots run half the key range in a worker process (its own peak RSS).
            run["processes"] = operation.get("processes", 1)
            run["worker_peak_rss_mb"] = round(operation.get("worker_peak_rss_kib", 0) / 1024, 1)
        figures["exports"] = exports
        figures["export_seconds_median"] = statistics.median(r["export_seconds"] for r in exports)
        figures["orders_per_second_median"] = round(args.orders / figures["export_seconds_median"])
        figures["rss_now_mb"] = status_mb(pid, "VmRSS")
        figures["machine"] = f"{platform.machine()} python {platform.python_version()}"
        db = Path(args.data_dir) / "demo.myshopify.com.sqlite3"
        figures["sqlite_mb"] = round(db.stat().st_size / 1e6, 1) if db.exists() else None
    finally:
        sim.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
