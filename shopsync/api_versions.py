"""The Shopify Admin API versions the client runs on (contract §1.1).

Plain data with no Django imports, so settings can validate SHOPIFY_API_VERSION at start (the
`shopsync.shopify` package loads models when imported). Every way a shop gets a version (the
`connect_shop` command, the OAuth install, the setting) goes through `api_version_validate`.
"""

from __future__ import annotations

import re

# The version the queries are written and tested against; new shops get it unless
# SHOPIFY_API_VERSION says otherwise.
CLIENT_API_VERSION = "2026-01"
# The oldest version every query the client sends exists in: counts ask for `limit: null` (uncapped
# counts, 2025-07; shopsync/shopify/queries.py `count_query`), and webhook subscriptions are read and
# created by `uri` (2025-10; webhooks/services/registration.py). Shopify serves an unsupported version
# as its oldest supported one, so an older pin fails in confusing ways, or not at all until it does.
SUPPORTED_API_VERSION_MIN = "2025-10"

_STABLE_VERSION_RE = re.compile(r"\d{4}-(01|04|07|10)")


class UnsupportedApiVersion(ValueError):
    """The message says why and what to use instead; it is safe to show staff."""


def api_version_validate(version: str) -> str:
    """Return `version` if the client can run on it, else raise `UnsupportedApiVersion`."""
    if not _STABLE_VERSION_RE.fullmatch(version):
        raise UnsupportedApiVersion(
            f"{version[:40]!r} is not a stable Shopify API version: expected YYYY-MM with MM one of 01, "
            f"04, 07, 10 (e.g. {CLIENT_API_VERSION}); `unstable` changes without notice."
        )
    if version < SUPPORTED_API_VERSION_MIN:
        raise UnsupportedApiVersion(
            f"API version {version} is older than {SUPPORTED_API_VERSION_MIN}, the oldest the client's "
            f"queries run on (uncapped counts need 2025-07, webhook subscription `uri` 2025-10); use "
            f"{SUPPORTED_API_VERSION_MIN} or newer (the client is built for {CLIENT_API_VERSION})."
        )
    return version


def api_version_is_supported(version: str) -> bool:
    try:
        api_version_validate(version)
    except UnsupportedApiVersion:
        return False
    return True
