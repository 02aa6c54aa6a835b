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
        [--products 2000] [--variants-per-product 0] [--locations 2] [--metafield-namespaces ""]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

RUN = (
    "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } "
    "userErrors { message } } }"
)
POLL = "query($id: ID!) { node(id: $id) { ... on BulkOperation { status errorCode url objectCount } } }"


# The simulator's defaults these options leave alone (shopify_sim/options.py): a store made without
# a catalogue option is the store made before they existed, with the same file names.
SIMULATOR_VARIANTS_MAX = 8
SIMULATOR_LOCATIONS = 2


@dataclass(frozen=True)
class Catalogue:
    """The catalogue's scale: products, variants per product (a mean: the simulator draws each
    product's count, 1 for 30 % of them, else 2..`variants_max` evenly; 0 keeps its default mix,
    3.8 a product), locations (the simulator deactivates the last of 3 or more; levels are at
    active ones) and the metafield namespaces the shop mirrors (none by default; a single one
    keeps the bulk query's `namespace:` filter, so the export holds only rows the write path keeps)."""

    products: int = 2000
    variants_per_product: float = 0.0
    locations: int = SIMULATOR_LOCATIONS
    metafield_namespaces: tuple[str, ...] = ()

    @property
    def variants_max(self) -> int:
        return (
            variants_max_for_mean(self.variants_per_product)
            if self.variants_per_product
            else SIMULATOR_VARIANTS_MAX
        )


def variants_max_for_mean(mean: float) -> int:
    """The simulator's `variants_max` whose mean variants per product is nearest `mean`
    (1 with probability 0.3, else uniform on 2..variants_max: mean 0.3 + 0.7 (2 + max) / 2)."""
    return min(range(2, 101), key=lambda top: (abs(simulated_variants_mean(top) - mean), top))


def simulated_variants_mean(variants_max: int) -> float:
    return 0.3 + 0.7 * (2 + max(2, variants_max)) / 2


def add_catalogue_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Catalogue()
    parser.add_argument("--products", type=int, default=defaults.products)
    parser.add_argument("--variants-per-product", type=float, default=defaults.variants_per_product,
                        help="mean variants per product (0: the simulator's mix, 3.8)")  # fmt: skip
    parser.add_argument("--locations", type=int, default=defaults.locations,
                        help="the simulator deactivates the last of 3 or more (no levels there)")  # fmt: skip
    parser.add_argument("--metafield-namespaces", default="",
                        help="the shop's mirrored namespaces, comma-separated (e.g. custom); none by default")  # fmt: skip


def catalogue_from(args: argparse.Namespace) -> Catalogue:
    namespaces = tuple(sorted(n for n in args.metafield_namespaces.split(",") if n))
    return Catalogue(products=args.products, variants_per_product=args.variants_per_product,
                     locations=args.locations, metafield_namespaces=namespaces)  # fmt: skip


def store_options(orders: int, catalogue: Catalogue = Catalogue()) -> dict:
    """The simulator's store: its default mix (line items, transactions, refunds, discounts, addresses,
    consent, options, variants, images, collections), sized as `bench/sync/bench_sync.py` sizes it,
    with `catalogue`'s scale."""
    options = {"orders": orders, "customers": max(100, orders // 8), "products": catalogue.products,
               "seed": 42, "anchor": "2026-11-01T00:00:00Z", "plan": "plus"}  # fmt: skip
    if catalogue.variants_max != SIMULATOR_VARIANTS_MAX:
        options["variants_max"] = catalogue.variants_max
    if catalogue.locations != SIMULATOR_LOCATIONS:
        options["locations"] = catalogue.locations
    return options


def _django() -> None:
    # The declarations import the models: Django must be set up (no database is opened here).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def bulk_queries(namespaces: tuple[str, ...] = ()) -> dict[str, str]:
    """Each declared resource's bulk query, as an initial sync of a shop mirroring `namespaces` sends it."""
    _django()
    from shopsync.resources import DECLARATIONS
    from shopsync.services.sync.graphql_queries import bulk_query

    return {name: bulk_query(name, None, namespaces=namespaces) for name in DECLARATIONS}


def export_paths(workdir: Path, orders: int, catalogue: Catalogue = Catalogue()) -> dict[str, Path]:
    """Where the exports of an `orders`-order store go: named after the queries and store options."""
    from shopify_sim.options import DATA_VERSION

    queries = bulk_queries(catalogue.metafield_namespaces)
    key = json.dumps([queries, store_options(orders, catalogue), DATA_VERSION], sort_keys=True).encode()
    digest = hashlib.sha256(key).hexdigest()[:10]
    return {name: workdir / f"{name}-{orders}-{digest}.jsonl" for name in queries}


def write_exports(
    workdir: Path, orders: int, catalogue: Catalogue = Catalogue(), *, log=print
) -> dict[str, Path]:
    """The exports of every resource (made once: existing files are reused)."""
    paths = export_paths(workdir, orders, catalogue)
    if all(path.exists() for path in paths.values()):
        return paths
    workdir.mkdir(parents=True, exist_ok=True)
    from shopify_sim.testing import start_simulator

    queries = bulk_queries(catalogue.metafield_namespaces)
    started = time.monotonic()
    sim = start_simulator(startup_timeout=3600, data_dir=str(workdir / "store"), quiet=True,
                          **store_options(orders, catalogue))  # fmt: skip
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
    add_catalogue_arguments(parser)
    args = parser.parse_args()
    write_exports(args.workdir, args.orders, catalogue_from(args))


if __name__ == "__main__":
    main()
