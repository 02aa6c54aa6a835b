"""The selections in graphql_fields are valid against the simulator's copy of the Admin API schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, extend_schema, parse, validate

from shopsync.payloads import parse_order_graphql
from shopsync.payloads.graphql_fields import (
    CUSTOMER_ADDRESS_FIELDS,
    CUSTOMER_FIELDS,
    LINE_ITEM_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
)

SCHEMA = Path(__file__).resolve().parents[3] / "shopify_sim" / "admin_graphql" / "schema.graphql"
# The simulator's additions on every version (consent on CustomerPhoneNumber, metafields).
SCHEMA_EXTRA = SCHEMA.with_name("schema_extra.graphql")


@pytest.mark.parametrize(
    "query",
    [
        f"{{ orders(first: 5) {{ nodes {{ {ORDER_FIELDS} lineItems(first: 250) {{ nodes {{ {LINE_ITEM_FIELDS} }} }} }} }} }}",
        f"{{ customers(first: 5) {{ nodes {{ {CUSTOMER_FIELDS} addressesV2(first: 5) {{ nodes {{ {CUSTOMER_ADDRESS_FIELDS} }} }} }} }} }}",
        f"{{ products(first: 5) {{ edges {{ node {{ {PRODUCT_FIELDS} variants(first: 250) {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }} }} }} }} }}",
    ],
)
def test_the_parser_selections_are_valid_admin_api_queries(query):
    # given
    schema = extend_schema(build_schema(SCHEMA.read_text()), parse(SCHEMA_EXTRA.read_text()))
    # when
    errors = validate(schema, parse(query))
    # then
    assert errors == []


def test_orders_select_their_number_so_graphql_orders_store_the_order_number(graphql_order):
    # given: a node carrying exactly the selected top-level order fields
    selected = {line.split()[0] for line in ORDER_FIELDS.splitlines()}
    node = {key: value for key, value in graphql_order.items() if key in selected}
    # when
    record = parse_order_graphql(node)
    # then
    assert "number" in selected
    assert record.order_number == 9999
