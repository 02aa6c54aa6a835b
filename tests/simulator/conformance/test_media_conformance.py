"""Product media (contract §8.7): `Product.media` / `featuredMedia` / `mediaCount`, a variant's `image`,
REST `images` and `image_id`, and a change to a product's images on every surface, against the truth."""

from __future__ import annotations

import orjson

from tests.simulator.conformance.test_catalogue_conformance import catalogue_shop, control  # noqa: F401

QUERY = """{ products(first: 12) { nodes { legacyResourceId updatedAt mediaCount { count }
  featuredMedia { id }
  media(first: 10) { nodes { id alt mediaContentType ... on MediaImage { image { url width height } } } }
  variants(first: 20) { nodes { legacyResourceId image { id } } } } } }"""


def _graphql_by_product(sim, token: str, domain: str) -> dict[int, dict]:
    data = sim.graphql(QUERY, token=token, shop=domain).json()["data"]
    return {int(node["legacyResourceId"]): node for node in data["products"]["nodes"]}


def _expected_media(rest: dict) -> list[dict]:
    return [
        {"id": f"gid://shopify/MediaImage/{i['id']}", "alt": i["alt"], "mediaContentType": "IMAGE",
         "image": {"url": i["src"], "width": i["width"], "height": i["height"]}}
        for i in sorted(rest["images"], key=lambda image: image["position"])
    ]  # fmt: skip


def test_images_and_the_variants_showing_them_agree_with_the_truth(sim, catalogue_shop):  # noqa: F811
    # given
    domain, token = catalogue_shop(products=12)
    truth = {r["id"]: r["record"] for r in sim.control.truth("products", full=True, shop=domain)["records"]}
    # when
    nodes = _graphql_by_product(sim, token, domain)
    # then: some products have images, some none; a variant's image is one that lists it
    assert any(rest["images"] for rest in truth.values()) and any(
        not rest["images"] for rest in truth.values()
    )
    for product_id, rest in truth.items():
        node = nodes[product_id]
        assert node["media"]["nodes"] == _expected_media(rest)
        assert node["mediaCount"]["count"] == len(rest["images"])
        assert node["featuredMedia"] == ({"id": _expected_media(rest)[0]["id"]} if rest["images"] else None)
        assert [i["position"] for i in rest["images"]] == list(range(1, len(rest["images"]) + 1))
        assert rest["image"] == (rest["images"][0] if rest["images"] else None)
        for variant in rest["variants"]:
            showing = [i["id"] for i in rest["images"] if variant["id"] in i["variant_ids"]]
            assert variant["image_id"] == (showing[0] if showing else None)
            found = next(v for v in node["variants"]["nodes"] if int(v["legacyResourceId"]) == variant["id"])
            assert found["image"] == (
                {"id": f"gid://shopify/ProductImage/{variant['image_id']}"} if variant["image_id"] else None
            )


def test_a_change_to_the_images_bumps_the_product_and_sends_products_update(sim, catalogue_shop, receiver):  # noqa: F811
    # given
    domain, token = catalogue_shop(products=6)
    product = sim.control.truth("products", full=True, shop=domain)["records"][0]["record"]
    sim.control.subscribe(["products/update"], receiver.url, shop=domain)
    variant_id = product["variants"][0]["id"]
    # when: the images replaced by one new image, shown for the first variant
    changed = control(sim, "PATCH", domain, f"products/{product['id']}",
                      {"media": [{"alt": "New look", "variant_ids": [variant_id]}]})  # fmt: skip
    # then
    [delivery] = receiver.wait_for(1)
    body = orjson.loads(delivery["body"])
    assert delivery["headers"]["X-Shopify-Topic"] == "products/update"
    assert [(i["alt"], i["position"], i["variant_ids"]) for i in body["images"]] == [
        ("New look", 1, [variant_id])
    ]
    assert body["variants"][0]["image_id"] == body["images"][0]["id"]
    assert body["updated_at"] != product["updated_at"]
    node = _graphql_by_product(sim, token, domain)[product["id"]]
    assert [m["alt"] for m in node["media"]["nodes"]] == ["New look"]
    assert changed
