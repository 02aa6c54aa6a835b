"""API versions: YYYY-(01|04|07|10) or `unstable`; older than the oldest supported falls forward."""

from __future__ import annotations

import re

VERSION_RE = re.compile(r"^\d{4}-(01|04|07|10)$")


def resolve(requested: str | None, oldest_supported: str) -> str | None:
    """The version served for `requested`, or None for a malformed one (404)."""
    if requested == "unstable":
        return "unstable"
    if requested is None or not VERSION_RE.match(requested):
        return None
    return max(requested, oldest_supported)
