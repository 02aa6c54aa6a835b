"""Benchmark settings: the local settings (the simulator signs with the development secret) plus a URLconf
that adds the bare comparison view."""

from __future__ import annotations

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks.urls"
DEBUG = False
