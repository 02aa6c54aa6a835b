"""`config.settings.production`, the servers' default: it refuses missing or development secrets, and
under it `manage.py check --deploy` is clean. Each case runs in a fresh Python (the settings are read
once per process), with the environment a deployment would have: forked from one that has imported
the libraries but nothing of the project (forked_python.py), which costs a fraction of a start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config.dev_secrets import DEVELOPMENT_SECRETS
from tests.config.forked_python import ForkedPython

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = ("SECRET_KEY", "SHOPIFY_API_SECRET", "FIELD_ENCRYPTION_KEYS")
SERVER_MODULES = ("config.wsgi", "config.asgi", "config.celery")
REAL_SECRETS = {
    "SECRET_KEY": "k7#Qw9-ZrT2vLx8pYb4NcMe6HsJd3FgA5uWq1VnRt0XyBz_oPiKl",
    "SHOPIFY_API_SECRET": "3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def _env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """A bare environment (not this process's: the test settings put the development secrets into it,
    the browser tests DJANGO_ALLOW_ASYNC_UNSAFE), SQLite and the broker under `tmp_path`, plus
    `overrides`; None removes a variable."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "SHOPSYNC_VAR_DIR": str(tmp_path),
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


_forked: list[ForkedPython] = []


@pytest.fixture(scope="module", autouse=True)
def _forking_python():
    python = ForkedPython(cwd=ROOT)
    _forked.append(python)
    yield
    _forked.remove(python)
    python.close()


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python ...` in `ROOT` with exactly `env`, as `subprocess.run(capture_output=True, text=True)`."""
    return _forked[0].run(argv, env)


def _import(module: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = f"import {module}; from django.conf import settings; print('loaded', settings.SETTINGS_MODULE)"
    return _run([sys.executable, "-c", code], env)


@pytest.mark.parametrize("module", SERVER_MODULES)
def test_a_server_module_refuses_to_load_without_any_secret(tmp_path, module):
    # given
    env = _env(tmp_path)
    # when
    result = _import(module, env)
    # then
    assert result.returncode == 1
    assert (
        "ImproperlyConfigured: SECRET_KEY, SHOPIFY_API_SECRET, FIELD_ENCRYPTION_KEYS are not set"
        in result.stderr
    )
    assert "loaded" not in result.stdout


@pytest.mark.parametrize("module", SERVER_MODULES)
@pytest.mark.parametrize("missing", SECRET_NAMES)
def test_a_server_module_names_the_one_secret_that_is_missing(tmp_path, module, missing):
    # given
    env = _env(tmp_path, **{**REAL_SECRETS, missing: None})
    # when
    result = _import(module, env)
    # then
    assert result.returncode == 1
    assert f"ImproperlyConfigured: {missing} is not set: set it in the environment" in result.stderr


@pytest.mark.parametrize("module", SERVER_MODULES)
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_server_module_refuses_a_development_secret(tmp_path, module, name):
    # given
    env = _env(tmp_path, **{**REAL_SECRETS, name: DEVELOPMENT_SECRETS[name]})
    # when
    result = _import(module, env)
    # then
    assert result.returncode == 1
    assert (
        "ImproperlyConfigured: Refusing to start with production settings: "
        f"{name} is the public development value; set a secret of your own." in result.stderr
    )


def test_the_development_encryption_key_is_refused_even_as_an_old_rotation_key(tmp_path):
    # given
    keys = f"{REAL_SECRETS['FIELD_ENCRYPTION_KEYS']},{DEVELOPMENT_SECRETS['FIELD_ENCRYPTION_KEYS']}"
    env = _env(tmp_path, **{**REAL_SECRETS, "FIELD_ENCRYPTION_KEYS": keys})
    # when
    result = _import("config.wsgi", env)
    # then
    assert result.returncode == 1
    assert "FIELD_ENCRYPTION_KEYS is the public development value" in result.stderr


def test_an_encryption_key_that_is_not_a_fernet_key_is_refused(tmp_path):
    # given
    keys = f"{REAL_SECRETS['FIELD_ENCRYPTION_KEYS']},not-a-key"
    env = _env(tmp_path, **{**REAL_SECRETS, "FIELD_ENCRYPTION_KEYS": keys})
    # when
    result = _import("config.wsgi", env)
    # then
    assert result.returncode == 1
    assert "FIELD_ENCRYPTION_KEYS: key #2 is not a Fernet key" in result.stderr


@pytest.mark.parametrize("module", SERVER_MODULES)
def test_a_server_module_loads_production_settings_with_real_secrets(tmp_path, module):
    # given
    env = _env(tmp_path, **REAL_SECRETS)
    # when
    result = _import(module, env)
    # then
    assert (result.returncode, result.stdout) == (0, "loaded config.settings.production\n"), result.stderr


def test_secrets_can_come_from_files(tmp_path):
    # given
    files = {}
    for name, value in REAL_SECRETS.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        files[f"{name}_FILE"] = str(path)
    env = _env(tmp_path, **files)
    # when
    result = _run([sys.executable, "-c", "import config.wsgi; from django.conf import settings; "
                   "print(settings.SECRET_KEY, settings.SHOPIFY_API_SECRET, settings.FIELD_ENCRYPTION_KEYS)"],
                  env)  # fmt: skip
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{REAL_SECRETS['SECRET_KEY']} {REAL_SECRETS['SHOPIFY_API_SECRET']} "
        f"['{REAL_SECRETS['FIELD_ENCRYPTION_KEYS']}']\n"
    )


@pytest.mark.parametrize("command", [["worker", "--pool", "solo"], ["beat"]])
def test_a_celery_worker_or_beat_does_not_start_without_secrets(tmp_path, command):
    # given
    env = _env(tmp_path, SECRET_KEY=REAL_SECRETS["SECRET_KEY"])
    # when
    result = _run([sys.executable, "-m", "celery", "-A", "config", *command], env)
    # then: Celery cannot load the app (its exit status for that is 2)
    assert result.returncode == 2
    assert "ImproperlyConfigured: SHOPIFY_API_SECRET, FIELD_ENCRYPTION_KEYS are not set" in result.stderr


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    # given
    env = _env(
        tmp_path, **REAL_SECRETS, DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="shopsync.example.com", SHOPIFY_APP_URL="https://shopsync.example.com",
    )  # fmt: skip
    # when
    result = _run([sys.executable, "manage.py", "check", "--deploy"], env)
    # then
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


def test_check_deploy_under_the_local_settings_lists_what_production_sets(tmp_path):
    # given: what production.py adds is exactly what the deploy checks ask for
    env = _env(tmp_path, **REAL_SECRETS, DJANGO_SETTINGS_MODULE="config.settings.local")
    # when
    result = _run([sys.executable, "manage.py", "check", "--deploy"], env)
    # then
    # HSTS, SSL redirect, secure session and CSRF cookies
    assert sorted(re.findall(r"\(security\.(W\d+)\)", result.stderr)) == ["W004", "W008", "W012", "W016"]


def test_manage_py_defaults_to_the_local_settings_with_development_secrets(tmp_path):
    # given
    env = _env(tmp_path)
    # when
    result = _run([sys.executable, "manage.py", "shell", "-v", "0", "-c",
                   "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.SECRET_KEY)"],
                  env)  # fmt: skip
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"config.settings.local {DEVELOPMENT_SECRETS['SECRET_KEY']}\n"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("2025-07", "API version 2025-07 is older than 2025-10, the oldest the client's queries run on"),
        ("2026-02", "'2026-02' is not a stable Shopify API version"),
        ("latest", "'latest' is not a stable Shopify API version"),
    ],
)
def test_an_unusable_shopify_api_version_stops_the_start(tmp_path, version, message):
    # given
    env = _env(tmp_path, **REAL_SECRETS, SHOPIFY_API_VERSION=version)
    # when
    result = _import("config.wsgi", env)
    # then
    assert result.returncode == 1
    assert f"ImproperlyConfigured: SHOPIFY_API_VERSION: {message}" in result.stderr
