"""Metafields (contract §8.10, §8.13) of orders, customers and products: a connection child of each
owner's declaration, selected only in the namespaces the shop chose (`Shop.metafield_namespaces`,
none by default), so a shop without any pays nothing.

- A table per owner type (`shopsync.models.metafields` says why), one declaration each, built here.
- Bulk: `metafields` under the owner is one more connection at the first nesting level (orders:
  orders, lineItems, metafields; customers: customers, addressesV2, metafields; products: products,
  variants, media, metafields; all within five connections and two levels). Child lines carry
  `__parentId` = the owner.
- Filter: `metafields(namespace: "x")` when the shop chose one namespace; the argument takes one, so
  with several every namespace is read and the write path keeps only the chosen ones (bulk exports
  allow five connections: an aliased connection per namespace would not fit).
- No clock we rely on: a metafield has its own `updatedAt`, but the set is carried under the owner's
  version and replaced with each newer owner version, like addresses. Whether a metafield write moves
  the owner's `updatedAt` is [UNSURE] (§8.10); when it does not, incremental runs do not see it, and
  full runs (which re-read every owner) and reconciliation bring it right: its snapshot carries each
  metafield's id and `updatedAt`, so a created, deleted or edited metafield makes its owner stale and
  a heal fetches the owner again, metafields included (`ChildDeclaration.version_column`). The
  scheduled reconciliation (with auto-heal) is the metafield re-poll the contract's safer reading asks
  for: one bulk export per owner type, the metafields compared by version, only changed owners read.
- Webhooks: no `metafields/*` topic exists; owner topics carry `metafields[]` for the namespaces the
  subscription names (`metafieldNamespaces`, set from the shop's choice, `webhooks.services.
  registration`). A body without the key keeps the stored set.
- Variants' metafields are not mirrored yet: under `products → variants` they are a second nesting
  level and need the bulk reader to attach grandchildren lines (or their own `productVariants` export).
"""

from __future__ import annotations

from django.db import models

from shopsync.models import CustomerMetafield, OrderMetafield, ProductMetafield
from shopsync.payloads.graphql_fields import METAFIELD_FIELDS
from shopsync.payloads.metafields import METAFIELD, METAFIELD_LINE, metafield_record, parse_metafield_rest
from shopsync.payloads.records import MetafieldRecord
from shopsync.resources.base import ChildDeclaration


def metafields_child(model: type[models.Model], parent_column: str) -> ChildDeclaration:
    return ChildDeclaration(
        name="metafields",
        label="metafield",
        model=model,
        record_type=MetafieldRecord,
        parent_column=parent_column,
        graphql_field="metafields",
        graphql_type="Metafield",
        graphql_fields=METAFIELD_FIELDS,
        is_connection=True,
        build=metafield_record,
        node_adapter=METAFIELD,
        bulk_line_adapter=METAFIELD_LINE,
        first_page=10,
        rest_key="metafields",
        parse_rest=parse_metafield_rest,
        deletion="absent from the owner's next version read in the shop's namespaces",
        reconciled=True,
        namespaced=True,
        version_column="shopify_updated_at",
    )


ORDER_METAFIELDS = metafields_child(OrderMetafield, "order_id")
CUSTOMER_METAFIELDS = metafields_child(CustomerMetafield, "customer_id")
PRODUCT_METAFIELDS = metafields_child(ProductMetafield, "product_id")
