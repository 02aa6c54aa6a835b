"""Settings of the e2e worker subprocess: the test settings with small sync batches and fast
heartbeats, so a test can kill the worker between two committed batches."""

from config.settings.test import *  # noqa: F403

SYNC_BULK_BATCH_SIZE = 50
SYNC_HEARTBEAT_INTERVAL_SECONDS = 1
SYNC_BULK_POLL_INTERVAL_SECONDS = 0.2
