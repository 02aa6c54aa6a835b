"""The order tests are handed to pytest-xdist's workers in: longest first.

pytest-xdist deals the first quarter of the collected tests out round-robin, then the rest on demand.
pytest-django reorders the collection as Django does (plain database tests, then transactional ones,
then the rest), which puts nearly every test that starts processes (a simulator, a worker, a
browser; all transactional or database-less) behind the thousand quick ones: a 50 s convergence run
handed out last is the lane's tail while the other workers sit idle. This runs after pytest-django
(trylast) and moves them to the front: `slow` (tens of seconds alone) first, then `e2e` and
`browser`; collection order is kept within each tier.
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
