"""The third-party `gql` client runs documented Shopify queries against the simulator unchanged."""

from __future__ import annotations

from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport

ORDERS = gql("""
query getOrders($cursor: String) {
  orders(first: 25, after: $cursor, sortKey: UPDATED_AT, query: "updated_at:>'2020-01-01T00:00:00Z'") {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        name
        createdAt
        updatedAt
        displayFinancialStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { id email }
        lineItems(first: 10) { nodes { id title quantity sku variant { id } } }
      }
    }
  }
}
""")
CUSTOMERS = gql("""
query { customers(first: 10) { edges { node { id firstName lastName email numberOfOrders
  amountSpent { amount currencyCode } createdAt updatedAt } } } }
""")
PRODUCTS = gql("""
query { products(first: 10) { edges { node { id title handle status
  variants(first: 10) { edges { node { id title price sku inventoryQuantity } } } } } } }
""")


def client(sim, domain):
    token = sim.control.shop_info(domain)["token"]
    transport = RequestsHTTPTransport(
        url=f"{sim.base_url}/shops/{domain}/admin/api/2026-01/graphql.json",
        headers={"X-Shopify-Access-Token": token},
        timeout=30,
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


def test_gql_pages_orders_and_reads_customers_and_products(sim, new_shop):
    # A Plus-plan shop of its own: a fresh 20,000-point bucket, so paging never throttles.
    domain = new_shop(orders=400, customers=50, products=20, plan="plus")
    session = client(sim, domain)
    seen, cursor = [], None
    while True:
        ORDERS.variable_values = {"cursor": cursor}
        result = session.execute(ORDERS)
        seen.extend(edge["node"]["id"] for edge in result["orders"]["edges"])
        if not result["orders"]["pageInfo"]["hasNextPage"]:
            break
        cursor = result["orders"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 400
    assert len(session.execute(CUSTOMERS)["customers"]["edges"]) == 10
    products = session.execute(PRODUCTS)["products"]["edges"]
    assert products[0]["node"]["variants"]["edges"][0]["node"]["price"]
