"""The common fields of the 2025-10+ schema (contract §6, §8): each newly served field in the contract's
shape, REST and GraphQL agreeing with the truth endpoint where both carry it, the new root queries,
and Shopify's empty connections for the types the store does not model."""

from __future__ import annotations

from decimal import Decimal

import orjson
import requests

from tests.simulator.conformance.conftest import truth
from tests.simulator.test_bulk import start, wait

EMPTY_PAGE = {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
BAG = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
ORDERS = f"""query($after: String) {{ orders(first: 2, after: $after) {{
  nodes {{ legacyResourceId confirmationNumber statusPageUrl
    taxLines {{ title rate ratePercentage priceSet {{ {BAG} }} channelLiable }}
    currentTotalPriceSet {{ {BAG} }} currentSubtotalPriceSet {{ {BAG} }} currentTotalTaxSet {{ {BAG} }}
    currentTotalDiscountsSet {{ {BAG} }} totalOutstandingSet {{ {BAG} }} totalTipReceivedSet {{ {BAG} }}
    discountApplications(first: 15) {{ nodes {{ __typename index allocationMethod targetSelection targetType
      value {{ ... on PricingPercentageValue {{ percentage }} }} ... on ManualDiscountApplication {{ title }} ... on DiscountCodeApplication {{ title: code }} }} }}
    shippingLines(first: 5) {{ nodes {{ id title code originalPriceSet {{ {BAG} }} }} }}
    lineItems(first: 15) {{ pageInfo {{ hasNextPage }} nodes {{ legacyId: id taxLines {{ rate priceSet {{ {BAG} }} }}
      discountAllocations {{ allocatedAmountSet {{ {BAG} }} discountApplication {{ index }} }} }} }}
    billingAddress {{ countryCode countryCodeV2 formatted formattedArea }}
    fulfillments {{ id }} refunds {{ id }} fulfillmentOrders(first: 5) {{ nodes {{ id }} }} }}
  pageInfo {{ hasNextPage endCursor }} }} }}"""


def graphql_all(sim, shop, query, field, variables=None):
    nodes, after = [], None
    while True:
        body = sim.graphql(
            query, {**(variables or {}), "after": after}, token=shop.token, shop=shop.domain
        ).json()
        assert "errors" not in body, body
        connection = body["data"][field]
        nodes.extend(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


def rest_bag(bag):
    """REST `*_set` -> GraphQL MoneyBag."""
    return {
        "shopMoney": {
            "amount": bag["shop_money"]["amount"],
            "currencyCode": bag["shop_money"]["currency_code"],
        },
        "presentmentMoney": {
            "amount": bag["presentment_money"]["amount"],
            "currencyCode": bag["presentment_money"]["currency_code"],
        },
    }


def test_order_fields_agree_between_rest_graphql_and_truth(sim, shop):
    # given
    expected = {r["id"]: r["record"] for r in truth(sim, shop, "orders", full=True)["records"]}
    # when
    nodes = graphql_all(sim, shop, ORDERS, "orders")
    # then
    assert {int(n["legacyResourceId"]) for n in nodes} == set(expected)
    discounted_somewhere = taxed_somewhere = False
    for node in nodes:
        rest = expected[int(node["legacyResourceId"])]
        assert (
            node["confirmationNumber"] == rest["confirmation_number"]
            and len(rest["confirmation_number"]) == 9
        )
        assert node["statusPageUrl"] == rest["order_status_url"]
        assert f"/orders/{rest['token']}/authenticate?key=" in rest["order_status_url"]
        assert node["taxLines"] == [
            {
                "title": t["title"],
                "rate": t["rate"],
                "ratePercentage": round(t["rate"] * 100, 4),
                "priceSet": rest_bag(t["price_set"]),
                "channelLiable": t["channel_liable"],
            }
            for t in rest["tax_lines"]
        ]
        for name in ("total_price", "subtotal_price", "total_tax", "total_discounts"):
            camel = "current" + "".join(p.title() for p in name.split("_")) + "Set"
            assert node[camel] == rest_bag(rest[f"current_{name}_set"]), camel
            if not rest["refunds"]:  # refunded units and shipping lower the current totals
                assert rest[f"current_{name}"] == rest[name]
        assert node["totalOutstandingSet"]["shopMoney"]["amount"] == rest["total_outstanding"]
        assert node["totalTipReceivedSet"]["shopMoney"]["amount"] == rest["total_tip_received"] == "0.00"
        applications = node["discountApplications"]["nodes"]
        assert [
            {
                "value": {"percentage": float(a["value"])},
                "title": a.get("title", a.get("code")),
                "targetType": "LINE_ITEM",
            }
            for a in rest["discount_applications"]
        ] == [{"value": a["value"], "title": a["title"], "targetType": a["targetType"]} for a in applications]
        assert [a["index"] for a in applications] == list(range(len(applications)))
        assert [
            (s["id"].rsplit("/", 1)[1], s["title"], s["code"]) for s in node["shippingLines"]["nodes"]
        ] == [(str(s["id"]), s["title"], s["code"]) for s in rest["shipping_lines"]]
        assert node["lineItems"]["pageInfo"]["hasNextPage"] is False
        line_tax = Decimal(0)
        for line, rest_line in zip(node["lineItems"]["nodes"], rest["line_items"], strict=True):
            assert line["legacyId"] == rest_line["admin_graphql_api_id"]
            assert [rest_bag(t["price_set"]) for t in rest_line["tax_lines"]] == [
                t["priceSet"] for t in line["taxLines"]
            ]
            line_tax += sum(Decimal(t["price"]) for t in rest_line["tax_lines"])
            assert [
                (rest_bag(a["amount_set"]), a["discount_application_index"])
                for a in rest_line["discount_allocations"]
            ] == [
                (a["allocatedAmountSet"], a["discountApplication"]["index"])
                for a in line["discountAllocations"]
            ]
            discounted_somewhere |= bool(rest_line["discount_allocations"])
        if rest["tax_lines"]:
            taxed_somewhere = True
            assert line_tax == Decimal(rest["total_tax"])  # the lines' shares sum to the order's tax
        if rest["billing_address"]:
            assert node["billingAddress"]["countryCode"] == rest["billing_address"]["country_code"]
            assert rest["billing_address"]["address1"] in node["billingAddress"]["formatted"]
        assert [f["id"] for f in node["fulfillments"]] == [
            f["admin_graphql_api_id"] for f in rest["fulfillments"]
        ]
        assert [r["id"] for r in node["refunds"]] == [r["admin_graphql_api_id"] for r in rest["refunds"]]
        assert node["fulfillmentOrders"]["nodes"] == []
    assert discounted_somewhere and taxed_somewhere  # the store exercises both


def test_rest_order_carries_the_contract_shape_and_the_new_keys(sim, shop):
    # given
    record = next(
        r["record"] for r in truth(sim, shop, "orders", full=True)["records"] if r["record"]["tax_lines"]
    )
    # then: contract §6.1 / §8.5 types (money strings, tax rate a number)
    tax = record["tax_lines"][0]
    assert isinstance(tax["rate"], float) and isinstance(tax["price"], str) and tax["channel_liable"] is False
    for name in ("current_total_price_set", "current_subtotal_price_set", "current_total_tax_set"):
        assert isinstance(record[name]["shop_money"]["amount"], str)
    assert len(record["token"]) == 32 and int(record["token"], 16) >= 0
    assert record["order_status_url"].startswith(f"https://{shop.domain}/")
    # Shopify's null/empty forms for what the store does not model
    for name in (
        "client_details",
        "browser_ip",
        "cart_token",
        "checkout_token",
        "payment_terms",
        "po_number",
    ):
        assert record[name] is None, name
    assert record["customer_locale"] == "en" and record["total_tip_received"] == "0.00"
    for line in record["shipping_lines"]:
        assert line["discounted_price_set"] == line["price_set"] and line["is_removed"] is False


PRODUCTS = """query($after: String) { products(first: 5, after: $after) { nodes { legacyResourceId bodyHtml
  templateSuffix tracksInventory hasOnlyDefaultVariant isGiftCard onlineStoreUrl totalVariants
  seo { title description } featuredMedia { id } mediaCount { count precision } media(first: 3) { nodes { id } }
  collections(first: 3) { nodes { id } } priceRangeV2 { minVariantPrice { amount currencyCode }
  maxVariantPrice { amount currencyCode } }
  variants(first: 20) { nodes { legacyResourceId inventoryPolicy
    inventoryItem { legacyResourceId tracked requiresShipping measurement { weight { value unit } } } } } }
  pageInfo { hasNextPage endCursor } } }"""


def test_product_fields_agree_with_truth(sim, shop):
    # given
    expected = {r["id"]: r["record"] for r in truth(sim, shop, "products", full=True)["records"]}
    memberships = sim.control.call("GET", f"/shops/{shop.domain}/truth/collects")["memberships"]
    # when
    nodes = graphql_all(sim, shop, PRODUCTS, "products")
    # then
    assert {int(n["legacyResourceId"]) for n in nodes} == set(expected)
    for node in nodes:
        rest = expected[int(node["legacyResourceId"])]
        prices = [Decimal(v["price"]) for v in rest["variants"]]
        assert node["bodyHtml"] == rest["body_html"] and node["templateSuffix"] == rest["template_suffix"]
        assert node["tracksInventory"] == any(
            v["inventory_management"] == "shopify" for v in rest["variants"]
        )
        assert node["hasOnlyDefaultVariant"] == ([v["title"] for v in rest["variants"]] == ["Default Title"])
        assert Decimal(node["priceRangeV2"]["minVariantPrice"]["amount"]) == min(prices)
        assert Decimal(node["priceRangeV2"]["maxVariantPrice"]["amount"]) == max(prices)
        assert node["totalVariants"] == len(rest["variants"])
        assert node["isGiftCard"] is False and node["seo"] == {"title": None, "description": None}
        images = [f"gid://shopify/MediaImage/{image['id']}" for image in rest["images"]]
        assert node["featuredMedia"] == ({"id": images[0]} if images else None)
        assert node["mediaCount"] == {"count": len(images), "precision": "EXACT"}
        assert [m["id"] for m in node["media"]["nodes"]] == images[:3]
        in_collections = sorted(
            m["collection_id"] for m in memberships if int(node["legacyResourceId"]) in m["product_ids"]
        )
        assert [int(c["id"].rsplit("/", 1)[1]) for c in node["collections"]["nodes"]] == in_collections[:3]
        assert (node["onlineStoreUrl"] is not None) == (
            rest["status"] == "active" and rest["published_at"] is not None
        )
        for variant, rest_variant in zip(node["variants"]["nodes"], rest["variants"], strict=True):
            assert variant["inventoryPolicy"] == rest_variant["inventory_policy"].upper()
            item = variant["inventoryItem"]
            assert item["legacyResourceId"] == str(rest_variant["inventory_item_id"])
            assert item["tracked"] == (rest_variant["inventory_management"] == "shopify")
            assert item["requiresShipping"] == rest_variant["requires_shipping"]
            assert item["measurement"]["weight"] == {"value": float(rest_variant["grams"]), "unit": "GRAMS"}


VARIANTS = """query($after: String, $q: String) { productVariants(first: 7, after: $after, query: $q) {
  nodes { legacyResourceId sku updatedAt product { legacyResourceId } } pageInfo { hasNextPage endCursor } } }"""


def test_product_variants_pages_every_variant_and_filters_like_products(sim, shop):
    # given
    products = [r["record"] for r in truth(sim, shop, "products", full=True)["records"]]
    variants = {v["id"]: (p["id"], v["sku"]) for p in products for v in p["variants"]}
    chosen = products[0]
    with_sku = next(v for p in products for v in p["variants"] if v["sku"])
    # when
    every = graphql_all(sim, shop, VARIANTS, "productVariants")
    of_one = graphql_all(sim, shop, VARIANTS, "productVariants", {"q": f"product_id:{chosen['id']}"})
    by_sku = graphql_all(sim, shop, VARIANTS, "productVariants", {"q": f"sku:{with_sku['sku']}"})
    later = graphql_all(sim, shop, VARIANTS, "productVariants", {"q": "updated_at:>'2100-01-01T00:00:00Z'"})
    count = sim.graphql(
        "{ productVariantsCount { count precision } }", token=shop.token, shop=shop.domain
    ).json()
    # then
    assert {
        int(n["legacyResourceId"]): (int(n["product"]["legacyResourceId"]), n["sku"]) for n in every
    } == variants
    assert [int(n["legacyResourceId"]) for n in every] == sorted(variants)
    assert [int(n["legacyResourceId"]) for n in of_one] == sorted(v["id"] for v in chosen["variants"])
    assert [int(n["legacyResourceId"]) for n in by_sku] == [with_sku["id"]]
    assert later == []
    assert count["data"]["productVariantsCount"] == {"count": len(variants), "precision": "EXACT"}


def test_inventory_items_mirror_the_variants(sim, shop):
    # given
    products = [r["record"] for r in truth(sim, shop, "products", full=True)["records"]]
    items = {v["inventory_item_id"]: v["id"] for p in products for v in p["variants"]}
    query = """query($after: String) { inventoryItems(first: 9, after: $after) {
      nodes { legacyResourceId sku variant { legacyResourceId } inventoryLevels(first: 3) { nodes { id } } }
      pageInfo { hasNextPage endCursor } } }"""
    # when
    nodes = graphql_all(sim, shop, query, "inventoryItems")
    one = sim.graphql(
        "query($id: ID!) { inventoryItem(id: $id) { legacyResourceId } }",
        {"id": f"gid://shopify/InventoryItem/{next(iter(items))}"},
        token=shop.token,
        shop=shop.domain,
    ).json()
    # then
    assert {int(n["legacyResourceId"]): int(n["variant"]["legacyResourceId"]) for n in nodes} == items
    levels = sim.control.call("GET", f"/shops/{shop.domain}/truth/inventory_levels")["levels"]
    stocked = {}
    for level in levels:
        stocked[level["inventory_item_id"]] = stocked.get(level["inventory_item_id"], 0) + 1
    assert {int(n["legacyResourceId"]): len(n["inventoryLevels"]["nodes"]) for n in nodes} == stocked
    assert one["data"]["inventoryItem"] == {"legacyResourceId": str(next(iter(items)))}


UNMODELLED = {
    "fulfillmentOrders": "read_merchant_managed_fulfillment_orders",
    "draftOrders": "read_draft_orders",
    "codeDiscountNodes": "read_discounts",
}


def test_unmodelled_roots_answer_shopifys_empty_connection_with_its_cost(sim, shop):
    # given
    token = sim.control.mint_token(shop=shop.domain, scopes=list(UNMODELLED.values()))["access_token"]
    for field in UNMODELLED:
        # when
        body = sim.graphql(
            f"{{ {field}(first: 10) {{ nodes {{ id }} edges {{ cursor node {{ id }} }} "
            "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
            token=token,
            shop=shop.domain,
        ).json()
        # then: 2 + first x 1 requested, 2 charged (nothing came back)
        assert body["data"] == {field: {"nodes": [], "edges": [], "pageInfo": EMPTY_PAGE}}, field
        cost = body["extensions"]["cost"]
        assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (12, 2), field


def test_unmodelled_roots_need_shopifys_scopes(sim, shop):
    # given: a token with orders only
    token = sim.control.mint_token(shop=shop.domain, scopes=["read_orders"])["access_token"]
    for field, scope in UNMODELLED.items():
        # when
        body = sim.graphql(
            f"{{ {field}(first: 1) {{ nodes {{ id }} }} }}", token=token, shop=shop.domain
        ).json()
        # then
        error = body["errors"][0]
        assert error["extensions"]["code"] == "ACCESS_DENIED" and f"`{scope}`" in error["message"], field
        assert body["data"] is None


def test_a_field_the_simulator_does_not_serve_fails_validation_as_on_shopify(sim, shop):
    # when: Order.risks and Product.images exist on Shopify but are not served here
    body = sim.graphql(
        "{ orders(first: 1) { nodes { risks { level } } } products(first: 1) { nodes { images(first: 1) { nodes { id } } } } }",
        token=shop.token,
        shop=shop.domain,
    ).json()
    # then
    assert "data" not in body
    assert [(e["extensions"]["code"], e["extensions"]["fieldName"]) for e in body["errors"]] == [
        ("undefinedField", "risks"),
        ("undefinedField", "images"),
    ]


def test_customer_fields_agree_with_truth(sim, shop):
    # given
    expected = {r["id"]: r["record"] for r in truth(sim, shop, "customers", full=True)["records"]}
    query = """query($after: String) { customers(first: 10, after: $after) { nodes { legacyResourceId locale
      lifetimeDuration taxExemptions multipassIdentifier canDelete numberOfOrders
      emailMarketingConsent { marketingState marketingOptInLevel }
      defaultEmailAddress { emailAddress marketingState }
      defaultAddress { countryCode countryCodeV2 }
      addressesV2(first: 10) { nodes { id countryCode } } } pageInfo { hasNextPage endCursor } } }"""
    # when
    nodes = graphql_all(sim, shop, query, "customers")
    # then
    assert {int(n["legacyResourceId"]) for n in nodes} == set(expected)
    for node in nodes:
        rest = expected[int(node["legacyResourceId"])]
        assert (
            node["locale"] in {"en", "en-CA", "fr", "de", "es"}
            and node["lifetimeDuration"]
            and node["taxExemptions"] == rest["tax_exemptions"]
        )
        assert node["canDelete"] == (rest["orders_count"] == 0)
        consent = rest["email_marketing_consent"]
        if consent is None:
            assert node["emailMarketingConsent"] is None and node["defaultEmailAddress"] is None
        else:
            assert node["emailMarketingConsent"]["marketingState"] == consent["state"].upper()
            assert node["defaultEmailAddress"] == {
                "emailAddress": rest["email"],
                "marketingState": consent["state"].upper(),
            }
        assert [a["id"].split("/")[-1].split("?")[0] for a in node["addressesV2"]["nodes"]] == [
            str(a["id"]) for a in rest["addresses"]
        ]
        assert [a["countryCode"] for a in node["addressesV2"]["nodes"]] == [
            a["country_code"] for a in rest["addresses"]
        ]
        if rest["default_address"]:
            assert node["defaultAddress"]["countryCode"] == rest["default_address"]["country_code"]


def test_shop_features_and_domain_in_shopifys_types(sim, shop):
    # when
    body = sim.graphql(
        """{ shop { url primaryDomain { host url sslEnabled } currencyFormats { moneyFormat }
        enabledPresentmentCurrencies weightUnit features { giftCards storefront sellsSubscriptions branding
        bundles { eligibleForBundles } cartTransform { eligibleOperations { expandOperation } }
        paypalExpressSubscriptionGatewayStatus } } }""",
        token=shop.token,
        shop=shop.domain,
    ).json()
    # then
    data = body["data"]["shop"]
    assert data["url"] == f"https://{shop.domain}" and data["primaryDomain"]["host"] == shop.domain
    assert data["currencyFormats"]["moneyFormat"] == "${{amount}}"
    features = data["features"]
    assert (
        features["giftCards"] is True
        and features["storefront"] is True
        and features["sellsSubscriptions"] is False
    )
    assert features["branding"] == "SHOPIFY_PLUS"  # the conformance shop is on plus
    assert features["cartTransform"] == {"eligibleOperations": {"expandOperation": True}}
    assert features["paypalExpressSubscriptionGatewayStatus"] == "DISABLED"


def test_bulk_exports_the_new_fields_and_the_media(sim, shop):
    # given
    expected = {r["id"]: r["record"] for r in truth(sim, shop, "products", full=True)["records"]}
    query = """{ products { edges { node { id hasOnlyDefaultVariant priceRangeV2 { minVariantPrice { amount } }
      media { edges { node { id } } }
      variants { edges { node { id inventoryPolicy inventoryItem { id tracked } } } } } } } }"""
    # when
    started = start(sim, query, shop.token, shop.domain)
    done = wait(sim, started["bulkOperation"]["id"], shop.token, shop.domain)
    lines = [orjson.loads(line) for line in requests.get(done["url"], timeout=30).content.splitlines()]
    # then: products inline their objects, variants and images are children
    assert started["userErrors"] == []
    parents = {int(line["id"].rsplit("/", 1)[1]): line for line in lines if "__parentId" not in line}
    children = [line for line in lines if "__parentId" in line]
    assert set(parents) == set(expected)
    for product_id, line in parents.items():
        prices = [Decimal(v["price"]) for v in expected[product_id]["variants"]]
        assert Decimal(line["priceRangeV2"]["minVariantPrice"]["amount"]) == min(prices)
    variants = {v["id"]: v for p in expected.values() for v in p["variants"]}
    images = {i["id"]: p["id"] for p in expected.values() for i in p["images"]}
    media = [c for c in children if c["id"].startswith("gid://shopify/MediaImage/")]
    children = [c for c in children if c not in media]
    assert {int(c["id"].rsplit("/", 1)[1]): int(c["__parentId"].rsplit("/", 1)[1]) for c in media} == images
    assert {int(c["id"].rsplit("/", 1)[1]) for c in children} == set(variants)
    for child in children:
        variant = variants[int(child["id"].rsplit("/", 1)[1])]
        assert child["inventoryItem"]["id"] == f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"
        assert child["inventoryPolicy"] == variant["inventory_policy"].upper()
