"""The `sqlite`-marked write-path tests, run again in a child pytest against an in-memory SQLite
database (DATABASE_URL switches the backend; the conftest makes the test database in-memory)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]


def test_the_write_path_semantics_hold_on_sqlite(tmp_path):
    # given
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "SHOPSYNC_WRITEPATH_SQLITE": "1",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-m", "sqlite", str(Path(__file__).parent)]
    # when
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    # then
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) >= 20, run.stdout[-2000:]
