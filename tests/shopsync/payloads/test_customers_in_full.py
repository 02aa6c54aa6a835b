"""A customer's address book and marketing consent in both payload shapes and in a bulk export."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from shopsync.payloads import parse_customer_graphql, parse_customer_rest, read_bulk_jsonl
from shopsync.resources import Resource


def test_both_shapes_give_the_address_book_the_default_and_the_consent(rest_customer, graphql_customer):
    # when
    from_rest = parse_customer_rest(rest_customer)
    from_graphql = parse_customer_graphql(graphql_customer)
    # then
    assert from_graphql == from_rest
    assert [a.shopify_id for a in from_rest.addresses] == [207119551, 207119552]
    assert (from_rest.addresses[1].city, from_rest.addresses[1].country_code) == ("Montréal", "CA")
    assert from_rest.default_address_shopify_id == 207119551
    assert (
        from_rest.email_marketing_state,
        from_rest.email_marketing_opt_in_level,
        from_rest.email_marketing_updated_at,
    ) == ("subscribed", "confirmed_opt_in", datetime(2024, 1, 2, 14, 10, tzinfo=UTC))
    assert (
        from_rest.sms_marketing_state,
        from_rest.sms_marketing_opt_in_level,
        from_rest.sms_marketing_updated_at,
        from_rest.sms_marketing_collected_from,
    ) == ("not_subscribed", "single_opt_in", None, "other")


def test_locale_comes_from_graphql_only(rest_customer, graphql_customer):
    # given
    graphql_customer["locale"] = "en-CA"
    # when
    from_rest = parse_customer_rest(rest_customer)
    from_graphql = parse_customer_graphql(graphql_customer)
    # then: REST has none, which the write path reads as "not given"
    assert (from_graphql.locale, from_rest.locale) == ("en-CA", None)


def test_a_rest_body_with_ten_addresses_may_be_cut_and_leaves_the_set_alone(rest_customer):
    # given: REST lists the 10 most recent addresses
    first = rest_customer["addresses"][0]
    rest_customer["addresses"] = [{**first, "id": 1000 + i} for i in range(10)]
    # when
    record = parse_customer_rest(rest_customer)
    # then
    assert record.addresses is None
    assert record.default_address_shopify_id == 207119551


def test_the_deprecated_consent_objects_are_read_too(graphql_customer):
    # given: an API version's consent on emailMarketingConsent / smsMarketingConsent
    graphql_customer["defaultEmailAddress"] = {"emailAddress": "bob@example.com"}
    graphql_customer["defaultPhoneNumber"] = {"phoneNumber": "+16136120707"}
    graphql_customer["emailMarketingConsent"] = {
        "marketingState": "UNSUBSCRIBED", "marketingOptInLevel": "SINGLE_OPT_IN",
        "consentUpdatedAt": "2024-03-01T00:00:00Z",
    }  # fmt: skip
    graphql_customer["smsMarketingConsent"] = {
        "marketingState": "SUBSCRIBED", "marketingOptInLevel": "UNKNOWN",
        "consentUpdatedAt": "2024-03-02T00:00:00Z", "consentCollectedFrom": "SHOPIFY",
    }  # fmt: skip
    # when
    record = parse_customer_graphql(graphql_customer)
    # then
    assert (record.email_marketing_state, record.email_marketing_updated_at) == (
        "unsubscribed",
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert (
        record.sms_marketing_state,
        record.sms_marketing_opt_in_level,
        record.sms_marketing_collected_from,
    ) == (
        "subscribed",
        "unknown",
        "shopify",
    )


def test_addresses_come_as_child_lines_of_a_bulk_export(graphql_customer):
    # given: addressesV2 is a connection, its nodes lines of their own after the customer
    nodes = graphql_customer.pop("addressesV2")["nodes"]
    parent = graphql_customer["id"]
    lines = [orjson.dumps(graphql_customer) + b"\n"]
    lines += [orjson.dumps({**node, "__parentId": parent}) + b"\n" for node in nodes]
    lines.append(
        orjson.dumps({**graphql_customer, "id": "gid://shopify/Customer/9", "defaultAddress": None}) + b"\n"
    )
    # when
    [batch] = list(read_bulk_jsonl(lines, resource=Resource.CUSTOMERS, batch_size=10))
    # then
    assert batch.errors == []
    assert {r.shopify_id: [a.shopify_id for a in r.addresses] for r in batch.records} == {
        207119551: [207119551, 207119552],
        9: [],
    }
