"""A line item whose product (or variant) is deleted keeps its text but loses the reference, in every
shape at once (contract §6.1), and the order's updated_at does not move (Shopify does not bump it)."""

from __future__ import annotations

import orjson

from tests.simulator.conftest import token_of

ORDER_LINES = """query($id: ID!) { order(id: $id) { updatedAt lineItems(first: 50) { nodes {
    id sku variant { id } product { id } } } } }"""


def _order_with_lines_of_one_product(sim, domain):
    """An order, and a product only some of its lines come from (so the others must keep their ids)."""
    for row in sim.control.truth("orders", full=True, shop=domain)["records"]:
        order = row["record"]
        products = {line["product_id"] for line in order["line_items"]}
        if len(products) > 1 and None not in products:
            return order, order["line_items"][0]["product_id"]
    raise AssertionError("no order with lines from two products")


def _references(lines):
    return {line["id"]: (line["variant_id"], line["product_id"], line["product_exists"]) for line in lines}


def test_deleting_a_product_nulls_its_line_items_references_in_rest_graphql_truth_and_webhooks(
    sim, new_shop, receiver
):
    # given
    domain = new_shop()
    token = token_of(sim, domain)
    order, product_id = _order_with_lines_of_one_product(sim, domain)
    expected = {
        line["id"]: (None, None, False)
        if line["product_id"] == product_id
        else (line["variant_id"], line["product_id"], True)
        for line in order["line_items"]
    }
    sim.control.subscribe("orders/updated", receiver.url, shop=domain)
    # when
    sim.control.delete("products", product_id, shop=domain)
    # then: the order did not change version, and every shape agrees
    truth = {r["id"]: r["record"] for r in sim.control.truth("orders", full=True, shop=domain)["records"]}
    assert truth[order["id"]]["updated_at"] == order["updated_at"]
    assert _references(truth[order["id"]]["line_items"]) == expected
    assert _references(sim.control.get("orders", order["id"], shop=domain)["line_items"]) == expected
    listed = sim.rest("orders.json", {"ids": order["id"], "status": "any"}, token=token, shop=domain)
    assert _references(listed.json()["orders"][0]["line_items"]) == expected
    data = sim.graphql(ORDER_LINES, {"id": f"gid://shopify/Order/{order['id']}"}, token=token, shop=domain)
    nodes = data.json()["data"]["order"]["lineItems"]["nodes"]
    graphql = {
        int(node["id"].rsplit("/", 1)[1]): (
            node["variant"] and int(node["variant"]["id"].rsplit("/", 1)[1]),
            node["product"] and int(node["product"]["id"].rsplit("/", 1)[1]),
        )
        for node in nodes
    }
    assert graphql == {line_id: refs[:2] for line_id, refs in expected.items()}
    # and a later webhook for the order renders the same nulls
    sim.control.update("orders", order["id"], shop=domain, note="after the delete")
    payload = orjson.loads(receiver.wait_for(1)[0]["body"])
    assert _references(payload["line_items"]) == expected


def test_removing_a_variant_nulls_only_the_variant_reference(sim, new_shop):
    # given: order lines whose product has other variants
    domain = new_shop()
    products = {
        r["id"]: r["record"] for r in sim.control.truth("products", full=True, shop=domain)["records"]
    }
    candidates = [
        (row["record"], line)
        for row in sim.control.truth("orders", full=True, shop=domain)["records"]
        for line in row["record"]["line_items"]
        if line["product_id"] in products and len(products[line["product_id"]]["variants"]) > 1
    ]
    # when: a product loses variants (chosen at random) until one line's variant is gone
    for order, line in candidates:
        product = sim.control.get("products", line["product_id"], shop=domain)
        while line["variant_id"] in {v["id"] for v in product["variants"]} and len(product["variants"]) > 1:
            product = sim.control.update("products", product["id"], shop=domain, remove_variants=1)
        if line["variant_id"] not in {v["id"] for v in product["variants"]}:
            break
    else:
        raise AssertionError("no line item lost its variant")
    # then
    after = sim.control.get("orders", order["id"], shop=domain)
    rendered = {li["id"]: li for li in after["line_items"]}[line["id"]]
    assert (rendered["variant_id"], rendered["product_id"], rendered["product_exists"]) == (
        None,
        product["id"],
        True,
    )
    assert after["updated_at"] == order["updated_at"]
