from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

from shopify_sim.oauth import oauth_hmac
from tests.simulator.conftest import token_of


def test_hmac_matches_shopify_documented_vectors():
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    assert oauth_hmac(params, "hush") == "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    del params["state"]
    assert (
        oauth_hmac({**params, "hmac": "ignored"}, "hush")
        == "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"
    )


def authorize(sim, domain, **extra):
    info = sim.control.shop_info(domain)
    params = {
        "client_id": info["api_key"],
        "scope": "read_orders,read_customers",
        "redirect_uri": "http://app.test/callback",
        "state": "nonce-1",
        **extra,
    }
    response = sim.session.get(
        f"{sim.base_url}/shops/{domain}/admin/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://app.test/callback"
    return dict(parse_qsl(location.query)), info


def exchange(sim, domain, info, **body):
    return sim.session.post(
        f"{sim.base_url}/shops/{domain}/admin/oauth/access_token",
        json={"client_id": info["api_key"], "client_secret": info["api_secret"], **body},
        timeout=10,
    )


def test_authorize_redirects_with_verifiable_hmac_and_code_grant(sim, new_shop):
    domain = new_shop()
    query, info = authorize(sim, domain)
    assert set(query) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert query["shop"] == domain and query["state"] == "nonce-1"
    assert oauth_hmac(query, info["api_secret"]) == query["hmac"]
    granted = exchange(sim, domain, info, code=query["code"])
    assert granted.status_code == 200
    body = granted.json()
    assert body["scope"] == "read_customers,read_orders" and "expires_in" not in body
    assert sim.graphql(
        "{ customers(first: 1) { nodes { id } } }", token=body["access_token"], shop=domain
    ).json()["data"]
    reused = exchange(sim, domain, info, code=query["code"])
    assert reused.status_code == 400
    assert exchange(sim, domain, info, code="bogus").status_code == 400


def test_form_encoded_token_request_is_accepted(sim, new_shop):
    domain = new_shop()
    query, info = authorize(sim, domain)
    response = sim.session.post(
        f"{sim.base_url}/shops/{domain}/admin/oauth/access_token",
        data={"client_id": info["api_key"], "client_secret": info["api_secret"], "code": query["code"]},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["access_token"].startswith("shpat_")


def test_expiring_tokens_refresh_with_rotation_and_expire(sim, new_shop):
    domain = new_shop()
    sim.control.update_settings(domain, token_expiry_seconds=2)
    query, info = authorize(sim, domain)
    first = exchange(sim, domain, info, code=query["code"], expiring=1).json()
    assert first["expires_in"] == 2 and first["refresh_token"].startswith("shprt_")
    second = exchange(
        sim, domain, info, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).json()
    assert second["access_token"] != first["access_token"]
    # The previous refresh token stays valid until the new one is used...
    again = exchange(sim, domain, info, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 200
    third = exchange(sim, domain, info, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200
    # ...and is refused once it has been.
    assert (
        exchange(
            sim, domain, info, grant_type="refresh_token", refresh_token=first["refresh_token"]
        ).status_code
        == 400
    )
    token = third.json()["access_token"]
    assert sim.graphql("{ shop { name } }", token=token, shop=domain).status_code == 200
    time.sleep(2.2)
    assert sim.graphql("{ shop { name } }", token=token, shop=domain).status_code == 401


def test_token_exchange_with_session_token(sim, new_shop):
    domain = new_shop()
    info = sim.control.shop_info(domain)
    session_token = sim.control.session_token(domain)
    body = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": session_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": "1",
    }
    granted = exchange(sim, domain, info, **body)
    assert granted.status_code == 200 and granted.json()["expires_in"] == 3600
    assert exchange(sim, domain, info, **{**body, "subject_token": session_token + "x"}).status_code == 400


def test_online_token_via_grant_options(sim, new_shop):
    domain = new_shop()
    query, info = authorize(sim, domain, **{"grant_options[]": "per-user"})
    body = exchange(sim, domain, info, code=query["code"]).json()
    assert body["access_token"].startswith("shpua_") and body["expires_in"] == 86400
    assert body["associated_user"]["email"]
    assert token_of(sim, domain) != body["access_token"]


def test_access_scopes_rest_lists_the_tokens_grant_with_implied_reads(sim):
    # given: a token granted write_products and read_orders
    token = sim.control.mint_token(scopes=["write_products", "read_orders"])["access_token"]
    # when
    response = sim.session.get(
        f"{sim.base_url}/admin/oauth/access_scopes.json",
        headers={"X-Shopify-Access-Token": token},
        timeout=30,
    )
    # then
    assert response.status_code == 200
    assert response.json() == {
        "access_scopes": [
            {"handle": "read_orders"},
            {"handle": "read_products"},
            {"handle": "write_products"},
        ]
    }
    assert response.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/400")


def test_access_scopes_rest_refuses_a_bad_token(sim):
    # when
    response = sim.session.get(
        f"{sim.base_url}/admin/oauth/access_scopes.json",
        headers={"X-Shopify-Access-Token": "nope"},
        timeout=30,
    )
    # then
    assert response.status_code == 401
    assert "access_scopes" not in response.json()


def test_access_scopes_graphql_matches_rest(sim):
    # given
    token = sim.control.mint_token(scopes=["read_customers"])["access_token"]
    query = "{ currentAppInstallation { id accessScopes { handle description } } }"
    # when
    body = sim.graphql(query, token=token).json()
    # then
    installation = body["data"]["currentAppInstallation"]
    assert installation["id"].startswith("gid://shopify/AppInstallation/")
    assert installation["accessScopes"] == [
        {"handle": "read_customers", "description": "Read access to customers"}
    ]
    assert "errors" not in body
