"""The parts pass (`order_children_pass.py`) against the simulator: refunds' and fulfillments' parts read
by REST for the orders whose bulk lines carried them without, beside the write (a thread following the
commits) and in the run for the rest; resumed after a crash without asking Shopify again for what is
stored; the selection walked in windows of stored orders."""

from __future__ import annotations

import time

import pytest

from shopsync.models import (
    FulfillmentLineItem,
    Order,
    OrderAdjustment,
    RefundLineItem,
    RefundShippingLine,
    SyncSession,
)
from shopsync.resources import Resource
from shopsync.services.sync import order_children_pass
from shopsync.services.sync.jobs import job_context
from shopsync.services.sync.order_children_pass import NestedPartsFollower, nested_parts_pass
from shopsync.shopify import ShopifyClient
from tests.shopsync.sync.test_order_children_e2e import SMALL, _orders
from tests.shopsync.sync.test_sync_e2e import _run_inline, assert_db_equals_truth

pytestmark = pytest.mark.e2e

PARTS = (RefundLineItem, RefundShippingLine, OrderAdjustment, FulfillmentLineItem)


class RecordingClient(ShopifyClient):
    """A real client that notes the order ids of each `orders.json?ids=` call it sends."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[list[int]] = []

    def rest_get(self, path, params=None):
        if params and "ids" in params:
            self.asked.append([int(i) for i in str(params["ids"]).split(",")])
        return super().rest_get(path, params)


@pytest.fixture
def small_windows(monkeypatch):
    """Calls of 5 orders, selections over windows of 7 stored orders: every edge of the walk is met."""
    monkeypatch.setattr(order_children_pass, "REST_IDS_PER_CALL", 5)
    monkeypatch.setattr(order_children_pass, "SELECTION_WINDOW", 7)


def _synced_without_parts(simulator, shop):
    """An initial sync, then every refund's and fulfillment's parts removed (as the bulk export leaves
    them); returns the orders job's context and the ids of the orders that need their parts read."""
    session = _run_inline(shop)
    assert session.status == SyncSession.Status.COMPLETED, session.error
    for model in PARTS:
        model.objects.filter(shop=shop).delete()
    truth = _orders(simulator, shop)
    needing = sorted(i for i, o in truth.items() if o["refunds"] or o["fulfillments"])
    job = session.jobs.get(resource=Resource.ORDERS.value)
    # The session is over: these passes run without its heartbeat (`heartbeat=False`), as the follower does.
    return job_context(session=session, job=job, token=0), needing


def _orders_with_parts(shop) -> set[int]:
    with_parts = set()
    for model, owner in ((RefundLineItem, "refund"), (RefundShippingLine, "refund"), (OrderAdjustment, "refund"),
                         (FulfillmentLineItem, "fulfillment")):  # fmt: skip
        with_parts.update(
            model.objects.filter(shop=shop).values_list(f"{owner}__order__shopify_id", flat=True).distinct()
        )
    return with_parts


def test_a_pass_reads_every_missing_part_once_walking_windows_of_orders(simulator, sim_shop, small_windows):
    # given: a synced shop whose refunds and fulfillments have no parts stored
    shop = sim_shop(**SMALL)
    ctx, needing = _synced_without_parts(simulator, shop)
    client = RecordingClient(shop)
    # when
    read = nested_parts_pass(ctx=ctx, client=client, heartbeat=False)
    # then: each order asked for once, in id order, 5 a call; the database equals Shopify again
    asked = [i for call in client.asked for i in call]
    assert asked == needing
    assert read == len(needing)
    assert all(len(call) <= 5 for call in client.asked)
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def test_a_pass_resumed_after_a_crash_does_not_ask_again_for_what_it_stored(
    simulator, sim_shop, small_windows
):
    # given: a pass that stopped (a crash) after its first two calls
    shop = sim_shop(**SMALL)
    ctx, needing = _synced_without_parts(simulator, shop)
    first = RecordingClient(shop)
    nested_parts_pass(ctx=ctx, client=first, should_stop=lambda: len(first.asked) >= 2, heartbeat=False)
    stored = _orders_with_parts(shop)
    # when: the resumed run's pass, from the start
    second = RecordingClient(shop)
    nested_parts_pass(ctx=ctx, client=second, heartbeat=False)
    # then: it asked only for the orders the first did not store, and everything is there
    first_asked = [i for call in first.asked for i in call]
    second_asked = [i for call in second.asked for i in call]
    assert len(first.asked) == 2 and set(first_asked) <= stored
    assert sorted(first_asked + second_asked) == needing
    assert not set(second_asked) & set(first_asked)
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_the_follower_reads_full_calls_of_the_committed_orders_and_the_run_reads_the_rest(
    simulator, sim_shop, small_windows
):
    # given: a synced shop without parts, a follower told that the orders up to the middle one are
    # committed (the writer's first batches)
    shop = sim_shop(**SMALL)
    ctx, needing = _synced_without_parts(simulator, shop)
    middle = needing[len(needing) // 2]
    committed = [i for i in needing if i <= middle]
    ctx.job.bulk_after_id = None  # the job's first batch is yet to commit
    follower = NestedPartsFollower(ctx)
    follower.start()
    try:
        # when
        follower.advance(middle)
        _wait_until(lambda: follower.roots_read == len(committed) // 5 * 5)
        time.sleep(0.5)  # time enough for a wrong extra call
        # then: the committed orders' parts are read in full calls of 5, none of the later orders'
        assert _orders_with_parts(shop) == set(committed[: len(committed) // 5 * 5])
        # when: the writer commits the rest
        follower.advance(max(Order.objects.filter(shop=shop).values_list("shopify_id", flat=True)))
        _wait_until(lambda: follower.roots_read == len(needing) // 5 * 5)
    finally:
        follower.stop()
    # then: the run's pass, from where the follower got to, reads the last few
    client = RecordingClient(shop)
    nested_parts_pass(ctx=ctx, client=client, after=follower.after, heartbeat=False)
    assert follower.error is None
    assert [i for call in client.asked for i in call] == needing[len(needing) // 5 * 5 :]
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])


@pytest.mark.django_db(transaction=True)
def test_an_initial_sync_in_small_batches_stores_every_part_with_the_follower_alongside(
    simulator, sim_shop, small_windows, settings
):
    # given: batches of 7 orders, so the follower has commits to follow
    settings.SYNC_BULK_BATCH_SIZE = 7
    shop = sim_shop(**SMALL)
    # when
    session = _run_inline(shop)
    # then
    assert session.status == SyncSession.Status.COMPLETED, session.error
    assert_db_equals_truth(simulator, shop, [Resource.ORDERS])
