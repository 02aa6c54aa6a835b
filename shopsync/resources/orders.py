"""Orders, their line items (a connection) and their transactions (a list); their extras (discounts,
shipping and tax lines, billing address, note attributes, current totals) are JSON columns on the
order and line item rows (shopsync/payloads/order_extras.py says why).

Transactions (contract §8.2, §8.11-8.14):
- `Order.transactions` is a plain list, so it comes inline in the order's bulk JSONL line (no
  `__parentId` lines, no connection counted against the bulk limits) and in every page and by-id
  node, complete (at most 100 per order): no child pages.
- No `updatedAt` on a transaction: its set is carried under the order's `updated_at` and replaced
  whenever a newer order version is written from GraphQL. REST orders (webhooks) do not embed
  transactions, so they leave the stored set alone ("not given").
- Incremental and update modes find new transactions through the order: creating a transaction
  (a capture, a refund) moves the order's `updatedAt` (the connectors Airbyte and Singer rely on it;
  no Shopify sentence says so, contract §8.12), so the order is in the next window with all of them.
- `order_transactions/create` adds the one new transaction to its stored order without touching the
  others (a stored copy came from an order version at least as new, so it is never overwritten); an
  order not stored yet is fetched by id, complete. This covers a shop where the order did not move.
- Never deleted by Shopify; reconciliation compares each order's transaction ids with Shopify's.
"""

from __future__ import annotations

from shopsync.models import LineItem, Order, OrderTransaction
from shopsync.payloads.graphql import (
    LINE_ITEM,
    LINE_ITEM_LINE,
    ORDER,
    TRANSACTION,
    line_item_record,
    order_record,
    transaction_record,
)
from shopsync.payloads.graphql_fields import LINE_ITEM_FIELDS, ORDER_FIELDS, TRANSACTION_FIELDS
from shopsync.payloads.order_extras import GRAPHQL_ONLY_TOTALS
from shopsync.payloads.records import LineItemRecord, OrderRecord, TransactionRecord
from shopsync.payloads.rest import parse_order_rest, parse_transaction_rest
from shopsync.resources.base import (
    ChildDeclaration,
    DeletionEvent,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)
from shopsync.resources.metafields import ORDER_METAFIELDS

LINE_ITEMS = ChildDeclaration(
    name="line_items",
    label="line item",
    model=LineItem,
    record_type=LineItemRecord,
    parent_column="order_id",
    graphql_field="lineItems",
    graphql_type="LineItem",
    graphql_fields=LINE_ITEM_FIELDS,
    is_connection=True,
    build=line_item_record,
    node_adapter=LINE_ITEM,
    bulk_line_adapter=LINE_ITEM_LINE,
    first_page=5,
    rest_key="line_items",
    deletion="absent from the order's next version (an edit sets current_quantity 0)",
)

TRANSACTIONS = ChildDeclaration(
    name="transactions",
    label="transaction",
    model=OrderTransaction,
    record_type=TransactionRecord,
    parent_column="order_id",
    graphql_field="transactions",
    graphql_type="OrderTransaction",
    graphql_fields=TRANSACTION_FIELDS,
    is_connection=False,
    build=transaction_record,
    node_adapter=TRANSACTION,
    parse_rest=parse_transaction_rest,
    rest_parent_key="order_id",
    topics=(
        WebhookTopic("order_transactions/create", "ORDER_TRANSACTIONS_CREATE", TopicAction.CHILD_CREATE),
    ),
    deletion="never deleted (money movements are new transactions); replaced with the order's set",
    reconciled=True,
)

ORDERS = ResourceDeclaration(
    name="orders",
    singular="order",
    graphql_type="Order",
    model=Order,
    record_type=OrderRecord,
    graphql_fields=ORDER_FIELDS,
    node_adapter=ORDER,
    build=order_record,
    parse_rest=parse_order_rest,
    children=(LINE_ITEMS, TRANSACTIONS, ORDER_METAFIELDS),
    topics=(
        WebhookTopic("orders/create", "ORDERS_CREATE", TopicAction.UPSERT),
        WebhookTopic("orders/updated", "ORDERS_UPDATED", TopicAction.UPSERT),
        WebhookTopic("orders/cancelled", "ORDERS_CANCELLED", TopicAction.UPSERT),
        WebhookTopic("orders/delete", "ORDERS_DELETE", TopicAction.DELETE),
    ),
    deletion="orders/delete {id}; absent from a full sync. Cancelled or closed is not a deletion.",
    # [UNSURE] Shopify's Event reference lists no order `destroy` verb (contract §8.11); reading them
    # costs one cheap query per run and finds nothing if Shopify records none, so we read them (the
    # safer reading) and keep the webhook, full sync and reconciliation as the other signals.
    deletion_event=DeletionEvent("ORDER"),
    # Upper bounds: the roots per page and ids per by-id query are computed from the queries' requested
    # cost (services/sync/query_cost.py), so they shrink as the selection grows and stay within 1000.
    page_size=250,
    ids_per_query=5,
    # The extras only GraphQL carries (shopsync/payloads/order_extras.py): a REST body keeps them.
    kept_when_absent=GRAPHQL_ONLY_TOTALS,
    computes_is_historical=True,
    count_params={"status": "any"},
    limited_without_all_orders_scope=True,
)
