"""The second process of a big bulk export: renders the upper half of the key range to its own file.

Started by `BulkManager` as `python -m shopify_sim.bulk.worker` with a JSON job on stdin. It opens its
read transaction while the parent holds the store's write lock, so both halves read one snapshot;
it prints `ready` once its snapshot is taken, then a JSON line of counters when the file is complete.
The parent appends the file to its own half, so each root is still followed by its children.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shopify_sim import timeutil
from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.bulk.export import Counters, forget_loaded, write_records
from shopify_sim.bulk.plan import compile_query
from shopify_sim.options import ShopOptions
from shopify_sim.store.db import Store

FETCH_ROWS = 256
FORGET_ROWS = 5000
WRITE_BUFFER = 1 << 20


@dataclass
class WorkerShop:
    """What field functions read from a shop (`ctx.shop`), without the server's state."""

    domain: str
    options: ShopOptions
    store: Store
    offset_minutes: int


def peak_rss_kib() -> int:
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def run(job: dict[str, Any]) -> dict[str, Any]:
    options = ShopOptions(**job["options"])
    store = Store(job["db"])
    shop = WorkerShop(options.domain, options, store, timeutil.parse_offset(options.timezone_offset))
    ctx = GraphQLContext(shop=shop, version=job["version"], scopes=frozenset(job["scopes"]), base_url="")  # type: ignore[arg-type]
    plan = compile_query(
        job["query"], job["version"], connections_under_lists=options.bulk_connections_under_lists
    )
    counters = Counters()
    conn = store.conn()
    conn.execute("BEGIN")
    try:
        batches = store.iterate_batches(
            conn, plan.resource, job["where"], job["params"], job["order_by"], FETCH_ROWS
        )
        first = next(batches, [])  # the snapshot exists once the first row is read
        print("ready", flush=True)
        with open(job["path"], "wb", buffering=WRITE_BUFFER) as handle:
            for blobs in _chain(first, batches):
                write_records(plan.plan, blobs, ctx, handle.write, counters, None)
                if counters.roots % FORGET_ROWS < len(blobs):
                    forget_loaded(ctx)
    finally:
        conn.execute("COMMIT")
        store.close()
    return {
        "objects": counters.objects,
        "roots": counters.roots,
        "bytes": counters.bytes,
        "peak_rss_kib": peak_rss_kib(),
    }


def _chain(first: list[bytes], rest: Any) -> Any:
    yield first
    yield from rest


def main() -> int:
    job = orjson.loads(sys.stdin.buffer.read())
    print(orjson.dumps(run(job)).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
