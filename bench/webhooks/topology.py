"""Where the benchmark's processes run.

`shared` (the default): PostgreSQL, Redis, gunicorn, the relay, the worker and wrk all share every
CPU of this machine. `split` emulates a deployment's hosts on one machine by CPU affinity: the web
host's processes (gunicorn, the relay, the worker) get CPUs of their own, and what runs elsewhere
in a deployment (PostgreSQL and Redis on their own hosts, the load generator standing in for
Shopify) shares the others (by default the last CPU). Both views run on the same gunicorn server in
either topology, and the load generator is placed the same way for both.

Pinning an already running PostgreSQL and Redis needs the right to change their affinity (root,
or the same user as the servers); the previous affinity is restored on exit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BACKING_SERVICES = ("postgres", "redis-server")
# Set while a split placement is active: where the load generator runs.
_load_generator_cpus: set[int] | None = None


def pin_load_generator() -> None:
    """`preexec_fn` for the load generator's process: off the web host's CPUs when split."""
    if _load_generator_cpus is not None:
        os.sched_setaffinity(0, _load_generator_cpus)


@contextmanager
def placed(topology: str, *, service_cpus: set[int] | None = None) -> Iterator[str]:
    """Place this process (and so every child it starts), the backing services and the load
    generator for `topology`; yields a one-line description for the report."""
    global _load_generator_cpus
    if topology == "shared":
        yield f"shared: every process on all {os.cpu_count()} CPUs"
        return
    if topology != "split":
        raise SystemExit(f"unknown topology {topology!r} (shared or split)")
    all_cpus = os.sched_getaffinity(0)
    service_cpus = service_cpus or {max(all_cpus)}
    app_cpus = all_cpus - service_cpus
    if not app_cpus or not service_cpus <= all_cpus:
        raise SystemExit(f"cannot split CPUs {sorted(all_cpus)} into {sorted(service_cpus)} and the rest")
    threads = _backing_service_threads()
    if not threads:
        raise SystemExit("split topology: no running postgres or redis-server process found")
    previous = {tid: os.sched_getaffinity(tid) for tid in threads}
    try:
        for tid in threads:
            os.sched_setaffinity(tid, service_cpus)
    except PermissionError as exc:
        _restore(previous)
        raise SystemExit(f"split topology: not allowed to pin PostgreSQL/Redis ({exc}); run as root") from exc
    own = os.sched_getaffinity(0)
    os.sched_setaffinity(0, app_cpus)
    _load_generator_cpus = service_cpus
    try:
        yield (
            f"split: gunicorn, relay and worker on CPU {_cpus(app_cpus)}; "
            f"PostgreSQL, Redis and wrk on CPU {_cpus(service_cpus)}"
        )
    finally:
        _load_generator_cpus = None
        os.sched_setaffinity(0, own)
        # Backends forked meanwhile inherited the postmaster's affinity: put them back too.
        _restore({tid: all_cpus for tid in _backing_service_threads()} | previous)


def _backing_service_threads() -> list[int]:
    threads = []
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            name = (process / "comm").read_text().strip()
            if name in BACKING_SERVICES:
                threads.extend(int(task.name) for task in (process / "task").iterdir())
        except OSError:
            continue  # exited meanwhile
    return threads


def _restore(affinities: dict[int, set[int]]) -> None:
    for tid, cpus in affinities.items():
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:
            continue  # exited meanwhile


def _cpus(cpus: set[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))
