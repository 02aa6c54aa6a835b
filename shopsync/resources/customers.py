"""Customers and their address books (contract §6.2, §8.6).

Addresses: `Customer.addressesV2`, a connection. The product runs on API 2026-01 (supported from
2025-10), where the plain `addresses` list is deprecated and may be removed in any later version;
`addressesV2` is its replacement there. It costs one bulk connection (customers, addressesV2: 2 of
5, one nesting level) and gives child lines with `__parentId` = the customer, and in paged queries a
first page per customer, with the rest by the customer's id. REST bodies carry the 10 most recent
addresses: a body with fewer is the whole book; one with 10 may be cut, so it leaves the stored set
alone (a later GraphQL read, or reconciliation, brings it right).
- No clock of its own: the set is replaced with each newer customer version. Adding, editing or
  removing an address, or moving the default, moves the customer's `updatedAt` and sends
  `customers/update` (the simulator's reading; contract §8.11 "replace the set on customer update").
- Which address is the default: the customer's `defaultAddress { id }` / REST `default_address.id`.
- Reconciled id by id: a customer whose address ids differ from Shopify's is stale and healed.

Consent and locale are columns of the customer. The consent topics name only the customer (their
body keys are [UNSURE], contract §8.6): the customer is fetched by id (`TopicAction.REFETCH`).
"""

from __future__ import annotations

from shopsync.models import Customer, CustomerAddress
from shopsync.payloads.customers import ADDRESS, ADDRESS_LINE, address_record, parse_address_rest
from shopsync.payloads.graphql import CUSTOMER, customer_record
from shopsync.payloads.graphql_fields import CUSTOMER_ADDRESS_FIELDS, CUSTOMER_FIELDS
from shopsync.payloads.records import CustomerAddressRecord, CustomerRecord
from shopsync.payloads.rest import parse_customer_rest
from shopsync.resources.base import (
    ChildDeclaration,
    DeletionEvent,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)
from shopsync.resources.metafields import CUSTOMER_METAFIELDS

ADDRESSES = ChildDeclaration(
    name="addresses",
    label="address",
    model=CustomerAddress,
    record_type=CustomerAddressRecord,
    parent_column="customer_id",
    graphql_field="addressesV2",
    graphql_type="MailingAddress",
    graphql_fields=CUSTOMER_ADDRESS_FIELDS,
    is_connection=True,
    build=address_record,
    node_adapter=ADDRESS,
    bulk_line_adapter=ADDRESS_LINE,
    first_page=5,
    rest_key="addresses",
    parse_rest=parse_address_rest,
    deletion="absent from the customer's next version (REST: only a body with fewer than 10)",
    reconciled=True,
)

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
    children=(ADDRESSES, CUSTOMER_METAFIELDS),
    topics=(
        WebhookTopic("customers/create", "CUSTOMERS_CREATE", TopicAction.UPSERT),
        WebhookTopic("customers/update", "CUSTOMERS_UPDATE", TopicAction.UPSERT),
        WebhookTopic("customers/delete", "CUSTOMERS_DELETE", TopicAction.DELETE),
        # REST customer bodies (contract §8.14).
        WebhookTopic("customers/enable", "CUSTOMERS_ENABLE", TopicAction.UPSERT),
        WebhookTopic("customers/disable", "CUSTOMERS_DISABLE", TopicAction.UPSERT),
        # Bodies `{customer_id, ...consent}` (keys [UNSURE]): the customer is fetched by id.
        WebhookTopic(
            "customers_email_marketing_consent/update",
            "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE",
            TopicAction.REFETCH,
            id_key="customer_id",
        ),
        # The SMS consent topic, despite its generic name.
        WebhookTopic(
            "customers_marketing_consent/update",
            "CUSTOMERS_MARKETING_CONSENT_UPDATE",
            TopicAction.REFETCH,
            id_key="customer_id",
        ),
    ),
    deletion="customers/delete {id}; absent from a full sync. A disabled state is not a deletion.",
    # [UNSURE] as for orders: no customer `destroy` is documented; read in case Shopify records it.
    deletion_event=DeletionEvent("CUSTOMER"),
    # Requested cost per page on the simulator: 2 + 75 x (5 + addressesV2(first: 5): 2 + 5) = 902.
    page_size=75,
    # `nodes(ids:)`, each with its first 20 addresses (by_id.FIRST_CHILD_PAGE_SIZE): 30 x 27 = 810.
    ids_per_query=30,
    insert_only=(("local_notes", "''"), ("local_tags", "'[]'"), ("local_attributes", "'{}'")),
    kept_when_absent=("locale",),
)
