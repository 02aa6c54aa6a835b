"""Settings read from the environment, as a deployment (or bin/demo) sets it."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_SETTINGS = ROOT / "config" / "settings" / "base.py"


def _base_settings_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **environ: str) -> dict:
    """config/settings/base.py evaluated afresh under this environment (its module globals)."""
    monkeypatch.setenv("SHOPSYNC_VAR_DIR", str(tmp_path / "var"))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_SETTINGS))


def test_metrics_accept_the_bearer_token_set_in_the_environment(client, db, settings, monkeypatch, tmp_path):
    # given: the scraper's token comes from the environment, as in a deployment
    configured = _base_settings_with(monkeypatch, tmp_path, METRICS_BEARER_TOKEN="scrape-from-env")
    settings.METRICS_BEARER_TOKEN = configured["METRICS_BEARER_TOKEN"]
    # when
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-from-env"})
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    # then
    assert right.status_code == 200
    assert b"shopsync_dead_letters" in right.content
    assert wrong.status_code == 403


def test_metrics_bearer_token_may_come_from_a_secret_file(monkeypatch, tmp_path):
    # given
    secret = tmp_path / "metrics-token"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("METRICS_BEARER_TOKEN", raising=False)
    # when
    configured = _base_settings_with(monkeypatch, tmp_path, METRICS_BEARER_TOKEN_FILE=str(secret))
    # then
    assert configured["METRICS_BEARER_TOKEN"] == "from-a-file"


def test_metrics_bearer_token_is_unset_by_default(monkeypatch, tmp_path):
    # given
    monkeypatch.delenv("METRICS_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("METRICS_BEARER_TOKEN_FILE", raising=False)
    # when
    configured = _base_settings_with(monkeypatch, tmp_path)
    # then
    assert configured["METRICS_BEARER_TOKEN"] == ""


PUBLISH = """
import django
django.setup()
from shopsync.tasks import sync_watchdog_task
for queue in ("sync", "webhooks", "maintenance"):
    sync_watchdog_task.apply_async(queue=queue)
print("published")
"""


def test_the_filesystem_broker_keeps_all_its_files_under_the_var_dir(tmp_path):
    # given: no broker configured (bin/demo on a newcomer's machine), started from a directory of its own
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_", "CELERY_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SHOPSYNC_VAR_DIR=str(var_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    # when: a process publishes to every queue (kombu records each queue's binding in a table file)
    result = subprocess.run(
        [sys.executable, "-c", PUBLISH], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    # then: the exchange tables are under var/broker/control, nothing lands in the working directory
    assert result.returncode == 0, result.stderr
    assert "published" in result.stdout
    assert sorted(os.listdir(cwd)) == []
    tables = sorted(path.name for path in (var_dir / "broker" / "control").iterdir())
    assert tables == ["maintenance.exchange", "sync.exchange", "webhooks.exchange"]
