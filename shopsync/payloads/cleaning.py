"""NUL characters out of payload text, once, where every path parses.

`\\u0000` is valid JSON, but PostgreSQL refuses it in `text` ("invalid byte sequence") and in `jsonb`
("unsupported Unicode escape sequence"), so one customer's note would fail its whole write batch,
and every retry the same way. The character carries no meaning in Shopify text: it is dropped and
the record keeps the rest of its values.

The check is on the raw bytes first (a substring search, no parse): the bulk path reads millions of
lines, and only the rare payload that has the escape pays for the walk. A raw NUL byte is not valid
JSON at all (control characters must be escaped), so the escape is the only form to look for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

NUL_ESCAPE = b"\\u0000"
NUL = "\x00"


def bytes_have_nul(raw: bytes | bytearray | memoryview | str) -> bool:
    """Whether JSON text may decode to a NUL somewhere (a false positive only costs a walk)."""
    if isinstance(raw, str):
        return "\\u0000" in raw or NUL in raw
    return NUL_ESCAPE in raw


def without_nul(value: Any) -> Any:
    """The decoded JSON value, rebuilt with every NUL removed from its strings (keys included)."""
    if isinstance(value, str):
        return value.replace(NUL, "") if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def loads_without_nul(raw: bytes | str) -> Any:
    """`orjson.loads`, with NULs removed when the text has any."""
    value = orjson.loads(raw)
    return without_nul(value) if bytes_have_nul(raw) else value


def mapping_without_nul(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """For payloads already decoded (GraphQL page nodes): serialising to look for the escape is a
    few microseconds in C, a Python walk of every value several times that."""
    try:
        has_nul = NUL_ESCAPE in orjson.dumps(payload)
    except TypeError:  # not plain JSON values: walk it
        has_nul = True
    return without_nul(dict(payload)) if has_nul else payload
