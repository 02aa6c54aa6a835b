"""The inventory webhook benchmark's deliveries (`bench/webhooks/inventory_deliveries.py`): signed
as the receiver verifies, shaped as the product parses `inventory_levels/update`, ordered so the
level each key ends with is known, and its figures computed exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
from django.conf import settings

from bench.webhooks import inventory_deliveries as deliveries
from shopsync.payloads.inventory import parse_inventory_level_rest
from webhooks.services.receiving import webhook_signature_is_valid

START = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def _made(count: int = 50, *, rate: float = 1000, items: int = 4, locations: int = 3, seed: int = 1):
    return list(
        deliveries.level_deliveries(
            count=count, items=items, locations=locations, rate=rate, starting_at=START,
            secret=settings.SHOPIFY_API_SECRET, seed=seed,
        )
    )  # fmt: skip


def test_a_delivery_is_signed_as_the_receiver_verifies():
    # given
    [delivery] = _made(1)

    # when
    authentic = webhook_signature_is_valid(body=delivery.body, signature=delivery.signature)
    tampered = webhook_signature_is_valid(body=delivery.body.replace(b"available", b"availablE"),
                                          signature=delivery.signature)  # fmt: skip

    # then
    assert authentic is True
    assert tampered is False


def test_a_delivery_body_is_what_the_product_parses_as_a_level_update():
    # given
    delivery = _made(3)[2]

    # when
    record = parse_inventory_level_rest(orjson.loads(delivery.body))

    # then
    assert orjson.loads(delivery.body) == {
        "inventory_item_id": delivery.item_id,
        "location_id": delivery.location_id,
        "available": delivery.available,
        "updated_at": "2026-12-07T17:00:00.002-00:00",
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{delivery.location_id}"
        f"?inventory_item_id={delivery.item_id}",
    }
    assert (record.shopify_id, record.available) == (delivery.item_id, delivery.available)
    assert record.shopify_updated_at == START + timedelta(milliseconds=2)


def test_updates_follow_the_store_clock_at_the_rate_over_the_given_keys():
    # when
    made = _made(40, rate=20, items=5, locations=2)

    # then
    assert [d.index for d in made] == list(range(40))
    assert [d.updated_at for d in made] == [START + timedelta(seconds=i / 20) for i in range(40)]
    assert {d.item_id for d in made} <= set(deliveries.item_ids(5))
    assert {d.location_id for d in made} == set(deliveries.location_ids(2))
    assert [d.body for d in _made(40, rate=20, items=5, locations=2)] == [d.body for d in made]


def test_each_level_is_expected_to_hold_its_newest_update_whatever_the_arrival_order():
    # given
    made = _made(200, items=3, locations=2)
    shuffled = made[:]
    random.Random(7).shuffle(shuffled)
    last_per_key = {(d.location_id, d.item_id): d.available for d in made}  # made is in clock order

    # when
    expected = deliveries.expected_levels(shuffled)

    # then
    assert expected == last_per_key
    assert len(expected) == 6


def test_the_delivery_file_has_one_line_per_delivery_as_the_wrk_script_reads_it(tmp_path):
    # given
    made = _made(3)
    path = tmp_path / "deliveries.tsv"

    # when
    written = deliveries.write_delivery_file(made, path)

    # then
    lines = path.read_bytes().splitlines()
    assert written == 3
    assert [line.split(b"\t") for line in lines] == [
        [str(d.index).encode(), d.signature.encode(), d.body] for d in made
    ]


def test_the_event_id_leads_back_to_the_delivery():
    assert deliveries.delivery_index("ev-inv0-1a2b3c4d-1234") == 1234


def test_spread_takes_nearest_rank_percentiles():
    # given
    values = [float(n) for n in range(100, 0, -1)]

    # when
    figures = deliveries.spread(values)

    # then
    assert figures == {"n": 100, "p50": 51.0, "p99": 100.0, "max": 100.0}
    assert deliveries.spread([]) == {"n": 0, "p50": None, "p99": None, "max": None}


def test_cpu_spent_counts_each_group_from_its_first_reading_and_newcomers_from_zero():
    # given
    from bench.webhooks.inventory import _cpu_spent

    before = {"web": {10: 1.0, 11: 2.0}, "postgres": {20: 5.0}}
    after = {"web": {10: 1.5, 11: 2.25}, "postgres": {20: 5.5, 21: 0.75}, "worker": {30: 3.0}}

    # when
    spent = _cpu_spent(before, after)

    # then
    assert spent == {"web": 0.75, "postgres": 1.25, "worker": 3.0}
