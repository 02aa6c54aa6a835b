"""The write-path benchmark's input: one bulk-operation JSONL export per declared resource (orders,
customers, products, collections), made by the simulator from a store of its default mix and the
product's own bulk queries (`shopsync.services.sync.graphql_queries.bulk_query`).

So the files hold what an initial sync reads, field for field: orders with their transactions
(about 1.6 each, by financial status), discount allocations, shipping and tax lines, billing
address, note attributes and current totals inline, their line items as `__parentId` lines;
customers with consent and their address books; products with options, variants and images;
collections with their rules and members. A new column selected by a declaration is in the next
files without a change here: the file names carry a digest of the queries, the store options and
the simulator's data version, so a changed selection or store makes new files.

    .venv/bin/python bench/writepath/generate.py --orders 200000 [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

RUN = (
    "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } "
    "userErrors { message } } }"
)
POLL = "query($id: ID!) { node(id: $id) { ... on BulkOperation { status errorCode url objectCount } } }"


def store_options(orders: int) -> dict:
    """The simulator's store: its default mix (line items, transactions, refunds, discounts, addresses,
    consent, options, variants, images, collections), sized as `bench/sync/bench_sync.py` sizes it."""
    return {"orders": orders, "customers": max(100, orders // 8), "products": 2000, "seed": 42,
            "anchor": "2026-11-01T00:00:00Z", "plan": "plus"}  # fmt: skip


def _django() -> None:
    # The declarations import the models: Django must be set up (no database is opened here).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def bulk_queries() -> dict[str, str]:
    """Each declared resource's bulk query, as an initial sync sends it."""
    _django()
    from shopsync.resources import DECLARATIONS
    from shopsync.services.sync.graphql_queries import bulk_query

    return {name: bulk_query(name, None) for name in DECLARATIONS}


def export_paths(workdir: Path, orders: int) -> dict[str, Path]:
    """Where the exports of an `orders`-order store go: named after the queries and store options."""
    from shopify_sim.options import DATA_VERSION

    queries = bulk_queries()
    key = json.dumps([queries, store_options(orders), DATA_VERSION], sort_keys=True).encode()
    digest = hashlib.sha256(key).hexdigest()[:10]
    return {name: workdir / f"{name}-{orders}-{digest}.jsonl" for name in queries}


def write_exports(workdir: Path, orders: int, *, log=print) -> dict[str, Path]:
    """The exports of every resource (made once: existing files are reused)."""
    paths = export_paths(workdir, orders)
    if all(path.exists() for path in paths.values()):
        return paths
    workdir.mkdir(parents=True, exist_ok=True)
    from shopify_sim.testing import start_simulator

    queries = bulk_queries()
    started = time.monotonic()
    sim = start_simulator(startup_timeout=3600, data_dir=str(workdir / "store"), quiet=True,
                          **store_options(orders))  # fmt: skip
    log(f"simulator ready in {time.monotonic() - started:.1f} s")
    try:
        for name, path in paths.items():
            _export(sim, queries[name], path)
            log(f"{name}: {path.stat().st_size / 1e6:.1f} MB in {path}")
    finally:
        sim.stop()
    return paths


def _export(sim, query: str, path: Path) -> None:
    import requests

    answer = sim.graphql(RUN, {"q": query}).json()["data"]["bulkOperationRunQuery"]
    if answer["userErrors"]:
        raise RuntimeError(f"bulk query refused: {answer['userErrors']}")
    operation = answer["bulkOperation"]["id"]
    while (node := sim.graphql(POLL, {"id": operation}).json()["data"]["node"])["status"] in (
        "CREATED",
        "RUNNING",
    ):
        time.sleep(0.2)
    if node["status"] != "COMPLETED":
        raise RuntimeError(f"bulk export {node['status']}: {node.get('errorCode')}")
    partial = path.with_suffix(".part")
    with partial.open("wb") as out:
        if node["url"]:  # no url: nothing to export
            with requests.get(node["url"], stream=True, timeout=600) as response:
                response.raise_for_status()
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
    partial.rename(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shopsync-bench-writepath"))
    args = parser.parse_args()
    write_exports(args.workdir, args.orders)


if __name__ == "__main__":
    main()
