"""Where a webhook request's CPU goes: the receiver against the bare view on the same gunicorn
server, with the CPU each kind of process spent per request (from /proc) during each load.

    .venv/bin/python bench/webhooks/breakdown.py [--server-args "-w 8"] [--runs 2] [--seconds 8]
        [--no-relay] [--no-preload] [--insert real|none|select|minimal|group]
        [--topology shared|split] [--unix-socket /var/run/postgresql]

`--server-args` are gunicorn's (e.g. "-w 2 -k gthread --threads 8"). `--insert` replaces the
receiver's delivery insert: `none` does nothing (HMAC, header checks, JSON parse and the answer
only), to separate the receiver's own Python from the durable write; `select` makes one `SELECT`
round trip instead and `minimal` one autocommitted single-bigint insert (`wsgi_floor.py`), the
floor under any design that commits each delivery before answering; `group` is a prototype of
group commit across the requests one process serves at once (`wsgi_group_commit.py`; gevent
workers, which need `--no-preload`). The load, the
database and the relay are those of `run.py`; no zero-loss check here (use `run.py` for the
benchmark's figures).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import shlex
import sys
import urllib.parse
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.webhooks import run as bench
from bench.webhooks import topology

APPLICATIONS = {
    "real": "bench.webhooks.wsgi",
    "none": "bench.webhooks.wsgi_stub_insert",
    "select": "bench.webhooks.wsgi_floor",
    "minimal": "bench.webhooks.wsgi_floor",
    "group": "bench.webhooks.wsgi_group_commit",
}
CATEGORIES = (("gunicorn", "gunicorn"), ("webhook_relay", "relay"), ("redis", "redis"))


def main() -> None:
    options = _arguments()
    with topology.placed(options.topology) as placement:
        print(f"topology: {placement}", flush=True)
        _measure(options)


def _measure(options: argparse.Namespace) -> None:
    body = orjson.dumps(bench._order_payload())
    bench.DATA.mkdir(parents=True, exist_ok=True)
    body_file = bench.DATA / "webhook-body.json"
    body_file.write_bytes(body)
    signature = base64.b64encode(hmac.new(bench.SECRET.encode(), body, hashlib.sha256).digest()).decode()
    bench._prepare_database()
    application = APPLICATIONS[options.insert]
    bench.ENV["BENCH_RECEIVER_FLOOR"] = options.insert
    if options.unix_socket:
        socket_host = urllib.parse.quote(options.unix_socket, safe="")
        bench.ENV["DATABASE_URL"] = f"postgres://postgres@{socket_host}/{bench.DATABASE}"
    server = bench._start_server(
        shlex.split(options.server_args), application, preload=not options.no_preload
    )
    relay = None if options.no_relay else bench._start_relay()
    try:
        bench._load("warmup-bare", "/bench/bare/", body_file, signature, 4, options.connections)
        bench._load("warmup-hook", "/webhooks/shopify/", body_file, signature, 3, options.connections)
        print(f"server: gunicorn {options.server_args}; relay: {'off' if relay is None else 'on'}; "
              f"insert: {options.insert}")  # fmt: skip
        print("| view | req/s | p99 ms | CPU µs per request: gunicorn / PostgreSQL / relay / redis |")
        print("|---|---|---|---|")
        for _ in range(options.runs):
            for label, path in (("bare", "/bench/bare/"), ("webhook", "/webhooks/shopify/")):
                before = _cpu_by_category()
                result = bench._load(label, path, body_file, signature, options.seconds, options.connections)
                spent = _difference(before, _cpu_by_category())
                per_request = {name: spent.get(name, 0.0) / result["requests"] * 1e6 for name in spent}
                shares = " / ".join(
                    f"{per_request.get(name, 0.0):.0f}" for name in ("gunicorn", "postgres", "relay", "redis")
                )
                print(f"| {label} | {result['rps']:.0f} | {result['p99_ms']:.1f} | {shares} |", flush=True)
    finally:
        if relay is not None:
            bench._stop(relay)
        bench._stop(server)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-args", default="-w 8", help="gunicorn options (workers, worker class)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-relay", action="store_true")
    parser.add_argument(
        "--no-preload", action="store_true", help="needed for -k gevent (workers import the app)"
    )
    parser.add_argument("--insert", choices=tuple(APPLICATIONS), default="real")
    parser.add_argument("--topology", choices=("shared", "split"), default="shared")
    parser.add_argument(
        "--unix-socket", metavar="DIR", help="reach PostgreSQL through its socket in DIR, not TCP"
    )
    return parser.parse_args()


def _cpu_by_category() -> dict[int, tuple[str, float]]:
    """user + system CPU seconds of every process, by pid, with its category."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat_file:
                stat = stat_file.read()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline_file:
                command = cmdline_file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        found[int(entry)] = (_category(command, stat), seconds)
    return found


def _category(command: str, stat: str) -> str:
    if "postgres" in command or "(postgres)" in stat:
        return "postgres"
    return next((name for marker, name in CATEGORIES if marker in command), "other")


def _difference(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    totals: dict[str, float] = {}
    for pid, (category, seconds) in after.items():
        totals[category] = totals.get(category, 0.0) + seconds - before.get(pid, (category, 0.0))[1]
    return totals


if __name__ == "__main__":
    main()
