"""The order tests are handed to pytest-xdist's workers in: longest first.

pytest-django reorders the collection as Django does (plain database tests, then transactional ones,
then the rest), which puts nearly every test that starts processes (a simulator, a worker, a
browser; all transactional or database-less) behind the thousand quick ones: a 50 s convergence run
handed out last is the lane's tail while the other workers sit idle. This runs after pytest-django
(trylast) and moves them to the front: `slow` (tens of seconds alone) first, then `e2e` and
`browser`; collection order is kept within each tier.

bin/test runs xdist with `--maxschedchunk 1`, so each worker is handed a test or two at a time as it
frees up. Without it, each worker's first hand is a quarter of its share in one consecutive run,
and the first worker would get every long test at once.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_tier)


def _tier(item: pytest.Item) -> int:
    if item.get_closest_marker("slow") is not None:
        return 0
    if item.get_closest_marker("e2e") is not None or item.get_closest_marker("browser") is not None:
        return 1
    return 2
