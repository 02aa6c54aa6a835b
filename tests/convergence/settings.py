"""Settings for the convergence suite's worker and web subprocesses: the test settings, with the
sync engine's clocks shortened so a dead worker or a lost message is noticed within the test's time
budget instead of after minutes (production values: heartbeat timeout 300 s, redispatch 600 s).

`DATABASE_URL` and `CELERY_BROKER_URL` come from the environment (the harness sets them: the pytest
test database and a private Redis)."""

from __future__ import annotations

from config.settings.test import *  # noqa: F403

# Shared with the test process through `CONVERGENCE_SYNC_SETTINGS`, so both sides agree.
# Above the longest stretch without a heartbeat. The client's waits (THROTTLED, Retry-After, backoff,
# pacing) beat every second since `Heartbeat.sleep`, so that stretch is one request or one batch
# write (well under a second against the local simulator; the HTTP read timeout is 30 s, and no
# slow-response fault is on here). 15 s gives a margin of more than 10x; a run wrongly resumed
# would still be fenced off by its token, only wasted. With 45 s, a run killed late in the storm
# held the catch-up for ~45 s.
SYNC_HEARTBEAT_TIMEOUT_SECONDS = 15
SYNC_HEARTBEAT_INTERVAL_SECONDS = 2
SYNC_REDISPATCH_AFTER_SECONDS = 8
SYNC_BULK_POLL_INTERVAL_SECONDS = 0.3
SYNC_BULK_BATCH_SIZE = 100
SYNC_PAGE_SIZE = 50
# Production re-reads the last 120 s before the watermark (Shopify's search index can lag). The
# simulator's search has no lag, and the whole storm lasts ~35 s, so 120 s made every incremental
# re-read everything the storm touched (~40-60 s of cost pacing per run). 10 s keeps a margin over
# second-precision ties while letting the watermark do the work, which is what is under test.
SYNC_INCREMENTAL_OVERLAP_SECONDS = 10

# Persistent connections (as in production, where DATABASE_CONN_MAX_AGE defaults to 60 s): the
# worker and the web server hold their connections between tasks and requests, so the suite's
# database cut always hits live connections instead of finding none open at that moment.
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405

CONVERGENCE_SYNC_SETTINGS = {
    name: value for name, value in dict(globals()).items() if name.startswith("SYNC_") and name.isupper()
}
