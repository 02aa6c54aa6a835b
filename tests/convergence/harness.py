"""Process management for the convergence suite: the product's Celery worker and web server as
subprocesses (killable with SIGKILL, restartable), on the shared helpers of `tests/processes.py`
(a private Redis, cutting the database's connections, pointing this process's Celery app at the
private broker, bounded waits).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import requests

from tests import processes
from tests.processes import ManagedProcess, free_port

SETTINGS_MODULE = "tests.convergence.settings"
RECEIVER_PATH = "/webhooks/shopify/"
QUEUES = ("sync", "sync_backfill", "webhooks", "maintenance")


def product_env(*, database_url: str, broker_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
    }


def celery_worker(log_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """The product's worker on all three queues, as deployed (`celery -A config worker -Q ...`)."""
    return processes.celery_worker(
        log_path=log_dir / "worker.log",
        queues=QUEUES,
        database_url=env["DATABASE_URL"],
        broker_url=env["CELERY_BROKER_URL"],
        settings_module=env["DJANGO_SETTINGS_MODULE"],
        pool="threads",
        concurrency=4,
        name=f"convergence-{os.getpid()}",
        env=env,
    )


def web_server(log_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """The product's web app (Django's threaded server) receiving the simulator's webhooks."""
    port = free_port()
    return ManagedProcess(
        name="web",
        argv=[sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        log_path=log_dir / "web.log",
        env=env,
        ready=lambda _: _answers(f"http://127.0.0.1:{port}{RECEIVER_PATH}"),
        url=f"http://127.0.0.1:{port}",
    )


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 405  # the receiver is POST-only
    except requests.RequestException:
        return False
