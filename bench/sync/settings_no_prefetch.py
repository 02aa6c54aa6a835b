"""Base settings with the bulk prefetch thread off (to measure what it buys)."""

from config.settings.local import *  # noqa: F403

SYNC_BULK_PREFETCH = 0
