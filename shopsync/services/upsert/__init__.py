"""The one write path for Shopify records (see `writer.py` for the rules)."""

from __future__ import annotations

from shopsync.services.upsert.encoding import EncodedBatch, record_ids, records_encode
from shopsync.services.upsert.result import UpsertMode, UpsertResult
from shopsync.services.upsert.writer import (
    child_records_delete,
    child_records_insert,
    child_records_upsert,
    encoded_batch_upsert,
    nested_children_replace,
    records_analyze,
    records_soft_delete,
    records_upsert,
)

__all__ = [
    "EncodedBatch",
    "UpsertMode",
    "UpsertResult",
    "child_records_delete",
    "child_records_insert",
    "child_records_upsert",
    "encoded_batch_upsert",
    "nested_children_replace",
    "record_ids",
    "records_analyze",
    "records_encode",
    "records_soft_delete",
    "records_upsert",
]
