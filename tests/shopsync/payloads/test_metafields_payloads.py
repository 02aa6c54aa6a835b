"""Metafields in both payload shapes (contract §8.10) and the rule a shop's namespaces follow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopsync.forms import MetafieldNamespacesForm
from shopsync.payloads.errors import PayloadValidationError
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.payloads.metafields import NAMESPACES_MAX, namespaces_clean, parse_metafield_rest
from shopsync.payloads.records import MetafieldRecord
from shopsync.payloads.rest import parse_customer_rest, parse_order_rest
from shopsync.resources import declaration_for
from shopsync.services.sync.graphql_queries import bulk_query, nodes_query, page_query

NODE = {"id": "gid://shopify/Metafield/26000000000001", "namespace": "erp", "key": "external_id",
        "type": "single_line_text_field", "value": "ERP-1", "createdAt": "2026-01-02T03:04:05Z",
        "updatedAt": "2026-01-03T03:04:05Z"}  # fmt: skip
RECORD = MetafieldRecord(
    shopify_id=26000000000001, namespace="erp", key="external_id", type="single_line_text_field", value="ERP-1",
    shopify_created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    shopify_updated_at=datetime(2026, 1, 3, 3, 4, 5, tzinfo=UTC),
)  # fmt: skip


def test_a_graphql_owner_node_carries_its_metafields_first_page():
    # given
    node = {
        "id": "gid://shopify/Customer/5",
        "updatedAt": "2026-01-04T00:00:00Z",
        "metafields": {"nodes": [NODE]},
    }
    # when
    record = parse_graphql_node(declaration_for("customers"), node)
    # then
    assert record.metafields == [RECORD]


def test_a_graphql_node_without_metafields_does_not_give_them():
    # when
    record = parse_graphql_node(
        declaration_for("products"), {"id": "gid://shopify/Product/5", "updatedAt": "2026-01-04T00:00:00Z"}
    )
    # then: None, the stored set stays
    assert record.metafields is None


def test_a_rest_body_with_metafields_gives_them_and_one_without_does_not():
    # given: REST gives the value as text; an old number is kept as Shopify's text
    metafield = {"id": 26000000000001, "namespace": "erp", "key": "external_id", "value": "ERP-1",
                 "type": "single_line_text_field", "created_at": "2026-01-01T22:04:05-05:00",
                 "updated_at": "2026-01-02T22:04:05-05:00", "owner_resource": "order", "owner_id": 1}  # fmt: skip
    number = {**metafield, "id": 2, "key": "points", "value": 25, "type": "number_integer"}
    # when
    with_them = parse_order_rest(
        {"id": 1, "updated_at": "2026-01-04T00:00:00Z", "metafields": [metafield, number]}
    )
    without = parse_customer_rest({"id": 1, "updated_at": "2026-01-04T00:00:00Z"})
    # then
    assert with_them.metafields[0] == RECORD
    assert with_them.metafields[1].value == "25"
    assert without.metafields is None


def test_a_rest_metafield_without_a_namespace_is_a_payload_error():
    with pytest.raises(PayloadValidationError, match="namespace"):
        parse_metafield_rest({"id": 3, "key": "k", "value": "v"})


def test_namespaces_are_stripped_deduplicated_and_sorted():
    assert namespaces_clean([" erp", "custom", "erp ", ""]) == ["custom", "erp"]


@pytest.mark.parametrize("bad", ["bad name", "x", "naïve", "a.b", "n" * 256])
def test_a_namespace_outside_shopifys_rule_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="is not a metafield namespace"):
        namespaces_clean(["erp", bad])


def test_more_namespaces_than_the_limit_are_refused():
    with pytest.raises(ValueError, match=f"at most {NAMESPACES_MAX}"):
        namespaces_clean([f"ns{n}" for n in range(NAMESPACES_MAX + 1)])


def test_the_settings_form_takes_commas_and_lines_and_reports_errors_on_its_field():
    assert MetafieldNamespacesForm({"namespaces": "erp,\ncustom"}).is_valid()
    form = MetafieldNamespacesForm({"namespaces": "erp, bad name"})
    assert not form.is_valid()
    assert form.errors["namespaces"] == [
        "'bad name' is not a metafield namespace: 2 to 255 letters, digits, '-' or '_'"
    ]


def test_queries_select_metafields_only_for_a_shop_with_namespaces_filtered_when_one():
    # then: none by default; `namespace:` for one; every namespace (kept by the write path) for several
    assert "metafields" not in bulk_query("orders", None)
    assert "metafields" not in page_query("customers") + nodes_query("products")
    assert 'metafields(namespace: "erp") { edges' in bulk_query("orders", None, namespaces=("erp",))
    assert 'metafields(first: $childFirst, namespace: "erp")' in page_query("customers", ("erp",))
    assert "metafields(first: $childFirst) {" in nodes_query("products", ("custom", "erp"))
