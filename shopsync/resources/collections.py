"""Collections (custom and smart, with their rules) and which products are in each (contract §8.8).

Membership (`Collection.products`, a connection: one `{"id": product, "__parentId": collection}`
JSONL line per member in a bulk export, its own pages in a paged query) is a child of the
collection, keyed by (collection, product). What we rely on, and what we do not:

- We do NOT rely on membership moving the collection's `updatedAt`, nor on any webhook announcing
  it (contract §8.8, §8.16.6: adding a product to a custom collection changes neither; a smart
  collection's members change when a *product* is edited). Every time a collection version is read
  from GraphQL, its whole member list is read with it and replaces the stored list, even at the
  same `updatedAt` (a refetch of the same version is authoritative, Ordering.PARENT).
- So membership converges through the paths that re-read collections whatever their `updatedAt`:
  a full run (every collection, with its members: §8.13's `collections { products }` as its own bulk
  export), and reconciliation, which compares each collection's member ids with Shopify's
  (`reconciled=True`: the snapshot export selects `products { id }`) and heals a collection whose
  members differ by refetching it by id. Incremental runs and `collections/*` webhooks catch the
  changes that do move the collection.
- `collections/create|update` bodies carry no members: the stored members stay ("not given").
- A product's deletion is not a membership change we see: its rows stay until the collection is
  read again (the product page lists only stored, live collections of a product).
"""

from __future__ import annotations

from shopsync.models import Collection, CollectionProduct
from shopsync.payloads.catalogue import (
    COLLECTION,
    COLLECTION_FIELDS,
    COLLECTION_PRODUCT,
    COLLECTION_PRODUCT_FIELDS,
    COLLECTION_PRODUCT_LINE,
    CollectionProductRecord,
    CollectionRecord,
    collection_product_record,
    collection_record,
    parse_collection_rest,
)
from shopsync.resources.base import (
    ChildDeclaration,
    DeletionEvent,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)

MEMBERS = ChildDeclaration(
    name="members",
    label="member product",
    model=CollectionProduct,
    record_type=CollectionProductRecord,
    parent_column="collection_id",
    graphql_field="products",
    graphql_type="Product",
    graphql_fields=COLLECTION_PRODUCT_FIELDS,
    is_connection=True,
    build=collection_product_record,
    node_adapter=COLLECTION_PRODUCT,
    bulk_line_adapter=COLLECTION_PRODUCT_LINE,
    first_page=25,
    deletion="absent from the collection's next read (its whole member list, at any updatedAt)",
    reconciled=True,
    unique_per_parent=True,
)

COLLECTIONS = ResourceDeclaration(
    name="collections",
    singular="collection",
    graphql_type="Collection",
    model=Collection,
    record_type=CollectionRecord,
    graphql_fields=COLLECTION_FIELDS,
    node_adapter=COLLECTION,
    build=collection_record,
    parse_rest=parse_collection_rest,
    children=(MEMBERS,),
    topics=(
        WebhookTopic("collections/create", "COLLECTIONS_CREATE", TopicAction.UPSERT),
        WebhookTopic("collections/update", "COLLECTIONS_UPDATE", TopicAction.UPSERT),
        WebhookTopic("collections/delete", "COLLECTIONS_DELETE", TopicAction.DELETE),
    ),
    deletion="collections/delete {id}; absent from a full sync.",
    # Shopify's Event reference lists `destroy` for collections (contract §8.12: events help find
    # deleted products and collections after a webhook outage).
    deletion_event=DeletionEvent("COLLECTION"),
    # Requested cost per page on the simulator: 2 + 10 x (4 + 2 + 25 members) = 312 (a collection
    # with more members gets the rest by its id).
    page_size=10,
    ids_per_query=10,
    # REST counts the two kinds apart (there is no collections/count.json).
    count_resources=("custom_collections", "smart_collections"),
)
