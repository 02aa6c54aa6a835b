"""Settings for the convergence suite's worker and web subprocesses: the test settings, with the
sync engine's clocks shortened so a dead worker or a lost message is noticed within the test's time
budget instead of after minutes (production values: heartbeat timeout 300 s, redispatch 600 s).

`DATABASE_URL` and `CELERY_BROKER_URL` come from the environment (the harness sets them: the pytest
test database and a private Redis)."""

from __future__ import annotations

from config.settings.test import *  # noqa: F403

# Shared with the test process through `CONVERGENCE_SYNC_SETTINGS`, so both sides agree.
# Above the longest wait without a heartbeat (a THROTTLED wait for a near-1,000-point page is
# ~10-20 s on a standard plan); with less, the watchdog resumes live runs and they livelock.
SYNC_HEARTBEAT_TIMEOUT_SECONDS = 45
SYNC_HEARTBEAT_INTERVAL_SECONDS = 2
SYNC_REDISPATCH_AFTER_SECONDS = 8
SYNC_BULK_POLL_INTERVAL_SECONDS = 0.3
SYNC_BULK_BATCH_SIZE = 100
SYNC_PAGE_SIZE = 50

CONVERGENCE_SYNC_SETTINGS = {
    name: value for name, value in dict(globals()).items() if name.startswith("SYNC_") and name.isupper()
}
