"""Fixtures for the Shopify client tests: a scripted local HTTP server, a fake clock, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shopsync.models import Shop
from shopsync.shopify.client import ShopifyClient
from shopsync.shopify.pacing import CostBucket
from tests.shopsync.shopify.scripted_http import FakeClock, ScriptedServer, unsaved_shop


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(server: ScriptedServer, clock: FakeClock) -> Callable[..., ShopifyClient]:
    def make(shop: Shop | None = None, **options: Any) -> ShopifyClient:
        options.setdefault("sleep", clock.sleep)
        options.setdefault("clock", clock)
        options.setdefault("cost_bucket", CostBucket())
        options.setdefault("rest_budget", CostBucket())
        options.setdefault("timeout", (2.0, 5.0))
        return ShopifyClient(shop or unsaved_shop(server.base_url), **options)

    return make
