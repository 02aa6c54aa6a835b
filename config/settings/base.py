"""Settings for every environment, switched by environment variables (12-factor).

Nothing configured means: SQLite under var/ and a filesystem Celery broker under var/. Set
DATABASE_URL / CELERY_BROKER_URL for PostgreSQL and Redis. The secrets have no defaults here:
`config.settings.local` (manage.py's default, the demo) fills in development ones, and
`config.settings.production` (the servers' default) refuses those (config/dev_secrets.py).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Exchange, Queue

from config.env import env_bool, env_int, env_list, env_secrets, env_str
from reconciliation.beat import RECONCILIATION_BEAT_SCHEDULE
from shopsync.api_versions import CLIENT_API_VERSION, UnsupportedApiVersion, api_version_validate
from shopsync.beat import SYNC_BEAT_SCHEDULE
from shopsync.queues import SYNC_BACKFILL_QUEUE, SYNC_QUEUE
from webhooks.beat import WEBHOOK_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("SHOPSYNC_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_SECRETS = env_secrets("SECRET_KEY", "SHOPIFY_API_SECRET", "FIELD_ENCRYPTION_KEYS")
SECRET_KEY = _SECRETS["SECRET_KEY"]
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "django_htmx",
    "shopsync",
    "webhooks",
    "reconciliation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]
# Everywhere, so the tests and the demo run under the policy production serves. The pages load only
# their own scripts and styles (no inline code; htmx's injected indicator style is off via the
# htmx-config meta tag in templates/base.html). No form-action: the install form ends in a redirect
# to the shop's Shopify, which form-action would block.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.dev_secrets",
            ],
        },
    },
]


def _database_from_env() -> dict:
    url = env_str("DATABASE_URL", "")
    if not url:
        # Embedded SQLite: WAL lets the web server read while a worker writes; IMMEDIATE transactions
        # and a busy timeout make concurrent writers queue instead of failing with "database is locked".
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "shopsync.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard-home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shopsync@localhost")
ADMINS = env_list("SHOPSYNC_ALERT_EMAILS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Django REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {"TITLE": "shopsync API", "VERSION": "1.0.0"}

# --- Shopify -----------------------------------------------------------------------------------
SHOPIFY_API_KEY = env_str("SHOPIFY_API_KEY", "shopsync-dev-api-key")
SHOPIFY_API_SECRET = _SECRETS["SHOPIFY_API_SECRET"]
# New shops get this version; the client's queries need at least SUPPORTED_API_VERSION_MIN.
try:
    SHOPIFY_API_VERSION = api_version_validate(env_str("SHOPIFY_API_VERSION", CLIENT_API_VERSION))
except UnsupportedApiVersion as exc:
    raise ImproperlyConfigured(f"SHOPIFY_API_VERSION: {exc}") from exc
SHOPIFY_SCOPES = env_str(
    "SHOPIFY_SCOPES", "read_orders,read_all_orders,read_customers,read_products,read_inventory,read_locations"
)
SHOPIFY_APP_URL = env_str("SHOPIFY_APP_URL", "http://127.0.0.1:8000")
# Lets the install form target a non-Shopify Admin API host (the simulator). Never in production.
SHOPIFY_ALLOW_CUSTOM_API_URL = env_bool("SHOPIFY_ALLOW_CUSTOM_API_URL", False)
# Domains accepted besides *.myshopify.com (none in production).
SHOPIFY_EXTRA_SHOP_DOMAIN_SUFFIXES = env_list("SHOPIFY_EXTRA_SHOP_DOMAIN_SUFFIXES", [])
SHOPIFY_HTTP_TIMEOUT_SECONDS = env_int("SHOPIFY_HTTP_TIMEOUT_SECONDS", 30)
SHOPIFY_HTTP_MAX_ATTEMPTS = env_int("SHOPIFY_HTTP_MAX_ATTEMPTS", 8)
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 5 * 1024 * 1024)
# The outbox relay (webhooks/services/relaying.py) publishing stored deliveries to the broker.
# It runs inside every worker consuming the `webhooks` queue unless switched off here, in which
# case run `manage.py webhook_relay` (one or more; they never claim the same row).
WEBHOOK_RELAY_IN_WORKER = env_bool("WEBHOOK_RELAY_IN_WORKER", True)
WEBHOOK_RELAY_POLL_SECONDS = float(env_str("WEBHOOK_RELAY_POLL_SECONDS", "0.2"))
WEBHOOK_RELAY_BATCH_SIZE = env_int("WEBHOOK_RELAY_BATCH_SIZE", 500)
WEBHOOK_RELAY_IDS_PER_TASK = env_int("WEBHOOK_RELAY_IDS_PER_TASK", 50)
# Processed and ignored deliveries (raw bodies included) are deleted after this many days, hourly
# (webhooks/services/pruning.py); failed and dead-lettered ones are kept. 0 keeps everything.
WEBHOOK_LOG_RETENTION_DAYS = env_int("WEBHOOK_LOG_RETENTION_DAYS", 30)
if WEBHOOK_LOG_RETENTION_DAYS < 0:
    raise ValueError(f"WEBHOOK_LOG_RETENTION_DAYS must be 0 (keep) or more, got {WEBHOOK_LOG_RETENTION_DAYS}")

# Fernet key(s), comma-separated, newest first: rotating keys keeps old tokens readable.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in _SECRETS["FIELD_ENCRYPTION_KEYS"].split(",") if key.strip()]

SLACK_WEBHOOK_URL = env_str("SLACK_WEBHOOK_URL", "")
METRICS_BEARER_TOKEN = env_str("METRICS_BEARER_TOKEN", "")  # /metrics: Prometheus scrapes with it

# --- Sync engine (defaults and meaning in shopsync/services/sync/config.py) ------------------------
SYNC_HEARTBEAT_TIMEOUT_SECONDS = env_int("SYNC_HEARTBEAT_TIMEOUT_SECONDS", 30)
# Fair turns: the sync processes of the whole fleet (the sum of `-c` of every worker consuming the
# sync queues); the caps below are derived from it unless set (0 = derived, see config.py).
SYNC_WORKER_CONCURRENCY = env_int("SYNC_WORKER_CONCURRENCY", 2)
SYNC_MAX_RUNNING_PER_SHOP = env_int("SYNC_MAX_RUNNING_PER_SHOP", 0)
SYNC_MAX_RUNNING_TOTAL = env_int("SYNC_MAX_RUNNING_TOTAL", 0)
SYNC_MAX_RUNNING_BACKFILLS = env_int("SYNC_MAX_RUNNING_BACKFILLS", 0)
# A run gives its worker back after this long (at a committed batch or page) and queues again.
SYNC_BACKFILL_SLICE_SECONDS = float(env_str("SYNC_BACKFILL_SLICE_SECONDS", "60"))
SYNC_DELTA_SLICE_SECONDS = float(env_str("SYNC_DELTA_SLICE_SECONDS", "60"))
SYNC_INCREMENTAL_OVERLAP_SECONDS = env_int("SYNC_INCREMENTAL_OVERLAP_SECONDS", 120)
SYNC_BULK_BATCH_SIZE = env_int("SYNC_BULK_BATCH_SIZE", 2000)
SYNC_BULK_PARSE_PROCESS_MIN_LINES = env_int("SYNC_BULK_PARSE_PROCESS_MIN_LINES", 40_000)
# A delta window holding at least this many records is read by a bulk query (0: always pages).
SYNC_BULK_DELTA_THRESHOLD = env_int("SYNC_BULK_DELTA_THRESHOLD", 100)

# --- Celery ----------------------------------------------------------------------------------------
_broker_url = env_str("CELERY_BROKER_URL", "")
if _broker_url:
    CELERY_BROKER_URL = _broker_url
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # How long a message taken by a worker that died stays invisible (acks_late): 5 minutes, not
        # hours. What it may redeliver while its task still runs is harmless: a sync task's claim is a
        # conditional UPDATE that refuses a session still heart-beating (each running sync redelivered
        # once, a no-op), webhook and dead-letter work is claimed row by row, alert channels are claimed,
        # and the one long task that is not idempotent (reconciliation) acks early. Retry countdowns
        # (sync: up to 10 min) may come back early as a duplicate, which its claim also absorbs. Sync
        # runs do not wait for this: the watchdog resumes them 30-45 s after their worker's last beat.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
        # A Redis that is restarting refuses at once, but one behind a failover or a NAT that
        # dropped the connection never answers: without timeouts a publish (or the worker's BRPOP
        # connection) would wait on the dead socket forever instead of reconnecting. The read
        # timeout stays well above kombu's 1 s BRPOP; health checks (PING on idle connections, and
        # kombu's check of the BRPOP and pub/sub connections) find half-open ones.
        "socket_connect_timeout": env_int("CELERY_BROKER_SOCKET_CONNECT_TIMEOUT", 5),
        "socket_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT", 30),
        "socket_keepalive": True,
        "health_check_interval": env_int("CELERY_BROKER_HEALTH_CHECK_INTERVAL", 10),
        # Not `retry_on_timeout`: it replays a command whose reply timed out, which for a publish
        # can send the message twice; Celery's own publish retry and reconnection handle it.
    }
else:
    # No broker server: kombu's filesystem transport keeps messages as files under var/.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control (the cwd)
        "store_processed": False,
    }

# --- Shopify API budget (shopsync/shopify/pacing.py, budget.py) ------------------------------------
# Every process spending from a shop's Shopify buckets reserves from one budget held in this Redis,
# by default the broker's when that is Redis; empty means each process keeps its own estimate (the
# embedded single-worker setup).
SHOPIFY_BUDGET_REDIS_URL = env_str(
    "SHOPIFY_BUDGET_REDIS_URL",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
# A sync whose pacing wait would pass this gives its worker back: it is re-queued from its checkpoint
# with a countdown instead of sleeping. Calls outside a sync always wait.
SHOPIFY_BUDGET_DEFER_AFTER_SECONDS = float(env_str("SHOPIFY_BUDGET_DEFER_AFTER_SECONDS", "10"))

CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3 * 3600 - 300)
# Survive a broker restart or outage of any length: reconnect at start-up and after losing the
# connection, forever (the default gives up after 100 tries, about 45 minutes, and the worker exits
# with "Unrecoverable error"; None means no limit, 0 would mean no retry at all), and treat channel
# errors (a Redis answering errors while it starts up) as recoverable too.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
# A lost broker connection does not cancel running tasks: a backfill keeps going (its late ack is
# lost, and the redelivered message finds the session claimed or done and does nothing, R6).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_QUEUES = [
    # Short sync runs (incremental, update) and bulk ones (initial, full, populate) apart, so a
    # backfill never holds up a shop's incremental (shopsync/queues.py routes each run by its kind).
    Queue(SYNC_QUEUE, Exchange(SYNC_QUEUE), routing_key=SYNC_QUEUE),
    Queue(SYNC_BACKFILL_QUEUE, Exchange(SYNC_BACKFILL_QUEUE), routing_key=SYNC_BACKFILL_QUEUE),
    Queue("webhooks", Exchange("webhooks"), routing_key="webhooks"),
    Queue("maintenance", Exchange("maintenance"), routing_key="maintenance"),
]
CELERY_TASK_ROUTES = {
    # A session's run is published with its kind's queue (`sync_queue_for_kind`); this is the default.
    "shopsync.tasks.sync_*": {"queue": SYNC_QUEUE},
    # Housekeeping, not a delivery (Celery matches exact names before the glob below).
    "webhooks.tasks.webhook_logs_prune_task": {"queue": "maintenance"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Seeded into django-celery-beat's tables by the DatabaseScheduler on start. Each app keeps its
# periodic tasks as plain data in `<app>/beat.py`.
CELERY_BEAT_SCHEDULE = {**SYNC_BEAT_SCHEDULE, **RECONCILIATION_BEAT_SCHEDULE, **WEBHOOK_BEAT_SCHEDULE}
