"""Test settings: real PostgreSQL and Redis (each test run can take its own DB name and Redis db)."""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopsync")
os.environ.setdefault("CELERY_BROKER_URL", f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '1')}")

from config.settings.local import *  # noqa: F403
from config.settings.local import DATABASES

_suffix = os.environ.get("TEST_DB_SUFFIX", "")
DATABASES["default"]["TEST"] = {"NAME": f"test_shopsync{('_' + _suffix) if _suffix else ''}"}
DATABASES["default"]["CONN_MAX_AGE"] = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
