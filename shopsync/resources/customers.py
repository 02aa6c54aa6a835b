"""Customers: a root with no children."""

from __future__ import annotations

from shopsync.models import Customer
from shopsync.payloads.graphql import CUSTOMER, customer_record
from shopsync.payloads.graphql_fields import CUSTOMER_FIELDS
from shopsync.payloads.records import CustomerRecord
from shopsync.payloads.rest import parse_customer_rest
from shopsync.resources.base import DeletionEvent, ResourceDeclaration, TopicAction, WebhookTopic

CUSTOMERS = ResourceDeclaration(
    name="customers",
    singular="customer",
    graphql_type="Customer",
    model=Customer,
    record_type=CustomerRecord,
    graphql_fields=CUSTOMER_FIELDS,
    node_adapter=CUSTOMER,
    build=customer_record,
    parse_rest=parse_customer_rest,
    topics=(
        WebhookTopic("customers/create", "CUSTOMERS_CREATE", TopicAction.UPSERT),
        WebhookTopic("customers/update", "CUSTOMERS_UPDATE", TopicAction.UPSERT),
        WebhookTopic("customers/delete", "CUSTOMERS_DELETE", TopicAction.DELETE),
    ),
    deletion="customers/delete {id}; absent from a full sync. A disabled state is not a deletion.",
    # [UNSURE] as for orders: no customer `destroy` is documented; read in case Shopify records it.
    deletion_event=DeletionEvent("CUSTOMER"),
    # Requested cost per page on the simulator: 2 + 100 x 5 = 502.
    page_size=100,
    ids_per_query=100,
    insert_only=(("local_notes", "''"), ("local_tags", "'[]'"), ("local_attributes", "'{}'")),
)
