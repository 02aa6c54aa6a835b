"""Both payload shapes into the shared records: canonical values, equality across shapes, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from shopsync.payloads import (
    PayloadValidationError,
    parse_customer_graphql,
    parse_customer_rest,
    parse_order_graphql,
    parse_order_rest,
    parse_product_graphql,
    parse_product_rest,
)
from tests.shopsync.payloads.conftest import ORDER_ID, graphql_line_item, graphql_variant


def test_a_rest_order_is_normalised(rest_order):
    # when
    record = parse_order_rest(rest_order)
    # then
    assert record.shopify_id == ORDER_ID
    assert record.shopify_created_at == datetime(2022, 1, 1, tzinfo=UTC)
    assert record.shopify_updated_at.tzinfo is UTC
    assert record.shopify_updated_at == datetime(2022, 1, 1, 7, 30, tzinfo=UTC)
    assert (record.financial_status, record.fulfillment_status) == ("paid", "unfulfilled")
    assert record.tags == ["wholesale", "vip"]
    assert record.total_price == Decimal("359.97")
    assert (record.order_number, record.customer_shopify_id) == (9999, 115310627314723954)
    assert "country_name" not in record.shipping_address
    assert [(i.shopify_id, i.quantity, i.price, i.variant_shopify_id) for i in record.line_items] == [
        (866550311766439020, 3, Decimal("119.99"), 808950810)
    ]


@pytest.mark.parametrize(
    ("rest", "canonical"),
    [
        (None, "unfulfilled"),
        ("partial", "partially_fulfilled"),
        ("fulfilled", "fulfilled"),
        ("restocked", "restocked"),
    ],
)
def test_rest_fulfillment_status_maps_to_the_graphql_display_status(rest_order, rest, canonical):
    # given
    rest_order["fulfillment_status"] = rest
    # when
    record = parse_order_rest(rest_order)
    # then
    assert record.fulfillment_status == canonical


def test_both_shapes_of_an_order_normalise_to_equal_records(rest_order, graphql_order):
    # when
    from_rest = parse_order_rest(rest_order)
    from_graphql = parse_order_graphql(graphql_order)
    # then
    assert from_graphql == from_rest


def test_both_shapes_of_a_customer_normalise_to_equal_records(rest_customer, graphql_customer):
    # when
    from_rest = parse_customer_rest(rest_customer)
    from_graphql = parse_customer_graphql(graphql_customer)
    # then
    assert from_graphql == from_rest
    assert (from_rest.state, from_rest.orders_count, from_rest.amount_spent) == (
        "enabled",
        3,
        Decimal("375.30"),
    )


def test_both_shapes_of_a_product_normalise_to_equal_records(rest_product, graphql_product):
    # when
    from_rest = parse_product_rest(rest_product)
    from_graphql = parse_product_graphql(graphql_product)
    # then
    assert from_graphql == from_rest
    assert (from_rest.status, from_rest.tags[1]) == ("active", "Flash Memory")


def test_graphql_children_can_come_as_separate_bulk_lines(graphql_order, graphql_product):
    # given
    del graphql_order["lineItems"]
    del graphql_product["variants"]
    item = {**graphql_line_item(), "__parentId": graphql_order["id"]}
    # when
    order = parse_order_graphql(orjson.dumps(graphql_order), line_items=[orjson.dumps(item)])
    product = parse_product_graphql(graphql_product, variants=[graphql_variant()])
    # then
    assert [i.shopify_id for i in order.line_items] == [866550311766439020]
    assert [v.shopify_id for v in product.variants] == [808950810]


def test_the_deprecated_customer_email_field_is_accepted(graphql_customer):
    # given
    del graphql_customer["defaultEmailAddress"]
    graphql_customer["email"] = "old@example.com"
    # when
    record = parse_customer_graphql(graphql_customer)
    # then
    assert record.email == "old@example.com"


def test_an_invalid_rest_order_names_its_id_and_field(rest_order):
    # given
    rest_order["total_price"] = "lots"
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_rest(rest_order)
    # then
    error = caught.value
    assert str(error) == f"order {ORDER_ID}: total_price: Input should be a valid decimal"
    assert (error.resource, error.shopify_id, error.fields) == ("order", ORDER_ID, ("total_price",))


def test_an_invalid_graphql_line_item_names_the_order_and_the_nested_field(graphql_order):
    # given
    graphql_order["lineItems"]["nodes"][0]["quantity"] = "three"
    graphql_order["updatedAt"] = "2022-01-01T07:30:00"  # no offset: ambiguous
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_graphql(graphql_order)
    # then
    assert caught.value.shopify_id == ORDER_ID
    assert caught.value.fields == ("updatedAt", "lineItems.nodes.0.quantity")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "gid://shopify/Product/1"}, "id"),
        ({"customer": {"id": "123"}}, "customer.id"),
        ({"currencyCode": "DOLLARS"}, "currencyCode"),
        ({"totalPriceSet": {"shopMoney": {"amount": "1e30"}}}, "totalPriceSet.shopMoney.amount"),
        ({"totalPriceSet": {"shopMoney": {"amount": "NaN"}}}, "totalPriceSet.shopMoney.amount"),
        ({"number": 2**40}, "number"),
    ],
)
def test_values_the_database_would_reject_fail_validation(graphql_order, change, field):
    # given
    graphql_order.update(change)
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_graphql(graphql_order)
    # then
    assert caught.value.fields == (field,)


def test_a_payload_that_is_not_an_object_is_rejected():
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_customer_rest(["not", "a", "dict"])
    # then
    assert str(caught.value) == "customer: (payload): Input should be an object, got list"


def test_an_unreadable_graphql_line_is_rejected_without_an_id():
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_graphql(b'{"id": "gid://shopify/Order/1", ')
    # then
    assert caught.value.shopify_id is None
    assert caught.value.resource == "order"


def test_an_empty_product_description_is_none_in_both_shapes(rest_product, graphql_product):
    # given: GraphQL's descriptionHtml is HTML! (never null), REST sends null for the same product
    rest_product["body_html"] = None
    graphql_product["descriptionHtml"] = ""
    # when
    from_rest = parse_product_rest(rest_product)
    from_graphql = parse_product_graphql(graphql_product)
    # then
    assert from_rest.body_html is None
    assert from_graphql == from_rest


REST_TEXT = {
    "order": ["name", "email", "phone", "note", "cancel_reason"],
    "line_item": ["sku", "title", "variant_title", "vendor"],
    "customer": ["email", "phone", "first_name", "last_name", "note"],
    "product": ["title", "handle", "vendor", "product_type", "body_html"],
    "variant": ["title", "sku", "barcode"],
    "address": ["company", "address1", "address2", "zip", "phone"],
}
GRAPHQL_TEXT = {
    "order": ["name", "email", "phone", "note", "cancelReason"],
    "line_item": ["sku", "title", "variantTitle", "vendor"],
    "customer": ["firstName", "lastName", "note"],
    "product": ["title", "handle", "vendor", "productType", "descriptionHtml"],
    "variant": ["title", "sku", "barcode"],
    "address": ["company", "address1", "address2", "zip", "phone"],
}


def _set(node: dict, keys: list[str], value) -> None:
    node.update(dict.fromkeys(keys, value))


@pytest.mark.parametrize(("rest_blank", "graphql_blank"), [(None, ""), ("", None), ("", "")])
def test_blank_text_is_none_in_every_field_of_both_shapes(
    rest_order, graphql_order, rest_customer, graphql_customer, rest_product, graphql_product,
    rest_blank, graphql_blank,
):  # fmt: skip
    # given: every free-text field blank, one shape with null and the other with "" (or both "")
    _set(rest_order, REST_TEXT["order"], rest_blank)
    _set(rest_order["line_items"][0], REST_TEXT["line_item"], rest_blank)
    _set(rest_order["shipping_address"], REST_TEXT["address"], rest_blank)
    _set(graphql_order, GRAPHQL_TEXT["order"], graphql_blank)
    _set(graphql_order["lineItems"]["nodes"][0], GRAPHQL_TEXT["line_item"], graphql_blank)
    _set(graphql_order["shippingAddress"], GRAPHQL_TEXT["address"], graphql_blank)
    _set(rest_customer, REST_TEXT["customer"], rest_blank)
    _set(rest_customer["default_address"], REST_TEXT["address"], rest_blank)
    _set(graphql_customer, GRAPHQL_TEXT["customer"], graphql_blank)
    graphql_customer["defaultEmailAddress"]["emailAddress"] = graphql_blank
    graphql_customer["defaultPhoneNumber"]["phoneNumber"] = graphql_blank
    _set(graphql_customer["defaultAddress"], GRAPHQL_TEXT["address"], graphql_blank)
    for address in rest_customer["addresses"]:
        _set(address, REST_TEXT["address"], rest_blank)
    for address in graphql_customer["addressesV2"]["nodes"]:
        _set(address, GRAPHQL_TEXT["address"], graphql_blank)
    _set(rest_product, REST_TEXT["product"], rest_blank)
    _set(rest_product["variants"][0], REST_TEXT["variant"], rest_blank)
    _set(graphql_product, GRAPHQL_TEXT["product"], graphql_blank)
    _set(graphql_product["variants"]["edges"][0]["node"], GRAPHQL_TEXT["variant"], graphql_blank)
    # when
    pairs = [
        (parse_order_rest(rest_order), parse_order_graphql(graphql_order)),
        (parse_customer_rest(rest_customer), parse_customer_graphql(graphql_customer)),
        (parse_product_rest(rest_product), parse_product_graphql(graphql_product)),
    ]
    # then
    for from_rest, from_graphql in pairs:
        assert from_graphql == from_rest
    order, customer, product = (from_rest for from_rest, _ in pairs)
    assert (order.note, order.line_items[0].vendor, order.shipping_address["address2"]) == (None, None, None)
    assert (customer.email, customer.note, customer.default_address["company"]) == (None, None, None)
    assert (product.body_html, product.product_type, product.variants[0].barcode) == (None, None, None)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_rest_payload_without_its_children_gives_them_as_not_given(rest_order, rest_product, as_bytes):
    # given: partial bodies (a subscription's includeFields trims them)
    del rest_order["line_items"]
    del rest_product["variants"]
    # when
    order = parse_order_rest(orjson.dumps(rest_order) if as_bytes else rest_order)
    product = parse_product_rest(orjson.dumps(rest_product) if as_bytes else rest_product)
    # then
    assert (order.line_items, product.variants) == (None, None)


def test_rest_children_given_as_an_empty_list_or_null(rest_order, rest_product):
    # given
    rest_order["line_items"] = []
    rest_product["variants"] = None
    # when
    order = parse_order_rest(rest_order)
    product = parse_product_rest(rest_product)
    # then: an explicit list replaces the stored children; null is read as "not given"
    assert (order.line_items, product.variants) == ([], None)


def test_graphql_nodes_always_carry_their_children(graphql_order, graphql_product):
    # given: a bulk parent line has no children of its own; they come as lines after it
    del graphql_order["lineItems"]
    del graphql_product["variants"]
    # when
    order = parse_order_graphql(orjson.dumps(graphql_order))
    product = parse_product_graphql(graphql_product)
    # then
    assert (order.line_items, product.variants) == ([], [])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), 9.00000000000000011e17),
        (("id",), 820982911946154508.0),
        (("id",), "820982911946154508"),
        (("id",), True),
        (("customer", "id"), 1.5e17),
        (("line_items", 0, "id"), 8.665503117664390e17),
        (("line_items", 0, "variant_id"), 808950810.0),
    ],
)
def test_a_rest_id_that_is_not_a_json_integer_is_refused(rest_order, path, value):
    # given
    target = rest_order
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_rest(rest_order)
    # then
    assert caught.value.fields == (".".join(map(str, path)),)
    assert str(caught.value).endswith(": Input should be a valid integer")


def test_an_integer_id_past_64_bits_is_refused_not_rounded(rest_order):
    # given: the JSON decoder reads an integer past 64 bits as a float
    body = orjson.dumps(rest_order).replace(str(ORDER_ID).encode(), b"18446744073709551616", 1)
    # when
    with pytest.raises(PayloadValidationError) as caught:
        parse_order_rest(body)
    # then
    assert caught.value.fields == ("id",)


def test_an_exact_64_bit_id_is_kept_exactly(rest_order):
    # given
    rest_order["id"] = 9223372036854775807
    # when
    record = parse_order_rest(orjson.dumps(rest_order))
    # then
    assert record.shopify_id == 9223372036854775807


@pytest.mark.parametrize("as_bytes", [False, True])
def test_nul_characters_are_removed_from_every_rest_text(rest_order, as_bytes):
    # given
    rest_order["note"] = "call\u0000 me"
    rest_order["tags"] = "a\u0000b, vip"
    rest_order["shipping_address"]["city"] = "Spring\u0000field"
    rest_order["shipping_address"]["extra\u0000key"] = {"nested": ["x\u0000"]}
    rest_order["line_items"][0]["title"] = "\u0000Widget"
    # when
    record = parse_order_rest(orjson.dumps(rest_order) if as_bytes else rest_order)
    # then
    assert (record.note, record.tags) == ("call me", ["ab", "vip"])
    assert record.shipping_address["city"] == "Springfield"
    assert record.line_items[0].title == "Widget"
    assert (record.shopify_id, record.total_price) == (ORDER_ID, Decimal("359.97"))


@pytest.mark.parametrize("shape", ["dict", "bytes", "str"])
def test_nul_characters_are_removed_from_graphql_nodes(graphql_order, graphql_customer, shape):
    # given
    graphql_order["note"] = "a\u0000b"
    graphql_order["lineItems"]["nodes"][0]["sku"] = "SKU\u0000"
    graphql_customer["defaultAddress"]["city"] = "\u0000Paris"
    encode = {"dict": lambda n: n, "bytes": orjson.dumps, "str": lambda n: orjson.dumps(n).decode()}[shape]
    # when
    order = parse_order_graphql(encode(graphql_order))
    customer = parse_customer_graphql(encode(graphql_customer))
    # then
    assert (order.note, order.line_items[0].sku) == ("ab", "SKU")
    assert customer.default_address["city"] == "Paris"


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(rest_order):
    # given: the JSON text `\\u0000` is a backslash followed by "u0000"
    body = orjson.dumps(rest_order).replace(b'"note":null', b'"note":"C:\\\\u0000"')
    # when
    record = parse_order_rest(body)
    # then
    assert record.note == "C:\\u0000"


def test_a_rest_product_with_100_variants_may_be_cut_so_its_variants_are_not_given():
    # given: REST lists at most 100 of a product's variants
    variants = [{"id": 1000 + n, "title": f"V{n}", "price": "1.00"} for n in range(100)]
    body = {"id": 7, "updated_at": "2025-03-01T12:00:00Z", "title": "Many", "variants": variants}
    # when
    record = parse_product_rest({**body})
    fewer = parse_product_rest({**body, "variants": variants[:99]})
    # then
    assert record.variants is None
    assert [variant.shopify_id for variant in fewer.variants] == [1000 + n for n in range(99)]
