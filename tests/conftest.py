"""Fixtures shared by the whole suite: a standing cast of users, a shop, and the simulator; and the
SQLite lane's selection.

`bin/test` runs the suite twice: on PostgreSQL (everything), then with `SHOPSYNC_TEST_DATABASE=sqlite`
(only the tests marked `sqlite`). The pages, APIs, admin, browser and reconciliation tests are marked
here by directory, so a new test placed there runs on both backends: SQLite is what `bin/demo` and a
newcomer run. A test there that cannot run on SQLite says why with `postgres_only("...")`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ShopFactory, UserFactory

pytest_plugins = ["tests.scheduling"]

TESTS = Path(__file__).resolve().parent
SQLITE_LANE = [
    TESTS / "browser",
    TESTS / "shopsync" / "admin",
    TESTS / "shopsync" / "api",
    TESTS / "shopsync" / "views",
    TESTS / "reconciliation",  # also run by the demo's beat on SQLite: health, reconciliation
    TESTS / "webhooks" / "test_admin.py",
    TESTS / "webhooks" / "views",
]


@pytest.hookimpl(tryfirst=True)  # before `-m` is evaluated, so `-m sqlite` sees these marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.path == path or path in item.path.parents for path in SQLITE_LANE):
            item.add_marker(pytest.mark.sqlite)
        postgres_only = item.get_closest_marker("postgres_only")
        if postgres_only is not None and not postgres_only.args:
            raise pytest.UsageError(f"{item.nodeid}: postgres_only needs its reason, postgres_only('...')")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        in_lane = [item for item in items if _runs_on_sqlite(item)]
        config.hook.pytest_deselected(items=[item for item in items if not _runs_on_sqlite(item)])
        items[:] = in_lane


def _runs_on_sqlite(item: pytest.Item) -> bool:
    return item.get_closest_marker("sqlite") is not None and item.get_closest_marker("postgres_only") is None


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def shop(db, owner, staff):
    shop = ShopFactory(domain="acme.myshopify.com")
    shop.members.add(owner, staff)
    return shop


SHARED_SIMULATOR_OPTIONS = {"orders": 200, "customers": 80, "products": 30, "seed": 7}


class SimulatorDiedWarning(UserWarning):
    """The session's shared simulator process had exited; it was started again (its last output is
    in the message: a crash of the simulator is its own bug, not the test's that meets it)."""


@pytest.fixture(scope="session")
def _shared_simulator() -> Iterator[list]:
    from shopify_sim.testing import start_simulator

    holder = [start_simulator(**SHARED_SIMULATOR_OPTIONS)]
    yield holder
    holder[0].stop()


@pytest.fixture
def simulator(_shared_simulator):
    """One simulator process for the session (small generated store); tests that mutate the store
    should create their own shop on it through `simulator.control`. Should it have exited (an
    intermittent crash seen in CI), it is started again, with a warning carrying its last output,
    rather than failing every later test of the worker that uses it."""
    from shopify_sim.testing import start_simulator

    sim = _shared_simulator[0]
    if sim.process.poll() is not None:
        warnings.warn(
            SimulatorDiedWarning(
                f"the shared simulator exited with {sim.process.returncode}; started again. "
                f"Its last output:\n{chr(10).join(list(sim.output)[-40:])}"
            ),
            stacklevel=1,
        )
        sim = _shared_simulator[0] = start_simulator(**SHARED_SIMULATOR_OPTIONS)
    return sim
