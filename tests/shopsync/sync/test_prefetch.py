from __future__ import annotations

import threading

import pytest

from shopsync.services.sync.prefetch import prefetched


def test_prefetched_yields_every_item_in_order_from_another_thread():
    # given
    threads = []

    def items():
        for n in range(5):
            threads.append(threading.current_thread().name)
            yield n

    # when
    result = list(prefetched(items()))
    # then
    assert result == [0, 1, 2, 3, 4]
    assert set(threads) == {"sync-prefetch"}


def test_prefetched_reraises_the_producers_error_after_the_items_before_it():
    # given
    def items():
        yield 1
        raise ValueError("bad line")

    seen = []
    # when
    with pytest.raises(ValueError, match="bad line"):
        for item in prefetched(items()):
            seen.append(item)
    # then
    assert seen == [1]


def test_a_consumer_that_stops_early_stops_the_producer():
    # given
    produced = []

    def items():
        for n in range(1000):
            produced.append(n)
            yield n

    # when
    for item in prefetched(items()):
        if item == 2:
            break
    # then
    assert len(produced) <= 5
