"""Products, their variants (a connection) and their options (a list).

A variant's option values are `option1..3` in REST and webhooks, `selectedOptions` in GraphQL (in
the product's option order); both land in the variant's `option1..3`. The product's options (name,
position, values) are a child table, so a partial webhook body without `options` keeps them, and
a product's options are replaced with each newer product version, as its variants are.
"""

from __future__ import annotations

from shopsync.models import LineItem, Product, ProductMedia, ProductOption, ProductVariant
from shopsync.payloads.graphql import (
    MEDIA,
    MEDIA_LINE,
    PRODUCT,
    PRODUCT_OPTION,
    VARIANT,
    VARIANT_LINE,
    media_record,
    product_option_record,
    product_record,
    variant_record,
)
from shopsync.payloads.graphql_fields import (
    MEDIA_FIELDS,
    PRODUCT_FIELDS,
    PRODUCT_OPTION_FIELDS,
    VARIANT_FIELDS,
)
from shopsync.payloads.records import ProductMediaRecord, ProductOptionRecord, ProductRecord, VariantRecord
from shopsync.payloads.rest import parse_product_rest
from shopsync.resources.base import (
    ChildDeclaration,
    DeletedReference,
    DeletionEvent,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)
from shopsync.resources.metafields import PRODUCT_METAFIELDS

VARIANTS = ChildDeclaration(
    name="variants",
    label="variant",
    model=ProductVariant,
    record_type=VariantRecord,
    parent_column="product_id",
    graphql_field="variants",
    graphql_type="ProductVariant",
    graphql_fields=VARIANT_FIELDS,
    is_connection=True,
    build=variant_record,
    node_adapter=VARIANT,
    bulk_line_adapter=VARIANT_LINE,
    first_page=10,
    rest_key="variants",
    deletion="absent from the product's next version (no topic of its own)",
    # A deleted variant (or its deleted product) leaves the line items that sold it without a
    # variant id, as Shopify renders them, and their orders' updated_at does not move.
    deleted_references=(DeletedReference(LineItem, "variant_shopify_id", ("variant_shopify_id",)),),
    # The inventory item's cost is GraphQL only (REST variants never carry it).
    kept_when_absent=("unit_cost",),
    # An inventory item's body names neither its variant nor its product (contract §8.9): the
    # product of the variant holding it is fetched, with the item's tracking and cost.
    topics=tuple(
        WebhookTopic(
            f"inventory_items/{action}",
            f"INVENTORY_ITEMS_{action.upper()}",
            TopicAction.REFETCH_PARENT,
            lookup_column="inventory_item_shopify_id",
        )
        for action in ("create", "update", "delete")
    ),
)

OPTIONS = ChildDeclaration(
    name="options",
    label="option",
    model=ProductOption,
    record_type=ProductOptionRecord,
    parent_column="product_id",
    graphql_field="options",
    graphql_type="ProductOption",
    graphql_fields=PRODUCT_OPTION_FIELDS,
    is_connection=False,
    build=product_option_record,
    node_adapter=PRODUCT_OPTION,
    rest_key="options",
    deletion="absent from the product's next version",
)

# Images (contract §8.7): `Product.media` is a connection (`images` is deprecated). With `products`
# and `variants` the bulk export holds three connections at one nesting level (limits: five, two).
# Which variant shows an image is the variant's `image_shopify_id` (REST `image_id`, GraphQL
# `image { id }`), so no `ProductVariant.media` connection (a second nesting level) is needed.
MEDIA_CHILD = ChildDeclaration(
    name="media",
    label="image",
    model=ProductMedia,
    record_type=ProductMediaRecord,
    parent_column="product_id",
    graphql_field="media",
    graphql_type="MediaImage",
    graphql_other_types=("Video", "ExternalVideo", "Model3d"),
    graphql_fields=MEDIA_FIELDS,
    is_connection=True,
    build=media_record,
    node_adapter=MEDIA,
    bulk_line_adapter=MEDIA_LINE,
    first_page=10,
    rest_key="images",
    deletion="absent from the product's next version",
    numbered_column="position",
)

PRODUCTS = ResourceDeclaration(
    name="products",
    singular="product",
    graphql_type="Product",
    model=Product,
    record_type=ProductRecord,
    graphql_fields=PRODUCT_FIELDS,
    node_adapter=PRODUCT,
    build=product_record,
    parse_rest=parse_product_rest,
    children=(VARIANTS, OPTIONS, MEDIA_CHILD, PRODUCT_METAFIELDS),
    topics=(
        WebhookTopic("products/create", "PRODUCTS_CREATE", TopicAction.UPSERT),
        WebhookTopic("products/update", "PRODUCTS_UPDATE", TopicAction.UPSERT),
        WebhookTopic("products/delete", "PRODUCTS_DELETE", TopicAction.DELETE),
    ),
    deletion="products/delete {id}; absent from a full sync. Archived is not a deletion.",
    # Shopify nulls a deleted product's references on the line items that sold it (contract §6.1)
    # without moving those orders' updated_at.
    deleted_references=(
        DeletedReference(LineItem, "product_shopify_id", ("product_shopify_id", "variant_shopify_id")),
    ),
    # Documented: Shopify's Event reference lists `destroy` for products.
    deletion_event=DeletionEvent("PRODUCT"),
    # Requested cost per page on the simulator: 2 + 16 x (3 + 1 (options) + 2 + 10 x 2 (a variant
    # and its selectedOptions and image) + 2 + 10 x 2 (an image and its picture)) = 898.
    page_size=16,
    ids_per_query=5,
)
