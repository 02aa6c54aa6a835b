"""Encryption at rest for secrets such as Shopify access and refresh tokens."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "Stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; was the key rotated away?"
        ) from exc
