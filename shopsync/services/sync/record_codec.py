"""Failed batches are stored as their parsed records (JSON) and rebuilt for a retry.

The bulk reader hands out parsed records, not raw nodes; the records are exactly what the write
path needs, so storing them loses nothing a retry could use. A batch parsed in the bulk child
process is already encoded for COPY (`EncodedBatch`): it is stored as that text and written again
as it is.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopsync.payloads.records import AnyRecord
from shopsync.resources import Resource, declaration_for
from shopsync.services.upsert import EncodedBatch


def batch_to_json(records: list[AnyRecord] | EncodedBatch) -> dict[str, Any]:
    """The batch part of a failed batch's payload (`format` and its data)."""
    if isinstance(records, EncodedBatch):
        return {
            "format": "encoded",
            "shopify_ids": list(records.shopify_ids),
            # COPY text is UTF-8 (the driver encodes it so); stored as text it stays readable.
            "parents": records.parents.decode(),
            # Named, so a batch stored before a child table is declared (anywhere in the order)
            # is read back table by table.
            "child_tables": [child.name for child in declaration_for(records.resource).all_children()],
            "children": [children.decode() for children in records.children],
            "children_not_given": [list(ids) for ids in records.children_not_given],
        }
    return {"format": "records", "records": [record_to_json(record) for record in records]}


def batch_from_json(resource: Resource, payload: dict[str, Any]) -> list[AnyRecord] | EncodedBatch:
    if payload.get("format") == "encoded":
        return EncodedBatch(
            resource=resource,
            shopify_ids=tuple(payload["shopify_ids"]),
            parents=payload["parents"].encode(),
            **_children_from_json(resource, payload),
        )
    return [record_from_json(resource, data) for data in payload.get("records", [])]


def _children_from_json(resource: Resource, payload: dict[str, Any]) -> dict[str, Any]:
    children = payload["children"]
    if "child_tables" in payload:
        return _named_children(resource, payload)
    if isinstance(children, list):
        # Stored before child tables were added at the end of the flat order (the metafields): those
        # were not in that export, so "not given" for every parent (their stored rows stay).
        added = len(list(declaration_for(resource).all_children())) - len(children)
        ids = tuple(payload["shopify_ids"])
        return {
            "children": (*(text.encode() for text in children), *(b"" for _ in range(added))),
            "children_not_given": (
                *(tuple(given) for given in payload.get("children_not_given", [])),
                *(ids for _ in range(added)),
            ),
        }
    # Stored before a resource could have several child tables: its one (connection) child, first
    # in declaration order; the child tables declared since were not in that export, so they are
    # "not given" for every parent (their stored rows stay).
    others = len(list(declaration_for(resource).all_children())) - 1
    ids = tuple(payload["shopify_ids"])
    return {
        "children": (children.encode(), *(b"" for _ in range(others))),
        "children_not_given": ((), *(ids for _ in range(others))),
    }


def _named_children(resource: Resource, payload: dict[str, Any]) -> dict[str, Any]:
    """A stored batch's child tables matched by name to today's declarations: a table declared since
    is "not given" for every parent (its stored rows stay); one no longer declared is dropped."""
    ids = tuple(payload["shopify_ids"])
    stored = {
        name: (text, tuple(given))
        for name, text, given in zip(
            payload["child_tables"], payload["children"], payload["children_not_given"], strict=True
        )
    }
    tables = [stored.get(child.name, ("", ids)) for child in declaration_for(resource).all_children()]
    return {
        "children": tuple(text.encode() for text, _ in tables),
        "children_not_given": tuple(given for _, given in tables),
    }


def record_to_json(record: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_to_json(value)
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def record_from_json(resource: Resource, data: dict[str, Any]) -> AnyRecord:
    return _decode_dataclass(declaration_for(resource).record_type, data)


def _decode_dataclass(cls: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
    )


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        origin = typing.get_origin(hint)
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        return [_decode(item_hint, item) for item in value]
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is Decimal:
        return Decimal(value)
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, value)
    return value
