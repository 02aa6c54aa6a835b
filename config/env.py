"""Environment readers for settings: the only place that touches os.environ."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    """Read a string setting; `NAME_FILE` (a container secret path) wins over `NAME`."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name, "")
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = env_str(name, "")
    if not raw:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secrets(*names: str) -> dict[str, str]:
    """Read secrets that have no default: raise naming every one that is unset (or empty)."""
    values = {name: env_str(name, "") for name in names}
    missing = [name for name, value in values.items() if not value.strip()]
    if missing:
        raise ImproperlyConfigured(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: set "
            f"{'it' if len(missing) == 1 else 'them'} in the environment (or NAME_FILE, a file holding "
            "the value). "
            "Local development and the demo use DJANGO_SETTINGS_MODULE=config.settings.local, which "
            "fills in public development values."
        )
    return values
