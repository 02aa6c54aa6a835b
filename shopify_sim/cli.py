"""Command line: `python -m shopify_sim --port 8001 --seed 42 --orders N ...` (also wrapped by
`manage.py simulate_shopify`). Prints one readiness line, then serves until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from shopify_sim.bulk.manager import BULK_THREAD_PREFIX
from shopify_sim.options import PLANS, ShopOptions
from shopify_sim.server import App, Server, make_server

READY_PREFIX = "shopify_sim listening on "
# On SIGTERM, requests being served get this long to answer, webhook posts (5 s deadline each) a little
# more: within the 15 s a test's `SimulatorProcess.stop` waits before killing.
HANDLERS_GRACE_SECONDS = 4.0
WEBHOOKS_GRACE_SECONDS = 6.0


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="shopify_sim", description=__doc__)
    defaults = ShopOptions()
    add = parser.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=8001, help="0 picks a free port (printed in the readiness line)")
    add("--data-dir", default="", help="where shops' SQLite files live (default: a temporary directory)")
    add("--shop", default=defaults.domain)
    add("--token", default=defaults.token)
    add("--api-secret", default=defaults.api_secret)
    add("--api-key", default=defaults.api_key)
    add("--seed", type=int, default=defaults.seed)
    add("--orders", type=int, default=defaults.orders)
    add("--customers", type=int, default=defaults.customers)
    add("--products", type=int, default=defaults.products)
    add("--plan", default=defaults.plan, choices=sorted(PLANS))
    add(
        "--no-read-all-orders",
        dest="read_all_orders",
        action="store_false",
        help="only the last 60 days of orders",
    )
    add("--scopes", default=",".join(defaults.scopes))
    add("--currency", default=defaults.currency)
    add("--timezone-offset", default=defaults.timezone_offset)
    add("--anchor", default="", help="generated history ends here (ISO); default today 00:00 UTC")
    add("--history-days", type=int, default=defaults.history_days)
    add("--same-updated-at-share", type=float, default=0.0)
    add("--big-orders", type=int, default=0)
    add("--big-order-lines", type=int, default=defaults.big_order_lines)
    add("--guest-order-share", type=float, default=defaults.guest_order_share)
    add("--line-items-mean", type=float, default=defaults.line_items_mean)
    add("--variants-max", type=int, default=defaults.variants_max, help="a product has 1 or 2..N variants")
    add("--locations", type=int, default=defaults.locations)
    add("--collections", type=int, default=defaults.collections)
    add("--metafields-per-record", type=int, default=defaults.metafields_per_record)
    add("--token-expiry-seconds", type=int, default=defaults.token_expiry_seconds)
    add("--oldest-api-version", default=defaults.oldest_api_version)
    add("--webhook-api-version", default=defaults.webhook_api_version)
    add(
        "--webhook-time-scale",
        type=float,
        default=1.0,
        help="retry schedule multiplier (0.001 = 4 h in 14 s)",
    )
    add("--webhook-url", default="", help="subscribe every topic of the default shop to this address")
    add(
        "--export-rate",
        type=float,
        default=0.0,
        help="bulk exports produce at most N objects/s, objectCount growing while RUNNING (0: no limit)",
    )
    add("--mutate-per-minute", type=float, default=0.0, help="random store changes per minute (demo)")
    add("--fresh", action="store_true", help="regenerate even if --data-dir holds a matching store")
    add("--quiet", action="store_true")
    return parser


def shop_options(args: argparse.Namespace) -> ShopOptions:
    return ShopOptions(
        domain=args.shop,
        token=args.token,
        api_secret=args.api_secret,
        api_key=args.api_key,
        seed=args.seed,
        orders=args.orders,
        customers=args.customers,
        products=args.products,
        plan=args.plan,
        read_all_orders=args.read_all_orders,
        scopes=[s.strip() for s in args.scopes.split(",") if s.strip()],
        currency=args.currency,
        timezone_offset=args.timezone_offset,
        anchor=args.anchor,
        history_days=args.history_days,
        same_updated_at_share=args.same_updated_at_share,
        big_orders=args.big_orders,
        big_order_lines=args.big_order_lines,
        guest_order_share=args.guest_order_share,
        line_items_mean=args.line_items_mean,
        variants_max=args.variants_max,
        locations=args.locations,
        collections=args.collections,
        metafields_per_record=args.metafields_per_record,
        token_expiry_seconds=args.token_expiry_seconds,
        oldest_api_version=args.oldest_api_version,
        webhook_api_version=args.webhook_api_version,
        webhook_time_scale=args.webhook_time_scale,
        webhook_url=args.webhook_url,
        export_rate=args.export_rate,
        fresh=args.fresh,
    )


def mutate_forever(app: App, per_minute: float, stop: threading.Event, log: Any) -> None:
    """Demo mode: a few random changes per minute so webhooks and incremental syncs have work."""
    rng = random.Random()
    while not stop.wait(60.0 / per_minute * rng.uniform(0.5, 1.5)):
        for shop in app.registry.all():
            try:
                changes = shop.mutator.random_changes(1, None, None)
            except Exception as exc:
                log(f"mutation failed on {shop.domain}: {exc}")
                continue
            for change in changes:
                log(f"{shop.domain}: {change.action} {change.resource} {change.id}")


def serve(args: argparse.Namespace) -> int:
    log = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="shopify_sim-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    app = App(data_dir, log)
    options = shop_options(args)
    shop = app.registry.create(options)
    if shop.generation:
        log(f"generated {shop.domain}: {shop.generation}")
    server = make_server(app, args.host, args.port)
    host, port = server.server_address[:2]
    stop = threading.Event()

    def shutdown(signum: int, frame: Any) -> None:
        # Only flags here (a handler runs between two bytecodes of the main thread): `serve_forever`
        # returns, and the `finally` below stops everything in order.
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    mutator = threading.Thread(
        target=mutate_forever, args=(app, args.mutate_per_minute, stop, log), daemon=True
    )
    if args.mutate_per_minute > 0:
        mutator.start()
    settings = {k: v for k, v in dataclasses.asdict(options).items() if k not in ("scopes",)}
    print(
        f"{READY_PREFIX}http://{host}:{port} shop={options.domain} token={options.token} "
        f"api_key={options.api_key} api_secret={options.api_secret} data_dir={data_dir}",
        flush=True,
    )
    log(f"options: {settings}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        stopped_in_order = stop_threads(server, app, mutator, log)
        if stopped_in_order:
            app.close()
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)  # a temporary store dies with the process
        log("shopify_sim stopped")
    if not stopped_in_order:
        # Something still runs on the stores: closing them, or letting the interpreter finalise under
        # it, can crash the process. Leave now (SQLite's files stay consistent; the OS closes them).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def stop_threads(server: Server, app: App, mutator: threading.Thread, log: Any) -> bool:
    """Stop serving, then end the threads that touch the stores, in order: connections (a request
    being served gets its answer), webhook deliveries being posted, the demo mutator. False when one is
    still running after its grace time (it is named in the log)."""
    server.server_close()
    busy = server.stop_handlers(HANDLERS_GRACE_SECONDS)
    busy += app.dispatcher.stop(WEBHOOKS_GRACE_SECONDS)
    if mutator.is_alive():
        mutator.join(HANDLERS_GRACE_SECONDS)
        busy += [mutator] if mutator.is_alive() else []
    busy += [t for t in threading.enumerate() if t.name.startswith(BULK_THREAD_PREFIX) and t.is_alive()]
    if busy:
        log(f"shopify_sim stopping with {len(busy)} thread(s) still running: {[t.name for t in busy]}")
    return not busy


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
