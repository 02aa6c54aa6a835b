"""The only code that talks HTTP to Shopify: the Admin API client, bulk operations, tokens, queries."""

from shopsync.shopify.client import RestResponse, ShopifyClient, raise_for_user_errors
from shopsync.shopify.errors import (
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyError,
    ShopifyPacingDeferred,
    ShopifyPermanentError,
    ShopifyRetryableError,
    ShopifyThrottled,
    ShopifyUserErrors,
)

__all__ = [
    "RestResponse",
    "ShopifyAccessDenied",
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyError",
    "ShopifyPacingDeferred",
    "ShopifyPermanentError",
    "ShopifyRetryableError",
    "ShopifyThrottled",
    "ShopifyUserErrors",
    "raise_for_user_errors",
]
