"""Collections (custom and smart, their members) and product images in both payload shapes and in
bulk exports (contract §8.7, §8.8)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from shopsync.payloads import read_bulk_jsonl
from shopsync.payloads.catalogue import CollectionProductRecord, parse_collection_rest
from shopsync.payloads.graphql import parse_graphql_node
from shopsync.payloads.records import ProductMediaRecord
from shopsync.payloads.rest import parse_product_rest
from shopsync.resources import Resource, declaration_for

SMART_NODE = {
    "id": "gid://shopify/Collection/41", "legacyResourceId": "41", "title": "Sale picks", "handle": "sale-picks",
    "descriptionHtml": "<p>Cheap</p>", "sortOrder": "BEST_SELLING", "templateSuffix": None,
    "updatedAt": "2025-02-01T10:00:00Z",
    "ruleSet": {"appliedDisjunctively": True,
                "rules": [{"column": "TAG", "relation": "EQUALS", "condition": "sale"}]},
    "image": {"url": "https://cdn.example/c.jpg", "altText": "Sale", "width": 1200, "height": 800},
    "products": {"nodes": [{"id": "gid://shopify/Product/7"}, {"id": "gid://shopify/Product/8"}]},
}  # fmt: skip
SMART_REST = {
    "id": 41, "handle": "sale-picks", "title": "Sale picks", "updated_at": "2025-02-01T05:00:00-05:00",
    "body_html": "<p>Cheap</p>", "published_at": None, "sort_order": "best-selling", "template_suffix": None,
    "published_scope": "web", "disjunctive": True,
    "rules": [{"column": "tag", "relation": "equals", "condition": "sale"}],
    "image": {"src": "https://cdn.example/c.jpg", "alt": "Sale", "width": 1200, "height": 800,
              "created_at": "2025-01-01T00:00:00-05:00"},
}  # fmt: skip
CUSTOM_NODE = {"id": "gid://shopify/Collection/42", "updatedAt": "2025-02-01T10:00:00Z", "title": "Picks",
               "sortOrder": "MANUAL", "ruleSet": None, "products": {"nodes": []}}  # fmt: skip
PRODUCT_NODE = {
    "id": "gid://shopify/Product/7", "updatedAt": "2025-02-01T10:00:00Z", "title": "Mug",
    "media": {"nodes": [
        {"id": "gid://shopify/MediaImage/701", "alt": "Front",
         "image": {"url": "https://cdn.example/701.jpg", "width": 800, "height": 600}},
        {"id": "gid://shopify/Video/702", "alt": None},
    ]},
    "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/71", "image": {"id": "gid://shopify/ProductImage/701"}}]},
}  # fmt: skip
PRODUCT_REST = {
    "id": 7, "updated_at": "2025-02-01T10:00:00Z", "title": "Mug",
    "variants": [{"id": 71, "image_id": 701}],
    "images": [{"id": 701, "position": 1, "src": "https://cdn.example/701.jpg", "alt": "Front", "width": 800,
                "height": 600, "variant_ids": [71]}],
}  # fmt: skip


def test_a_smart_collection_reads_the_same_from_graphql_and_rest_but_for_its_members():
    # when
    graphql = parse_graphql_node(declaration_for("collections"), SMART_NODE)
    rest = parse_collection_rest(orjson.dumps(SMART_REST))
    # then: REST bodies carry no members ("not given": the stored ones stay)
    assert graphql.members == [CollectionProductRecord(7), CollectionProductRecord(8)]
    assert rest.members is None
    rest.members = graphql.members
    assert graphql == rest
    assert (rest.kind, rest.sort_order, rest.disjunctive) == ("smart", "best-selling", True)
    assert rest.rules == [{"column": "tag", "relation": "equals", "condition": "sale"}]
    assert rest.image == {"url": "https://cdn.example/c.jpg", "alt": "Sale", "width": 1200, "height": 800}
    assert rest.shopify_updated_at == datetime(2025, 2, 1, 10, tzinfo=UTC)


def test_a_collection_without_a_rule_set_is_custom():
    # when
    graphql = parse_graphql_node(declaration_for("collections"), CUSTOM_NODE)
    rest = parse_collection_rest({"id": 42, "updated_at": "2025-02-01T10:00:00Z", "sort_order": "manual"})
    # then
    assert (graphql.kind, graphql.rules, graphql.disjunctive, graphql.members) == ("custom", [], None, [])
    assert (rest.kind, rest.rules, rest.disjunctive) == ("custom", [], None)


def test_product_images_and_the_variant_they_show_read_the_same_from_graphql_and_rest():
    # when
    graphql = parse_graphql_node(declaration_for("products"), PRODUCT_NODE)
    rest = parse_product_rest(PRODUCT_REST)
    # then: a video is kept as media without a picture; positions are numbered by the write path
    assert graphql.media == [
        ProductMediaRecord(701, None, "https://cdn.example/701.jpg", "Front", 800, 600),
        ProductMediaRecord(702),
    ]
    assert rest.media == [ProductMediaRecord(701, 1, "https://cdn.example/701.jpg", "Front", 800, 600)]
    assert graphql.variants[0].image_shopify_id == rest.variants[0].image_shopify_id == 701


def test_a_product_body_without_images_keeps_the_stored_ones():
    # when
    record = parse_product_rest({"id": 7, "updated_at": "2025-02-01T10:00:00Z"})
    # then
    assert record.media is None


def test_a_bulk_export_attaches_members_to_their_collection_and_images_to_their_product():
    # given: Shopify's JSONL, a child line after its parent (a member line names only the product)
    collections = [
        orjson.dumps({k: v for k, v in SMART_NODE.items() if k != "products"}),
        b'{"id":"gid://shopify/Product/7","__parentId":"gid://shopify/Collection/41"}',
        b'{"id":"gid://shopify/Product/9","__parentId":"gid://shopify/Collection/41"}',
        orjson.dumps({k: v for k, v in CUSTOM_NODE.items() if k != "products"}),
    ]
    products = [
        orjson.dumps({"id": "gid://shopify/Product/7", "updatedAt": "2025-02-01T10:00:00Z"}),
        b'{"id":"gid://shopify/ProductVariant/71","image":{"id":"gid://shopify/MediaImage/701"},'
        b'"__parentId":"gid://shopify/Product/7"}',
        b'{"id":"gid://shopify/MediaImage/701","alt":"Front","image":{"url":"u","width":1,"height":2},'
        b'"__parentId":"gid://shopify/Product/7"}',
        b'{"id":"gid://shopify/Video/702","__parentId":"gid://shopify/Product/7"}',
    ]
    # when
    [collection_batch] = read_bulk_jsonl(collections, resource=Resource("collections"))
    [product_batch] = read_bulk_jsonl(products, resource=Resource("products"))
    # then
    assert collection_batch.errors == [] and product_batch.errors == []
    assert {r.shopify_id: [m.shopify_id for m in r.members] for r in collection_batch.records} == {
        41: [7, 9],
        42: [],
    }
    [product] = product_batch.records
    assert [(m.shopify_id, m.url) for m in product.media] == [(701, "u"), (702, None)]
    assert product.variants[0].image_shopify_id == 701
