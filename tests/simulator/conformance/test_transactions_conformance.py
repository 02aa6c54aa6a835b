"""Order transactions (contract §8.2, §8.12-§8.15) on every surface, against the truth: GraphQL
`Order.transactions` (a list) and `node(id:)`, bulk JSONL (inline in the order's line), REST
`orders/{id}/transactions` (list, count, show), `order_transactions/create` webhooks; and the money
they add up to on each order (received, refunded, net, outstanding, capturable, the financial status)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson

from tests.simulator.conformance.conftest import truth
from tests.simulator.test_bulk import lines_of, start, wait

TRANSACTION_FIELDS = """id kind status gateway createdAt processedAt errorCode test authorizationCode
  amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  parentTransaction { id }"""
ORDER_MONEY = """id updatedAt displayFinancialStatus cancelledAt
  totalPriceSet { shopMoney { amount } } totalReceivedSet { shopMoney { amount } }
  netPaymentSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } }
  totalOutstandingSet { shopMoney { amount } } totalCapturableSet { shopMoney { amount } }"""
BULK = f"{{ orders {{ edges {{ node {{ {ORDER_MONEY} transactions {{ {TRANSACTION_FIELDS} }} }} }} }} }}"
PAGE = f"""query($after: String) {{ orders(first: 5, after: $after, sortKey: ID) {{
  pageInfo {{ hasNextPage endCursor }} nodes {{ id transactions(first: 20) {{ {TRANSACTION_FIELDS} }} }} }} }}"""


def utc(rest_time: str) -> str:
    return datetime.fromisoformat(rest_time).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_graphql(record: dict) -> dict:
    """The GraphQL form of a truth (REST-shaped) transaction, for the fields both carry."""
    return {
        "id": record["admin_graphql_api_id"],
        "kind": record["kind"].upper(),
        "status": record["status"].upper(),
        "gateway": record["gateway"],
        "createdAt": utc(record["created_at"]),
        "processedAt": utc(record["processed_at"]),
        "errorCode": record["error_code"].upper() if record["error_code"] else None,
        "test": record["test"],
        "authorizationCode": record["authorization"],
        "presentment": {"amount": record["amount"], "currencyCode": record["currency"]},
        "parentTransaction": {"id": f"gid://shopify/OrderTransaction/{record['parent_id']}"}
        if record["parent_id"]
        else None,
    }


def comparable(node: dict) -> dict:
    found = {key: value for key, value in node.items() if key != "amountSet"}
    found["presentment"] = node["amountSet"]["presentmentMoney"]
    return found


def truth_by_order(sim, shop) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in truth(sim, shop, "transactions", full=True)["records"]:
        grouped.setdefault(f"gid://shopify/Order/{row['order_id']}", []).append(as_graphql(row["record"]))
    return grouped


def amount(bag: dict) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def assert_consistent(order: dict) -> None:
    """The order's money fields and financial status are what its transactions add up to."""
    txs = order["transactions"]
    done = [t for t in txs if t["status"] == "SUCCESS"]
    received = sum((amount(t["amountSet"]) for t in done if t["kind"] in ("SALE", "CAPTURE")), Decimal(0))
    refunded = sum((amount(t["amountSet"]) for t in done if t["kind"] == "REFUND"), Decimal(0))
    total = amount(order["totalPriceSet"])
    by_id = {t["id"]: t for t in txs}
    settled = {t["parentTransaction"]["id"] for t in done if t["kind"] in ("CAPTURE", "VOID")}
    open_authorized = sum(
        (amount(t["amountSet"]) for t in done if t["kind"] == "AUTHORIZATION" and t["id"] not in settled),
        Decimal(0),
    )
    status = order["displayFinancialStatus"]
    assert amount(order["totalReceivedSet"]) == received, order["id"]
    assert amount(order["totalRefundedSet"]) == refunded, order["id"]
    assert amount(order["netPaymentSet"]) == received - refunded, order["id"]
    expected_outstanding = 0 if status == "VOIDED" else max(Decimal(0), total - received)
    assert amount(order["totalOutstandingSet"]) == expected_outstanding, order["id"]
    assert amount(order["totalCapturableSet"]) == (open_authorized if status == "AUTHORIZED" else 0)
    rules = {
        "PAID": received >= total > 0 and refunded == 0,
        "PARTIALLY_PAID": 0 < received < total and refunded == 0,
        "REFUNDED": refunded == received > 0,
        "PARTIALLY_REFUNDED": 0 < refunded < received,
        "AUTHORIZED": received == 0 and open_authorized > 0,
        "EXPIRED": received == 0 and open_authorized > 0,
        "VOIDED": received == 0 and any(t["kind"] == "VOID" for t in done),
        "PENDING": received == 0 and any(t["status"] == "PENDING" for t in txs),
    }
    assert rules[status], (status, order["id"], txs)
    # parents: captures and voids settle an authorization (a void may drop a pending sale), refunds a
    # successful charge; ids grow in list order; nothing happens after the order's updated_at
    for tx in txs:
        parent = by_id.get((tx["parentTransaction"] or {}).get("id"))
        if tx["kind"] in ("CAPTURE", "VOID", "REFUND"):
            assert parent is not None, tx
        if tx["kind"] == "CAPTURE":
            assert parent["kind"] == "AUTHORIZATION"
        if tx["kind"] == "REFUND":
            assert parent["kind"] in ("SALE", "CAPTURE") and parent["status"] == "SUCCESS"
        assert tx["createdAt"] <= order["updatedAt"]
        assert (tx["errorCode"] is not None) == (tx["status"] == "FAILURE")
    numbers = [int(t["id"].rsplit("/", 1)[1]) for t in txs]
    assert numbers == sorted(numbers)


def bulk_orders(sim, token, domain) -> list[dict]:
    started = start(sim, BULK, token, domain)
    assert started["userErrors"] == []
    done = wait(sim, started["bulkOperation"]["id"], token, domain)
    assert done["status"] == "COMPLETED"
    return lines_of(done["url"])


def test_bulk_carries_transactions_inline_in_the_order_line_as_the_truth_has_them(sim, shop):
    # given
    expected = truth_by_order(sim, shop)
    order_ids = {f"gid://shopify/Order/{r['id']}" for r in truth(sim, shop, "orders")["records"]}
    # when
    lines = bulk_orders(sim, shop.token, shop.domain)
    # then: one line per order (a list field makes no child lines), its transactions inline
    assert all("__parentId" not in line for line in lines)
    assert {line["id"] for line in lines} == order_ids
    for line in lines:
        assert [comparable(t) for t in line["transactions"]] == expected.get(line["id"], []), line["id"]
        assert_consistent(line)
    assert sum(len(line["transactions"]) for line in lines) == sum(len(v) for v in expected.values())


def test_generated_stores_money_adds_up_on_every_order_of_the_session_shop(sim):
    # given: the 400-order session shop, every financial status present
    token = sim.token
    # when
    lines = bulk_orders(sim, token, None)
    # then
    assert {line["displayFinancialStatus"] for line in lines} == {
        "PAID",
        "PENDING",
        "AUTHORIZED",
        "PARTIALLY_PAID",
        "REFUNDED",
        "PARTIALLY_REFUNDED",
        "VOIDED",
        "EXPIRED",
    }
    kinds = {(t["kind"], t["status"]) for line in lines for t in line["transactions"]}
    assert {
        ("AUTHORIZATION", "SUCCESS"),
        ("CAPTURE", "SUCCESS"),
        ("SALE", "SUCCESS"),
        ("SALE", "PENDING"),
        ("REFUND", "SUCCESS"),
        ("VOID", "SUCCESS"),
    } <= kinds
    assert any(status == "FAILURE" for _, status in kinds)
    for line in lines:
        assert_consistent(line)


def test_graphql_pages_and_node_agree_with_truth(sim, shop):
    # given
    expected = truth_by_order(sim, shop)
    seen: dict[str, list[dict]] = {}
    after = None
    # when
    while True:
        data = sim.graphql(PAGE, {"after": after}, token=shop.token, shop=shop.domain).json()["data"][
            "orders"
        ]
        for node in data["nodes"]:
            if node["transactions"]:
                seen[node["id"]] = [comparable(t) for t in node["transactions"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    some = [t for txs in expected.values() for t in txs][:3]
    nodes = sim.graphql(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on OrderTransaction {{ {TRANSACTION_FIELDS} }} }} }}",
        {"ids": [t["id"] for t in some] + ["gid://shopify/OrderTransaction/1"]},
        token=shop.token,
        shop=shop.domain,
    ).json()["data"]["nodes"]
    # then
    assert seen == expected
    assert [comparable(n) for n in nodes[:3]] == some and nodes[3] is None


def test_rest_transactions_list_count_and_show_agree_with_truth(sim, shop):
    # given
    rows = truth(sim, shop, "transactions", full=True)["records"]
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["order_id"], []).append(row["record"])
    orders = [r["id"] for r in truth(sim, shop, "orders")["records"]]
    for order_id in orders:
        # when
        listed = sim.rest(f"orders/{order_id}/transactions.json", token=shop.token, shop=shop.domain)
        counted = sim.rest(f"orders/{order_id}/transactions/count.json", token=shop.token, shop=shop.domain)
        # then
        assert listed.status_code == 200
        assert listed.json() == {"transactions": grouped.get(order_id, [])}
        assert counted.json() == {"count": len(grouped.get(order_id, []))}
    record = rows[0]["record"]
    shown = sim.rest(
        f"orders/{record['order_id']}/transactions/{record['id']}.json", token=shop.token, shop=shop.domain
    )
    assert shown.json() == {"transaction": record}
    later = sim.rest(
        f"orders/{record['order_id']}/transactions.json",
        {"since_id": record["id"], "fields": "id,kind"},
        token=shop.token,
        shop=shop.domain,
    ).json()["transactions"]
    assert later == [
        {"id": r["id"], "kind": r["kind"]} for r in grouped[record["order_id"]] if r["id"] > record["id"]
    ]
    missing = sim.rest(f"orders/{record['order_id']}/transactions/1.json", token=shop.token, shop=shop.domain)
    assert missing.status_code == 404


def test_rest_amounts_are_in_the_presentment_currency_unless_in_shop_currency(sim, new_shop):
    # given: a shop whose orders were paid in several currencies
    domain = new_shop(orders=80, seed=5)
    token = sim.control.shop_info(domain)["token"]
    rows = sim.control.truth("transactions", full=True, shop=domain)["records"]
    foreign = next(r["record"] for r in rows if r["record"]["currency"] != "USD")
    order = sim.control.get("orders", foreign["order_id"], shop=domain)
    path = f"orders/{foreign['order_id']}/transactions/{foreign['id']}.json"
    # when
    default = sim.rest(path, token=token, shop=domain).json()["transaction"]
    in_shop = sim.rest(path, {"in_shop_currency": "true"}, token=token, shop=domain).json()["transaction"]
    # then
    assert default["currency"] == order["presentment_currency"] != "USD"
    assert in_shop["currency"] == "USD"
    assert default["amount"] != in_shop["amount"]


def test_a_deleted_orders_transactions_are_listed_as_deleted(sim, shop):
    # given: the conformance shop deleted orders at the start
    facts = truth(sim, shop, "transactions")
    # then: none of them are live, and deleted orders' transactions cannot be read
    live = {r["id"] for r in facts["records"]}
    assert facts["deleted_ids"] and not live & set(facts["deleted_ids"])
    gone = sim.graphql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": f"gid://shopify/OrderTransaction/{facts['deleted_ids'][0]}"},
        token=shop.token,
        shop=shop.domain,
    ).json()["data"]["node"]
    assert gone is None


def test_order_transactions_create_webhook_sends_the_rest_transaction(sim, new_shop, receiver):
    # given: a subscription made through GraphQL with the enum (contract §8.14)
    domain = new_shop()
    token = sim.control.shop_info(domain)["token"]
    created = sim.graphql(
        """mutation($uri: URL!) { webhookSubscriptionCreate(topic: ORDER_TRANSACTIONS_CREATE,
        webhookSubscription: {callbackUrl: $uri, format: JSON}) { webhookSubscription { topic } userErrors { message } } }""",
        {"uri": receiver.url},
        token=token,
        shop=domain,
    ).json()["data"]["webhookSubscriptionCreate"]
    order = next(
        r["record"]
        for r in sim.control.truth("orders", full=True, shop=domain)["records"]
        if r["record"]["financial_status"] == "paid"
    )
    # when
    sim.control.update("orders", order["id"], shop=domain, refund="1.00")
    # then
    assert created == {"webhookSubscription": {"topic": "ORDER_TRANSACTIONS_CREATE"}, "userErrors": []}
    [delivery] = receiver.wait_for(1)
    payload = orjson.loads(delivery["body"])
    expected = next(
        r["record"]
        for r in sim.control.truth("transactions", full=True, shop=domain)["records"]
        if r["id"] == payload["id"]
    )
    assert delivery["headers"]["X-Shopify-Topic"] == "order_transactions/create"
    assert delivery["headers"]["X-Shopify-Shop-Domain"] == domain
    assert payload == expected
    assert (payload["kind"], payload["status"], payload["order_id"]) == ("refund", "success", order["id"])
