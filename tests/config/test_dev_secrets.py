"""`config.dev_secrets`: which settings hold a public development value, and the production refusal."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.dev_secrets import (
    DEV_FIELD_ENCRYPTION_KEY,
    DEV_SECRET_KEY,
    DEV_SHOPIFY_API_SECRET,
    dev_secrets_in_use,
    production_secrets_check,
)

REAL_KEY = Fernet.generate_key().decode()


def test_the_development_encryption_key_is_the_one_earlier_versions_derived_from_the_dev_secret_key():
    # given
    # when
    derived = base64.urlsafe_b64encode(hashlib.sha256(DEV_SECRET_KEY.encode()).digest()).decode()
    # then: tokens stored by an existing demo var/ stay readable
    assert derived == DEV_FIELD_ENCRYPTION_KEY


def test_every_development_value_is_reported():
    # given
    # when
    in_use = dev_secrets_in_use(
        secret_key=DEV_SECRET_KEY,
        shopify_api_secret=DEV_SHOPIFY_API_SECRET,
        field_encryption_keys=[DEV_FIELD_ENCRYPTION_KEY],
    )
    # then
    assert in_use == ["SECRET_KEY", "SHOPIFY_API_SECRET", "FIELD_ENCRYPTION_KEYS"]


def test_real_secrets_are_not_reported():
    # given
    # when
    in_use = dev_secrets_in_use(
        secret_key="real", shopify_api_secret="real", field_encryption_keys=[REAL_KEY]
    )
    # then
    assert in_use == []


def test_production_refuses_every_fault_at_once():
    # given
    # when
    with pytest.raises(ImproperlyConfigured) as raised:
        production_secrets_check(
            secret_key=DEV_SECRET_KEY, shopify_api_secret="real", field_encryption_keys=[REAL_KEY, "short"]
        )
    # then
    assert str(raised.value).startswith(
        "Refusing to start with production settings: SECRET_KEY is the public development value; set a "
        "secret of your own; FIELD_ENCRYPTION_KEYS: key #2 is not a Fernet key"
    )


def test_production_accepts_real_secrets():
    # given
    # when
    result = production_secrets_check(
        secret_key="real", shopify_api_secret="real", field_encryption_keys=[REAL_KEY]
    )
    # then
    assert result is None
