"""`config.context_processors.dev_secrets`: every page says so while public development secrets are
configured, and says nothing once they are real."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.test import Client

BANNER = (
    '<p class="dev-secrets-banner" role="note">Development secrets in use '
    "(SECRET_KEY, SHOPIFY_API_SECRET, FIELD_ENCRYPTION_KEYS)"
)


def test_pages_show_a_banner_while_development_secrets_are_in_use(db):
    # given: the test settings are the local ones, with the development secrets
    client = Client()
    # when
    response = client.get("/login/")
    # then
    assert response.status_code == 200
    assert BANNER in response.content.decode()


def test_the_banner_names_only_the_secrets_still_at_their_development_value(db, settings):
    # given
    settings.SECRET_KEY = "a-real-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    # when
    response = Client().get("/login/")
    # then
    assert "Development secrets in use (SHOPIFY_API_SECRET):" in response.content.decode()


def test_pages_show_no_banner_with_real_secrets(db, settings):
    # given
    settings.SECRET_KEY = "a-real-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    settings.SHOPIFY_API_SECRET = "a-real-app-secret"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    # when
    response = Client().get("/login/")
    # then
    assert response.status_code == 200
    assert "dev-secrets-banner" not in response.content.decode()
