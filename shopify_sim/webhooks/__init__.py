"""Webhook subscriptions per shop and one background dispatcher with Shopify's retry schedule."""
