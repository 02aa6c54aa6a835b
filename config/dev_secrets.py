"""The development secrets, and the rule that production never runs on them.

They are public (they are in this repository), so a deployment using them accepts webhooks forged by
anyone who reads it and stores tokens anyone can decrypt. `config.settings.local` (manage.py's default,
the demo, the tests) fills them in where the environment sets nothing; `config.settings.production`
(the default of `config.wsgi`, `config.asgi` and the Celery app) refuses to start with any of them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "dev-insecure-shopsync-secret-key-change-me"
# The simulator signs webhooks and OAuth callbacks with this one too (Procfile, shopify_sim defaults).
DEV_SHOPIFY_API_SECRET = "shopsync-dev-api-secret"
# urlsafe_b64encode(sha256(DEV_SECRET_KEY)): what earlier versions derived from the dev SECRET_KEY, so
# the tokens an existing var/ holds stay readable.
DEV_FIELD_ENCRYPTION_KEY = "rxfGdQzIzTgYx6rTIhQpx_X0oZ-rP49XMLJTQVgGSLM="

DEVELOPMENT_SECRETS = {
    "SECRET_KEY": DEV_SECRET_KEY,
    "SHOPIFY_API_SECRET": DEV_SHOPIFY_API_SECRET,
    "FIELD_ENCRYPTION_KEYS": DEV_FIELD_ENCRYPTION_KEY,
}


def dev_secrets_in_use(
    *, secret_key: str, shopify_api_secret: str, field_encryption_keys: Sequence[str]
) -> list[str]:
    """The names of the settings that hold a development secret (an old key kept for decryption
    counts: whatever it encrypted is readable by anyone)."""
    in_use = []
    if secret_key == DEV_SECRET_KEY:
        in_use.append("SECRET_KEY")
    if shopify_api_secret == DEV_SHOPIFY_API_SECRET:
        in_use.append("SHOPIFY_API_SECRET")
    if DEV_FIELD_ENCRYPTION_KEY in field_encryption_keys:
        in_use.append("FIELD_ENCRYPTION_KEYS")
    return in_use


def production_secrets_check(
    *, secret_key: str, shopify_api_secret: str, field_encryption_keys: Sequence[str]
) -> None:
    """Raise ImproperlyConfigured, naming every variable at fault, unless all three secrets are real."""
    problems = [
        f"{name} is the public development value; set a secret of your own"
        for name in dev_secrets_in_use(
            secret_key=secret_key,
            shopify_api_secret=shopify_api_secret,
            field_encryption_keys=field_encryption_keys,
        )
    ]
    for position, key in enumerate(field_encryption_keys, start=1):
        if key != DEV_FIELD_ENCRYPTION_KEY and not _is_fernet_key(key):
            problems.append(
                f"FIELD_ENCRYPTION_KEYS: key #{position} is not a Fernet key (32 url-safe base64-encoded "
                "bytes; make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            )
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with production settings: " + "; ".join(problems) + ". "
            "For local development use DJANGO_SETTINGS_MODULE=config.settings.local."
        )


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False
