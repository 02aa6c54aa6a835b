"""A batch encoded ahead of time (in another process, for bulk imports) is written with exactly the
semantics of `records_upsert`: the same rows, the same counts, whatever came before."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopsync.models import LineItem, Order, Product, ProductVariant
from shopsync.payloads.records import LineItemRecord, OrderRecord
from shopsync.resources import Resource
from shopsync.services.upsert import (
    UpsertMode,
    UpsertResult,
    encoded_batch_upsert,
    records_encode,
    records_soft_delete,
    records_upsert,
)
from tests.factories import ShopFactory
from tests.shopsync.services.upsert.conftest import T0, at

pytestmark = pytest.mark.django_db

ORDER_FIELDS = ["shopify_id", "shopify_updated_at", "name", "total_price", "tags", "shipping_address",
                "deleted_at", "is_historical", "email", "note"]  # fmt: skip
ITEM_FIELDS = ["order__shopify_id", "shopify_id", "quantity", "price", "title"]


def _orders(shop) -> list[tuple]:
    return list(Order.objects.filter(shop=shop).order_by("shopify_id").values_list(*ORDER_FIELDS))


def _items(shop) -> list[tuple]:
    return list(LineItem.objects.filter(shop=shop).order_by("shopify_id").values_list(*ITEM_FIELDS))


def _encoded_write(shop, records, mode=UpsertMode.LATEST_WINS) -> UpsertResult:
    batch = records_encode(resource=Resource.ORDERS, records=records)
    assert batch is not None
    # It crosses a process boundary in the bulk pipeline.
    return encoded_batch_upsert(shop=shop, batch=pickle.loads(pickle.dumps(batch)), mode=mode)


def test_an_encoded_batch_creates_orders_with_their_line_items(shop, make_order):
    # given
    batch = [make_order(2, items={21: 3}), make_order(1, items={11: 1, 12: 2}, note="tab\there\nnewline\\")]
    # when
    result = _encoded_write(shop, batch)
    # then
    assert result == UpsertResult(created=2)
    assert _items(shop) == [
        (1, 11, 1, Decimal("5.00"), "Widget"),
        (1, 12, 2, Decimal("5.00"), "Widget"),
        (2, 21, 3, Decimal("5.00"), "Widget"),
    ]
    order = Order.objects.get(shop=shop, shopify_id=1)
    assert (order.note, order.tags, order.shipping_address, order.shopify_updated_at) == (
        "tab\there\nnewline\\",
        ["a", "b"],
        {"city": "Springfield", "zip": "97475"},
        T0,
    )


def test_an_encoded_replay_changes_nothing_and_an_older_one_is_stale(shop, make_order):
    # given
    _encoded_write(shop, [make_order(1, version=5, items={11: 1})])
    item_pks = list(LineItem.objects.values_list("pk", flat=True))
    # when
    replay = _encoded_write(shop, [make_order(1, version=5, items={11: 1})])
    older = _encoded_write(shop, [make_order(1, version=1, items={12: 1})])
    # then
    assert replay == UpsertResult(unchanged=1)
    assert older == UpsertResult(skipped_stale=1)
    assert list(LineItem.objects.values_list("pk", flat=True)) == item_pks


def test_losing_parents_keep_their_children_in_an_encoded_batch(shop, make_order):
    # given: order 1 stored at a newer version than the batch brings
    _encoded_write(shop, [make_order(1, version=9, items={11: 1})])
    # when: the batch's order 1 loses, order 2 is new
    result = _encoded_write(shop, [make_order(1, version=2, items={12: 7}), make_order(2, items={21: 1})])
    # then
    assert result == UpsertResult(created=1, skipped_stale=1)
    assert [(o, i) for o, i, *_ in _items(shop)] == [(1, 11), (2, 21)]


def test_populate_mode_skips_existing_orders_in_an_encoded_batch(shop, make_order):
    # given
    _encoded_write(shop, [make_order(1, items={11: 1})])
    # when
    result = _encoded_write(
        shop, [make_order(1, version=3, items={11: 9}), make_order(2)], UpsertMode.POPULATE
    )
    # then
    assert result == UpsertResult(created=1, skipped_existing=1)
    assert _orders(shop)[0][1] == T0


def test_an_encoded_batch_leaves_the_children_of_parents_without_them_alone(shop, make_order):
    # given
    _encoded_write(shop, [make_order(1, items={11: 1}), make_order(2, items={21: 1})])
    # when: order 1 comes without its line items (a partial payload), order 2 with new ones
    batch = records_encode(
        resource=Resource.ORDERS,
        records=[make_order(1, version=1, line_items=None), make_order(2, version=1, items={22: 5})],
    )
    result = encoded_batch_upsert(shop=shop, batch=pickle.loads(pickle.dumps(batch)))
    # then
    # line items, transactions, refunds, fulfillments, metafields, then the refunds' and
    # fulfillments' parts (under children given: nothing to keep)
    assert batch.children_not_given == ((1,), (1, 2), (1, 2), (1, 2), (1, 2), (), (), (), (), ())
    assert result == UpsertResult(updated=2)
    assert [(order_id, item_id, quantity) for order_id, item_id, quantity, _, _ in _items(shop)] == [
        (1, 11, 1),
        (2, 22, 5),
    ]


def test_a_batch_with_a_child_under_two_parents_is_not_encoded(make_order):
    # given: line item 5 listed under orders 1 and 2 (which keeps it depends on which wins the merge)
    batch = [make_order(1, items={5: 1}), make_order(2, version=1, items={5: 2})]
    # when
    encoded = records_encode(resource=Resource.ORDERS, records=batch)
    # then
    assert encoded is None


def test_products_and_customers_encode_too(shop, make_product, make_customer):
    # given
    products = records_encode(resource=Resource.PRODUCTS, records=[make_product(1, variants=[11, 12])])
    customers = records_encode(resource=Resource.CUSTOMERS, records=[make_customer(1), make_customer(2)])
    # when
    written = [encoded_batch_upsert(shop=shop, batch=batch) for batch in (products, customers)]
    # then
    assert written == [UpsertResult(created=1), UpsertResult(created=2)]
    assert list(ProductVariant.objects.order_by("shopify_id").values_list("shopify_id", flat=True)) == [
        11,
        12,
    ]
    assert Product.objects.get().title == "Product v0"


def _order(order_id: int, version: int, item_ids: list[int] | None) -> OrderRecord:
    return OrderRecord(
        shopify_id=order_id,
        shopify_created_at=T0,
        shopify_updated_at=at(version),
        name=f"#{order_id}-{version}",
        total_price=Decimal(version),
        tags=[f"v{version}"],
        line_items=None
        if item_ids is None
        else [LineItemRecord(shopify_id=i, quantity=version + 1, title=f"t{version}") for i in item_ids],
    )


_step = st.one_of(
    st.tuples(
        st.just("write"),
        st.lists(
            st.tuples(
                st.integers(1, 4),  # order id
                st.integers(0, 6),  # version
                # line item ids; None: a payload without them (the stored ones stay)
                st.one_of(st.none(), st.lists(st.integers(1, 8), max_size=3, unique=True)),
            ),
            min_size=1,
            max_size=5,
        ),
        st.sampled_from([UpsertMode.LATEST_WINS, UpsertMode.POPULATE]),
    ),
    st.tuples(st.just("delete"), st.lists(st.integers(1, 4), min_size=1, max_size=2), st.integers(0, 6)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_step, min_size=1, max_size=6))
def test_encoded_and_record_batches_end_identical_whatever_the_history(steps):
    # given: two shops, one written with records, one with encoded batches
    by_records, by_encoding = ShopFactory(), ShopFactory()
    for step in steps:
        if step[0] == "delete":
            _, ids, version = step
            for shop in (by_records, by_encoding):
                records_soft_delete(
                    shop=shop, resource=Resource.ORDERS, shopify_ids=ids, deleted_at=at(version)
                )
            continue
        _, specs, mode = step
        # Line items may move between orders from one batch to the next; a batch listing one under two
        # orders is not encoded (None) and takes the records path, as the bulk pipeline does.
        batch = [_order(order_id, version, items) for order_id, version, items in specs]
        # when
        expected = records_upsert(shop=by_records, resource=Resource.ORDERS, records=batch, mode=mode)
        encoded = records_encode(resource=Resource.ORDERS, records=batch)
        got = (
            records_upsert(shop=by_encoding, resource=Resource.ORDERS, records=batch, mode=mode)
            if encoded is None
            else encoded_batch_upsert(shop=by_encoding, batch=encoded, mode=mode)
        )
        # then
        assert got == expected
    assert _orders(by_encoding) == _orders(by_records)
    assert _items(by_encoding) == _items(by_records)
