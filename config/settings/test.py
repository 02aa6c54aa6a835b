"""Test settings: real PostgreSQL and Redis, or, for the second lane (`SHOPSYNC_TEST_DATABASE=sqlite`),
the embedded SQLite of `bin/demo`. Each test run takes its own database name and Redis db
(`TEST_DB_SUFFIX`, `TEST_REDIS_DB`), and each pytest-xdist worker its own within those."""

from __future__ import annotations

import os

TEST_DATABASE = os.environ.get("SHOPSYNC_TEST_DATABASE", "postgresql")
if TEST_DATABASE not in ("postgresql", "sqlite"):
    raise ValueError(f"SHOPSYNC_TEST_DATABASE must be postgresql or sqlite, not {TEST_DATABASE!r}")

# pytest-xdist names its workers gw0, gw1, ...; pytest-django gives each its own test database
# (the name gets a `_gw<n>` suffix), and the broker db is ours to split.
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
# Worker n uses Redis db TEST_REDIS_DB + n: a run with W workers takes W consecutive dbs.
_redis_db = int(os.environ.get("TEST_REDIS_DB", "1")) + _worker
if _redis_db > 15:
    raise ValueError(f"Redis db {_redis_db} for xdist worker gw{_worker}: Redis has dbs 0-15 (TEST_REDIS_DB)")
_broker_url = f"redis://127.0.0.1:6379/{_redis_db}"
# pytest-xdist's workers inherit the environment of the controller, which derived worker 0's
# broker here first: derive again. A worker or server a test starts is given its broker explicitly.
if os.environ.get("CELERY_BROKER_URL", "") in ("", os.environ.get("SHOPSYNC_TEST_DERIVED_BROKER_URL")):
    os.environ["CELERY_BROKER_URL"] = os.environ["SHOPSYNC_TEST_DERIVED_BROKER_URL"] = _broker_url

# A worker or server that a SQLite-lane test starts gets the test database's file as sqlite:///PATH.
_sqlite_file = (
    os.environ.get("DATABASE_URL", "").removeprefix("sqlite:///") if TEST_DATABASE == "sqlite" else ""
)
if TEST_DATABASE == "sqlite":
    # Unset, base.py configures its embedded SQLite (WAL, IMMEDIATE transactions, busy timeout).
    os.environ["DATABASE_URL"] = ""
else:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopsync")

from config.settings.local import *  # noqa: E402, F403
from config.settings.local import DATABASES, VAR_DIR  # noqa: E402

_suffix = os.environ.get("TEST_DB_SUFFIX", "")
_test_name = f"test_shopsync{('_' + _suffix) if _suffix else ''}"
if TEST_DATABASE == "sqlite":
    # A file, not memory: workers and servers run as subprocesses share it (xdist appends `_gw<n>`).
    _test_name = str(VAR_DIR / _test_name)
    DATABASES["default"]["NAME"] = _sqlite_file or _test_name
DATABASES["default"]["TEST"] = {"NAME": _test_name}
DATABASES["default"]["CONN_MAX_AGE"] = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
