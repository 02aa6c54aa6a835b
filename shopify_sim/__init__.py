"""A local Shopify Admin API (GraphQL, bulk operations, REST, OAuth, webhooks) with fault injection.

Runs as its own process (`python -m shopify_sim`); imports nothing from the product.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "1.0.0"
