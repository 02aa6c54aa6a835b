from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciliation.services.comparison import Comparison, Scope, SnapshotTable
from shopsync.models import OrderTransaction
from tests.factories import OrderFactory, ShopFactory

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CUTOFF = T0 + timedelta(days=1)


def _compare(shop, rows, *, scope=None, cutoff=CUTOFF):
    scope = scope or Scope(resource="orders", created_after=None)
    with SnapshotTable(1) as table:
        loaded = table.load(iter(rows))
        comparison = Comparison(table=table.name, shop=shop, cutoff=cutoff, scope=scope)
        found = {kind: comparison.first_ids(kind, 100) for kind in ("missing", "extra", "stale")}
        counts = {kind: comparison.count(kind) for kind in ("missing", "extra", "stale")}
        return loaded, found, counts, comparison.local_count()


def test_missing_extra_and_stale_ids_are_named_exactly(shop):
    # given: ours 1..5 (5 deleted here already), Shopify 1..4 and 6; 2 newer there; 3 gone there
    for shopify_id in range(1, 6):
        OrderFactory(shop=shop, shopify_id=shopify_id, shopify_updated_at=T0)
    OrderFactory(shop=shop, shopify_id=7, shopify_updated_at=T0, deleted_at=T0)
    OrderFactory(shop=ShopFactory(), shopify_id=6, shopify_updated_at=T0)  # another shop's row
    shopify = [(1, T0), (2, T0 + timedelta(hours=1)), (4, T0), (5, T0), (6, T0), (7, T0)]
    # when
    loaded, found, counts, local = _compare(shop, shopify)
    # then
    assert loaded == 6
    assert found == {"missing": [6, 7], "extra": [3], "stale": [2]}
    assert counts == {"missing": 2, "extra": 1, "stale": 1}
    assert local == 5


def test_an_order_whose_transaction_ids_differ_at_the_same_version_is_stale(shop):
    # given: ours 1 has transactions 11 and 12, ours 2 has 21; Shopify has 11 and 13 on 1, 21 on 2,
    # and transaction 31 on order 3, of which we have none
    first, second = (OrderFactory(shop=shop, shopify_id=i, shopify_updated_at=T0) for i in (1, 2))
    third = OrderFactory(shop=shop, shopify_id=3, shopify_updated_at=T0)
    for order, transaction_id in ((first, 11), (first, 12), (second, 21)):
        OrderTransaction.objects.create(shop=shop, order=order, shopify_id=transaction_id, kind="sale")
    shopify = [
        (1, T0, (("transactions", 11), ("transactions", 13))),
        (2, T0, (("transactions", 21),)),
        (third.shopify_id, T0, (("transactions", 31),)),
    ]
    # when
    _, found, counts, _ = _compare(shop, shopify)
    # then
    assert found == {"missing": [], "extra": [], "stale": [1, 3]}
    assert counts["stale"] == 2


def test_changes_after_the_cutoff_are_not_judged(shop):
    # given: Shopify changed 1 after the snapshot began; 2 is new there; ours 3 was created after
    OrderFactory(shop=shop, shopify_id=1, shopify_updated_at=T0)
    OrderFactory(shop=shop, shopify_id=3, shopify_updated_at=CUTOFF + timedelta(seconds=5))
    shopify = [(1, CUTOFF + timedelta(seconds=1)), (2, CUTOFF + timedelta(seconds=1))]
    # when
    _, found, _, _ = _compare(shop, shopify)
    # then
    assert found == {"missing": [], "extra": [], "stale": []}


def test_sub_second_differences_are_not_stale(shop):
    # given: our REST-sourced time has microseconds; Shopify's updatedAt has whole seconds
    OrderFactory(shop=shop, shopify_id=1, shopify_updated_at=T0.replace(microsecond=0))
    OrderFactory(shop=shop, shopify_id=2, shopify_updated_at=T0 + timedelta(microseconds=400_000))
    OrderFactory(shop=shop, shopify_id=3, shopify_updated_at=T0 - timedelta(microseconds=1))
    shopify = [(1, T0 + timedelta(microseconds=900_000)), (2, T0), (3, T0)]
    # when
    _, found, _, _ = _compare(shop, shopify)
    # then
    assert found["stale"] == [3]


def test_without_read_all_orders_only_the_visible_window_counts_as_extra(shop):
    # given: an order older than the window is invisible to Shopify's export, not gone
    OrderFactory(shop=shop, shopify_id=1, shopify_created_at=T0 - timedelta(days=90), shopify_updated_at=T0)
    OrderFactory(shop=shop, shopify_id=2, shopify_created_at=T0, shopify_updated_at=T0)
    scope = Scope(resource="orders", created_after=T0 - timedelta(days=60))
    # when
    _, found, _, local = _compare(shop, [], scope=scope)
    # then
    assert found["extra"] == [2]
    assert local == 1


def test_iter_ids_pages_through_every_id_in_order(shop):
    # given: 25 missing ids
    shopify = [(shopify_id, T0) for shopify_id in range(100, 125)]
    # when
    with SnapshotTable(2) as table:
        table.load(iter(shopify))
        comparison = Comparison(
            table=table.name, shop=shop, cutoff=CUTOFF, scope=Scope(resource="orders", created_after=None)
        )
        ids = list(comparison.iter_ids("missing", "stale", page_size=10))
    # then
    assert ids == list(range(100, 125))


def test_the_content_sample_draws_only_records_both_sides_hold_at_the_same_version(shop):
    # given: 1-4 at the same version; 5 older here (stale); 6 changed after the cutoff; 7 only here;
    # 8 only in Shopify; 4's transaction ids differ (stale at the same version)
    for shopify_id in (1, 2, 3, 4, 5, 7):
        OrderFactory(shop=shop, shopify_id=shopify_id, shopify_updated_at=T0)
    OrderFactory(shop=shop, shopify_id=6, shopify_updated_at=CUTOFF + timedelta(seconds=1))
    shopify = [(i, T0) for i in (1, 2, 3)] + [
        (4, T0, (("transactions", 41),)),
        (5, T0 + timedelta(hours=1)),
        (6, CUTOFF + timedelta(seconds=1)),
        (8, T0),
    ]
    with SnapshotTable(1) as table:
        table.load(iter(shopify))
        comparison = Comparison(
            table=table.name, shop=shop, cutoff=CUTOFF, scope=Scope(resource="orders", created_after=None)
        )
        # when
        everything, two = comparison.sample_ids(100), comparison.sample_ids(2)
    # then
    assert everything == [1, 2, 3]
    assert len(two) == 2 and set(two) <= {1, 2, 3}
