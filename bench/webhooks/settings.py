"""Benchmark settings: the production settings plus a URLconf that adds the bare comparison view."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks.urls"
DEBUG = False
