"""OAuth (contract §5) and access scopes: install, code exchange, the token's scopes on both APIs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from shopify_sim.oauth import oauth_hmac


def test_install_exchange_then_read_the_granted_scopes(sim, shop):
    # given: the authorize redirect as a browser follows it (contract §5.3)
    params = {
        "client_id": shop.api_key,
        "scope": "read_orders,write_products",
        "redirect_uri": "http://app.test/callback",
        "state": "nonce-1",
    }
    redirect = sim.session.get(
        f"{sim.base_url}/shops/{shop.domain}/admin/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=30,
    )
    callback = dict(parse_qsl(urlsplit(redirect.headers["Location"]).query))
    # when
    exchanged = sim.session.post(
        f"{sim.base_url}/shops/{shop.domain}/admin/oauth/access_token",
        json={"client_id": shop.api_key, "client_secret": shop.api_secret, "code": callback["code"]},
        timeout=30,
    ).json()
    headers = {"X-Shopify-Access-Token": exchanged["access_token"]}
    rest = sim.session.get(
        f"{sim.base_url}/shops/{shop.domain}/admin/oauth/access_scopes.json", headers=headers, timeout=30
    )
    graphql = sim.graphql(
        "{ currentAppInstallation { accessScopes { handle } } }",
        token=exchanged["access_token"],
        shop=shop.domain,
    ).json()
    # then
    assert redirect.status_code == 302
    assert callback["state"] == "nonce-1" and callback["shop"] == shop.domain
    assert callback["hmac"] == oauth_hmac(callback, shop.api_secret)
    assert set(exchanged) == {"access_token", "scope"}
    assert exchanged["scope"] == "read_orders,write_products"
    handles = [{"handle": h} for h in ("read_orders", "read_products", "write_products")]
    assert rest.json() == {"access_scopes": handles}
    assert graphql["data"]["currentAppInstallation"]["accessScopes"] == handles


def test_a_bad_code_is_400(sim, shop):
    # when
    response = sim.session.post(
        f"{sim.base_url}/shops/{shop.domain}/admin/oauth/access_token",
        data={"client_id": shop.api_key, "client_secret": shop.api_secret, "code": "nope"},
        timeout=30,
    )
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
