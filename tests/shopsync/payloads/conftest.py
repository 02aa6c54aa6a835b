"""The same order, customer and product in both payload shapes (REST/webhook and GraphQL)."""

from __future__ import annotations

import pytest

ORDER_ID = 820982911946154508
# The customer's two addresses, the first its default (each builder gives its own copies).
REST_CUSTOMER_ADDRESS = {
    "id": 207119551,
    "customer_id": 207119551,
    "first_name": None,
    "last_name": None,
    "name": "",
    "company": None,
    "address1": "Chestnut Street 92",
    "address2": "",
    "city": "Louisville",
    "province": "Kentucky",
    "province_code": "KY",
    "country": "United States",
    "country_code": "US",
    "country_name": "United States",
    "zip": "40202",
    "phone": "555-625-1199",
}
REST_CUSTOMER_OTHER_ADDRESS = {
    "id": 207119552,
    "customer_id": 207119551,
    "first_name": "Bob",
    "last_name": "Norman",
    "name": "Bob Norman",
    "company": "Acme",
    "address1": "1 Rue Laurier",
    "address2": None,
    "city": "Montréal",
    "province": "Quebec",
    "province_code": "QC",
    "country": "Canada",
    "country_code": "CA",
    "country_name": "Canada",
    "zip": "H2T 1A1",
    "phone": None,
}
GRAPHQL_CUSTOMER_ADDRESS = {
    "id": "gid://shopify/MailingAddress/207119551?model_name=CustomerAddress",
    "firstName": None,
    "lastName": None,
    "name": "",
    "company": None,
    "address1": "Chestnut Street 92",
    "address2": "",
    "city": "Louisville",
    "province": "Kentucky",
    "provinceCode": "KY",
    "country": "United States",
    "countryCodeV2": "US",
    "zip": "40202",
    "phone": "555-625-1199",
}
GRAPHQL_CUSTOMER_OTHER_ADDRESS = {
    "id": "gid://shopify/MailingAddress/207119552?model_name=CustomerAddress",
    "firstName": "Bob",
    "lastName": "Norman",
    "name": "Bob Norman",
    "company": "Acme",
    "address1": "1 Rue Laurier",
    "address2": None,
    "city": "Montréal",
    "province": "Quebec",
    "provinceCode": "QC",
    "country": "Canada",
    "countryCodeV2": "CA",
    "zip": "H2T 1A1",
    "phone": None,
}


@pytest.fixture
def rest_order() -> dict:
    return {
        "id": ORDER_ID,
        "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
        "name": "#9999",
        "number": 8999,
        "order_number": 9999,
        "email": "jon@example.com",
        "phone": None,
        "created_at": "2021-12-31T19:00:00-05:00",
        "updated_at": "2022-01-01T08:30:00+01:00",
        "processed_at": "2021-12-31T19:00:00-05:00",
        "cancelled_at": None,
        "cancel_reason": None,
        "closed_at": None,
        "currency": "USD",
        "presentment_currency": "EUR",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "359.97",
        "subtotal_price": "349.97",
        "total_tax": "0.00",
        "total_discounts": "5.00",
        "tags": "wholesale,  vip , ",
        "note": None,
        "test": False,
        "customer": {"id": 115310627314723954, "email": "jon@example.com"},
        "shipping_address": {
            "first_name": "Jon",
            "last_name": "Snow",
            "name": "Jon Snow",
            "company": None,
            "address1": "1 Wall St",
            "address2": None,
            "city": "Winterfell",
            "province": "North",
            "province_code": "NO",
            "country": "United States",
            "country_code": "US",
            "country_name": "United States",
            "zip": "10001",
            "phone": None,
            "latitude": None,
            "longitude": None,
        },
        "line_items": [
            {
                "id": 866550311766439020,
                "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
                "variant_id": 808950810,
                "product_id": 632910392,
                "sku": "IPOD-342-N",
                "title": "IPod Nano",
                "variant_title": "Pink",
                "vendor": None,
                "quantity": 3,
                "price": "119.99",
                "total_discount": "0.00",
                "properties": [],
            }
        ],
        "shipping_lines": [],
    }


@pytest.fixture
def graphql_order() -> dict:
    money = lambda amount: {"shopMoney": {"amount": amount, "currencyCode": "USD"}}  # noqa: E731
    return {
        "id": f"gid://shopify/Order/{ORDER_ID}",
        "legacyResourceId": str(ORDER_ID),
        "name": "#9999",
        "number": 9999,
        "email": "jon@example.com",
        "phone": None,
        "createdAt": "2022-01-01T00:00:00Z",
        "updatedAt": "2022-01-01T07:30:00Z",
        "processedAt": "2022-01-01T00:00:00Z",
        "cancelledAt": None,
        "cancelReason": None,
        "closedAt": None,
        "currencyCode": "USD",
        "presentmentCurrencyCode": "EUR",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalPriceSet": money("359.97"),
        "subtotalPriceSet": money("349.97"),
        "totalTaxSet": money("0.0"),
        "totalDiscountsSet": money("5.0"),
        "tags": ["wholesale", "vip"],
        "note": None,
        "test": False,
        "customer": {"id": "gid://shopify/Customer/115310627314723954"},
        "shippingAddress": {
            "firstName": "Jon",
            "lastName": "Snow",
            "name": "Jon Snow",
            "company": None,
            "address1": "1 Wall St",
            "address2": None,
            "city": "Winterfell",
            "province": "North",
            "provinceCode": "NO",
            "country": "United States",
            "countryCodeV2": "US",
            "zip": "10001",
            "phone": None,
        },
        "lineItems": {"nodes": [graphql_line_item()]},
    }


def graphql_line_item() -> dict:
    return {
        "id": "gid://shopify/LineItem/866550311766439020",
        "sku": "IPOD-342-N",
        "title": "IPod Nano",
        "variantTitle": "Pink",
        "vendor": None,
        "quantity": 3,
        "variant": {"id": "gid://shopify/ProductVariant/808950810"},
        "product": {"id": "gid://shopify/Product/632910392"},
        "originalUnitPriceSet": {"shopMoney": {"amount": "119.99", "currencyCode": "USD"}},
        "totalDiscountSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
    }


@pytest.fixture
def rest_customer() -> dict:
    return {
        "id": 207119551,
        "email": "bob.norman@mail.example.com",
        "phone": "+16136120707",
        "first_name": "Bob",
        "last_name": "Norman",
        "created_at": "2024-01-02T09:00:00-05:00",
        "updated_at": "2024-01-02T09:30:00-05:00",
        "state": "enabled",
        "orders_count": 3,
        "total_spent": "375.30",
        "currency": "USD",
        "tags": "loyal",
        "note": None,
        "verified_email": True,
        "tax_exempt": False,
        "email_marketing_consent": {
            "state": "subscribed",
            "opt_in_level": "confirmed_opt_in",
            "consent_updated_at": "2024-01-02T09:10:00-05:00",
        },
        "sms_marketing_consent": {
            "state": "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": None,
            "consent_collected_from": "OTHER",
        },
        "addresses": [
            REST_CUSTOMER_ADDRESS | {"default": True},
            REST_CUSTOMER_OTHER_ADDRESS | {"default": False},
        ],
        "default_address": REST_CUSTOMER_ADDRESS | {"default": True},
    }


@pytest.fixture
def graphql_customer() -> dict:
    return {
        "id": "gid://shopify/Customer/207119551",
        "legacyResourceId": "207119551",
        "firstName": "Bob",
        "lastName": "Norman",
        "defaultEmailAddress": {
            "emailAddress": "bob.norman@mail.example.com",
            "marketingState": "SUBSCRIBED",
            "marketingOptInLevel": "CONFIRMED_OPT_IN",
            "marketingUpdatedAt": "2024-01-02T14:10:00Z",
        },
        "defaultPhoneNumber": {
            "phoneNumber": "+16136120707",
            "marketingState": "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "marketingUpdatedAt": None,
            "marketingCollectedFrom": "OTHER",
        },
        "createdAt": "2024-01-02T14:00:00Z",
        "updatedAt": "2024-01-02T14:30:00Z",
        "state": "ENABLED",
        "numberOfOrders": "3",
        "amountSpent": {"amount": "375.3", "currencyCode": "USD"},
        "tags": ["loyal"],
        "note": None,
        "verifiedEmail": True,
        "taxExempt": False,
        "addressesV2": {"nodes": [dict(GRAPHQL_CUSTOMER_ADDRESS), dict(GRAPHQL_CUSTOMER_OTHER_ADDRESS)]},
        "defaultAddress": dict(GRAPHQL_CUSTOMER_ADDRESS),
    }


@pytest.fixture
def rest_product() -> dict:
    return {
        "id": 632910392,
        "title": "IPod Nano - 8GB",
        "body_html": "<p>It's the small iPod.</p>",
        "vendor": "Apple",
        "product_type": "Cult Products",
        "handle": "ipod-nano",
        "status": "active",
        "tags": "Emotive, Flash Memory, MP3, Music",
        "created_at": "2024-01-02T09:00:00-05:00",
        "updated_at": "2024-01-02T09:30:00-05:00",
        "published_at": "2024-01-02T09:00:00-05:00",
        "variants": [
            {
                "id": 808950810,
                "product_id": 632910392,
                "title": "Pink",
                "sku": "IPOD2008PINK",
                "barcode": "1234_pink",
                "position": 1,
                "price": "199.00",
                "compare_at_price": None,
                "inventory_quantity": 10,
                "created_at": "2024-01-02T09:00:00-05:00",
                "updated_at": "2024-01-02T09:30:00-05:00",
            }
        ],
    }


@pytest.fixture
def graphql_product() -> dict:
    return {
        "id": "gid://shopify/Product/632910392",
        "legacyResourceId": "632910392",
        "title": "IPod Nano - 8GB",
        "descriptionHtml": "<p>It's the small iPod.</p>",
        "vendor": "Apple",
        "productType": "Cult Products",
        "handle": "ipod-nano",
        "status": "ACTIVE",
        "tags": ["Emotive", "Flash Memory", "MP3", "Music"],
        "createdAt": "2024-01-02T14:00:00Z",
        "updatedAt": "2024-01-02T14:30:00Z",
        "publishedAt": "2024-01-02T14:00:00Z",
        "variants": {"edges": [{"node": graphql_variant()}]},
    }


def graphql_variant() -> dict:
    return {
        "id": "gid://shopify/ProductVariant/808950810",
        "legacyResourceId": "808950810",
        "title": "Pink",
        "sku": "IPOD2008PINK",
        "barcode": "1234_pink",
        "position": 1,
        "price": "199.0",
        "compareAtPrice": None,
        "inventoryQuantity": 10,
        "createdAt": "2024-01-02T14:00:00Z",
        "updatedAt": "2024-01-02T14:30:00Z",
    }
