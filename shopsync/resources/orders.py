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

Refunds and fulfillments (contract §8.3, §8.4, §8.13; `shopsync/payloads/order_children.py`):
- `Order.refunds` / `Order.fulfillments` are lists: inline in the order's bulk line and node, carried
  under the order's `updated_at` like transactions (a refund never changes; a fulfillment has an
  `updatedAt`, but any change to it moves the order too, contract §8.12 [UNSURE]: incremental runs
  find it through the order, and the `fulfillments/update` webhook covers an order that did not move).
- Their parts are connections (a refund's line items, refunded shipping, adjustments and the
  transactions that paid it back; a fulfillment's line items), which Shopify refuses under a list in a bulk query: a bulk line
  carries the refunds and fulfillments without them ("not given": the stored parts stay), and
  `services/sync/order_children_pass.py` reads them after the orders' bulk export from REST orders
  (250 a call), only for refunds and fulfillments that have none stored. Paged and by-id queries carry the parts' first page
  inline (`nested_first_page`), the rest by the refund's / fulfillment's `node(id:)`.
- Webhooks: `refunds/create`, `fulfillments/create|update` name their order (`order_id`): the order
  is fetched by id, complete, and written (the safer plan of contract §8.12: a webhook for an order
  we do not have yet fetches it, never lost; a REST body could not tell a fulfillment's parts apart
  from a stale copy anyway). REST orders (`orders/updated`) carry both lists complete.
- Reconciled id by id: an order whose refund or fulfillment ids differ from Shopify's is stale.
"""

from __future__ import annotations

from shopsync.models import (
    Fulfillment,
    FulfillmentLineItem,
    LineItem,
    Order,
    OrderAdjustment,
    OrderTransaction,
    Refund,
    RefundLineItem,
    RefundShippingLine,
    RefundTransaction,
)
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
from shopsync.payloads.order_children import (
    FULFILLMENT,
    FULFILLMENT_FIELDS,
    FULFILLMENT_LINE_ITEM,
    FULFILLMENT_LINE_ITEM_FIELDS,
    ORDER_ADJUSTMENT,
    ORDER_ADJUSTMENT_FIELDS,
    REFUND,
    REFUND_FIELDS,
    REFUND_LINE_ITEM,
    REFUND_LINE_ITEM_FIELDS,
    REFUND_SHIPPING_LINE,
    REFUND_SHIPPING_LINE_FIELDS,
    REFUND_TRANSACTION,
    REFUND_TRANSACTION_FIELDS,
    fulfillment_line_item_record,
    fulfillment_record,
    order_adjustment_record,
    refund_line_item_record,
    refund_record,
    refund_shipping_line_record,
    refund_transaction_record,
)
from shopsync.payloads.order_extras import GRAPHQL_ONLY_TOTALS
from shopsync.payloads.records import (
    FulfillmentLineItemRecord,
    FulfillmentRecord,
    LineItemRecord,
    OrderAdjustmentRecord,
    OrderRecord,
    RefundLineItemRecord,
    RefundRecord,
    RefundShippingLineRecord,
    RefundTransactionRecord,
    TransactionRecord,
)
from shopsync.payloads.rest import (
    parse_fulfillment_rest,
    parse_order_rest,
    parse_refund_rest,
    parse_transaction_rest,
)
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

# The parts of a refund and of a fulfillment: connections under a list (never in a bulk query).
REFUND_LINE_ITEMS = ChildDeclaration(
    name="refund_line_items",
    label="refund line item",
    model=RefundLineItem,
    record_type=RefundLineItemRecord,
    parent_column="refund_id",
    graphql_field="refundLineItems",
    graphql_type="RefundLineItem",
    graphql_fields=REFUND_LINE_ITEM_FIELDS,
    is_connection=True,
    build=refund_line_item_record,
    node_adapter=REFUND_LINE_ITEM,
    first_page=3,
    rest_key="refund_line_items",
    deletion="never deleted; replaced with its refund's set",
)

REFUND_SHIPPING_LINES = ChildDeclaration(
    name="refund_shipping_lines",
    label="refunded shipping line",
    model=RefundShippingLine,
    record_type=RefundShippingLineRecord,
    parent_column="refund_id",
    graphql_field="refundShippingLines",
    graphql_type="RefundShippingLine",
    graphql_fields=REFUND_SHIPPING_LINE_FIELDS,
    is_connection=True,
    build=refund_shipping_line_record,
    node_adapter=REFUND_SHIPPING_LINE,
    first_page=1,
    rest_key="refund_shipping_lines",
    deletion="never deleted; replaced with its refund's set",
)

ORDER_ADJUSTMENTS = ChildDeclaration(
    name="order_adjustments",
    label="order adjustment",
    model=OrderAdjustment,
    record_type=OrderAdjustmentRecord,
    parent_column="refund_id",
    graphql_field="orderAdjustments",
    graphql_type="OrderAdjustment",
    graphql_fields=ORDER_ADJUSTMENT_FIELDS,
    is_connection=True,
    build=order_adjustment_record,
    node_adapter=ORDER_ADJUSTMENT,
    first_page=1,
    rest_key="order_adjustments",
    deletion="never deleted; replaced with its refund's set",
)

# Which of the order's transactions paid the refund back: GraphQL `Refund.transactions` is a
# connection (unlike `Order.transactions`), REST `refunds[].transactions[]` are whole transactions
# (their ids are what is kept). A link by the transaction's Shopify id, not a foreign key: the
# refund comes with its order's version, the transaction with its order's or its own webhook
# (`order_transactions/create`), in either order, and each keeps its side until the other arrives.
REFUND_TRANSACTIONS = ChildDeclaration(
    name="refund_transactions",
    label="refund transaction",
    model=RefundTransaction,
    record_type=RefundTransactionRecord,
    parent_column="refund_id",
    graphql_field="transactions",
    graphql_type="OrderTransaction",
    graphql_fields=REFUND_TRANSACTION_FIELDS,
    is_connection=True,
    build=refund_transaction_record,
    node_adapter=REFUND_TRANSACTION,
    first_page=2,
    rest_key="transactions",
    deletion="never deleted; replaced with its refund's set",
)

FULFILLMENT_LINE_ITEMS = ChildDeclaration(
    name="fulfillment_line_items",
    label="fulfillment line item",
    model=FulfillmentLineItem,
    record_type=FulfillmentLineItemRecord,
    parent_column="fulfillment_id",
    graphql_field="fulfillmentLineItems",
    graphql_type="FulfillmentLineItem",
    graphql_fields=FULFILLMENT_LINE_ITEM_FIELDS,
    is_connection=True,
    build=fulfillment_line_item_record,
    node_adapter=FULFILLMENT_LINE_ITEM,
    first_page=5,
    rest_key="line_items",
    deletion="never deleted; replaced with its fulfillment's set",
)

# The webhooks name the order (`order_id`): it is fetched by id, complete (see the module's notes).
REFUNDS = ChildDeclaration(
    name="refunds",
    label="refund",
    model=Refund,
    record_type=RefundRecord,
    parent_column="order_id",
    graphql_field="refunds",
    graphql_type="Refund",
    graphql_fields=REFUND_FIELDS,
    is_connection=False,
    build=refund_record,
    node_adapter=REFUND,
    rest_key="refunds",
    parse_rest=parse_refund_rest,
    topics=(WebhookTopic("refunds/create", "REFUNDS_CREATE", TopicAction.REFETCH, id_key="order_id"),),
    deletion="never deleted (no refunds/delete topic); replaced with the order's set",
    reconciled=True,
    children=(REFUND_LINE_ITEMS, REFUND_SHIPPING_LINES, ORDER_ADJUSTMENTS, REFUND_TRANSACTIONS),
)

FULFILLMENTS = ChildDeclaration(
    name="fulfillments",
    label="fulfillment",
    model=Fulfillment,
    record_type=FulfillmentRecord,
    parent_column="order_id",
    graphql_field="fulfillments",
    graphql_type="Fulfillment",
    graphql_fields=FULFILLMENT_FIELDS,
    is_connection=False,
    build=fulfillment_record,
    node_adapter=FULFILLMENT,
    rest_key="fulfillments",
    parse_rest=parse_fulfillment_rest,
    topics=(
        WebhookTopic("fulfillments/create", "FULFILLMENTS_CREATE", TopicAction.REFETCH, id_key="order_id"),
        WebhookTopic("fulfillments/update", "FULFILLMENTS_UPDATE", TopicAction.REFETCH, id_key="order_id"),
    ),
    deletion="cancelled, never deleted (status cancelled); replaced with the order's set",
    reconciled=True,
    children=(FULFILLMENT_LINE_ITEMS,),
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
    children=(LINE_ITEMS, TRANSACTIONS, REFUNDS, FULFILLMENTS, ORDER_METAFIELDS),
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
