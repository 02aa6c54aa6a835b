"""The Shopify Admin API client: the only code that talks HTTP to a shop (GraphQL and legacy REST).

Every call gets the same policies:
- `X-Shopify-Access-Token` auth, refreshed before expiry, and refreshed once after a 401;
- explicit (connect, read) timeouts;
- retries with exponential backoff (1, 2, 4 … 60 s, bounded attempts) on network failures and 5xx;
- 429 waited out per `Retry-After`, THROTTLED waited out per the reported cost, both bounded in time;
- pacing: reserve from the shop's budget (GraphQL cost points, REST requests; shared by the fleet
  through Redis, `budget.py`) and wait *before* a request the bucket cannot afford; settle it from the
  answer's `throttleStatus` / `X-Shopify-Shop-Api-Call-Limit`;
- errors classified as retryable or permanent (STYLE R7).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from shopsync.models import Shop
from shopsync.shopify.budget import shopify_budget_for
from shopsync.shopify.errors import (
    ShopifyAccessDenied,
    ShopifyError,
    ShopifyPacingDeferred,
    ShopifyPermanentError,
    ShopifyRetryableError,
    ShopifyThrottled,
    ShopifyUserErrors,
)
from shopsync.shopify.pacing import GRAPHQL, REST, ApiBudget, QueryCost, cost_key, rest_bucket_status
from shopsync.shopify.tokens import shop_access_token_ensure_fresh, shop_access_token_refresh_rejected
from shopsync.shopify.transport import NETWORK_ERRORS, default_timeout, http_error, network_error

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
# Shopify's advice is to back off about a second when throttled; never retry sooner.
MIN_THROTTLE_WAIT_SECONDS = 1.0
# Throttling is waited out, not failed, but a call stuck behind it this long gives up (retryable).
THROTTLE_BUDGET_SECONDS = 600.0
# ... and so does one answered "throttled" this many times (guards against `Retry-After: 0` loops).
MAX_THROTTLED_ATTEMPTS = 200
# A 429's Retry-After is honoured as sent, but never below this.
MIN_RETRY_AFTER_SECONDS = 0.1
# Error codes in a GraphQL `errors[].extensions.code` (contract §1.2-1.5).
THROTTLED = "THROTTLED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
ACCESS_DENIED = "ACCESS_DENIED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# Only these may accompany `page_info` on a REST request (contract §3.3).
PAGE_INFO_COMPANION_PARAMS = ("limit", "fields")


@dataclass(frozen=True, slots=True)
class RestResponse:
    json: Any
    headers: Mapping[str, str]
    next_page_info: str | None


@dataclass(slots=True)
class _RetryBudget:
    """Per-call retry bookkeeping, fed to tenacity's after/wait/stop hooks."""

    max_attempts: int
    throttle_budget_seconds: float
    failures: int = 0
    throttled: int = 0
    throttled_seconds: float = 0.0
    next_wait: float = 0.0
    last_throttled: bool = False

    def record(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.last_throttled = isinstance(exc, ShopifyThrottled)
        if isinstance(exc, ShopifyThrottled):
            # THROTTLED waits already include Shopify's one-second minimum; a 429 says how long itself.
            self.throttled += 1
            self.next_wait = max(MIN_RETRY_AFTER_SECONDS, exc.wait_seconds)
        else:
            self.failures += 1
            self.next_wait = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self.failures - 1))

    def wait(self, state: RetryCallState) -> float:
        return self.next_wait

    def should_stop(self, state: RetryCallState) -> bool:
        if self.last_throttled:
            over_time = self.throttled_seconds + self.next_wait > self.throttle_budget_seconds
            return over_time or self.throttled >= MAX_THROTTLED_ATTEMPTS
        return self.failures >= self.max_attempts


@dataclass
class ClientCounters:
    graphql_calls: int = 0
    rest_calls: int = 0
    retries: int = 0
    throttled_waits: int = 0
    paced_waits: int = 0
    token_refreshes: int = 0
    seconds_waited: float = field(default=0.0)


class ShopifyClient:
    """One shop's Admin API. Not thread-safe per instance; use one client per task/thread.

    `sleep` and `clock` are injectable so tests run backoff and pacing without real waiting.
    """

    def __init__(
        self,
        shop: Shop,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int | None = None,
        timeout: tuple[float, float] | None = None,
        throttle_budget_seconds: float = THROTTLE_BUDGET_SECONDS,
        cost_bucket: ApiBudget | None = None,
        rest_budget: ApiBudget | None = None,
        on_wait: Callable[[float, str, str], None] | None = None,
        defer_waits_over: float | None = None,
    ) -> None:
        self.shop = shop
        self.session = session or requests.Session()
        self.counters = ClientCounters()
        self.served_api_version: str | None = None
        self.sleep = sleep
        self.clock = clock
        self._max_attempts = max_attempts or getattr(
            settings, "SHOPIFY_HTTP_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS
        )
        self._timeout = timeout or default_timeout()
        self._throttle_budget_seconds = throttle_budget_seconds
        shop_key = f"{shop.domain}@{shop.base_url}"
        self._bucket = cost_bucket or shopify_budget_for(shop_key, api=GRAPHQL)
        self._rest_budget = rest_budget or shopify_budget_for(shop_key, api=REST)
        # Pacing that would wait longer than this (in one call) raises `ShopifyPacingDeferred` instead,
        # so a sync can give its worker back; None waits however long the bucket says.
        self._defer_waits_over = defer_waits_over
        self._version_mismatch_logged = False
        # Called with (seconds, "retry" | "throttled" | "paced", the error that caused it or "") before
        # every wait, e.g. for heartbeats and for the pages' "waiting until T because of X".
        self._on_wait = on_wait

    @classmethod
    def for_shop(cls, shop: Shop, **options: Any) -> ShopifyClient:
        return cls(shop, **options)

    # Counters, flat, so the sync engine can report API calls per run.
    @property
    def graphql_calls(self) -> int:
        return self.counters.graphql_calls

    @property
    def rest_calls(self) -> int:
        return self.counters.rest_calls

    @property
    def retries(self) -> int:
        return self.counters.retries

    @property
    def throttled_waits(self) -> int:
        return self.counters.throttled_waits

    @contextmanager
    def pacing_waits_in_process(self) -> Iterator[None]:
        """Inside, pacing waits are slept here instead of deferred: for the calls that finish work
        already begun (a page's follow-up reads), since a deferral drops that work and the next try
        spends the same budget on it again, which can repeat forever when the work costs more than
        the bucket refills within the deferral limit."""
        saved, self._defer_waits_over = self._defer_waits_over, None
        try:
            yield
        finally:
            self._defer_waits_over = saved

    # --- GraphQL ----------------------------------------------------------------------------------

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, expected_cost: float | None = None
    ) -> dict[str, Any]:
        """Run a query or mutation and return its `data`.

        Raises on top-level `errors`. Mutation `userErrors` stay in the returned data: check them with
        `raise_for_user_errors`. `expected_cost` feeds pacing; by default the requested cost Shopify
        reported the last time this query text ran is used.
        """
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        return self._with_retries(lambda: self._graphql_attempt(payload, expected_cost))

    def _graphql_attempt(self, payload: dict[str, Any], expected_cost: float | None) -> dict[str, Any]:
        hint_key = cost_key(payload["query"], payload.get("variables"))
        # Unknown cost (the first run of this query text, fleet-wide when the budget is in Redis):
        # reserve nothing, but still wait out a bucket in debt (or another process's probe of an
        # unknown one); the answer settles the real cost and becomes everyone's hint.
        # Still unknown after that wait: go with nothing reserved, without pacing again (the wait just
        # granted may have been this process's own probe of the bucket, which a second reserve would
        # wait out against itself for the whole probe time).
        requested = expected_cost if expected_cost is not None else self._bucket.requested_cost_hint(hint_key)
        if requested is None:
            self._pace(self._bucket, 0.0, what="an unknown cost")
            requested = self._bucket.requested_cost_hint(hint_key)  # the probe just waited for may know it
        reserved = (
            0.0 if requested is None else self._pace(self._bucket, requested, what=f"{requested} cost points")
        )
        cost: QueryCost | None = None
        throttled = False
        try:
            response = self._send("POST", f"{self.shop.admin_api_url}/graphql.json", json=payload)
            body = self._json_object(response, what="GraphQL")
            cost = QueryCost.from_extensions(body.get("extensions"))
            throttled = THROTTLED in _error_codes(body.get("errors"))
        finally:
            # No answer (network error, 5xx, garbage): assume the points were spent; the bucket restores.
            charged = cost.charged(reserved=reserved, throttled=throttled) if cost else reserved
            status = cost.status if cost else None
            self._bucket.settle(reserved=reserved, charged=charged, status=status, at=self.clock())
        if cost is not None and cost.requested is not None:
            self._bucket.remember_requested_cost(hint_key, cost.requested)
        if body.get("errors"):
            raise _graphql_error(body["errors"], cost, expected_cost)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ShopifyRetryableError("GraphQL answered with neither data nor errors", status=200)
        return data

    def _pace(self, budget: ApiBudget, cost: float, *, what: str) -> float:
        """Wait until `budget` grants `cost`; returns what was reserved (for `settle`).

        Raises `ShopifyPacingDeferred` (holding nothing) once the waits of this call would pass
        `defer_waits_over`."""
        waited = 0.0
        while (wait := budget.reserve(cost, at=self.clock())) > 0:
            if self._defer_waits_over is not None and waited + wait > self._defer_waits_over:
                raise ShopifyPacingDeferred(
                    f"{self.shop}: the API budget needs {waited + wait:.1f}s for {what}", wait_seconds=wait
                )
            logger.debug("Pacing %s: waiting %.2fs for %s", self.shop, wait, what)
            self.counters.paced_waits += 1
            self.counters.seconds_waited += wait
            self._notify_wait(wait, "paced")
            self.sleep(wait)
            waited += wait
        return cost

    # --- REST -------------------------------------------------------------------------------------

    def rest_get(self, path: str, params: Mapping[str, Any] | None = None) -> RestResponse:
        """GET `{admin_api_url}/{path}` (e.g. `orders.json`)."""
        url = f"{self.shop.admin_api_url}/{_rest_path(path)}"
        return self._with_retries(lambda: self._rest_attempt(url, dict(params or {})))

    def _rest_attempt(self, url: str, params: dict[str, Any]) -> RestResponse:
        response = self._send("GET", url, params=params)
        body = self._json_object(response, what="REST")
        return RestResponse(json=body, headers=response.headers, next_page_info=_next_page_info(response))

    def rest_paginate(
        self, path: str, params: Mapping[str, Any] | None, key: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield `response[key]` page by page, following `Link: <…page_info=…>; rel="next"` to the end.

        Filters go on the first request only; later requests carry just `page_info` plus `limit` and
        `fields`, as Shopify requires."""
        first_params = dict(params or {})
        page = self.rest_get(path, first_params)
        yield _page_items(page, key)
        companions = {name: first_params[name] for name in PAGE_INFO_COMPANION_PARAMS if name in first_params}
        while page.next_page_info:
            page = self.rest_get(path, {**companions, "page_info": page.next_page_info})
            yield _page_items(page, key)

    def rest_count(self, resource: str, params: Mapping[str, Any] | None = None) -> int:
        """`GET /{resource}/count.json` → `{"count": N}`."""
        page = self.rest_get(f"{resource.strip('/')}/count.json", params)
        try:
            return int(page.json["count"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ShopifyPermanentError(
                f"{resource}/count.json returned no count: {page.json!r:.200}"
            ) from exc

    # --- shared machinery -------------------------------------------------------------------------

    def _with_retries(self, attempt: Callable[[], T]) -> T:
        budget = _RetryBudget(
            max_attempts=self._max_attempts, throttle_budget_seconds=self._throttle_budget_seconds
        )
        retrying = Retrying(
            retry=retry_if_exception_type(ShopifyRetryableError),
            after=budget.record,
            wait=budget.wait,
            stop=budget.should_stop,
            before_sleep=lambda state: self._before_retry(state, budget),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except ShopifyThrottled as exc:
            # ShopifyThrottled is internal: callers see a plain retryable error once we give up.
            raise ShopifyRetryableError(
                f"{self.shop} still throttled after waiting {budget.throttled_seconds:.0f}s: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from exc

    def _before_retry(self, state: RetryCallState, budget: _RetryBudget) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.counters.seconds_waited += budget.next_wait
        self._notify_wait(
            budget.next_wait, "throttled" if budget.last_throttled else "retry", detail=str(exc or "")
        )
        if budget.last_throttled:
            self.counters.throttled_waits += 1
            budget.throttled_seconds += budget.next_wait
            logger.info("%s throttled, waiting %.2fs: %s", self.shop, budget.next_wait, exc)
        else:
            self.counters.retries += 1
            logger.warning(
                "%s request failed (attempt %d/%d), retrying in %.0fs: %s",
                self.shop,
                budget.failures,
                budget.max_attempts,
                budget.next_wait,
                exc,
            )

    def _notify_wait(self, seconds: float, reason: str, *, detail: str = "") -> None:
        if self._on_wait is not None:
            self._on_wait(seconds, reason, detail)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange (plus at most one token refresh and resend after a 401); raises the
        classified error for anything but a success."""
        if shop_access_token_ensure_fresh(shop=self.shop, session=self.session):
            self.counters.token_refreshes += 1
        used_token = self.shop.access_token
        response = self._request(method, url, **kwargs)
        if response.status_code == 401 and self._refresh_after_rejection(used_token):
            response = self._request(method, url, **kwargs)
        error = http_error(response, what=f"{self.shop} {method} {urlsplit(url).path}")
        if error is not None:
            raise error
        return response

    def _refresh_after_rejection(self, used_token: str) -> bool:
        has_new_token = shop_access_token_refresh_rejected(
            shop=self.shop, rejected_token=used_token, session=self.session
        )
        if has_new_token:
            self.counters.token_refreshes += 1
        return has_new_token

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.endswith("/graphql.json"):
            self.counters.graphql_calls += 1
            return self._exchange(method, url, **kwargs)
        # Every REST exchange costs one request of the REST bucket, a 429 none (contract §3.4).
        reserved = self._pace(self._rest_budget, 1.0, what="a REST request")
        response: requests.Response | None = None
        try:
            self.counters.rest_calls += 1
            response = self._exchange(method, url, **kwargs)
        finally:
            status = (
                rest_bucket_status(response.headers.get("X-Shopify-Shop-Api-Call-Limit"))
                if response
                else None
            )
            charged = 0.0 if response is not None and response.status_code == 429 else reserved
            self._rest_budget.settle(reserved=reserved, charged=charged, status=status, at=self.clock())
        return response

    def _exchange(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Shopify-Access-Token": self.shop.access_token, "Accept": "application/json"}
        try:
            response = self.session.request(method, url, headers=headers, timeout=self._timeout, **kwargs)
        except NETWORK_ERRORS as exc:
            raise network_error(exc, what=f"{self.shop} {method} {urlsplit(url).path}") from exc
        self._note_api_version(response)
        return response

    def _note_api_version(self, response: requests.Response) -> None:
        served = response.headers.get("X-Shopify-API-Version")
        if not served:
            return
        self.served_api_version = served
        if served != self.shop.api_version and not self._version_mismatch_logged:
            # Shopify falls forward to the oldest supported version: our pinned version is out of date.
            self._version_mismatch_logged = True
            logger.warning(
                "%s asked for API version %s but Shopify served %s; update the pinned version",
                self.shop,
                self.shop.api_version,
                served,
            )

    def _json_object(self, response: requests.Response, *, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            # A 200 with a truncated or HTML body is a proxy/transport hiccup, not our bug.
            raise ShopifyRetryableError(
                f"{self.shop} {what} body is not JSON: {response.text[:120]!r}", status=response.status_code
            ) from exc
        if not isinstance(body, dict):
            raise ShopifyPermanentError(f"{self.shop} {what} body is a {type(body).__name__}, not an object")
        return body


def _graphql_error(errors: Any, cost: QueryCost | None, expected_cost: float | None) -> ShopifyError:
    if not isinstance(errors, list):
        # Some failures use the REST shape: {"errors": "message"}.
        return ShopifyPermanentError(f"GraphQL error: {errors!r:.300}", status=200)
    codes = _error_codes(errors)
    message = "; ".join(
        str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors
    )
    if THROTTLED in codes:
        return ShopifyThrottled(
            f"GraphQL throttled: {message}", wait_seconds=_throttle_wait(cost, expected_cost), status=200
        )
    if ACCESS_DENIED in codes:
        return ShopifyAccessDenied(f"GraphQL access denied: {message}", status=200, code=ACCESS_DENIED)
    if MAX_COST_EXCEEDED in codes:
        return ShopifyPermanentError(
            f"GraphQL query too expensive: {message}", status=200, code=MAX_COST_EXCEEDED
        )
    if INTERNAL_SERVER_ERROR in codes:
        return ShopifyRetryableError(
            f"GraphQL internal error: {message}", status=200, code=INTERNAL_SERVER_ERROR
        )
    code = next((c for c in codes if c), None)
    return ShopifyPermanentError(f"GraphQL error: {message}", status=200, code=code)


def _error_codes(errors: Any) -> set[str | None]:
    return {_error_code(error) for error in errors} if isinstance(errors, list) else set()


def _error_code(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    extensions = error.get("extensions")
    return extensions.get("code") if isinstance(extensions, dict) else None


def _throttle_wait(cost: QueryCost | None, expected_cost: float | None) -> float:
    """`(requested - available) / restoreRate`, per Shopify's advice, and never under a second."""
    if cost is None or cost.restore_rate <= 0:
        return MIN_THROTTLE_WAIT_SECONDS
    requested = cost.requested if cost.requested is not None else expected_cost
    if requested is None:
        return MIN_THROTTLE_WAIT_SECONDS
    return max(MIN_THROTTLE_WAIT_SECONDS, (requested - cost.currently_available) / cost.restore_rate)


def raise_for_user_errors(payload: Mapping[str, Any] | None, *, what: str = "mutation") -> None:
    """Raise `ShopifyUserErrors` if a mutation payload (e.g. `data["bulkOperationRunQuery"]`) has any."""
    user_errors = list((payload or {}).get("userErrors") or [])
    if not user_errors:
        return
    message = "; ".join(str(error.get("message", error)) for error in user_errors)
    code = next((error.get("code") for error in user_errors if error.get("code")), None)
    raise ShopifyUserErrors(f"{what} failed: {message}", user_errors=user_errors, code=code)


def _rest_path(path: str) -> str:
    path = path.strip("/")
    return path if path.endswith(".json") else f"{path}.json"


def _next_page_info(response: requests.Response) -> str | None:
    next_link = response.links.get("next")
    if not next_link or "url" not in next_link:
        return None
    values = parse_qs(urlsplit(next_link["url"]).query).get("page_info")
    return values[0] if values else None


def _page_items(page: RestResponse, key: str) -> list[dict[str, Any]]:
    items = page.json.get(key)
    if not isinstance(items, list):
        raise ShopifyPermanentError(f"REST page has no {key!r} list: {sorted(page.json)!r}")
    return items


__all__ = [
    "ClientCounters",
    "RestResponse",
    "ShopifyClient",
    "raise_for_user_errors",
]
