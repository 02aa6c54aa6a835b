"""Subprocesses the tests own, above all real Celery workers (`celery_worker`), plus a private Redis,
cutting the test database's connections, and pointing this process's Celery app at another broker.

Every process is started in its own session, so a kill reaches exactly the process group we started
(a prefork pool's children included) and nothing else on the machine. Ports are free ones picked at
start, database names and Redis dbs come from the settings (`TEST_DB_SUFFIX`, `TEST_REDIS_DB`), so
parallel test runs never share anything.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
TEST_SETTINGS = "config.settings.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class ManagedProcess:
    """One subprocess we own: start, SIGKILL, stop, restart; output appended to `log_path`."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    ready: Callable[[ManagedProcess], bool] = lambda process: True
    process: subprocess.Popen | None = None
    starts: int = 0
    kills: int = 0
    url: str = ""  # where it serves, for a server
    # A network namespace to run in (`ip netns exec NETNS argv...`: exec'd, so the pid, the process
    # group and the kills stay ours): a process on another "host" of tests/fleet/netns.py.
    netns: str = ""

    def start(self, timeout: float = 30.0) -> None:
        assert not self.is_running, f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name} start #{self.starts + 1} at {time.time():.3f}\n".encode())
            self.process = subprocess.Popen(
                [*(["ip", "netns", "exec", self.netns] if self.netns else []), *self.argv],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        if not wait_until(lambda: not self.is_running or self.ready(self), timeout=timeout, interval=0.1):
            raise RuntimeError(f"{self.name} did not become ready:\n{self.log_tail()}")
        if not self.is_running:
            raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process group: no shutdown handlers, no acks, nothing flushed."""
        if self.is_running:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.kills += 1

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a Celery worker's warm shutdown gives its unacknowledged messages back), then
        SIGKILL if it takes longer than `timeout`."""
        if not self.is_running:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_count(self, needle: str) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count(needle)


def celery_worker(
    *,
    log_path: Path,
    queues: Iterable[str],
    database_url: str,
    broker_url: str,
    settings_module: str = TEST_SETTINGS,
    pool: str = "threads",
    concurrency: int = 4,
    name: str = "test-worker",
    env: dict[str, str] | None = None,
    netns: str = "",
) -> ManagedProcess:
    """The product's worker (`celery -A config worker -Q ...`) against `database_url` and
    `broker_url` (in network namespace `netns` if given); `start()` returns once it logged
    " ready." (again after each restart)."""
    argv = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queues),
        "--pool", pool, "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel", "INFO", "-n", f"{name}-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    return ManagedProcess(
        name=name,
        argv=argv,
        log_path=log_path,
        env={
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": database_url,
            # The test settings take a sqlite:/// URL only in the SQLite lane (see database_url()).
            "SHOPSYNC_TEST_DATABASE": "sqlite" if database_url.startswith("sqlite:") else "postgresql",
            "CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        },
        ready=lambda process: process.log_count(" ready.") >= process.starts,
        netns=netns,
    )


def database_url() -> str:
    """The URL of the database this test process uses (pytest's test database): a PostgreSQL URL, or
    in the SQLite lane sqlite:///PATH, which the test settings of a subprocess read back as the file
    to share (with the embedded SQLite's WAL and busy timeout)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def database_connections_cut() -> int:
    """Terminate every other session on the test database (the workers', a web server's): what a
    database restart or a network cut does to open connections. Returns how many were cut.
    PostgreSQL only: a test using it is marked `postgres_only`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def private_redis(log_dir: Path) -> ManagedProcess:
    """A Redis of our own on a free port, without persistence: a restart loses every message, like a
    broker that crashed. Other engineers' tests on the shared Redis (6379) are not disturbed."""
    port = free_port()
    return ManagedProcess(
        name="redis",
        argv=["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        log_path=log_dir / "redis.log",
        ready=lambda _: _redis_answers(port),
        url=f"redis://127.0.0.1:{port}/0",
    )


def _redis_answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@contextmanager
def celery_app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what `ensure_sync`, the live server and the sweeper enqueue
    with) at `url`, e.g. a private Redis, or a port where nothing listens (the broker is "down")."""
    from config.celery import app

    previous = app.conf.broker_write_url
    _use_broker(app, url)
    try:
        yield
    finally:
        _use_broker(app, previous)


def _use_broker(app, url: str | None) -> None:
    # Publishing uses the write URL (it falls back to broker_url when unset); `broker_url` itself
    # cannot be overridden here, because Celery reads it from the CELERY_BROKER_URL environment
    # variable first (set by the test settings).
    app.conf.broker_write_url = url
    # Connection and producer pools are built lazily from the URL: drop them so the next publish
    # connects to `url` (what Celery itself does after a fork).
    app._pool = None
    app.amqp._producer_pool = None
