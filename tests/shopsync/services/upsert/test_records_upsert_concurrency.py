"""Concurrent writers on PostgreSQL: separate threads, separate connections, real transactions."""

from __future__ import annotations

import itertools
import random
import threading

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsync.models import LineItem, Order
from shopsync.services.upsert import UpsertResult, records_soft_delete, records_upsert
from tests.shopsync.services.upsert.conftest import at

ORDER_IDS = range(1, 61)


def _in_thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except BaseException as error:  # collected and asserted on by the test
            errors.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_end_with_the_newest_version_of_every_record(shop, make_order):
    # given: two writers, each with overlapping batches in shuffled order; every order gets versions
    # 0..7 split between them, and each version has its own line items
    versions = {order_id: list(range(8)) for order_id in ORDER_IDS}
    plans = [[], []]
    for order_id, order_versions in versions.items():
        random.Random(order_id).shuffle(order_versions)
        for n, version in enumerate(order_versions):
            plans[n % 2].append((order_id, version))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(plan):
        def work():
            barrier.wait()
            for start in range(0, len(plan), 15):
                chunk = plan[start : start + 15]
                records = [
                    make_order(o, version=v, items={o * 100 + v: v + 1, o * 100 + 99: v}) for o, v in chunk
                ]
                records_upsert(resource="orders", shop=shop, records=records)

        return work

    threads = [_in_thread(writer(plan), errors) for plan in plans]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    stored = dict(Order.objects.values_list("shopify_id", "shopify_updated_at"))
    assert stored == {order_id: at(7) for order_id in ORDER_IDS}
    items = set(LineItem.objects.values_list("order__shopify_id", "shopify_id", "quantity"))
    expected = {(o, o * 100 + 7, 8) for o in ORDER_IDS} | {(o, o * 100 + 99, 7) for o in ORDER_IDS}
    assert items == expected


@pytest.mark.django_db(transaction=True)
def test_a_delete_racing_a_late_older_create_always_ends_deleted(shop, make_order):
    # given
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def delete():
        barrier.wait()
        records_soft_delete(shop=shop, resource="orders", shopify_ids=list(ORDER_IDS), deleted_at=at(10))

    def create():
        barrier.wait()
        records_upsert(resource="orders", shop=shop, records=[make_order(o, version=5) for o in ORDER_IDS])

    threads = [_in_thread(delete, errors), _in_thread(create, errors)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert set(Order.objects.values_list("deleted_at", flat=True)) == {at(10)}


_ids = itertools.count(1_000)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    versions=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
    batch_size=st.integers(min_value=1, max_value=3),
)
def test_any_order_of_versions_ends_at_the_max_version(shop, make_order, versions, batch_size):
    # given: one record, its versions arriving in any order and grouping
    order_id = next(_ids)
    batches = [versions[i : i + batch_size] for i in range(0, len(versions), batch_size)]
    # when
    total = UpsertResult()
    for batch in batches:
        records = [make_order(order_id, version=v, items={order_id * 100 + v: 1}) for v in batch]
        total += records_upsert(resource="orders", shop=shop, records=records)
    # then
    order = Order.objects.get(shop=shop, shopify_id=order_id)
    assert order.shopify_updated_at == at(max(versions))
    assert list(LineItem.objects.filter(order=order).values_list("shopify_id", flat=True)) == [
        order_id * 100 + max(versions)
    ]
    assert total.created == 1
    assert connection.vendor == "postgresql"
