"""The streaming bulk JSONL reader: batching, children, late children, bad lines, resuming."""

from __future__ import annotations

import orjson

from shopsync.payloads import read_bulk_jsonl
from shopsync.resources import Resource


def _order(order_id: int) -> bytes:
    return orjson.dumps({"id": f"gid://shopify/Order/{order_id}", "updatedAt": "2024-01-01T00:00:00Z"})


def _item(item_id: int, order_id: int, **extra) -> bytes:
    node = {
        "id": f"gid://shopify/LineItem/{item_id}",
        "quantity": 1,
        "__parentId": f"gid://shopify/Order/{order_id}",
    }
    return orjson.dumps({**node, **extra})


def _lines(*parts: bytes) -> list[bytes]:
    return [part + b"\n" for part in parts]


def _items_by_order(batches) -> dict[int, list[int]]:
    return {r.shopify_id: [i.shopify_id for i in r.line_items] for b in batches for r in b.records}


def test_children_are_attached_to_their_parents_in_batches():
    # given
    lines = _lines(_order(1), _item(11, 1), _item(12, 1), _order(2), _item(21, 2), _order(3))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=2))
    # then
    assert [[r.shopify_id for r in b.records] for b in batches] == [[1, 2], [3]]
    assert [b.resume_line for b in batches] == [6, 7]
    assert _items_by_order(batches) == {1: [11, 12], 2: [21], 3: []}


def test_a_late_child_re_yields_its_parent_with_all_its_children():
    # given: 12 belongs to order 1 but arrives after order 1 was yielded
    lines = _lines(_order(1), _item(11, 1), _order(2), _order(3), _item(12, 1))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=1))
    # then
    assert [[r.shopify_id for r in b.records] for b in batches] == [[1], [2], [3, 1]]
    assert [i.shopify_id for i in batches[-1].records[1].line_items] == [11, 12]


def test_bad_lines_are_reported_and_reading_continues():
    # given
    reported = []
    lines = _lines(
        _order(1),
        b'{"id": "gid://shopify/Order/2", "updatedAt": ',  # truncated
        _order(3),
        _item(31, 3, quantity="many"),  # invalid child: its parent must not be written without it
        _item(32, 3),
        _item(99, 42),  # parent never seen
        _order(4),
    )
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=10, on_error=reported.append))
    # then
    assert [r.shopify_id for b in batches for r in b.records] == [1, 4]
    errors = [e for b in batches for e in b.errors]
    assert errors == reported
    assert [(e.line_number, e.shopify_id) for e in errors] == [(2, None), (4, 3), (6, 42)]
    assert "quantity" in errors[1].message
    assert errors[1].raw_line == lines[3]


def test_reading_resumes_from_a_checkpointed_line():
    # given
    lines = _lines(_order(1), _item(11, 1), _order(2), _item(21, 2), _order(3), _item(31, 3))
    first = next(iter(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=1)))
    # when
    resumed = list(
        read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=1, start_line=first.resume_line)
    )
    # then
    assert [r.shopify_id for r in first.records] == [1]
    assert _items_by_order(resumed) == {2: [21], 3: [31]}
    assert resumed[-1].resume_line == len(lines) + 1


def test_products_get_their_variants_and_customers_have_no_children():
    # given
    product = orjson.dumps({"id": "gid://shopify/Product/5", "updatedAt": "2024-01-01T00:00:00Z"})
    variant = orjson.dumps({"id": "gid://shopify/ProductVariant/51", "__parentId": "gid://shopify/Product/5"})
    customer = orjson.dumps({"id": "gid://shopify/Customer/7", "updatedAt": "2024-01-01T00:00:00Z"})
    # when
    products = list(read_bulk_jsonl(_lines(product, variant), resource=Resource.PRODUCTS))
    customers = list(read_bulk_jsonl(_lines(b"", customer, b"   "), resource=Resource.CUSTOMERS))
    # then
    assert [v.shopify_id for v in products[0].records[0].variants] == [51]
    assert [c.shopify_id for c in customers[0].records] == [7]
    assert customers[0].errors == []


def test_memory_stays_bounded_children_beyond_the_window_are_orphans():
    # given
    lines = _lines(_order(1), _order(2), _order(3), _order(4), _item(11, 1))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=1, late_window=2))
    # then
    errors = [e for b in batches for e in b.errors]
    assert [(e.line_number, e.shopify_id) for e in errors] == [(5, 1)]
    assert "not in reach" in errors[0].message


def test_an_invalid_root_without_an_id_is_one_error_that_names_its_children():
    # given: the second order lost its id; its line items still name it as their parent
    reported = []
    broken = orjson.dumps({"updatedAt": "2024-01-01T00:00:00Z", "name": "#1002"})
    lines = _lines(_order(1), _item(11, 1), broken, _item(21, 2), _item(22, 2), _order(3), _item(31, 3))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=10, on_error=reported.append))
    # then
    assert _items_by_order(batches) == {1: [11], 3: [31]}
    errors = [e for b in batches for e in b.errors]
    assert errors == reported
    assert [(e.line_number, e.shopify_id, e.is_child, e.child_ids) for e in errors] == [
        (3, None, False, (21, 22))
    ]
    assert errors[0].message == (
        "order: id: Field required; its line item or metafield lines were dropped with it: 21, 22 (they name parent 2)"
    )


def test_an_invalid_root_with_an_id_names_its_dropped_children_and_nothing_else():
    # given: a readable id (legacyResourceId) but a bad amount; one of its children is invalid too
    broken = orjson.dumps(
        {
            "legacyResourceId": "2",
            "updatedAt": "2024-01-01T00:00:00Z",
            "totalPriceSet": {"shopMoney": {"amount": "12.3O"}},
        }
    )
    lines = _lines(_order(1), broken, _item(21, 2), _item(22, 2, quantity="x"), _order(3))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=1))
    # then
    assert [r.shopify_id for b in batches for r in b.records] == [1, 3]
    errors = [e for b in batches for e in b.errors]
    assert [(e.line_number, e.shopify_id, e.is_child, e.child_ids) for e in errors] == [
        (2, 2, False, (21, 22))
    ]


def test_a_child_error_is_marked_as_a_child_and_carries_its_parent_not_its_own_id():
    # given: an invalid child of a good order, and an orphan naming an order the export never had
    lines = _lines(_order(1), _item(11, 1, quantity="x"), _order(2), _item(21, 2), _item(99, 500))
    # when
    batches = list(read_bulk_jsonl(lines, resource=Resource.ORDERS, batch_size=10))
    # then
    records = [r.shopify_id for b in batches for r in b.records]
    errors = [e for b in batches for e in b.errors]
    assert records == [2]
    assert [(e.line_number, e.shopify_id, e.is_child, e.child_id) for e in errors] == [
        (2, 1, True, 11),
        (5, 500, True, 99),
    ]
    assert errors[0].message == (
        "line item 11 of order 1: quantity: Input should be a valid integer, unable to parse string as an integer"
    )
    # a safe resume point reads records and root errors only: the orphan's parent id says nothing
    root_ids = records + [e.shopify_id for e in errors if not e.is_child and e.shopify_id is not None]
    assert max(root_ids) == 2


def test_nul_characters_are_removed_from_bulk_lines_and_the_records_kept():
    # given
    parent = orjson.dumps(
        {
            "id": "gid://shopify/Order/1",
            "updatedAt": "2024-01-01T00:00:00Z",
            "note": "x\u0000y",
            "tags": ["\u0000t"],
        }
    )
    lines = _lines(parent, _item(11, 1, title="Wid\u0000get"), _order(2), _item(21, 2))
    # when
    [batch] = list(read_bulk_jsonl(lines, resource=Resource.ORDERS))
    # then
    assert batch.errors == []
    first, _ = batch.records
    assert (first.note, first.tags, first.line_items[0].title) == ("xy", ["t"], "Widget")
    assert _items_by_order([batch]) == {1: [11], 2: [21]}


def test_a_broken_line_with_a_nul_escape_is_reported_like_any_other():
    # given
    lines = _lines(b'{"id": "gid://shopify/Order/1", "note": "\\u0000', _order(2))
    # when
    [batch] = list(read_bulk_jsonl(lines, resource=Resource.ORDERS))
    # then
    assert [r.shopify_id for r in batch.records] == [2]
    assert [(e.line_number, e.is_child) for e in batch.errors] == [(1, False)]
