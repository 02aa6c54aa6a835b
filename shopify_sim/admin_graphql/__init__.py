"""The GraphQL Admin API: SDL schema (Shopify's names), resolvers, search syntax, cost, endpoint."""
