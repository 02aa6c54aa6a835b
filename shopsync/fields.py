from __future__ import annotations

from typing import Any

from django.db import models

from shopsync.encryption import decrypt_text, encrypt_text


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code only ever sees the plain value."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(value)
