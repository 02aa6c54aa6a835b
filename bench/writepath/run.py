"""Write-path benchmark: bulk JSONL of orders -> PostgreSQL, through the real write path vs a raw COPY.

    .venv/bin/python bench/writepath/run.py --orders 200000 --runs 3

(a) writepath: stream the file, validate every line (`read_bulk_jsonl`), write each batch with
    `orders_upsert` (COPY into temp tables + merge statements, one transaction per batch). A reader
    thread parses the next batch while the database merges the current one.
(b) baseline: parse each line with orjson and COPY the same rows straight into the same tables
    (orders, line items, transactions): no validation, no merge, no conflict handling.
Each run is a fresh child process against freshly truncated tables in a dedicated database; the
child reports its wall time and peak RSS (ru_maxrss). After each run the parent counts the rows of
every table and takes a digest of their content (`table_digests`): both sides must write the same
rows, or the run fails. Medians and the ratio are printed as JSON.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_DATABASE = "shopsync_bench_writepath"
PG = "postgres://postgres@127.0.0.1:5432"
SHOP_DOMAIN = "bench.myshopify.com"


def _django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{PG}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def _shop():
    from shopsync.models import Shop

    return Shop.objects.get(domain=SHOP_DOMAIN)


def child_writepath(path: Path, batch_size: int, parse: str) -> int:
    """The product's bulk pipeline: `bulk_batches` parses (in a child process, as a sync of a large
    export on PostgreSQL does, or in a thread), `records_upsert` writes each batch in its transaction."""
    from django.db import transaction

    from shopsync.resources import Resource
    from shopsync.services.sync.bulk_reading import bulk_batches
    from shopsync.services.upsert import records_upsert

    shop = _shop()
    written = 0
    with path.open("rb") as file:
        batches = bulk_batches(
            _blocks(file), resource=Resource.ORDERS, batch_size=batch_size, in_child=parse == "process"
        )
        for batch in batches:
            if batch.errors:
                raise RuntimeError(batch.errors[0].message)
            with transaction.atomic():
                written += records_upsert(shop=shop, resource=Resource.ORDERS, records=batch.records).created
    return written


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


def child_baseline(path: Path, batch_size: int) -> int:
    import orjson
    from django.db import connection, transaction

    shop = _shop()
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    cursor.execute("SELECT nextval(pg_get_serial_sequence('shopsync_order', 'id'))")
    next_id = cursor.fetchone()[0]
    orders: list[tuple] = []
    items: list[tuple] = []
    payments: list[tuple] = []
    written = 0
    with path.open("rb") as lines:
        for line in lines:
            node = orjson.loads(line)
            if "__parentId" in node:
                items.append(_baseline_item(shop.pk, next_id - 1, node))
                continue
            if len(orders) >= batch_size:
                written += _baseline_copy(cursor, orders, items, payments)
                orders, items, payments = [], [], []
            orders.append(_baseline_order(shop.pk, next_id, node))
            payments += [_baseline_transaction(shop.pk, next_id, t) for t in node.get("transactions") or ()]
            next_id += 1
    written += _baseline_copy(cursor, orders, items, payments)
    transaction.commit()
    return written


ORDER_COLUMNS = [
    "id",
    "shop_id",
    "shopify_id",
    "shopify_created_at",
    "shopify_updated_at",
    "synced_at",
    "name",
    "order_number",
    "email",
    "phone",
    "customer_shopify_id",
    "currency",
    "presentment_currency",
    "financial_status",
    "fulfillment_status",
    "processed_at",
    "cancelled_at",
    "cancel_reason",
    "closed_at",
    "total_price",
    "subtotal_price",
    "total_tax",
    "total_discounts",
    "tags",
    "note",
    "test",
    "shipping_address",
    "is_historical",
]
ITEM_COLUMNS = [
    "shop_id",
    "order_id",
    "shopify_id",
    "product_shopify_id",
    "variant_shopify_id",
    "sku",
    "title",
    "variant_title",
    "vendor",
    "quantity",
    "price",
    "total_discount",
]
TRANSACTION_COLUMNS = [
    "shop_id",
    "order_id",
    "shopify_id",
    "kind",
    "status",
    "gateway",
    "amount",
    "currency",
    "parent_transaction_shopify_id",
    "processed_at",
    "shopify_created_at",
    "error_code",
    "test",
    "authorization_code",
]


def _amount(bag: dict | None):
    return bag["shopMoney"]["amount"] if bag else None


def _tail(gid: str | None):
    return gid.rsplit("/", 1)[1] if gid else None


def _baseline_order(shop_id: int, pk: int, n: dict) -> tuple:
    import orjson

    return (
        pk, shop_id, _tail(n["id"]), n["createdAt"], n["updatedAt"], n["updatedAt"], n["name"], n.get("number"),
        n["email"], n["phone"], _tail((n.get("customer") or {}).get("id")), n["currencyCode"],
        n["presentmentCurrencyCode"], n["displayFinancialStatus"], n["displayFulfillmentStatus"],
        n["processedAt"], n["cancelledAt"], n["cancelReason"], n["closedAt"], _amount(n["totalPriceSet"]),
        _amount(n["subtotalPriceSet"]), _amount(n["totalTaxSet"]), _amount(n["totalDiscountsSet"]),
        orjson.dumps(n["tags"]).decode(), n["note"], n["test"], orjson.dumps(n["shippingAddress"]).decode(), False,
    )  # fmt: skip


def _baseline_item(shop_id: int, order_pk: int, n: dict) -> tuple:
    return (
        shop_id, order_pk, _tail(n["id"]), _tail((n.get("product") or {}).get("id")),
        _tail((n.get("variant") or {}).get("id")), n.get("sku"), n.get("title"), n.get("variantTitle"),
        n.get("vendor"), n["quantity"], _amount(n.get("originalUnitPriceSet")), _amount(n.get("totalDiscountSet")),
    )  # fmt: skip


def _baseline_transaction(shop_id: int, order_pk: int, n: dict) -> tuple:
    # The presentment money, as the write path stores it (REST's `amount` / `currency`).
    money = (n.get("amountSet") or {}).get("presentmentMoney") or {}
    return (
        shop_id, order_pk, _tail(n["id"]), n["kind"], n.get("status"), n.get("gateway"), money.get("amount"),
        money.get("currencyCode"), _tail((n.get("parentTransaction") or {}).get("id")), n.get("processedAt"),
        n.get("createdAt"), n.get("errorCode"), n.get("test"), n.get("authorizationCode"),
    )  # fmt: skip


def _baseline_copy(cursor, orders: list[tuple], items: list[tuple], payments: list[tuple]) -> int:
    for table, columns, rows in (
        ("shopsync_order", ORDER_COLUMNS, orders),
        ("shopsync_lineitem", ITEM_COLUMNS, items),
        ("shopsync_ordertransaction", TRANSACTION_COLUMNS, payments),
    ):
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    cursor.connection.commit()
    return len(orders)


def run_child(args: argparse.Namespace) -> None:
    _django(args.database)
    # As a long-lived worker would: keep the imported modules out of every GC pass, and collect less
    # often (these batches hold tens of thousands of small, acyclic objects).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # The writer thread mostly waits on PostgreSQL; when a result arrives it should get the GIL back
    # from the parsing thread quickly rather than after the default 5 ms.
    sys.setswitchinterval(args.switch_interval)
    server_before = _server_cpu_seconds()
    started = time.perf_counter()
    if args.child == "writepath":
        orders = child_writepath(Path(args.file), args.batch_size, args.parse)
    else:
        orders = child_baseline(Path(args.file), args.batch_size)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The parsing child's CPU counts too (it has exited by now).
    parser_cpu = children.ru_utime + children.ru_stime
    cpu = usage.ru_utime + usage.ru_stime + parser_cpu
    server_cpu = _server_cpu_seconds() - server_before
    figures = {"orders": orders, "seconds": seconds, "cpu_seconds": cpu, "parser_cpu_seconds": parser_cpu,
               "server_cpu_seconds": server_cpu}  # fmt: skip
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
    sql = (
        "TRUNCATE shopsync_ordertransaction, shopsync_lineitem, shopsync_order, shopsync_shop "
        "RESTART IDENTITY CASCADE; "
        f"INSERT INTO shopsync_shop (created_at, updated_at, domain, name, api_base_url, api_version, "
        f"access_token, refresh_token, scopes, currency, status) VALUES (now(), now(), '{SHOP_DOMAIN}', "
        f"'bench', '', '2026-01', '', '', '', 'USD', 'installed'); CHECKPOINT;"
    )
    subprocess.run(["psql", f"{PG}/{database}", "-qc", sql], check=True)


def measure(mode: str, args: argparse.Namespace, path: Path) -> dict:
    reset_tables(args.database)
    command = [sys.executable, __file__, "--child", mode, "--file", str(path), "--database", args.database]
    command += ["--batch-size", str(args.batch_size), "--switch-interval", str(args.switch_interval)]
    command += ["--parse", args.parse]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["orders"] != args.orders:
        raise RuntimeError(f"{mode} wrote {figures['orders']} orders, expected {args.orders}")
    figures["orders_per_second"] = figures["orders"] / figures["seconds"]
    figures["tables"] = table_digests(args.database)
    return figures


# What each table's content is compared on, both sides alike: every column the baseline writes but
# our own (`id`, `synced_at`) and the parent's row id (the parent's Shopify id instead). The write path
# normalises what the baseline copies as it comes: enums lower-cased, the address under REST keys
# (compared on the keys both shapes share).
_LOWER = {"financial_status", "fulfillment_status", "cancel_reason", "kind", "status", "error_code"}
_ADDRESS_KEYS = ("name", "company", "address1", "address2", "city", "province", "country", "zip", "phone")


def _compared(column: str) -> str:
    if column in _LOWER:
        return f"lower(t.{column})"
    if column == "shipping_address":
        return " || '|' || ".join(f"coalesce(t.shipping_address->>'{key}', '~')" for key in _ADDRESS_KEYS)
    return f"t.{column}::text"


def _digest_sql(table: str, columns: list[str], parent: tuple[str, str] | None) -> str:
    skip = {"id", "shop_id", "synced_at", "order_id"}
    values = [_compared(column) for column in columns if column not in skip]
    join = ""
    if parent:
        values.insert(0, "p.shopify_id::text")
        join = f" JOIN {parent[0]} AS p ON p.id = t.{parent[1]}"
    row = " || '|' || ".join(f"coalesce({value}, '~')" for value in values)
    return (
        f"SELECT count(*), coalesce(md5(string_agg({row}, E'\\n' ORDER BY t.shopify_id)), '') "
        f"FROM {table} AS t{join}"
    )


DIGESTS = {
    "shopsync_order": _digest_sql("shopsync_order", ORDER_COLUMNS, None),
    "shopsync_lineitem": _digest_sql("shopsync_lineitem", ITEM_COLUMNS, ("shopsync_order", "order_id")),
    "shopsync_ordertransaction": _digest_sql(
        "shopsync_ordertransaction", TRANSACTION_COLUMNS, ("shopsync_order", "order_id")
    ),
}


def table_digests(database: str) -> dict[str, dict]:
    """Rows and a content digest of every table the benchmark writes."""
    import psycopg

    found = {}
    with psycopg.connect(f"{PG}/{database}") as conn:
        for table, sql in DIGESTS.items():
            rows, digest = conn.execute(sql).fetchone()
            found[table] = {"rows": rows, "md5": digest}
    return found


def expected_rows(path: Path) -> dict[str, int]:
    """Rows per table the file holds (orders, line items, transactions), counted with orjson."""
    import orjson

    counts = dict.fromkeys(DIGESTS, 0)
    with path.open("rb") as lines:
        for line in lines:
            node = orjson.loads(line)
            if "__parentId" in node:
                counts["shopsync_lineitem"] += 1
                continue
            counts["shopsync_order"] += 1
            counts["shopsync_ordertransaction"] += len(node.get("transactions") or ())
    return counts


def check_tables(runs: dict[str, list[dict]], expected: dict[str, int]) -> None:
    """Every run of both sides wrote the file's rows, and the same content."""
    reference = runs["baseline"][0]["tables"]
    for mode, results in runs.items():
        for index, figures in enumerate(results, 1):
            for table, found in figures["tables"].items():
                if found["rows"] != expected[table]:
                    raise RuntimeError(
                        f"{mode} run {index}: {found['rows']} rows in {table}, expected {expected[table]}"
                    )
                if found["md5"] != reference[table]["md5"]:
                    raise RuntimeError(f"{mode} run {index}: {table} differs from the baseline's content")


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
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--switch-interval", type=float, default=0.0005)
    parser.add_argument("--parse", choices=["process", "thread"], default="process")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shopsync-bench-writepath"))
    parser.add_argument("--child", choices=["writepath", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    from generate import write_orders_jsonl

    args.workdir.mkdir(parents=True, exist_ok=True)
    # v2: orders carry their transactions (an older file without them is not reused).
    path = args.workdir / f"orders-{args.orders}-v2.jsonl"
    if not path.exists():
        write_orders_jsonl(path, orders=args.orders)
    expected = expected_rows(path)
    prepare_database(args.database)
    runs: dict[str, list[dict]] = {"writepath": [], "baseline": []}
    for _ in range(args.runs):
        for mode in ("baseline", "writepath"):
            runs[mode].append(measure(mode, args, path))
            print(mode, json.dumps(runs[mode][-1]), file=sys.stderr)
    check_tables(runs, expected)
    medians = {
        mode: {
            "orders_per_second": statistics.median(r["orders_per_second"] for r in results),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in results),
            "client_cpu_us_per_order": statistics.median(
                r["cpu_seconds"] / r["orders"] * 1e6 for r in results
            ),
            "server_cpu_us_per_order": statistics.median(
                r["server_cpu_seconds"] / r["orders"] * 1e6 for r in results
            ),
        }
        for mode, results in runs.items()
    }
    ratio = medians["writepath"]["orders_per_second"] / medians["baseline"]["orders_per_second"]
    report = {
        "machine": machine(),
        "args": {"orders": args.orders, "batch_size": args.batch_size, "parse": args.parse},
        "rows": expected,
    }
    print(json.dumps({**report, "runs": runs, "medians": medians, "ratio": round(ratio, 3)}, indent=2))


if __name__ == "__main__":
    main()
