"""The GraphQL selections the payload parsers expect (Shopify's real field names, contract §6).

The sync engine builds its bulk and paged queries from these, e.g.

    bulk:  { orders(query: "...") { edges { node { ORDER_FIELDS
                lineItems { edges { node { LINE_ITEM_FIELDS } } } } } } }
    paged: orders(first: 250, after: $cursor, sortKey: UPDATED_AT, query: "...") {
               nodes { ORDER_FIELDS lineItems(first: 250) { nodes { LINE_ITEM_FIELDS } } }
               pageInfo { hasNextPage endCursor } }

Children (`lineItems`, `variants`: connections; `transactions`, `options`: lists) are left to the
query builders (`shopsync.services.sync.graphql_queries`), which read them from the declarations in
`shopsync.resources`: bulk and paged queries page connections differently, lists come inline. Every field below is optional for the parser except `id`,
`updatedAt` (parents) and `id`, `quantity` (line items).

Order `number` (`Int!`) is REST's `order_number` (1001 for "#1001"), not REST's `number` (1): selected
so orders synced through GraphQL store `order_number` like REST and webhooks do.
"""

from __future__ import annotations

from shopsync.payloads.order_extras import LINE_ITEM_EXTRA_FIELDS, ORDER_EXTRA_FIELDS

MONEY_BAG = "shopMoney { amount currencyCode }"

MAILING_ADDRESS_FIELDS = "firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone"

ORDER_FIELDS = f"""
id
legacyResourceId
name
number
email
phone
createdAt
updatedAt
processedAt
cancelledAt
cancelReason
closedAt
currencyCode
presentmentCurrencyCode
displayFinancialStatus
displayFulfillmentStatus
totalPriceSet {{ {MONEY_BAG} }}
subtotalPriceSet {{ {MONEY_BAG} }}
totalTaxSet {{ {MONEY_BAG} }}
totalDiscountsSet {{ {MONEY_BAG} }}
tags
note
test
customer {{ id }}
shippingAddress {{ {MAILING_ADDRESS_FIELDS} }}
{ORDER_EXTRA_FIELDS}
""".strip()

LINE_ITEM_FIELDS = f"""
id
sku
title
variantTitle
vendor
quantity
variant {{ id }}
product {{ id }}
originalUnitPriceSet {{ {MONEY_BAG} }}
totalDiscountSet {{ {MONEY_BAG} }}
{LINE_ITEM_EXTRA_FIELDS}
""".strip()

# Consent on `defaultEmailAddress` / `defaultPhoneNumber` (2025-04+, contract §8.6), not on the
# deprecated `emailMarketingConsent` / `smsMarketingConsent`. The address book (`addressesV2`, a
# connection) is added by the query builders; `defaultAddress { id }` says which one is the default.
CUSTOMER_FIELDS = f"""
id
legacyResourceId
firstName
lastName
defaultEmailAddress {{ emailAddress marketingState marketingOptInLevel marketingUpdatedAt }}
defaultPhoneNumber {{ phoneNumber marketingState marketingOptInLevel marketingUpdatedAt marketingCollectedFrom }}
locale
state
tags
note
verifiedEmail
taxExempt
numberOfOrders
amountSpent {{ amount currencyCode }}
createdAt
updatedAt
defaultAddress {{ id {MAILING_ADDRESS_FIELDS} }}
""".strip()

# `Customer.addressesV2` nodes (MailingAddress): the id first, as every connection child's selection.
CUSTOMER_ADDRESS_FIELDS = f"id {MAILING_ADDRESS_FIELDS}"

PRODUCT_FIELDS = """
id
legacyResourceId
title
handle
vendor
productType
status
tags
descriptionHtml
publishedAt
createdAt
updatedAt
""".strip()

VARIANT_FIELDS = """
id
legacyResourceId
title
sku
barcode
position
price
compareAtPrice
inventoryQuantity
selectedOptions { name value }
image { id }
inventoryItem { id tracked unitCost { amount } }
createdAt
updatedAt
""".strip()

# `Product.media` (a connection): `alt` is the Media interface's, the picture only a MediaImage's.
# Metafields (contract §8.10): `id` first (the bulk reader tells child lines apart by their first GID).
METAFIELD_FIELDS = "id namespace key type value createdAt updatedAt"

MEDIA_FIELDS = "id alt ... on MediaImage { image { url width height } }"

# `Product.options` is a list (inline in the product's line and node).
PRODUCT_OPTION_FIELDS = """
id
name
position
values
""".strip()

# `Order.transactions` is a list, not a connection (contract §8.2): inline, no paging. The amount is
# the presentment money, what REST's `amount` / `currency` hold.
TRANSACTION_FIELDS = f"""
id
kind
status
gateway
amountSet {{ presentmentMoney {{ amount currencyCode }} {MONEY_BAG} }}
createdAt
processedAt
parentTransaction {{ id }}
errorCode
test
authorizationCode
""".strip()
