"""Write-path benchmark: bulk JSONL exports of a whole store -> PostgreSQL, through the real write path
vs a raw COPY of the same rows.

    .venv/bin/python bench/writepath/run.py --orders 200000 --runs 3
    .venv/bin/python bench/writepath/run.py --orders 1000000 --products 20000 --variants-per-product 5 \
        --locations 4 --metafield-namespaces custom --runs 3    # issue #22's catalogue scale

The input (`generate.py`): the simulator's store of `--orders` orders (its default mix; customers
one per 8 orders, 2,000 products, its collections), exported by the product's own bulk queries, one
file per declared resource, made once into `--workdir` and reused.
(a) writepath: each file through the product's bulk pipeline (`bulk_batches`: validation and record
    building in a parsing child process, COPY text handed to the writer), each batch written with
    `records_upsert` (COPY into stage tables + merge statements, one transaction per batch).
(b) baseline (`baseline.py`): parse each line with orjson and COPY the same rows straight into the
    same tables (every table the write path writes): no validation, no merge, no conflict handling.
Each run is a fresh child process against freshly truncated tables in a dedicated database; the
child reports its wall time and peak RSS (ru_maxrss). After each run the parent counts the rows of
every table and takes a digest of each column (`baseline.table_digests`): both sides must write
the files' rows and the same content, or the run fails, naming the column. `orders_per_second` is
the store's orders over the whole store's time; the ratio is baseline time / write-path time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline  # noqa: E402
from generate import add_catalogue_arguments, catalogue_from  # noqa: E402

DEFAULT_DATABASE = "shopsync_bench_writepath"
PG = "postgres://postgres@127.0.0.1:5432"
SHOP_DOMAIN = "bench.myshopify.com"


def _django(database: str) -> None:
    from django.apps import apps

    if apps.ready:  # set up already (bench/sync/bench_sync.py imports this module)
        return
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def _shop(namespaces: list[str] | None = None):
    """The bench's shop, mirroring `namespaces` (the write path keeps only those metafields)."""
    from shopsync.models import Shop

    defaults = {"name": "bench", "currency": "USD", "metafield_namespaces": sorted(namespaces or [])}
    return Shop.objects.get_or_create(domain=SHOP_DOMAIN, defaults=defaults)[0]


def child_writepath(
    paths: dict[str, Path], batch_size: int, parse: str, namespaces: list[str] | None = None
) -> tuple[dict, float, dict]:
    """The product's bulk pipeline, resource after resource: `bulk_batches` parses (in a child
    process where a sync would use one: a large export on PostgreSQL, or always / never with
    `--parse process` / `thread`), `records_upsert` writes each batch in its transaction."""
    from django.db import transaction

    from shopsync.resources import Resource
    from shopsync.services.sync.bulk_reading import bulk_batches, parse_process_wanted
    from shopsync.services.upsert import records_upsert

    shop = _shop(namespaces)
    lines = {name: _line_count(path) for name, path in paths.items()}
    written, seconds = {}, {}
    started = time.perf_counter()
    for name, path in paths.items():
        resource = Resource(name)
        in_child = parse == "process" or (
            parse == "auto" and parse_process_wanted(expected_lines=lines[name])
        )
        written[name] = 0
        began = time.perf_counter()
        with path.open("rb") as file:
            for batch in bulk_batches(
                _blocks(file), resource=resource, batch_size=batch_size, in_child=in_child
            ):
                if batch.errors:
                    raise RuntimeError(batch.errors[0].message)
                with transaction.atomic():
                    written[name] += records_upsert(
                        shop=shop, resource=resource, records=batch.records
                    ).created
        seconds[name] = time.perf_counter() - began
    return written, time.perf_counter() - started, seconds


def _line_count(path: Path) -> int:
    with path.open("rb") as file:
        return sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 24), b""))


def _blocks(file, size: int = 1 << 20):
    """The file in runs of whole lines, as the sync's download hands them over."""
    pending = b""
    while chunk := file.read(size):
        pending += chunk
        end = pending.rfind(b"\n") + 1
        if end:
            yield pending[:end]
            pending = pending[end:]
    if pending:
        yield pending + b"\n"


def child_baseline(
    paths: dict[str, Path], batch_size: int, namespaces: list[str] | None = None
) -> tuple[dict, float, dict]:
    """orjson + COPY of the same rows into every table the write path writes (`baseline.py`)."""
    from django.db import connection

    shop = _shop(namespaces)
    # The row builders are compiled (and checked against each file's first nodes) before the clock.
    tables = {name: baseline.resource_tables(name, shop.pk) for name in paths}
    for name in paths:
        baseline.compile_tables(tables[name])
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    written, seconds = {}, {}
    started = time.perf_counter()
    for name, path in paths.items():
        began = time.perf_counter()
        written[name] = baseline.load(cursor, tables[name], path, batch_size)
        seconds[name] = time.perf_counter() - began
    return written, time.perf_counter() - started, seconds


def run_child(args: argparse.Namespace) -> None:
    _django(args.database)
    # As a long-lived worker would: keep the imported modules out of every GC pass, and collect less
    # often (these batches hold tens of thousands of small, acyclic objects).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # The writer thread mostly waits on PostgreSQL; when a result arrives it should get the GIL back
    # from the parsing thread quickly rather than after the default 5 ms.
    sys.setswitchinterval(args.switch_interval)
    paths = {name: Path(file) for name, file in json.loads(args.files).items()}
    namespaces = [n for n in getattr(args, "metafield_namespaces", "").split(",") if n]
    server_before = _server_cpu_seconds()
    if args.child == "writepath":
        roots, seconds, by_resource = child_writepath(paths, args.batch_size, args.parse, namespaces)
    else:
        roots, seconds, by_resource = child_baseline(paths, args.batch_size, namespaces)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The parsing child's CPU counts too (it has exited by now).
    parser_cpu = children.ru_utime + children.ru_stime
    cpu = usage.ru_utime + usage.ru_stime + parser_cpu
    server_cpu = _server_cpu_seconds() - server_before
    by_resource = {name: round(value, 3) for name, value in by_resource.items()}
    figures = {"orders": roots.get("orders", 0), "roots": roots, "seconds": seconds,
               "seconds_by_resource": by_resource, "cpu_seconds": cpu,
               "parser_cpu_seconds": parser_cpu, "server_cpu_seconds": server_cpu}  # fmt: skip
    peak = {"peak_rss_mb": usage.ru_maxrss / 1024, "child_peak_rss_mb": children.ru_maxrss / 1024}
    print(json.dumps({**figures, **peak}))


def _server_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend (the server is local): on a shared 2-core
    machine, client + server CPU per order is a steadier figure than wall time. NaN if unreadable."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare_database(database: str) -> None:
    subprocess.run(["psql", PG, "-qc", f"DROP DATABASE IF EXISTS {database}"], check=True)
    subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {database}"], check=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)


def reset_tables(database: str) -> None:
    """Empty every table (the shop's records go with it) and checkpoint, so each run starts alike."""
    sql = "TRUNCATE shopsync_shop RESTART IDENTITY CASCADE; CHECKPOINT;"
    subprocess.run(["psql", f"{PG}/{database}", "-qc", sql], check=True)


def measure(mode: str, args: argparse.Namespace, paths: dict[str, Path]) -> dict:
    reset_tables(args.database)
    command = [sys.executable, __file__, "--child", mode, "--database", args.database]
    command += ["--files", json.dumps({name: str(path) for name, path in paths.items()})]
    command += ["--batch-size", str(args.batch_size), "--switch-interval", str(args.switch_interval)]
    command += ["--parse", args.parse, "--metafield-namespaces", getattr(args, "metafield_namespaces", "")]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if "orders" in paths and figures["orders"] != args.orders:
        raise RuntimeError(f"{mode} wrote {figures['orders']} orders, expected {args.orders}")
    figures["orders_per_second"] = figures["orders"] / figures["seconds"]
    figures["tables"] = table_digests(args.database, paths)
    return figures


def _tables(paths: dict[str, Path]) -> dict[str, baseline.ResourceTables]:
    # The shop's row id only matters to the loaders; the digests and counts do not read it.
    return {name: baseline.resource_tables(name, 0) for name in paths}


def table_digests(database: str, paths: dict[str, Path]) -> dict[str, dict]:
    """Rows and per-column digests of every table the benchmark writes (see `baseline.digest_sql`)."""
    import psycopg

    _django(database)
    found = {}
    with psycopg.connect(f"{PG}/{database}") as conn:
        for tables in _tables(paths).values():
            found.update(baseline.table_digests(conn, tables))
    return found


def expected_rows(paths: dict[str, Path]) -> dict[str, int]:
    """Rows per table the files hold, counted with orjson."""
    _django(DEFAULT_DATABASE)
    counts: dict[str, int] = {}
    for name, tables in _tables(paths).items():
        counts.update(baseline.expected_rows(tables, paths[name]))
    return counts


def check_tables(runs: dict[str, list[dict]], expected: dict[str, int]) -> None:
    """Every run of both sides wrote the files' rows, and the same content, column by column."""
    reference = runs["baseline"][0]["tables"]
    for mode, results in runs.items():
        for index, figures in enumerate(results, 1):
            for table, found in figures["tables"].items():
                if found["rows"] != expected[table]:
                    raise RuntimeError(
                        f"{mode} run {index}: {found['rows']} rows in {table}, expected {expected[table]}"
                    )
            differing = baseline.differences(figures["tables"], reference)
            if differing:
                raise RuntimeError(f"{mode} run {index} differs from the baseline's content in {differing}")


def store_scale(rows: dict[str, int]) -> dict[str, float]:
    """The catalogue as exported: products, variants per product, locations, levels per variant."""
    products = rows.get("shopsync_product", 0)
    variants = rows.get("shopsync_productvariant", 0)
    levels = rows.get("shopsync_inventorylevel", 0)
    return {
        "products": products, "variants": variants, "locations": rows.get("shopsync_location", 0),
        "inventory_levels": levels, "variants_per_product": round(variants / products, 2) if products else 0,
        "levels_per_variant": round(levels / variants, 2) if variants else 0,
    }  # fmt: skip


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    memory_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and recreated")
    parser.add_argument("--switch-interval", type=float, default=0.0005)
    parser.add_argument(
        "--parse",
        choices=["auto", "process", "thread"],
        default="auto",
        help="parse in a child process: as a sync decides (auto: exports of SYNC_BULK_PARSE_PROCESS_MIN_LINES "
        "lines or more), always, or never (a thread)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shopsync-bench-writepath"))
    parser.add_argument(
        "--resources", default="", help="comma-separated, e.g. orders (default: every declared resource)"
    )
    add_catalogue_arguments(parser)
    parser.add_argument("--child", choices=["writepath", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    from generate import write_exports

    catalogue = catalogue_from(args)
    paths = write_exports(args.workdir, args.orders, catalogue, log=lambda text: print(text, file=sys.stderr))
    if args.resources:
        paths = {name: paths[name] for name in args.resources.split(",")}
    expected = expected_rows(paths)
    prepare_database(args.database)
    runs: dict[str, list[dict]] = {"writepath": [], "baseline": []}
    for _ in range(args.runs):
        for mode in ("baseline", "writepath"):
            runs[mode].append(measure(mode, args, paths))
            shown = {key: value for key, value in runs[mode][-1].items() if key != "tables"}
            print(mode, json.dumps(shown), file=sys.stderr)
    check_tables(runs, expected)
    for results in runs.values():
        for figures in results:  # checked: the per-column digests need not be printed
            figures["tables"] = {table: found["rows"] for table, found in figures["tables"].items()}
    medians = {
        mode: {
            "orders_per_second": statistics.median(r["orders_per_second"] for r in results),
            "seconds": statistics.median(r["seconds"] for r in results),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in results),
            "child_peak_rss_mb": statistics.median(r["child_peak_rss_mb"] for r in results),
            "client_cpu_us_per_order": statistics.median(
                r["cpu_seconds"] / r["orders"] * 1e6 for r in results
            ),
            "server_cpu_us_per_order": statistics.median(
                r["server_cpu_seconds"] / r["orders"] * 1e6 for r in results
            ),
        }
        for mode, results in runs.items()
    }
    ratio = medians["baseline"]["seconds"] / medians["writepath"]["seconds"]
    pairs = [b["seconds"] / w["seconds"] for b, w in zip(runs["baseline"], runs["writepath"], strict=True)]
    report = {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "args": {
            "orders": args.orders,
            "batch_size": args.batch_size,
            "parse": args.parse,
            "resources": list(paths),
            "catalogue": {**asdict(catalogue), "simulator_variants_max": catalogue.variants_max},
        },
        "rows": expected,
        "store": store_scale(expected),
    }
    print(json.dumps({**report, "runs": runs, "medians": medians, "ratio": round(ratio, 3),
                      "pair_ratios": [round(r, 3) for r in pairs]}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
