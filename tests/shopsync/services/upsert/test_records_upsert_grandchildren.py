"""Children of children (a refund's line items will need them): the write path replaces, keeps and
merges them generically, under the winning parents only. Exercised with a test-only table of
parts under line items, created inside the test's transaction."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from django.db import connection, models

from shopsync.models import LineItem
from shopsync.payloads.records import LineItemRecord
from shopsync.resources import Resource
from shopsync.services.upsert import UpsertResult, encoded_batch_upsert, records_encode, records_upsert
from shopsync.services.upsert.tables import TABLES, ChildTable, Column


class LinePart(models.Model):
    shop = models.ForeignKey("shopsync.Shop", on_delete=models.CASCADE, related_name="+", db_index=False)
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="+")
    shopify_id = models.BigIntegerField()
    label = models.CharField(max_length=32, null=True)  # noqa: DJ001 - the write path's None, as on record models

    class Meta:
        app_label = "upsert_tests"  # not an installed app: no migration, no table outside these tests
        db_table = "upsert_tests_linepart"
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="upsert_tests_linepart_unique")
        ]

    def __str__(self) -> str:
        return f"Part {self.shopify_id}"


@dataclasses.dataclass(slots=True)
class PartRecord:
    shopify_id: int
    label: str | None = None


@dataclasses.dataclass(slots=True)
class LineWithParts(LineItemRecord):
    parts: list[PartRecord] | None = None


@pytest.fixture
def parts_declared(db, monkeypatch):
    with connection.schema_editor() as editor:
        editor.create_model(LinePart)
    orders = TABLES[Resource.ORDERS]
    parts = ChildTable(LinePart, tuple(Column(name, LinePart._meta.get_field(name)) for name in ("shopify_id", "label")),
                       "line_item_id", "parts")  # fmt: skip
    line_items = dataclasses.replace(orders.children[0], children=(parts,))
    monkeypatch.setitem(
        TABLES, Resource.ORDERS, dataclasses.replace(orders, children=(line_items, *orders.children[1:]))
    )


def _line(shopify_id: int, parts: dict[int, str] | None) -> LineWithParts:
    listed = None if parts is None else [PartRecord(part_id, label) for part_id, label in parts.items()]
    return LineWithParts(shopify_id=shopify_id, quantity=1, parts=listed)


def _parts(shop) -> list[tuple]:
    rows = (
        LinePart.objects.filter(shop=shop)
        .order_by("shopify_id")
        .values_list("line_item_id", "shopify_id", "label")
    )
    lines = dict(LineItem.objects.filter(shop=shop).values_list("id", "shopify_id"))
    return [(lines[line_id], part_id, label) for line_id, part_id, label in rows]


@pytest.mark.parametrize("encoded", [False, True], ids=["records", "encoded"])
def test_children_of_children_follow_the_winning_parent_and_survive_when_not_given(
    shop, make_order, parts_declared, encoded
):
    def write(version, lines):
        records = [make_order(1, version=version, line_items=lines)]
        if encoded:
            return encoded_batch_upsert(shop=shop, batch=pickle.loads(pickle.dumps(
                records_encode(resource=Resource.ORDERS, records=records))))  # fmt: skip
        return records_upsert(shop=shop, resource=Resource.ORDERS, records=records)

    # given
    write(1, [_line(11, {101: "a", 102: "b"}), _line(12, {})])
    # when: a newer version moves part 101 away and relabels 102; line 12 gains 121
    newer = write(2, [_line(11, {102: "b2"}), _line(12, {121: "c"})])
    after_newer = _parts(shop)
    # ... an older version arrives late
    older = write(0, [_line(11, {101: "a"}), _line(12, {})])
    # ... the same version again, line 11 without its parts (not given), line 12 with a new one
    same = write(2, [_line(11, None), _line(12, {122: "d"})])
    # then
    assert after_newer == [(11, 102, "b2"), (12, 121, "c")]
    assert (newer, older) == (UpsertResult(updated=1), UpsertResult(skipped_stale=1))
    assert same == UpsertResult(updated=1)  # only a grandchild changed: the order is touched
    assert _parts(shop) == [(11, 102, "b2"), (12, 122, "d")]
