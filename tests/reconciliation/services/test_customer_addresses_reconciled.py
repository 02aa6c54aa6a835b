"""Customers' addresses reconciled id by id: the snapshot's child lines (addressesV2 is a
connection) grouped under their customer, a customer whose address ids differ counted stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from reconciliation.services.comparison import Comparison, Scope, SnapshotTable
from reconciliation.services.snapshot import SnapshotError, _rows, snapshot_query
from shopsync.models import CustomerAddress
from tests.factories import CustomerFactory

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _line(**node) -> bytes:
    return orjson.dumps(node) + b"\n"


def _customer(customer_id: int) -> bytes:
    return _line(id=f"gid://shopify/Customer/{customer_id}", updatedAt="2025-06-01T12:00:00Z")


def _address(address_id: int, customer_id: int) -> bytes:
    return _line(
        id=f"gid://shopify/MailingAddress/{address_id}?model_name=CustomerAddress",
        __parentId=f"gid://shopify/Customer/{customer_id}",
    )


def test_the_snapshot_asks_for_the_address_ids_as_a_connection():
    assert snapshot_query("customers") == (
        "{ customers { edges { node { id updatedAt addressesV2 { edges { node { id } } } } } } }"
    )


def test_address_lines_are_grouped_under_the_customer_before_them():
    # given
    lines = [_customer(1), _address(11, 1), _address(12, 1), _customer(2), _customer(3), _address(31, 3)]
    # when
    rows = list(_rows(iter(lines), [], {"MailingAddress": ("addresses", "")}))
    # then
    assert [(row[0], row[2]) for row in rows] == [
        (1, (("addresses", 11), ("addresses", 12))),
        (2, ()),
        (3, (("addresses", 31),)),
    ]


def test_an_address_line_not_after_its_customer_is_unreadable():
    with pytest.raises(SnapshotError):
        list(_rows(iter([_customer(1), _address(21, 2)]), [], {"MailingAddress": ("addresses", "")}))


def test_a_customer_whose_address_ids_differ_at_the_same_version_is_stale(shop):
    # given: ours 1 has 11 and 12, ours 2 has 21; Shopify has 11 on 1 (12 removed), 21 on 2
    first = CustomerFactory(shop=shop, shopify_id=1, shopify_updated_at=T0)
    second = CustomerFactory(shop=shop, shopify_id=2, shopify_updated_at=T0)
    for customer, address_id in ((first, 11), (first, 12), (second, 21)):
        CustomerAddress.objects.create(shop=shop, customer=customer, shopify_id=address_id)
    rows = [(1, T0, (("addresses", 11),)), (2, T0, (("addresses", 21),))]
    # when
    with SnapshotTable(1) as table:
        table.load(iter(rows))
        comparison = Comparison(
            table=table.name, shop=shop, cutoff=T0 + timedelta(days=1),
            scope=Scope(resource="customers", created_after=None),
        )  # fmt: skip
        stale = comparison.first_ids("stale", 10)
    # then
    assert stale == [1]
