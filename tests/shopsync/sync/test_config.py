"""The concurrency caps are sized from the fleet's sync processes (SYNC_WORKER_CONCURRENCY) unless set."""

from __future__ import annotations

import pytest

from shopsync.services.sync.config import sync_config


@pytest.mark.parametrize(
    ("processes", "per_shop", "total", "backfills"),
    [(1, 1, 1, 1), (2, 1, 2, 1), (3, 2, 3, 2), (8, 7, 8, 7)],
)
def test_the_caps_are_derived_from_the_worker_concurrency(settings, processes, per_shop, total, backfills):
    # given
    settings.SYNC_WORKER_CONCURRENCY = processes
    settings.SYNC_MAX_RUNNING_PER_SHOP = 0
    settings.SYNC_MAX_RUNNING_TOTAL = 0
    settings.SYNC_MAX_RUNNING_BACKFILLS = 0
    # when
    config = sync_config()
    # then
    assert (config.max_running_per_shop, config.max_running_total, config.max_running_backfills) == (
        per_shop, total, backfills,
    )  # fmt: skip


def test_one_shop_never_gets_every_process_of_the_default_fleet():
    # given: the README's and the demo's worker, two processes
    # when
    config = sync_config()
    # then
    assert config.worker_concurrency == 2
    assert config.max_running_per_shop < config.worker_concurrency
    assert config.max_running_backfills < config.worker_concurrency


def test_caps_set_explicitly_are_kept(settings):
    # given
    settings.SYNC_WORKER_CONCURRENCY = 4
    settings.SYNC_MAX_RUNNING_PER_SHOP = 2
    settings.SYNC_MAX_RUNNING_TOTAL = 20
    settings.SYNC_MAX_RUNNING_BACKFILLS = 1
    # when
    config = sync_config()
    # then
    assert (config.max_running_per_shop, config.max_running_total, config.max_running_backfills) == (2, 20, 1)
