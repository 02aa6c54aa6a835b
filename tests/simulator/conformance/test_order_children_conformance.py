"""Refunds and fulfillments (contract §8.3, §8.4, §8.5, §8.13, §8.14) on every surface, against the truth:
GraphQL `Order.refunds` / `Order.fulfillments` (lists) and `node(id:)`, bulk (inline lists, their
connections as child lines of the order), REST (`orders/{id}/refunds|fulfillments`, the order's own
`refunds` / `fulfillments` keys), the `refunds/create` and `fulfillments/create|update` webhooks; and the
money they add up to (refund parts = refund transactions = `totalRefundedSet`, current totals lowered
by refunded units and shipping), and the fulfillment status they imply."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from shopify_sim.testing import SimulatorError
from tests.simulator.conformance.conftest import truth
from tests.simulator.test_bulk import lines_of, start, wait
from tests.simulator.test_transactions import topics_sent

MONEY = "shopMoney { amount }"
REFUND_FIELDS = f"""id createdAt note totalRefundedSet {{ {MONEY} }}
  refundLineItems(first: 10) {{ nodes {{ quantity restockType lineItem {{ id }}
    subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} }} }}
  refundShippingLines(first: 5) {{ nodes {{ subtotalAmountSet {{ {MONEY} }} }} }}
  orderAdjustments(first: 5) {{ nodes {{ reason amountSet {{ {MONEY} }} taxAmountSet {{ {MONEY} }} }} }}
  transactions(first: 10) {{ nodes {{ id kind amountSet {{ {MONEY} }} }} }}"""
FULFILLMENT_FIELDS = """id name status displayStatus createdAt updatedAt totalQuantity
  trackingInfo { company number url } location { id }
  fulfillmentLineItems(first: 10) { nodes { quantity lineItem { id } } }"""
ORDER_FIELDS = f"""id displayFinancialStatus displayFulfillmentStatus
  totalPriceSet {{ {MONEY} }} totalRefundedSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }}
  currentTotalPriceSet {{ {MONEY} }} currentSubtotalPriceSet {{ {MONEY} }} currentTotalTaxSet {{ {MONEY} }}
  subtotalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} totalRefundedShippingSet {{ {MONEY} }}
  transactions {{ id kind status amountSet {{ {MONEY} }} }}
  lineItems(first: 12) {{ nodes {{ id quantity currentQuantity }} }}"""
PAGE = f"""query($after: String) {{ orders(first: 2, after: $after, sortKey: ID) {{
  pageInfo {{ hasNextPage endCursor }} nodes {{ {ORDER_FIELDS}
  refunds {{ {REFUND_FIELDS} }} fulfillments {{ {FULFILLMENT_FIELDS} }} }} }} }}"""
BULK = """{ orders { edges { node { id displayFulfillmentStatus totalRefundedSet { shopMoney { amount } }
  lineItems { edges { node { id quantity } } }
  refunds { id totalRefundedSet { shopMoney { amount } }
    refundLineItems { edges { node { quantity lineItem { id } subtotalSet { shopMoney { amount } } } } } }
  fulfillments { id status fulfillmentLineItems { edges { node { quantity lineItem { id } } } } } } } } }"""


def amount(bag: dict) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def nodes_sum(nodes: list[dict], *fields: str) -> Decimal:
    return sum((amount(n[f]) for n in nodes for f in fields), Decimal(0))


def all_orders(sim, token, domain) -> list[dict]:
    found, after = [], None
    while True:
        answer = sim.graphql(PAGE, {"after": after}, token=token, shop=domain).json()
        assert "errors" not in answer, answer
        data = answer["data"]["orders"]
        found += data["nodes"]
        if not data["pageInfo"]["hasNextPage"]:
            return found
        after = data["pageInfo"]["endCursor"]


def assert_refunds_add_up(order: dict) -> None:
    refunds = order["refunds"]
    refund_txs = [t for t in order["transactions"] if t["kind"] == "REFUND" and t["status"] == "SUCCESS"]
    # every successful refund transaction belongs to exactly one refund, and only those do
    linked = [t["id"] for r in refunds for t in r["transactions"]["nodes"]]
    assert sorted(linked) == sorted(t["id"] for t in refund_txs), order["id"]
    assert sum((amount(r["totalRefundedSet"]) for r in refunds), Decimal(0)) == amount(
        order["totalRefundedSet"]
    )
    refunded_lines = refunded_shipping = Decimal(0)
    for refund in refunds:
        paid_back = nodes_sum(refund["transactions"]["nodes"], "amountSet")
        lines = nodes_sum(refund["refundLineItems"]["nodes"], "subtotalSet", "totalTaxSet")
        shipping = nodes_sum(refund["refundShippingLines"]["nodes"], "subtotalAmountSet")
        adjusted = nodes_sum(refund["orderAdjustments"]["nodes"], "amountSet", "taxAmountSet")
        assert amount(refund["totalRefundedSet"]) == paid_back == lines + shipping - adjusted, refund
        refunded_lines += lines
        refunded_shipping += shipping
    # current totals: the original less refunded units (subtotal and tax) and shipping (§8.5)
    assert (
        amount(order["currentTotalPriceSet"])
        == amount(order["totalPriceSet"]) - refunded_lines - refunded_shipping
    )
    assert amount(order["totalRefundedShippingSet"]) == refunded_shipping
    taxes = sum(
        (amount(i["totalTaxSet"]) for r in refunds for i in r["refundLineItems"]["nodes"]), Decimal(0)
    )
    assert amount(order["currentTotalTaxSet"]) == amount(order["totalTaxSet"]) - taxes
    refunded_units: dict[str, int] = {}
    for refund in refunds:
        for item in refund["refundLineItems"]["nodes"]:
            refunded_units[item["lineItem"]["id"]] = (
                refunded_units.get(item["lineItem"]["id"], 0) + item["quantity"]
            )
    for line in order["lineItems"]["nodes"]:
        assert line["currentQuantity"] == line["quantity"] - refunded_units.get(line["id"], 0) >= 0


def assert_fulfillments_match_status(order: dict) -> None:
    shipped: dict[str, int] = {}
    for fulfillment in order["fulfillments"]:
        assert (fulfillment["status"] == "CANCELLED") == (fulfillment["displayStatus"] == "CANCELED")
        if fulfillment["status"] != "SUCCESS":
            continue
        for item in fulfillment["fulfillmentLineItems"]["nodes"]:
            shipped[item["lineItem"]["id"]] = shipped.get(item["lineItem"]["id"], 0) + item["quantity"]
    lines = order["lineItems"]["nodes"]
    assert all(shipped.get(line["id"], 0) <= line["quantity"] for line in lines)
    status = order["displayFulfillmentStatus"]
    # a line is done once its units not refunded are shipped
    done = [shipped.get(line["id"], 0) >= line["currentQuantity"] for line in lines]
    if status == "FULFILLED":
        assert all(done) and shipped, order["id"]
    elif status == "UNFULFILLED":
        assert not shipped, order["id"]
    elif status == "PARTIALLY_FULFILLED":
        # some shipped, not all (one single unit cannot be partly shipped: no fulfillment then, README)
        assert not all(shipped.get(line["id"], 0) >= line["quantity"] for line in lines), order["id"]


def test_generated_refunds_and_fulfillments_add_up_on_every_order_of_the_session_shop(sim):
    # when
    orders = all_orders(sim, sim.token, None)
    # then
    assert any(o["refunds"] for o in orders) and any(o["fulfillments"] for o in orders)
    statuses = {o["displayFinancialStatus"]: bool(o["refunds"]) for o in orders}
    assert statuses["REFUNDED"] and statuses["PARTIALLY_REFUNDED"] and not statuses["PAID"]
    assert any(
        i["restockType"] == "RETURN"
        for o in orders
        for r in o["refunds"]
        for i in r["refundLineItems"]["nodes"]
    )
    assert any(r["orderAdjustments"]["nodes"] for o in orders for r in o["refunds"])
    assert any(r["refundShippingLines"]["nodes"] for o in orders for r in o["refunds"])
    assert {f["status"] for o in orders for f in o["fulfillments"]} == {"SUCCESS", "CANCELLED"}
    for order in orders:
        assert_refunds_add_up(order)
        assert_fulfillments_match_status(order)


def changed_shop(sim, new_shop) -> tuple[str, str]:
    domain = new_shop(orders=50, seed=9, plan="plus")
    mix = {
        "order_transactions/create": 3,
        "fulfillments/create": 2,
        "fulfillments/update": 2,
        "orders/update": 1,
    }
    sim.control.mutate(count=30, seed=3, mix=mix, shop=domain)
    return domain, sim.control.shop_info(domain)["token"]


def test_run_time_refunds_and_fulfillments_keep_every_order_consistent(sim, new_shop):
    # given
    domain, token = changed_shop(sim, new_shop)
    # when
    orders = all_orders(sim, token, domain)
    # then
    for order in orders:
        assert_refunds_add_up(order)
        assert_fulfillments_match_status(order)


def test_graphql_rest_and_truth_agree_on_refunds_and_fulfillments(sim, new_shop):
    # given
    domain, token = changed_shop(sim, new_shop)
    for kind in ("refunds", "fulfillments"):
        rows = sim.control.truth(kind, full=True, shop=domain)["records"]
        by_order: dict[int, list[dict]] = {}
        for row in rows:
            by_order.setdefault(row["order_id"], []).append(row["record"])
        orders = {
            r["id"]: r["record"] for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        }
        gql = {o["id"]: o[kind] for o in all_orders(sim, token, domain)}
        # when / then: the REST order, the order's REST route and GraphQL name the same children
        for order_id, record in orders.items():
            expected = by_order.get(order_id, [])
            assert record[kind] == expected
            listed = sim.rest(f"orders/{order_id}/{kind}.json", token=token, shop=domain).json()
            assert listed == {kind: expected}
            assert [c["id"] for c in gql[f"gid://shopify/Order/{order_id}"]] == [
                c["admin_graphql_api_id"] for c in expected
            ]
        one = rows[0]["record"]
        shown = sim.rest(f"orders/{one['order_id']}/{kind}/{one['id']}.json", token=token, shop=domain).json()
        assert shown == {kind[:-1]: one}
        node = sim.graphql(
            "query($id: ID!) { node(id: $id) { id ... on Refund { legacyResourceId } ... on Fulfillment { name } } }",
            {"id": one["admin_graphql_api_id"]},
            token=token,
            shop=domain,
        ).json()["data"]["node"]
        assert node["id"] == one["admin_graphql_api_id"]


def test_rest_refund_money_has_numbers_beside_string_sets(sim, new_shop):
    # given
    domain = new_shop(orders=80, seed=5)
    rows = sim.control.truth("refunds", full=True, shop=domain)["records"]
    # when
    items = [i for r in rows for i in r["record"]["refund_line_items"]]
    # then (contract §8.1 gotcha): subtotal / total_tax numbers, *_set amounts strings
    assert items
    for item in items:
        assert isinstance(item["subtotal"], float) and isinstance(item["total_tax"], float)
        assert Decimal(item["subtotal_set"]["shop_money"]["amount"]) == Decimal(str(item["subtotal"]))
        assert item["line_item"]["id"] == item["line_item_id"]


def test_bulk_refuses_a_connection_under_the_refunds_list_as_shopify_does(sim):
    # when
    started = start(sim, BULK, sim.token, None)
    # then
    assert started["bulkOperation"] is None
    assert [e["message"] for e in started["userErrors"]] == [
        "Queries that contain a connection field within a list field are not currently supported."
    ]


def test_bulk_puts_refunds_and_fulfillments_inline_and_their_connections_as_children_of_the_order(
    sim, new_shop
):
    # given: a shop that accepts connections under lists (not Shopify's behaviour)
    domain = new_shop(orders=60, bulk_connections_under_lists=True)
    token = sim.control.shop_info(domain)["token"]
    facts = {
        kind: sim.control.truth(kind, full=True, shop=domain)["records"]
        for kind in ("refunds", "fulfillments")
    }
    started = start(sim, BULK, token, domain)
    assert started["userErrors"] == []
    done = wait(sim, started["bulkOperation"]["id"], token, domain)
    # when
    lines = lines_of(done["url"])
    # then: the lists inline on the order's line, their connections' lines parented by the order
    orders = {line["id"]: line for line in lines if "__parentId" not in line}
    children = [line for line in lines if "__parentId" in line]
    assert {c["__parentId"] for c in children} <= set(orders)
    refunded = [c for c in children if "subtotalSet" in c]
    shipped = [c for c in children if "lineItem" in c and "subtotalSet" not in c]
    assert len(refunded) == sum(len(r["record"]["refund_line_items"]) for r in facts["refunds"])
    assert len(shipped) == sum(len(r["record"]["line_items"]) for r in facts["fulfillments"])
    expected_refunds = {r["record"]["admin_graphql_api_id"] for r in facts["refunds"]}
    assert {r["id"] for o in orders.values() for r in o["refunds"]} == expected_refunds
    for order_id, order in orders.items():
        quantities = {c["id"]: c["quantity"] for c in children if c["__parentId"] == order_id and "id" in c}
        mine = [c for c in refunded + shipped if c["__parentId"] == order_id]
        assert all(c["lineItem"]["id"] in quantities for c in mine)
        assert all("refundLineItems" not in r for r in order["refunds"])
        assert sum((amount(r["totalRefundedSet"]) for r in order["refunds"]), Decimal(0)) == amount(
            order["totalRefundedSet"]
        )
        if order["displayFulfillmentStatus"] == "FULFILLED":
            units = sum(c["quantity"] for c in mine if "subtotalSet" not in c)
            assert units >= sum(quantities.values()), order_id


def test_refunds_create_and_fulfillment_webhooks_send_the_rest_children(sim, new_shop, receiver):
    # given
    domain = new_shop()
    for topic in ("refunds/create", "fulfillments/create", "fulfillments/update"):
        sim.control.subscribe(topic, receiver.url, shop=domain)
    order = next(
        r["record"]
        for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        if r["record"]["financial_status"] == "paid"
        and r["record"]["fulfillment_status"] is None
        and r["record"]["cancelled_at"] is None
        and r["record"]["closed_at"] is None
    )
    # when
    sim.control.update("orders", order["id"], shop=domain, refund="1.00")
    sim.control.update("orders", order["id"], shop=domain, fulfill=True)
    sim.control.update("orders", order["id"], shop=domain, tracking=True)
    # then
    deliveries = receiver.wait_for(3)
    by_topic = {d["headers"]["X-Shopify-Topic"]: orjson.loads(d["body"]) for d in deliveries}
    refunds = {r["id"]: r["record"] for r in sim.control.truth("refunds", full=True, shop=domain)["records"]}
    fulfillments = {
        r["id"]: r["record"] for r in sim.control.truth("fulfillments", full=True, shop=domain)["records"]
    }
    refund = by_topic["refunds/create"]
    assert refund == refunds[refund["id"]]
    assert refund["order_id"] == order["id"] and refund["order_adjustments"][0]["amount"] == "-1.00"
    created, updated = by_topic["fulfillments/create"], by_topic["fulfillments/update"]
    assert created["id"] == updated["id"] and updated == fulfillments[created["id"]]
    assert created["status"] == "success" and updated["updated_at"] > created["updated_at"]
    after = sim.control.get("orders", order["id"], shop=domain)
    assert after["fulfillment_status"] == "fulfilled"
    assert all(line["fulfillable_quantity"] == 0 for line in after["line_items"])


EXTRAS = """{ orders { edges { node { id sourceName discountCodes customAttributes { key value }
  taxLines { title rate priceSet { shopMoney { amount } } }
  shippingLine { title code source originalPriceSet { shopMoney { amount } } discountedPriceSet { shopMoney { amount } } }
  billingAddress { firstName lastName address1 address2 city provinceCode countryCodeV2 zip phone company }
  lineItems { edges { node { id taxLines { priceSet { shopMoney { amount } } }
    discountAllocations { allocatedAmountSet { shopMoney { amount } } discountApplication { index } } } } } } } } }"""


def test_bulk_order_extras_agree_with_the_truths_full_record(sim, shop):
    # given: discounts, shipping and tax lines, billing address, note attributes, source name (§8.5)
    expected = {r["id"]: r["record"] for r in truth(sim, shop, "orders", full=True)["records"]}
    started = start(sim, EXTRAS, shop.token, shop.domain)
    assert started["userErrors"] == []
    done = wait(sim, started["bulkOperation"]["id"], shop.token, shop.domain)
    # when
    lines = lines_of(done["url"])
    # then
    orders = {int(line["id"].rsplit("/", 1)[1]): line for line in lines if "__parentId" not in line}
    assert set(orders) == set(expected)
    assert any(r["discount_codes"] for r in expected.values()) and any(
        r["note_attributes"] for r in expected.values()
    )
    children = {line["id"]: line for line in lines if "__parentId" in line}
    for order_id, rest in expected.items():
        line = orders[order_id]
        assert line["sourceName"] == rest["source_name"]
        assert line["discountCodes"] == [c["code"] for c in rest["discount_codes"]]
        assert line["customAttributes"] == [
            {"key": a["name"], "value": a["value"]} for a in rest["note_attributes"]
        ]
        assert [(t["title"], t["priceSet"]["shopMoney"]["amount"]) for t in line["taxLines"]] == [
            (t["title"], t["price"]) for t in rest["tax_lines"]
        ]
        shipping = rest["shipping_lines"][0] if rest["shipping_lines"] else None
        if shipping is None:
            assert line["shippingLine"] is None
        else:
            assert line["shippingLine"]["title"] == shipping["title"]
            assert line["shippingLine"]["code"] == shipping["code"]
            assert line["shippingLine"]["originalPriceSet"]["shopMoney"]["amount"] == shipping["price"]
            assert (
                line["shippingLine"]["discountedPriceSet"]["shopMoney"]["amount"]
                == shipping["discounted_price"]
            )
        billing = rest["billing_address"]
        if billing is None:
            assert line["billingAddress"] is None
        else:
            assert line["billingAddress"]["address1"] == billing["address1"]
            assert line["billingAddress"]["countryCodeV2"] == billing["country_code"]
            assert line["billingAddress"]["zip"] == billing["zip"]
        for rest_line in rest["line_items"]:
            child = children[rest_line["admin_graphql_api_id"]]
            assert [t["priceSet"]["shopMoney"]["amount"] for t in child["taxLines"]] == [
                t["price"] for t in rest_line["tax_lines"]
            ]
            assert [
                (a["allocatedAmountSet"]["shopMoney"]["amount"], a["discountApplication"]["index"])
                for a in child["discountAllocations"]
            ] == [(a["amount"], a["discount_application_index"]) for a in rest_line["discount_allocations"]]


def open_unshipped_paid_order(sim, domain: str) -> dict:
    return next(
        r["record"]
        for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        if r["record"]["financial_status"] == "paid"
        and r["record"]["fulfillment_status"] is None
        and r["record"]["cancelled_at"] is None
        and r["record"]["closed_at"] is None
    )


def test_a_refund_or_fulfillment_moves_the_orders_updated_at_and_sends_orders_updated_after_its_topic(
    sim, new_shop, receiver
):
    # given: the safer reading of contract §8.12 (the default)
    domain = new_shop(orders=80)
    topics = ["orders/updated", "order_transactions/create", "refunds/create", "fulfillments/create"]
    sim.control.subscribe(topics, receiver.url, shop=domain)
    order = open_unshipped_paid_order(sim, domain)
    # when
    refunded = sim.control.update("orders", order["id"], shop=domain, refund="3.00")
    shipped = sim.control.update("orders", order["id"], shop=domain, fulfill="partial")
    # then
    assert order["updated_at"] < refunded["updated_at"] < shipped["updated_at"]
    assert shipped["fulfillment_status"] == "partial"
    assert topics_sent(sim, domain) == [
        "order_transactions/create",
        "refunds/create",
        "orders/updated",
        "fulfillments/create",
        "orders/updated",
    ]


def test_with_the_switch_off_a_fulfillment_leaves_the_orders_updated_at(sim, new_shop, receiver):
    # given: contract §8.15.4, the reconciliation case
    domain = new_shop(orders=80)
    sim.control.update_settings(shop=domain, order_updated_by_transactions=False)
    sim.control.subscribe(
        ["orders/updated", "fulfillments/create", "fulfillments/update"], receiver.url, shop=domain
    )
    order = open_unshipped_paid_order(sim, domain)
    # when
    shipped = sim.control.update("orders", order["id"], shop=domain, fulfill=True)
    cancelled = sim.control.update("orders", order["id"], shop=domain, cancel_fulfillment=True)
    # then: the children and statuses moved, the order's clock did not, only the child topics went out
    assert shipped["updated_at"] == cancelled["updated_at"] == order["updated_at"]
    assert (shipped["fulfillment_status"], cancelled["fulfillment_status"]) == ("fulfilled", None)
    assert [f["status"] for f in cancelled["fulfillments"]] == ["cancelled"]
    assert topics_sent(sim, domain) == ["fulfillments/create", "fulfillments/update"]


def test_verbs_an_order_cannot_take_answer_422(sim, new_shop):
    # given
    domain = new_shop(orders=80)
    order = open_unshipped_paid_order(sim, domain)
    for verb in ("tracking", "cancel_fulfillment"):
        # when
        with pytest.raises(SimulatorError, match="422"):
            sim.control.update("orders", order["id"], shop=domain, **{verb: True})


def test_a_deleted_orders_refunds_and_fulfillments_are_listed_as_deleted(sim, new_shop):
    # given: an order with both (contract §8.11: children go with their order)
    domain = new_shop(orders=80, seed=5)
    token = sim.control.shop_info(domain)["token"]
    order = next(
        r["record"]
        for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        if r["record"]["refunds"] and r["record"]["fulfillments"]
    )
    # when
    sim.control.delete("orders", order["id"], shop=domain)
    # then
    for kind in ("refunds", "fulfillments"):
        facts = sim.control.truth(kind, shop=domain)
        gone = {c["id"] for c in order[kind]}
        assert gone <= set(facts["deleted_ids"])
        assert not gone & {r["id"] for r in facts["records"]}
        node = sim.graphql(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": order[kind][0]["admin_graphql_api_id"]},
            token=token,
            shop=domain,
        ).json()["data"]["node"]
        assert node is None
        listed = sim.rest(f"orders/{order['id']}/{kind}.json", token=token, shop=domain)
        assert listed.status_code == 404


def test_the_change_generator_refunds_and_cancels_shipments_when_the_mix_names_them(sim, new_shop):
    # given
    domain = new_shop(orders=50, seed=9, plan="plus")
    token = sim.control.shop_info(domain)["token"]
    before = {o["id"]: o for o in all_orders(sim, token, domain)}
    # when
    refunds = sim.control.mutate(count=4, seed=5, mix={"refunds/create": 1}, shop=domain)
    cancels = sim.control.mutate(count=2, seed=6, mix={"fulfillments/cancel": 1}, shop=domain)
    # then: each refund change made a Refund linked to new refund transactions, each cancel a
    # cancelled fulfillment, and every order still adds up
    after = {o["id"]: o for o in all_orders(sim, token, domain)}
    assert [(c["resource"], c["action"]) for c in refunds] == [("refunds", "create")] * 4
    for change in refunds:
        gid = f"gid://shopify/Order/{change['id']}"
        new = [r for r in after[gid]["refunds"] if r not in before[gid]["refunds"]]
        assert new and all(r["transactions"]["nodes"] for r in new), change
    assert [(c["resource"], c["action"]) for c in cancels] == [("fulfillments", "cancel_fulfillment")] * 2
    for change in cancels:
        gid = f"gid://shopify/Order/{change['id']}"
        statuses = [f["status"] for f in after[gid]["fulfillments"]]
        assert statuses.count("CANCELLED") > [f["status"] for f in before[gid]["fulfillments"]].count(
            "CANCELLED"
        )
    for order in after.values():
        assert_refunds_add_up(order)
        assert_fulfillments_match_status(order)
