"""The Content Security Policy every page is served with (config/settings/base.py, SECURE_CSP)."""

from __future__ import annotations

from django.test import Client


def test_pages_are_served_with_a_same_origin_content_security_policy(db):
    # given
    client = Client()
    # when
    response = client.get("/login/")
    # then
    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


def test_the_htmx_config_keeps_htmx_from_injecting_inline_styles_or_evaluating_code(db):
    # given
    client = Client()
    # when
    page = client.get("/login/").content.decode()
    # then
    assert (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>"""
        in page
    )
