"""Process management for the convergence suite: a private Redis, the product's Celery worker and web
server as subprocesses (killable with SIGKILL, restartable), cutting the database's connections,
pointing this process's Celery app at the private broker, and bounded waits.

Every process is started in its own session, so a kill reaches exactly the process group we started
(a prefork pool's children included) and nothing else on the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MODULE = "tests.convergence.settings"
RECEIVER_PATH = "/webhooks/shopify/"


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

    def start(self, timeout: float = 30.0) -> None:
        assert not self.is_running, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name} start #{self.starts + 1} at {time.time():.3f}\n".encode())
            self.process = subprocess.Popen(
                self.argv,
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

    def stop(self, timeout: float = 10.0) -> None:
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


def private_redis(log_dir: Path) -> ManagedProcess:
    """A Redis of our own on a free port, without persistence: a restart loses every message, like a
    broker that crashed. Other engineers' tests on the shared Redis (6379) are not disturbed."""
    port = free_port()
    process = ManagedProcess(
        name="redis",
        argv=["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        log_path=log_dir / "redis.log",
        ready=lambda _: _redis_answers(port),
    )
    process.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    return process


def _redis_answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def product_env(*, database_url: str, broker_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
    }


def celery_worker(log_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """The product's worker on all three queues, as deployed (`celery -A config worker -Q ...`)."""
    return ManagedProcess(
        name="worker",
        argv=[
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "sync,webhooks,maintenance",
            "-P",
            "threads",
            "-c",
            "4",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
            "-n",
            f"convergence-{os.getpid()}@%h",
        ],
        log_path=log_dir / "worker.log",
        env=env,
        ready=lambda process: process.log_count(" ready.") >= process.starts,
    )


def web_server(log_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """The product's web app (Django's threaded server) receiving the simulator's webhooks."""
    port = free_port()
    process = ManagedProcess(
        name="web",
        argv=[sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        log_path=log_dir / "web.log",
        env=env,
        ready=lambda _: _answers(f"http://127.0.0.1:{port}{RECEIVER_PATH}"),
    )
    process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return process


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 405  # the receiver is POST-only
    except requests.RequestException:
        return False


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def database_connections_cut() -> int:
    """Terminate every other session on the test database (the worker's, the web server's): what a
    database restart or a network cut does to open connections. Returns how many were cut."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@contextmanager
def celery_app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what `ensure_sync` and the sweeper enqueue with) at `url`."""
    from config.celery import app

    previous = app.conf.broker_write_url
    _use_broker(app, url)
    try:
        yield
    finally:
        _use_broker(app, previous)


def _use_broker(app, url: str | None) -> None:
    # Publishing uses the write URL; `broker_url` itself cannot be overridden here, because Celery
    # reads it from the CELERY_BROKER_URL environment variable first (set by the test settings).
    app.conf.broker_write_url = url
    # Pools are built lazily from the URL: drop them so the next publish connects to the new one.
    app._pool = None
    app.amqp._producer_pool = None
