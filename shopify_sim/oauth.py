"""OAuth (contract §5): authorize (auto-approve), access_token with the authorization-code,
refresh-token (rotating) and token-exchange grants; optional expiring offline tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from shopify_sim.httpio import Request, Response, json_response

if TYPE_CHECKING:
    from shopify_sim.shops import ShopState

CODE_LIFETIME_SECONDS = 600
ONLINE_TOKEN_SECONDS = 86400
REFRESH_TOKEN_SECONDS = 90 * 86400
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ONLINE_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


def hmac_message(params: dict[str, Any]) -> str:
    """Shopify's canonical query message: drop hmac/signature, escape, sort, join with '&' (§5.2)."""
    pairs = []
    for key, value in params.items():
        if key in ("hmac", "signature"):
            continue
        safe_key = key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        if isinstance(value, list):
            text = "[" + ", ".join(f'"{v}"' for v in value) + "]"
        else:
            text = str(value).replace("%", "%25").replace("&", "%26")
        pairs.append((safe_key, f"{safe_key}={text}"))
    return "&".join(pair for _, pair in sorted(pairs))


def oauth_hmac(params: dict[str, Any], secret: str) -> str:
    return hmac.new(secret.encode(), hmac_message(params).encode(), hashlib.sha256).hexdigest()


@dataclass
class TokenInfo:
    scopes: frozenset[str]
    expires_at: float | None = None
    online: bool = False

    def valid(self) -> bool:
        return self.expires_at is None or time.time() < self.expires_at


@dataclass
class RefreshInfo:
    scopes: frozenset[str]
    expires_at: float
    parent: str | None = None


@dataclass
class OAuthState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    codes: dict[str, tuple[frozenset[str], bool, float]] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshInfo] = field(default_factory=dict)

    def token(self, value: str | None) -> TokenInfo | None:
        return self.tokens.get(value or "")

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.refresh_tokens.clear()
            self.codes.clear()


def oauth_error(status: int, code: str, description: str) -> Response:
    return json_response({"error": code, "error_description": description}, status=status)


def authorize(shop: ShopState, request: Request) -> Response:
    client_id = request.arg("client_id")
    redirect_uri = request.arg("redirect_uri")
    if client_id != shop.options.api_key or not redirect_uri:
        return oauth_error(
            400, "invalid_request", "Oauth error invalid_request: The client_id or redirect_uri is invalid"
        )
    scopes = frozenset(s.strip() for s in (request.arg("scope") or "").split(",") if s.strip())
    online = "per-user" in (request.query.get("grant_options[]") or [])
    code = secrets.token_hex(16)
    with shop.oauth.lock:
        shop.oauth.codes[code] = (scopes, online, time.time() + CODE_LIFETIME_SECONDS)
    store_name = shop.domain.split(".")[0]
    params: dict[str, Any] = {
        "code": code,
        "host": base64.b64encode(f"admin.shopify.com/store/{store_name}".encode()).decode().rstrip("="),
        "shop": shop.domain,
        "timestamp": str(int(time.time())),
    }
    if request.arg("state") is not None:
        params["state"] = request.arg("state")
    params["hmac"] = oauth_hmac(params, shop.options.api_secret)
    separator = "&" if "?" in redirect_uri else "?"
    return Response(
        status=302,
        headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"},
        content_type="text/html",
    )


def issue(
    shop: ShopState, scopes: frozenset[str], online: bool, expiring: bool, parent: str | None = None
) -> dict[str, Any]:
    access = ("shpua_" if online else "shpat_") + secrets.token_hex(16)
    body: dict[str, Any] = {"access_token": access, "scope": ",".join(sorted(scopes))}
    info = TokenInfo(scopes, online=online)
    if online:
        info.expires_at = time.time() + ONLINE_TOKEN_SECONDS
        body.update(
            {
                "expires_in": ONLINE_TOKEN_SECONDS,
                "associated_user_scope": body["scope"],
                "associated_user": {
                    "id": 902541635,
                    "first_name": "Store",
                    "last_name": "Owner",
                    "email": f"owner@{shop.domain}",
                    "email_verified": True,
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                },
            }
        )
    elif expiring:
        lifetime = shop.options.token_expiry_seconds
        refresh = "shprt_" + secrets.token_hex(16)
        info.expires_at = time.time() + lifetime
        body.update(
            {
                "expires_in": lifetime,
                "refresh_token": refresh,
                "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
            }
        )
        with shop.oauth.lock:
            shop.oauth.refresh_tokens[refresh] = RefreshInfo(
                scopes, time.time() + REFRESH_TOKEN_SECONDS, parent
            )
    with shop.oauth.lock:
        shop.oauth.tokens[access] = info
    # Granting a token is installing the app: after an uninstall (every token revoked), this is
    # the reinstall, and the new token works where the revoked ones keep getting 401.
    shop.installed = True
    return body


def truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def code_grant(shop: ShopState, data: dict[str, Any]) -> Response:
    with shop.oauth.lock:
        entry = shop.oauth.codes.pop(str(data.get("code") or ""), None)
    if entry is None or entry[2] < time.time():
        return oauth_error(400, "invalid_request", "The authorization code was not found or was already used")
    scopes, online, _ = entry
    return json_response(issue(shop, scopes, online, truthy(data.get("expiring"))))


def refresh_grant(shop: ShopState, data: dict[str, Any]) -> Response:
    token = str(data.get("refresh_token") or "")
    with shop.oauth.lock:
        info = shop.oauth.refresh_tokens.get(token)
        if info is None or info.expires_at < time.time():
            return oauth_error(400, "invalid_grant", "The refresh token is invalid or expired")
        # Rotation: using this token retires its predecessor; it stays valid until its own child is used.
        if info.parent is not None:
            shop.oauth.refresh_tokens.pop(info.parent, None)
    return json_response(issue(shop, info.scopes, online=False, expiring=True, parent=token))


def session_token(shop: ShopState, lifetime: int = 60) -> str:
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "iss": f"https://{shop.domain}/admin",
        "dest": f"https://{shop.domain}",
        "aud": shop.options.api_key,
        "sub": "902541635",
        "exp": now + lifetime,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(8),
    }
    parts = [b64url(orjson.dumps(header)), b64url(orjson.dumps(payload))]
    signature = hmac.new(shop.options.api_secret.encode(), ".".join(parts).encode(), hashlib.sha256).digest()
    return ".".join([*parts, b64url(signature)])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def verify_session_token(shop: ShopState, token: str) -> bool:
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(
            shop.options.api_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(b64url(expected), signature):
            return False
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return False
    return claims.get("dest") == f"https://{shop.domain}" and claims.get("exp", 0) > time.time() - 5


def exchange_grant(shop: ShopState, data: dict[str, Any]) -> Response:
    if not verify_session_token(shop, str(data.get("subject_token") or "")):
        return oauth_error(400, "invalid_subject_token", "Session token is invalid or expired")
    online = data.get("requested_token_type") == ONLINE_TYPE
    scopes = frozenset(shop.options.scopes)
    return json_response(issue(shop, scopes, online, truthy(data.get("expiring"))))


def access_token(shop: ShopState, request: Request) -> Response:
    try:
        data = request.form_or_json()
    except orjson.JSONDecodeError:
        return oauth_error(400, "invalid_request", "Malformed body")
    if data.get("client_id") != shop.options.api_key or data.get("client_secret") != shop.options.api_secret:
        return oauth_error(400, "invalid_client", "Client credentials are invalid")
    grant = data.get("grant_type") or "authorization_code"
    if grant == "authorization_code":
        return code_grant(shop, data)
    if grant == "refresh_token":
        return refresh_grant(shop, data)
    if grant == TOKEN_EXCHANGE:
        return exchange_grant(shop, data)
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")


def granted_handles(scopes: frozenset[str]) -> list[str]:
    """The handles an app sees for its token: each granted scope, plus the `read_` scope that a
    `write_` one implies. [UNSURE, not in the contract] Shopify's token response omits implied read
    scopes while `access_scopes` lists them; listing them is the safer reading for a client that
    checks `read_orders` before syncing (a write-only view would make it refuse to run)."""
    handles = set(scopes)
    handles.update(s.replace("write_", "read_", 1) for s in scopes if s.startswith("write_"))
    return sorted(handles)


def access_scopes(scopes: frozenset[str]) -> Response:
    """GET /admin/oauth/access_scopes.json: the scopes of the calling token."""
    return json_response({"access_scopes": [{"handle": handle} for handle in granted_handles(scopes)]})
