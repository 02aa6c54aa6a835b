"""The write-path benchmark's baseline (`bench/writepath/baseline.py`) loads every column the write
path writes, with the values the write path stores: a column a declaration adds without a GraphQL
reading the baseline knows fails here, not in a benchmark run on a quiet machine."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import orjson
import pytest
from django.db import models

from bench.writepath import baseline
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.resources import DECLARATIONS, declaration_for
from shopsync.services.upsert.tables import TABLES


@pytest.mark.parametrize("resource", list(DECLARATIONS))
def test_every_column_the_write_path_writes_has_a_baseline_reading(resource):
    tables = baseline.resource_tables(resource, shop_id=1)
    baseline.compile_tables(tables)  # refuses (SystemExit) a column it cannot read

    parent = TABLES[resource]
    assert {table.name: set(table.record_columns) for table in tables.tables} == {
        parent.table: {column.name for column in parent.columns},
        # The root's children; their own children are list items' parts (a refund's line items),
        # which a bulk line cannot carry: the sync reads them after the export, untimed here.
        **{
            child.table: {column.name for column in child.columns}
            for child, above in parent.flat_children
            if above < 0
        },
    }


def test_a_column_without_a_reading_is_refused_by_name():
    tables = baseline.resource_tables("orders", shop_id=1)
    tables.root.record_columns += ("loyalty_tier",)

    with pytest.raises(SystemExit, match=r"shopsync_order\.loyalty_tier"):
        baseline.compile_tables(tables)


def _same(column: models.Field, copied, stored) -> bool:
    """A value the baseline COPYs (text as it comes) against the record's (typed, normalised)."""
    if stored is None or copied is None:
        return stored is None and copied is None
    if isinstance(column, models.JSONField):
        return orjson.loads(copied.lower()) == orjson.loads(orjson.dumps(stored).decode().lower())
    if isinstance(stored, Decimal):
        return Decimal(str(copied)) == stored
    if isinstance(stored, datetime):
        return datetime.fromisoformat(copied) == stored
    return str(copied).lower() == str(stored).lower()


def _differing(table: baseline.Table, node: dict, record) -> list[str]:
    keys = baseline.selection_keys(_selection(table))
    position = getattr(record, table.numbered_column) if table.numbered_column else None
    row = table.build({**dict.fromkeys(keys), **node}, 1, 1, position)
    values = dict(zip(table.columns, row, strict=True))
    return [
        column
        for column in table.record_columns
        if not _same(table.model._meta.get_field(column), values[column], getattr(record, column))
    ]


def _selection(table: baseline.Table) -> str:
    for declaration in DECLARATIONS.values():
        if declaration.model._meta.db_table == table.name:
            return declaration.graphql_fields
        for child in declaration.all_children():
            if child.model._meta.db_table == table.name:
                return child.graphql_fields
    raise KeyError(table.name)


@pytest.mark.parametrize(
    ("resource", "fixture", "child_connection", "child"),
    [
        ("orders", "graphql_order", "lineItems", "line_items"),
        ("customers", "graphql_customer", "addressesV2", "addresses"),
        ("products", "graphql_product", "variants", "variants"),
    ],
)
def test_the_baseline_copies_what_the_write_path_stores(request, resource, fixture, child_connection, child):
    node = request.getfixturevalue(fixture)
    record = parse_graphql_node(declaration_for(resource), node)
    tables = baseline.resource_tables(resource, shop_id=1)
    baseline.compile_tables(tables)

    assert _differing(tables.root, node, record) == []
    if child:
        connection = node[child_connection]
        child_node = (connection.get("nodes") or [edge["node"] for edge in connection["edges"]])[0]
        child_table = next(table for table in tables.tables if table.graphql_field == child_connection)
        assert _differing(child_table, child_node, getattr(record, child)[0]) == []
