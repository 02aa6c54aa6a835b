"""Installing (or reconnecting) a shop through Shopify's OAuth authorization code grant (contract §5).

1. `install_begin`: validate the shop domain and the API version it will get, choose where its
   Shopify lives, make a state nonce and build the authorize URL. The caller keeps the returned `PendingInstall` in the user's session.
2. `install_complete`, on the callback: check the state against the pending install, the query HMAC
   (hex, sorted params, constant time) and its timestamp (24 h replay guard); exchange the code for
   an (expiring) offline token; store it encrypted; make the user a member; register the webhooks;
   and ask the sync guard for the sync the shop needs.

Which sync: a shop that has completed an initial (or full) sync gets an incremental one (it catches up
on what happened while it was disconnected), never a second initial. Any other shop, new or whose
initial sync failed, gets the initial sync; the guard makes that exactly one, however many callbacks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shopsync.api_versions import UnsupportedApiVersion, api_version_is_supported, api_version_validate
from shopsync.domains import is_valid_shop_domain, normalize_shop_domain
from shopsync.models import Shop, SyncSession
from shopsync.models.sync import SyncKind
from shopsync.selectors import shop_is_synced
from shopsync.services.sync import EnsureResult, ensure_sync
from shopsync.shopify import ShopifyError
from shopsync.shopify.tokens import TokenGrant, token_exchange_code

logger = logging.getLogger(__name__)

OAUTH_SESSION_KEY = "shopsync_oauth_pending"
CALLBACK_MAX_AGE = timedelta(hours=24)
# A callback stamped a little in the future is clock skew; far in the future is forged or broken.
CALLBACK_MAX_SKEW = timedelta(minutes=5)
# Ask for expiring offline tokens: required of public apps from 2027 (contract §5.3).
EXPIRING_OFFLINE_TOKENS = True

# Subscribing a shop to its webhooks is the webhooks app's job, and webhooks sits above shopsync
# (R17): it adds its registrar when it is ready (webhooks/apps.py). A registrar takes
# `shop=` and `callback_url=`, returns one result per topic and raises ShopifyError on failure.
type WebhooksRegistrar = Callable[..., Sequence[object]]
_WEBHOOKS_REGISTRARS: list[WebhooksRegistrar] = []


class InstallError(Exception):
    """The install cannot go on; the message is safe to show the user."""


@dataclass(frozen=True, slots=True)
class PendingInstall:
    """What the callback needs from the start of the install, kept server-side in the session."""

    state: str
    shop_domain: str
    api_base_url: str

    def as_session_value(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_session_value(cls, value: object) -> PendingInstall | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                state=value["state"], shop_domain=value["shop_domain"], api_base_url=value["api_base_url"]
            )
        except KeyError:
            return None


@dataclass(frozen=True, slots=True)
class InstallStart:
    pending: PendingInstall
    authorize_url: str


@dataclass(frozen=True, slots=True)
class InstallResult:
    shop: Shop
    shop_created: bool
    sync: EnsureResult
    webhooks_error: str  # empty when every subscription is in place


# --- step 1: the redirect to Shopify ------------------------------------------------------------


def install_begin(*, raw_domain: str, api_url: str | None = None) -> InstallStart:
    domain = normalize_shop_domain(raw_domain)
    if not is_valid_shop_domain(domain):
        raise InstallError(f"“{raw_domain[:100]}” is not a shop domain; expected your-store.myshopify.com.")
    base_url = install_base_url_resolve(domain=domain, api_url=api_url)
    # Refuse before sending anyone to Shopify: a granted token the client cannot use helps no one.
    install_api_version(
        existing=Shop.objects.filter(domain=domain).values_list("api_version", flat=True).first()
    )
    pending = PendingInstall(state=secrets.token_urlsafe(32), shop_domain=domain, api_base_url=base_url)
    query = urlencode(
        {
            "client_id": settings.SHOPIFY_API_KEY,
            "scope": settings.SHOPIFY_SCOPES,
            "redirect_uri": install_redirect_uri(),
            "state": pending.state,
        }
    )
    return InstallStart(pending=pending, authorize_url=f"{base_url}/admin/oauth/authorize?{query}")


def install_base_url_resolve(*, domain: str, api_url: str | None) -> str:
    """Where the shop's Shopify lives. A caller-chosen `api_url` (the simulator) is honoured only in
    DEBUG or with SHOPIFY_ALLOW_CUSTOM_API_URL: otherwise anyone could point the token exchange, and
    so our client secret, at a host of their choosing. An existing shop row keeps its own."""
    if api_url and custom_api_url_allowed():
        try:
            URLValidator(schemes=["http", "https"])(api_url)
        except ValidationError as exc:
            raise InstallError("api_url must be an http(s) URL.") from exc
        return api_url.rstrip("/")
    existing = Shop.objects.filter(domain=domain).values_list("api_base_url", flat=True).first()
    return (existing or f"https://{domain}").rstrip("/")


def install_api_version(*, existing: str | None) -> str:
    """The API version an installed shop gets: its own if the client runs on it, else (a new shop, or
    one pinned to a version too old for the queries) SHOPIFY_API_VERSION, which must be usable."""
    if existing and api_version_is_supported(existing):
        return existing
    try:
        return api_version_validate(settings.SHOPIFY_API_VERSION)
    except UnsupportedApiVersion as exc:
        raise InstallError(f"This app is configured with SHOPIFY_API_VERSION it cannot use: {exc}") from exc


def install_redirect_uri() -> str:
    return settings.SHOPIFY_APP_URL.rstrip("/") + reverse("shopify-callback")


def webhook_callback_url() -> str:
    return settings.SHOPIFY_APP_URL.rstrip("/") + reverse("webhooks-shopify-receive")


def custom_api_url_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "SHOPIFY_ALLOW_CUSTOM_API_URL", False))


# --- step 2: the callback -----------------------------------------------------------------------


def oauth_hmac_message(params: Mapping[str, Sequence[str]]) -> str:
    """The string Shopify signs: every parameter but `hmac` and `signature`, sorted by key, joined
    with `&`, escaped as the official Python library does; `key[]` parameters become JSON-ish lists."""
    pairs = []
    for key in sorted(k for k in params if k not in ("hmac", "signature")):
        values = list(params[key])
        if key.endswith("[]"):
            value = "[" + ", ".join(json.dumps(v) for v in values) + "]"
        else:
            value = values[-1] if values else ""
        safe_key = key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        safe_value = value.replace("%", "%25").replace("&", "%26")
        pairs.append(f"{safe_key}={safe_value}")
    return "&".join(pairs)


def oauth_hmac_is_valid(*, params: Mapping[str, Sequence[str]], secret: str) -> bool:
    received = (list(params.get("hmac", [])) or [""])[-1]
    expected = hmac.new(secret.encode(), oauth_hmac_message(params).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.lower())


def oauth_timestamp_is_fresh(*, params: Mapping[str, Sequence[str]], now: datetime) -> bool:
    raw = (list(params.get("timestamp", [])) or [""])[-1]
    if not raw.isdigit():
        return False
    stamped = datetime.fromtimestamp(int(raw), tz=UTC)
    return now - CALLBACK_MAX_AGE <= stamped <= now + CALLBACK_MAX_SKEW


def install_callback_verify(
    *, params: Mapping[str, Sequence[str]], pending: PendingInstall | None, now: datetime | None = None
) -> str:
    """Check a callback; returns the authorization code. Raises `InstallError` on any failure."""
    now = now or timezone.now()

    def one(name: str) -> str:
        return (list(params.get(name, [])) or [""])[-1]

    if not oauth_hmac_is_valid(params=params, secret=settings.SHOPIFY_API_SECRET):
        raise InstallError("The request from Shopify could not be verified (bad signature).")
    if not oauth_timestamp_is_fresh(params=params, now=now):
        raise InstallError("The request from Shopify has expired; start the install again.")
    if pending is None or not hmac.compare_digest(pending.state.encode(), one("state").encode()):
        raise InstallError("This install link is not one we started, or it was already used; start again.")
    if normalize_shop_domain(one("shop")) != pending.shop_domain:
        raise InstallError("Shopify answered for a different shop than the one being installed.")
    if not one("code"):
        raise InstallError("Shopify sent no authorization code.")
    return one("code")


def install_complete(
    *,
    params: Mapping[str, Sequence[str]],
    pending: PendingInstall | None,
    user: AbstractBaseUser,
    now: datetime | None = None,
) -> InstallResult:
    code = install_callback_verify(params=params, pending=pending, now=now)
    assert pending is not None  # checked by install_callback_verify
    try:
        # Network I/O: outside any transaction (R11).
        grant = token_exchange_code(
            shop_domain=pending.shop_domain, base_url=pending.api_base_url, code=code,
            expiring=EXPIRING_OFFLINE_TOKENS,
        )  # fmt: skip
    except ShopifyError as exc:
        logger.warning("token exchange failed shop=%s: %s", pending.shop_domain, exc)
        raise InstallError(f"Shopify did not grant access: {exc.message}") from exc
    shop, created = shop_install_store(pending=pending, grant=grant, user=user)
    webhooks_error = _webhooks_register(shop=shop)
    sync = install_sync_ensure(shop=shop, shop_created=created)
    logger.info(
        "shop installed shop=%s created=%s sync=%s (%s, new=%s)",
        shop.domain, created, sync.session.pk, sync.session.kind, sync.created,
    )  # fmt: skip
    return InstallResult(shop=shop, shop_created=created, sync=sync, webhooks_error=webhooks_error)


def shop_install_store(
    *, pending: PendingInstall, grant: TokenGrant, user: AbstractBaseUser
) -> tuple[Shop, bool]:
    """Create or update the shop with its new token (encrypted by the field), installed, with `user`
    as a member. Returns (shop, created)."""
    now = timezone.now()
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(domain=pending.shop_domain).first()
        created = shop is None
        if shop is None:
            shop = Shop(domain=pending.shop_domain, name=pending.shop_domain.split(".")[0])
        shop.api_version = install_api_version(existing=None if created else shop.api_version)
        shop.api_base_url = "" if pending.api_base_url == f"https://{shop.domain}" else pending.api_base_url
        shop.access_token = grant.access_token
        shop.access_token_expires_at = grant.expires_at
        shop.refresh_token = grant.refresh_token or ""
        shop.scopes = grant.scope or settings.SHOPIFY_SCOPES
        if created or not shop.is_installed:
            shop.status = Shop.Status.INSTALLED
            shop.installed_at = now
            shop.uninstalled_at = None
        shop.full_clean()
        shop.save()
        shop.members.add(user)
    return shop, created


def install_sync_ensure(*, shop: Shop, shop_created: bool) -> EnsureResult:
    if shop_is_synced(shop=shop):
        return ensure_sync(shop=shop, kind=SyncKind.INCREMENTAL, triggered_by=SyncSession.Trigger.RECONNECT)
    trigger = SyncSession.Trigger.INSTALL if shop_created else SyncSession.Trigger.RECONNECT
    return ensure_sync(shop=shop, kind=SyncKind.INITIAL, triggered_by=trigger)


def install_webhooks_registrar_add(*, registrar: WebhooksRegistrar) -> None:
    if registrar not in _WEBHOOKS_REGISTRARS:
        _WEBHOOKS_REGISTRARS.append(registrar)


def shop_webhooks_register(*, shop: Shop, callback_url: str) -> list[object]:
    """Subscribe the shop to its webhooks at `callback_url`; one result per topic. ShopifyError
    propagates."""
    return [
        result
        for registrar in _WEBHOOKS_REGISTRARS
        for result in registrar(shop=shop, callback_url=callback_url)
    ]


def _webhooks_register(*, shop: Shop) -> str:
    """Register the webhook subscriptions. A failure does not undo the install: the token is good and
    the sync can run; staff see the error and `register_webhooks` (or a reinstall) fixes it."""
    try:
        shop_webhooks_register(shop=shop, callback_url=webhook_callback_url())
    except ShopifyError as exc:  # transport, auth, or userErrors (ShopifyUserErrors)
        logger.warning("webhook registration failed shop=%s: %s", shop.domain, exc)
        return str(exc)
    return ""
