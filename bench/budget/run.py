"""Benchmark: N processes on one standard-plan shop, the fleet's shared budget against each process's
own estimate. Figures: THROTTLED answers and how much of the shop's bucket the fleet used.

    .venv/bin/python bench/budget/run.py --processes 4 --seconds 60 --runs 3 [--budget redis|local|both]

Each run gets a fresh simulated shop (a full 2,000-point bucket restoring 100/s) and, for `redis`,
fresh budget keys. Utilisation = points charged / (2,000 + 100/s x the run's wall time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.budget.fleet import fleet_run
from shopify_sim.testing import run_simulator

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--first", type=int, default=100, help="orders per page (cost = first + 2)")
    parser.add_argument("--budget", choices=["redis", "local", "both"], default="both")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    backends = ["redis", "local"] if args.budget == "both" else [args.budget]
    results: dict[str, list[dict]] = {backend: [] for backend in backends}
    with run_simulator(orders=300, customers=5, products=5, seed=3) as sim:
        for run in range(args.runs):
            for backend in backends:  # interleaved, so both see the same machine
                domain = f"budget-{uuid.uuid4().hex[:8]}.myshopify.com"
                info = sim.control.create_shop(domain, orders=300, customers=5, products=5, plan="standard")
                result = fleet_run(
                    api_base_url=f"{sim.base_url}/shops/{domain}",
                    domain=domain,
                    token=info["token"],
                    processes=args.processes,
                    seconds=args.seconds,
                    budget_redis_url=args.redis_url if backend == "redis" else "",
                    bucket_at_start=2000.0,
                    restore_rate=100.0,
                    first=args.first,
                )
                summary = {"run": run + 1, "budget": backend, **result.summary()}
                results[backend].append(summary)
                print(json.dumps(summary), flush=True)
                sim.control.delete_shop(domain)
    for backend, rows in results.items():
        print(
            f"{backend}: median throttled {statistics.median(r['throttled'] for r in rows)} "
            f"of {statistics.median(r['answers'] for r in rows)} answers, "
            f"median utilisation {statistics.median(r['utilisation'] for r in rows):.3f}, "
            f"median {statistics.median(r['points_per_second'] for r in rows)} points/s"
        )


if __name__ == "__main__":
    main()
