"""Fixtures shared by the whole suite: a standing cast of users, a shop, and the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import ShopFactory, UserFactory


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


@pytest.fixture(scope="session")
def simulator() -> Iterator:
    """One simulator process for the session (small generated store); tests that mutate the store
    should create their own shop on it through `simulator.control`."""
    from shopify_sim.testing import run_simulator

    with run_simulator(orders=200, customers=80, products=30, seed=7) as sim:
        yield sim
