"""Settings of every process of the fleet (tests/fleet/fleet.py): the test settings, with the
watchdog on beat every 2 s instead of every minute and heartbeats every second, so a host cut off
is noticed within the heartbeat timeout (set by `SYNC_HEARTBEAT_TIMEOUT_SECONDS` in the env) plus 2 s.
"""

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_BEAT_SCHEDULE

SYNC_HEARTBEAT_INTERVAL_SECONDS = 1
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "sync-watchdog": {
        **CELERY_BEAT_SCHEDULE["sync-watchdog"],
        "schedule": 2.0,
        "options": {"queue": "maintenance", "expires": 2},
    },
}
