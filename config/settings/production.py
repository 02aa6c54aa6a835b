"""Production: the servers' default (`config.wsgi`, `config.asgi`, the Celery app in config/celery.py).

The base settings already refuse to load without SECRET_KEY, SHOPIFY_API_SECRET and
FIELD_ENCRYPTION_KEYS; here the public development values are refused too (config/dev_secrets.py),
and HTTPS is required: `manage.py check --deploy` is clean with these (README "Deploying").
"""

from __future__ import annotations

from config.dev_secrets import production_secrets_check
from config.env import env_bool, env_int, env_list
from config.settings.base import *  # noqa: F403
from config.settings.base import FIELD_ENCRYPTION_KEYS, SECRET_KEY, SHOPIFY_API_SECRET

production_secrets_check(
    secret_key=SECRET_KEY,
    shopify_api_secret=SHOPIFY_API_SECRET,
    field_encryption_keys=FIELD_ENCRYPTION_KEYS,
)

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients' requests).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# A load balancer's plain-HTTP liveness probe would otherwise only ever see the redirect.
SECURE_REDIRECT_EXEMPT = env_list("DJANGO_SECURE_REDIRECT_EXEMPT", [r"^healthz$"])
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# A year, subdomains included, preload-ready: lower DJANGO_SECURE_HSTS_SECONDS for a first rollout.
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
