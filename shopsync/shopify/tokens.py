"""Shopify access tokens: the OAuth code exchange, and refreshing expiring offline tokens (contract §5.3).

Expiring offline tokens live an hour (`expires_in: 3600`) and come with a refresh token that rotates on
use. Every client request first calls `shop_access_token_ensure_fresh`, which refreshes about five
minutes before expiry, so a long sync keeps running across expiries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shopsync.models import Shop
from shopsync.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyPermanentError,
    ShopifyRetryableError,
)
from shopsync.shopify.lock_objects import shop_select_for_update
from shopsync.shopify.transport import NETWORK_ERRORS, default_timeout, http_error, network_error

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
_TOKEN_FIELDS = ("access_token", "access_token_expires_at", "refresh_token", "scopes")
_UNCHANGED_FIELDS = [field.name for field in Shop._meta.fields if field.name not in _TOKEN_FIELDS]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    scope: str
    # None for a non-expiring offline token.
    expires_at: datetime | None
    refresh_token: str | None


def token_exchange_code(
    *,
    shop_domain: str,
    base_url: str,
    code: str,
    expiring: bool,
    session: requests.Session | None = None,
) -> TokenGrant:
    """Exchange an OAuth authorization code for an offline token (`expiring` asks for a refreshable one).

    An invalid or used code is a `ShopifyAuthError` (HTTP 400 from Shopify)."""
    body = {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "code": code,
    }
    if expiring:
        body["expiring"] = "1"
    return _token_request(
        base_url=base_url, body=body, what=f"Token exchange for {shop_domain}", session=session
    )


def token_refresh(*, shop: Shop, session: requests.Session | None = None) -> TokenGrant:
    """Trade the shop's refresh token for a new token pair. Does not save anything."""
    if not shop.refresh_token:
        raise ShopifyAuthError(f"{shop.domain} has no refresh token", code="NO_REFRESH_TOKEN")
    body = {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": shop.refresh_token,
    }
    return _token_request(
        base_url=shop.base_url, body=body, what=f"Token refresh for {shop.domain}", session=session
    )


def _token_request(
    *, base_url: str, body: dict[str, str], what: str, session: requests.Session | None
) -> TokenGrant:
    http = session or requests.Session()
    url = f"{base_url.rstrip('/')}/admin/oauth/access_token"
    requested_at = timezone.now()
    try:
        response = http.post(
            url, data=body, headers={"Accept": "application/json"}, timeout=default_timeout()
        )
    except NETWORK_ERRORS as exc:
        raise network_error(exc, what=what) from exc
    error = http_error(response, what=what)
    if error is not None:
        # 400 is how Shopify rejects a bad code or refresh token: re-authorisation is the only fix.
        if response.status_code == 400:
            raise ShopifyAuthError(error.message, status=400, code="INVALID_GRANT") from None
        raise error
    return _grant_from_body(_json_object(response, what=what), requested_at=requested_at, what=what)


def _json_object(response: requests.Response, *, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ShopifyRetryableError(
            f"{what} returned a body that is not JSON", status=response.status_code
        ) from exc
    if not isinstance(body, dict):
        raise ShopifyPermanentError(f"{what} returned {type(body).__name__}, not an object")
    return body


def _grant_from_body(body: dict[str, Any], *, requested_at: datetime, what: str) -> TokenGrant:
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ShopifyPermanentError(f"{what} returned no access_token")
    expires_in = body.get("expires_in")
    # Measured from when we asked, so clock skew and latency make us refresh early, never late.
    expires_at = requested_at + timedelta(seconds=int(expires_in)) if expires_in is not None else None
    return TokenGrant(
        access_token=access_token,
        scope=str(body.get("scope") or ""),
        expires_at=expires_at,
        refresh_token=body.get("refresh_token") or None,
    )


def shop_token_needs_refresh(*, shop: Shop, now: datetime | None = None) -> bool:
    if not shop.refresh_token or shop.access_token_expires_at is None:
        return False
    return shop.access_token_expires_at - REFRESH_MARGIN <= (now or timezone.now())


def shop_access_token_ensure_fresh(
    *, shop: Shop, session: requests.Session | None = None, now: datetime | None = None
) -> bool:
    """Refresh the shop's token if it expires within `REFRESH_MARGIN`; True if this call refreshed it.

    Cheap when nothing is due (no database access). `shop` is updated in place either way, so a caller
    holding it keeps using the current token. If the refresh fails while the old token is still valid,
    the old token is used (logged) and the next request tries again.
    """
    if not shop_token_needs_refresh(shop=shop, now=now):
        return False
    try:
        return _shop_tokens_refresh_locked(
            shop=shop, is_due=lambda locked: shop_token_needs_refresh(shop=locked, now=now), session=session
        )
    except ShopifyError as exc:
        expires_at = shop.access_token_expires_at
        if expires_at is not None and expires_at > (now or timezone.now()):
            logger.warning("Token refresh for %s failed, using the current token until expiry: %s", shop, exc)
            return False
        raise


def shop_access_token_refresh_rejected(
    *, shop: Shop, rejected_token: str, session: requests.Session | None = None
) -> bool:
    """After a 401 for `rejected_token`: make the shop hold a different token, refreshing if nobody
    else has already. True if the shop now has a token worth retrying with."""
    if not shop.refresh_token or shop.pk is None:
        return False
    _shop_tokens_refresh_locked(
        shop=shop, is_due=lambda locked: locked.access_token == rejected_token, session=session
    )
    return shop.access_token != rejected_token


def _shop_tokens_refresh_locked(
    *, shop: Shop, is_due: Callable[[Shop], bool], session: requests.Session | None
) -> bool:
    """Steps, under a row lock on the shop:
    1. re-read the row; if another worker already refreshed (`is_due` is now false), take its tokens;
    2. otherwise call the token endpoint and store the new access token, expiry and rotated refresh token.

    The token endpoint is called while the lock is held, an exception to "no I/O inside a transaction"
    (R11): refresh tokens rotate on use, so two workers refreshing at once would each burn the other's
    token. The call has a timeout and the transaction touches one row, so it stays short.
    """
    refreshed = False
    with transaction.atomic():
        locked = shop_select_for_update(shop_id=shop.pk)
        if is_due(locked) and locked.refresh_token:
            grant = token_refresh(shop=locked, session=session)
            locked.access_token = grant.access_token
            locked.access_token_expires_at = grant.expires_at
            # Rotation: keep the old refresh token only if Shopify did not send a new one.
            locked.refresh_token = grant.refresh_token or locked.refresh_token
            if grant.scope:
                locked.scopes = grant.scope
            # Validate only what changed: an unrelated invalid column must not stop the token refresh.
            locked.clean_fields(exclude=_UNCHANGED_FIELDS)
            locked.save(update_fields=[*_TOKEN_FIELDS, "updated_at"])
            refreshed = True
            logger.info("Refreshed the access token of %s (expires %s)", locked, grant.expires_at)
    shop.access_token = locked.access_token
    shop.access_token_expires_at = locked.access_token_expires_at
    shop.refresh_token = locked.refresh_token
    shop.scopes = locked.scopes
    return refreshed
