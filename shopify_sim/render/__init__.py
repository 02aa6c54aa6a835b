"""Renderers: canonical records -> REST/webhook payloads (GraphQL renders in admin_graphql/fields.py)."""
