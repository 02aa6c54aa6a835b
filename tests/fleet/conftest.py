"""The fleet fixture: the product across five hosts of this machine (see fleet.py), skipped only
where network namespaces cannot be created (not root, no iproute2, a kernel or container that
refuses them), with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fleet.fleet import Fleet, fleet_running
from tests.fleet.netns import namespaces_unavailable

HEARTBEAT_TIMEOUT_SECONDS = 15


@pytest.fixture
def fleet(tmp_path) -> Iterator[Fleet]:
    """PostgreSQL and Redis on `db`, the simulator on `shopify` (a store big enough that an initial
    sync writes for several seconds), web and beat on `web`, a worker on `worker-1` and `worker-2`.
    Logs in tmp_path; everything (processes, namespaces, the cluster's files) removed afterwards."""
    reason = namespaces_unavailable()
    if reason:
        pytest.skip(f"cannot run hosts on this machine: {reason}")
    store = {"shop": "fleet.myshopify.com", "token": "shpat_fleet", "orders": 4000, "customers": 400,
             "products": 60, "seed": 21}  # fmt: skip
    env = {
        "SYNC_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT_SECONDS),
        # Small batches: many checkpoints, so the cut lands between two of them mid-export.
        "SYNC_BULK_BATCH_SIZE": "100",
    }
    with fleet_running(log_dir=tmp_path, simulator_options=store, env=env) as running:
        yield running
