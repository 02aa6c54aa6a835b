"""Shopify payload validation: both shapes (GraphQL nodes / bulk JSONL, REST / webhook JSON) into the
shared records of `shopsync.payloads.records`, which the write path (`shopsync.services.upsert`) takes."""

from __future__ import annotations

from shopsync.payloads.bulk_jsonl import BulkBatch, BulkLineError, read_bulk_jsonl
from shopsync.payloads.errors import FieldError, PayloadValidationError
from shopsync.payloads.graphql import parse_customer_graphql, parse_order_graphql, parse_product_graphql
from shopsync.payloads.records import (
    AnyRecord,
    CustomerRecord,
    LineItemRecord,
    OrderRecord,
    ProductRecord,
    VariantRecord,
)
from shopsync.payloads.rest import parse_customer_rest, parse_order_rest, parse_product_rest

__all__ = [
    "AnyRecord",
    "BulkBatch",
    "BulkLineError",
    "CustomerRecord",
    "FieldError",
    "LineItemRecord",
    "OrderRecord",
    "PayloadValidationError",
    "ProductRecord",
    "Resource",
    "VariantRecord",
    "parse_customer_graphql",
    "parse_customer_rest",
    "parse_order_graphql",
    "parse_order_rest",
    "parse_product_graphql",
    "parse_product_rest",
    "read_bulk_jsonl",
]
