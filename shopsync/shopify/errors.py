"""Errors raised by the Shopify client, classified at the boundary (STYLE R7).

Callers decide what to do from the class alone: tasks use `autoretry_for=(ShopifyRetryableError,)`
and send everything else to a dead letter.
"""

from __future__ import annotations

from typing import Any


class ShopifyError(Exception):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.code = code

    def __str__(self) -> str:
        details = [f"status={self.status}"] if self.status is not None else []
        if self.code:
            details.append(f"code={self.code}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.message}{suffix}"


class ShopifyRetryableError(ShopifyError):
    """429, 5xx, network failures, throttling that lasted too long: trying later can succeed."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, retryable=True, status=status, code=code)


class ShopifyPermanentError(ShopifyError):
    """Other 4xx, invalid queries, MAX_COST_EXCEEDED: the same request will fail again."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, retryable=False, status=status, code=code)


class ShopifyAuthError(ShopifyPermanentError):
    """401 that a token refresh could not fix (or no refresh was possible): the shop must re-install."""


class ShopifyAccessDenied(ShopifyPermanentError):
    """403 / ACCESS_DENIED: the app lacks a scope for this resource."""


class ShopifyThrottled(ShopifyRetryableError):
    """Internal to the client: a THROTTLED response or a 429, waited out and retried.

    It only escapes the client (still retryable) when throttling outlasts the client's budget.
    """

    def __init__(
        self,
        message: str,
        *,
        wait_seconds: float,
        status: int | None = None,
        code: str | None = "THROTTLED",
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.wait_seconds = wait_seconds


class ShopifyUserErrors(ShopifyPermanentError):
    """A mutation answered with `userErrors`; they are kept as Shopify sent them."""

    def __init__(self, message: str, *, user_errors: list[dict[str, Any]], code: str | None = None) -> None:
        super().__init__(message, status=200, code=code)
        self.user_errors = user_errors


class ShopifyPacingDeferred(Exception):
    """The shop's budget needs a longer wait than the caller allowed (`ShopifyClient(defer_waits_over=)`):
    nothing was sent, and nothing is held. A sync gives its worker back and comes back in
    `wait_seconds`, from its checkpoint.

    Deliberately not a `ShopifyError`: it is neither a failure nor something to retry in place, and code
    that treats any `ShopifyError` as a failed call (a best-effort count, say) must not swallow it."""

    def __init__(self, message: str, *, wait_seconds: float) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds
