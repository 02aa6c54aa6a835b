"""In-process tests of the bulk export internals (the compiled writer and the two-process split)."""

from __future__ import annotations

import random

import orjson
import pytest

from shopify_sim.admin_graphql.context import GraphQLContext
from shopify_sim.bulk import manager
from shopify_sim.bulk.export import Counters, compile_writer, project
from shopify_sim.bulk.manager import BulkOperation
from shopify_sim.options import ShopOptions
from shopify_sim.server import App
from shopify_sim.store import generator
from tests.simulator.conftest import ANCHOR

QUERIES = {
    "orders": """{ orders(sortKey: UPDATED_AT, reverse: true) { edges { node { __typename id name
        createdAt email when: updatedAt totalPriceSet { shopMoney { amount currencyCode } }
        customer { id email } billingAddress { city } lineItems { edges { node { id sku quantity
        originalUnitPriceSet { presentmentMoney { amount } } variant { id } product { id } } } } } } } }""",
    "products": "{ products { edges { node { id title variants { edges { node { id sku price } } } } } } }",
    "customers": """{ customers { edges { node { id displayName amountSpent { amount }
        orders { edges { node { id name lineItems { edges { node { id title } } } } } } } } } }""",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    app = App(tmp_path_factory.mktemp("export"), log=lambda message: None)
    options = ShopOptions(orders=150, customers=30, products=12, seed=8, anchor=ANCHOR, plan="plus")
    yield app.registry.create(options)
    app.close()


def context(shop) -> GraphQLContext:
    return GraphQLContext(shop=shop, version="2026-01", scopes=frozenset(shop.options.scopes), base_url="")


def export_file(shop, query: str, path) -> tuple[bytes, Counters, BulkOperation]:
    ctx = context(shop)
    operation, counters = BulkOperation(1, query), Counters()
    assert shop.bulk.export(operation, shop.bulk.compile(query, ctx), ctx, path, counters) is None
    return path.read_bytes(), counters, operation


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_compiled_writer_matches_the_reference_projection(shop, name):
    # given
    ctx = context(shop)
    plan = shop.bulk.compile(QUERIES[name], ctx).plan
    writer = compile_writer(plan)
    rows = [row[0] for row in shop.store.conn().execute(f"SELECT data FROM {name} ORDER BY id")]
    # when
    written = b"".join(b"".join(writer(orjson.loads(blob), ctx, None)) for blob in rows)
    expected = b""
    for blob in rows:
        record = orjson.loads(blob)
        record["__typename"] = plan.typename
        expected += b"".join(orjson.dumps(line) + b"\n" for line in project(plan, record, ctx, None))
    # then
    assert written == expected
    assert written.count(b"\n") > len(rows)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_export_split_across_a_worker_process_writes_the_same_file(shop, name, tmp_path, monkeypatch):
    # given
    single, single_counters, single_operation = export_file(shop, QUERIES[name], tmp_path / "one.jsonl")
    monkeypatch.setattr(manager, "SPLIT_MIN_ROWS", 7)
    # when
    split, split_counters, split_operation = export_file(shop, QUERIES[name], tmp_path / "two.jsonl")
    # then
    assert (single_operation.processes, split_operation.processes) == (1, 2)
    assert split == single
    assert vars(split_counters) == vars(single_counters)
    assert split_operation.worker_peak_rss_kib > 0
    assert not (tmp_path / "two.part").exists()


def test_export_is_not_split_when_faults_need_row_by_row_control(shop, tmp_path, monkeypatch):
    # given
    monkeypatch.setattr(manager, "SPLIT_MIN_ROWS", 7)
    shop.faults.configure({"shop": shop.domain, "bulk_fail_share": 1.0, "bulk_fail_after_fraction": 0.5})
    ctx = context(shop)
    operation, counters = BulkOperation(2, QUERIES["orders"]), Counters()
    # when
    try:
        failure = shop.bulk.export(
            operation, shop.bulk.compile(QUERIES["orders"], ctx), ctx, tmp_path / "f.jsonl", counters
        )
    finally:
        shop.faults.reset()
    # then
    assert failure == (0.5, "INTERNAL_SERVER_ERROR")
    assert operation.processes == 1 and counters.roots == 75


def test_chunked_creation_times_equal_one_sort(monkeypatch):
    # given
    monkeypatch.setattr(generator, "SORT_CHUNK", 7)
    expected_rng, chunked_rng = random.Random(5), random.Random(5)
    # when
    chunked = list(generator.sorted_creation_times(chunked_rng, 100, 0, 10_000, growth=True))
    # then
    expected = sorted(int(10_000 * expected_rng.random() ** 0.5) for _ in range(100))
    assert chunked == expected
    assert chunked_rng.random() == expected_rng.random()
