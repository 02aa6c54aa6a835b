"""HTTP details shared by every Shopify call: timeouts, and turning a failed response or a network
failure into the right `ShopifyError` (STYLE R7)."""

from __future__ import annotations

import http.client

import requests
from django.conf import settings

from shopsync.shopify.errors import (
    ShopifyAccessDenied,
    ShopifyAuthError,
    ShopifyError,
    ShopifyPermanentError,
    ShopifyRetryableError,
    ShopifyThrottled,
)

# Connecting should take well under a second; a long connect timeout only delays the retry.
CONNECT_TIMEOUT_CAP_SECONDS = 5.0
# REST's bucket leaks 2 requests/s, so a 429 without Retry-After clears in about this long.
DEFAULT_RETRY_AFTER_SECONDS = 2.0
MAX_ERROR_BODY_CHARS = 300

# What a dropped, refused, reset or stalled connection looks like from `requests`
# (RemoteDisconnected and ConnectionResetError arrive wrapped in requests.ConnectionError).
NETWORK_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    http.client.HTTPException,
    ConnectionError,
)


def default_timeout() -> tuple[float, float]:
    """(connect, read) seconds: the read timeout from settings, a shorter connect timeout."""
    read = float(settings.SHOPIFY_HTTP_TIMEOUT_SECONDS)
    return (min(CONNECT_TIMEOUT_CAP_SECONDS, read), read)


def network_error(exc: Exception, *, what: str) -> ShopifyRetryableError:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    return ShopifyRetryableError(f"{what} {kind}: {type(exc).__name__}: {exc}", code="NETWORK")


def retry_after_seconds(response: requests.Response) -> float:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        # An HTTP-date Retry-After is allowed by RFC 9110 but Shopify sends seconds; be safe.
        return DEFAULT_RETRY_AFTER_SECONDS


def error_message(response: requests.Response, *, what: str) -> str:
    body = response.text[:MAX_ERROR_BODY_CHARS] if response.content else ""
    return f"{what} answered HTTP {response.status_code}: {body}".rstrip(": ")


def http_error(response: requests.Response, *, what: str) -> ShopifyError | None:
    """The error a non-2xx response stands for, or None for a success. 401 is mapped to
    `ShopifyAuthError`; the client tries a token refresh before it gets here."""
    status = response.status_code
    if status < 400:
        return None
    message = error_message(response, what=what)
    if status == 429:
        return ShopifyThrottled(
            message, wait_seconds=retry_after_seconds(response), status=status, code="RATE_LIMITED"
        )
    if status >= 500:
        return ShopifyRetryableError(message, status=status)
    if status == 401:
        return ShopifyAuthError(message, status=status, code="UNAUTHORIZED")
    if status == 403:
        return ShopifyAccessDenied(message, status=status, code="ACCESS_DENIED")
    return ShopifyPermanentError(message, status=status)
