"""Conformance: requests shaped as Shopify's documentation shows them, answers checked against the
contract's shapes (/work/shared/shopify-contract.md) and against the truth endpoint, record for record.

One small shop on the session's simulator (tests/simulator/conftest.py `sim`), changed once at the
start (creates, updates, deletions), so every surface also has events and deleted ids to agree on.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest

from shopify_sim.testing import SimulatorProcess
from tests.simulator.conftest import ANCHOR

VERSION = "2026-01"
LINK_RE = re.compile(r'<([^>]+)>; rel="(next|previous)"')


@dataclass
class Shop:
    domain: str
    token: str
    api_key: str
    api_secret: str


@pytest.fixture(scope="session")
def shop(sim: SimulatorProcess) -> Shop:
    domain = f"conformance-{uuid.uuid4().hex[:8]}.myshopify.com"
    options = {"orders": 45, "customers": 20, "products": 8, "seed": 21, "anchor": ANCHOR, "plan": "plus"}
    info = sim.control.create_shop(domain, **options, token=f"shpat_{uuid.uuid4().hex}")
    mix = {
        "orders/create": 2,
        "orders/update": 2,
        "orders/delete": 1,
        "products/update": 1,
        "customers/update": 1,
        "order_transactions/create": 3,
    }
    sim.control.mutate(count=14, seed=4, mix=mix, shop=domain)
    return Shop(domain, info["token"], info["api_key"], info["api_secret"])


def links(response) -> dict[str, str]:
    """rel -> URL of a REST Link header (contract §3.3)."""
    return {rel: url for url, rel in LINK_RE.findall(response.headers.get("Link", ""))}


def truth(sim: SimulatorProcess, shop: Shop, resource: str, full: bool = False) -> dict:
    return sim.control.truth(resource, full=full, shop=shop.domain)
