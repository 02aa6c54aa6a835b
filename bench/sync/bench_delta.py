"""Large deltas: paged against bulk (issue #24, "Large deltas by bulk"). One process, inline runs
(`sync_session_run` in this process, no worker), the simulator on a standard-plan shop (a
2,000-point bucket restoring 100/s, held in Redis as in production).

    .venv/bin/python bench/sync/bench_delta.py --orders 20000 --sizes 50,100,200,400 --big 10000

1. An initial sync of `--orders` orders (bulk).
2. For each size k in `--sizes`, for each path (paged: threshold 0; bulk: threshold 1): k order
   updates (`orders/update` from the simulator's change generator), then an incremental run of the
   orders; seconds = the job's finished - started (count, pages or bulk export + download + write,
   deletion events). The shop's bucket is refilled before each run (a wait of 20 s), so each path
   starts from a full bucket.
3. `--big` order updates, then an incremental run with the default threshold: the issue's target
   is 10,000 changed orders caught up in < 2 min.

`--mix` makes the k changes of step 2 something other than order edits, as the simulator's change
generator names its kinds (issue #21, "incremental after 100 refunds/fulfillments"):

    .venv/bin/python bench/sync/bench_delta.py --orders 2000 --sizes 100 --big 0 --paths paged \
        --mix refunds/create=1                                     # 100 refunds
    ... --mix fulfillments/create=1,fulfillments/update=1,fulfillments/cancel=0.2   # 100 shipments

Each run then also reports the distinct orders the changes touched (`orders_changed`) and the
changes the generator could make (`made`: a kind with no order to take it makes none).

The incremental overlap is set to 1 s (default 120 s) and the watermark moved to just before each
run's changes, so that a run does not read the previous run's changes again; `--export-rate` (objects/s, 0 = as fast as the simulator can) slows the
simulator's bulk exports the way Shopify's take time in proportion to their size.
Prints one JSON line (and appends it to bench/sync/results-delta.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
BUCKET_REFILL_SECONDS = 20.0


def database_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def window_from_now(shop) -> None:
    """Move the shop's orders watermark to now: the next run's window holds the changes made from
    here on only (a paged run leaves it at its last record, whose second it would read again)."""
    from django.utils import timezone

    from shopsync.models import SyncCursor

    SyncCursor.objects.filter(shop=shop, resource="orders").update(updated_at=timezone.now(), shopify_id=0)


def incremental(shop, *, threshold: int) -> dict:
    from django.conf import settings

    from shopsync.services.sync import ensure_sync, sync_session_run

    settings.SYNC_BULK_DELTA_THRESHOLD = threshold
    session = ensure_sync(shop=shop, kind="incremental", resources=["orders"], triggered_by="cli").session
    sync_session_run(session_id=session.pk, task_id="bench-delta")
    session.refresh_from_db()
    job = session.jobs.get()
    return {
        "path": "bulk" if job.bulk_rounds else "paged", "status": session.status, "total": job.total,
        "synced": job.synced, "updated": job.updated, "api_calls": job.api_calls,
        "seconds": round((job.finished_at - job.started_at).total_seconds(), 2),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--sizes", default="50,100,200,400")
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--plan", default="standard")
    parser.add_argument("--export-rate", type=float, default=0.0)
    parser.add_argument("--mix", default="orders/update=1", help="step 2's changes: kind=weight,...")
    parser.add_argument("--paths", default="paged,bulk", help="step 2's paths: paged, bulk or both")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--database", default="shopsync_bench_delta", help="dropped and recreated")
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": f"{PG}/{args.database}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}", "LOG_LEVEL": "WARNING",
        "SYNC_INCREMENTAL_OVERLAP_SECONDS": "1",
    })  # fmt: skip
    database_recreate(args.database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shopify_sim.testing import start_simulator
    from shopsync.services.sync import ensure_sync, shop_connect, sync_session_run

    options = {"orders": args.orders, "customers": max(100, args.orders // 8), "products": 200, "seed": 42,
               "anchor": "2026-11-01T00:00:00Z", "plan": args.plan, "quiet": True,
               "export_rate": args.export_rate}  # fmt: skip
    if args.data_dir:
        options["data_dir"] = args.data_dir
    sim = start_simulator(startup_timeout=3600, **options)
    runs, big = [], None
    try:
        shop, _ = shop_connect(domain=sim.shop, api_url=sim.base_url, token=sim.token, api_version="2026-01")
        started = time.monotonic()
        session = ensure_sync(shop=shop, kind="initial", resources=["orders"], triggered_by="cli").session
        sync_session_run(session_id=session.pk, task_id="bench-initial")
        initial_seconds = round(time.monotonic() - started, 1)
        seed = 100
        mix = {
            kind: float(weight) for kind, _, weight in (p.partition("=") for p in args.mix.split(",") if p)
        }
        paths = [(path, {"paged": 0, "bulk": 1}[path]) for path in args.paths.split(",") if path]
        for size in [int(s) for s in args.sizes.split(",") if s]:
            for path, threshold in paths:
                time.sleep(BUCKET_REFILL_SECONDS)
                seed += 1
                window_from_now(shop)
                time.sleep(1.5)
                made = sim.control.mutate(count=size, seed=seed, mix=mix)
                time.sleep(1.5)  # past the overlap: the window holds these changes only
                run = {"changes": size, "made": len(made), "orders_changed": len({c["id"] for c in made}),
                       "asked": path, **incremental(shop, threshold=threshold)}  # fmt: skip
                print(json.dumps(run), flush=True)
                runs.append(run)
        if args.big:
            time.sleep(BUCKET_REFILL_SECONDS)
            window_from_now(shop)
            time.sleep(1.5)
            changes = sim.control.mutate(count=args.big, seed=7, mix={"orders/update": 1.0})
            time.sleep(1.5)
            from shopsync.services.sync.config import DEFAULTS

            distinct = len({change.get("id") for change in changes})
            big = {
                "changes": args.big,
                "distinct_orders": distinct,
                **incremental(shop, threshold=DEFAULTS["SYNC_BULK_DELTA_THRESHOLD"]),
            }
            print(json.dumps(big), flush=True)
    finally:
        sim.stop()
    result = {
        "bench": "delta", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "orders": args.orders, "plan": args.plan,
        "export_rate": args.export_rate, "mix": args.mix, "initial_seconds": initial_seconds, "runs": runs, "big": big,
    }  # fmt: skip
    line = json.dumps(result)
    print(line)
    with (ROOT / "bench" / "sync" / "results-delta.jsonl").open("a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    main()
