"""Several child tables per resource: each child list is replaced, kept or given on its own."""

from __future__ import annotations

import pickle
from decimal import Decimal

from shopsync.models import LineItem, OrderTransaction, ProductOption
from shopsync.payloads.records import ProductOptionRecord, TransactionRecord
from shopsync.resources import Resource
from shopsync.services.upsert import (
    UpsertResult,
    child_records_insert,
    encoded_batch_upsert,
    records_encode,
    records_upsert,
)


def _transaction(shopify_id: int, status: str = "success") -> TransactionRecord:
    return TransactionRecord(shopify_id=shopify_id, kind="sale", status=status, amount=Decimal("5.00"))


def _stored(shop) -> dict[str, list]:
    return {
        "line_items": list(
            LineItem.objects.filter(shop=shop).order_by("shopify_id").values_list("shopify_id", flat=True)
        ),
        "transactions": list(
            OrderTransaction.objects.filter(shop=shop)
            .order_by("shopify_id")
            .values_list("shopify_id", "status")
        ),
    }


def test_an_order_without_transactions_keeps_them_while_its_line_items_are_replaced(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS,
                   records=[make_order(1, items={11: 1}, transactions=[_transaction(81)])])  # fmt: skip
    # when: a newer version with other line items and no transactions key (a REST order)
    result = records_upsert(
        shop=shop, resource=Resource.ORDERS, records=[make_order(1, version=1, items={12: 1})]
    )
    # then
    assert result == UpsertResult(updated=1)
    assert _stored(shop) == {"line_items": [12], "transactions": [(81, "success")]}


def test_a_newer_order_replaces_its_transactions_and_an_older_one_does_not(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS,
                   records=[make_order(1, version=1, transactions=[_transaction(81, "pending"), _transaction(82)])])  # fmt: skip
    # when
    older = records_upsert(shop=shop, resource=Resource.ORDERS,
                           records=[make_order(1, version=0, transactions=[])])  # fmt: skip
    newer = records_upsert(shop=shop, resource=Resource.ORDERS,
                           records=[make_order(1, version=2, transactions=[_transaction(81)])])  # fmt: skip
    # then
    assert (older, newer) == (UpsertResult(skipped_stale=1), UpsertResult(updated=1))
    assert _stored(shop)["transactions"] == [(81, "success")]


def test_a_same_version_refetch_with_a_moved_status_updates_the_transaction(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS,
                   records=[make_order(1, transactions=[_transaction(81, "pending")])])  # fmt: skip
    # when: the same order version, its transaction now settled (no clock on a transaction)
    result = records_upsert(shop=shop, resource=Resource.ORDERS,
                            records=[make_order(1, transactions=[_transaction(81, "success")])])  # fmt: skip
    # then: the row is "updated" (its children changed) and the status moved
    assert result == UpsertResult(updated=1)
    assert _stored(shop)["transactions"] == [(81, "success")]


def test_an_encoded_batch_writes_and_keeps_each_child_table_on_its_own(shop, make_order):
    # given
    records_upsert(shop=shop, resource=Resource.ORDERS,
                   records=[make_order(1, transactions=[_transaction(81)]), make_order(2)])  # fmt: skip
    # when: order 1 without transactions, order 2 with one
    batch = records_encode(resource=Resource.ORDERS, records=[
        make_order(1, version=1, items={13: 1}), make_order(2, version=1, transactions=[_transaction(91)]),
    ])  # fmt: skip
    result = encoded_batch_upsert(shop=shop, batch=pickle.loads(pickle.dumps(batch)))
    # then
    # line items, transactions, refunds, fulfillments, metafields, then the lists' parts
    assert batch.children_not_given == ((), (1,), (1, 2), (1, 2), (1, 2), (), (), (), (), ())
    assert result == UpsertResult(updated=2)
    assert _stored(shop) == {"line_items": [13, 21], "transactions": [(81, "success"), (91, "success")]}


def test_a_child_is_inserted_under_its_stored_parent_without_overwriting_a_stored_copy(shop, make_order):
    # given
    records_upsert(
        shop=shop, resource=Resource.ORDERS, records=[make_order(1, transactions=[_transaction(81)])]
    )
    # when
    found = child_records_insert(shop=shop, resource=Resource.ORDERS, child="transactions", parent_shopify_id=1,
                                 records=[_transaction(81, "pending"), _transaction(82)])  # fmt: skip
    missing = child_records_insert(shop=shop, resource=Resource.ORDERS, child="transactions",
                                   parent_shopify_id=2, records=[_transaction(83)])  # fmt: skip
    # then
    assert (found, missing) == (True, False)
    assert _stored(shop)["transactions"] == [(81, "success"), (82, "success")]


def test_a_products_options_are_replaced_with_a_newer_version_and_kept_when_not_given(shop, make_product):
    # given
    size = ProductOptionRecord(shopify_id=31, name="Size", position=1, option_values=["S", "M"])
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(3, options=[size])])
    # when
    records_upsert(shop=shop, resource=Resource.PRODUCTS, records=[make_product(3, version=1, options=None)])
    kept = list(ProductOption.objects.filter(shop=shop).values_list("shopify_id", "option_values"))
    color = ProductOptionRecord(shopify_id=32, name="Color", position=1, option_values=["Red"])
    records_upsert(
        shop=shop, resource=Resource.PRODUCTS, records=[make_product(3, version=2, options=[color])]
    )
    # then
    assert kept == [(31, ["S", "M"])]
    assert list(ProductOption.objects.filter(shop=shop).values_list("shopify_id", "name")) == [(32, "Color")]
