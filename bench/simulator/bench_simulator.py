"""Benchmark: generate and serve an N-order store, export all orders (with line items) through a bulk
operation, and read the simulator's peak RSS (VmHWM from /proc). Prints one JSON line of figures.

    .venv/bin/python bench/simulator/bench_simulator.py --orders 1000000 [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
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


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def bulk_export(sim) -> dict:
    started = time.monotonic()
    op_id = sim.graphql(RUN, {"q": BULK}).json()["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    while True:
        node = sim.graphql(POLL, {"id": op_id}).json()["data"]["node"]
        if node["status"] not in ("CREATED", "RUNNING"):
            break
        time.sleep(0.5)
    export_seconds = time.monotonic() - started
    started = time.monotonic()
    size = 0
    with requests.get(node["url"], stream=True, timeout=600) as response:
        for chunk in response.iter_content(1 << 20):
            size += len(chunk)
    return {
        "status": node["status"],
        "export_seconds": round(export_seconds, 1),
        "roots": int(node["rootObjectCount"]),
        "objects": int(node["objectCount"]),
        "orders_per_second": round(int(node["rootObjectCount"]) / export_seconds),
        "file_mb": round(int(node["fileSize"]) / 1e6, 1),
        "download_seconds": round(time.monotonic() - started, 1),
        "downloaded_mb": round(size / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
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
        fresh=True,
        plan="plus",
    )
    try:
        ready_seconds = time.monotonic() - started
        generation = next(
            (line for line in sim.output if line.startswith("generated ") and "seconds" in line), ""
        )
        gen_seconds = float(re.search(r"'seconds': ([\d.]+)", generation).group(1)) if generation else None
        figures = {
            "orders": args.orders,
            "generation_seconds": round(gen_seconds, 1) if gen_seconds else None,
            "ready_seconds": round(ready_seconds, 1),
            **bulk_export(sim),
            "peak_rss_mb": round(peak_rss_mb(sim.process.pid), 1),
            "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}",
        }
        db = Path(args.data_dir) / "demo.myshopify.com.sqlite3"
        figures["sqlite_mb"] = round(db.stat().st_size / 1e6, 1) if db.exists() else None
    finally:
        sim.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
