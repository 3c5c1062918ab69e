"""Every setting comes from the environment (README, "Configuration").

With nothing set, Opsportal runs on an embedded default that needs no server: SQLite in
``OPSPORTAL_DATA_DIR`` and Celery's filesystem broker in the same folder. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ

# Generic classes (ModelAdmin[Severity], QuerySet[Incident]) subscriptable at run time, for mypy --strict.
django_stubs_ext.monkeypatch()

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
# The public base URL, used in links we hand out (Alertmanager receiver snippet, messages).
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

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
    "incidents.notifications",
    "incidents.integrations.alertmanager",
    "incidents.integrations.pagerduty",
    "incidents.integrations.email",
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
                "incidents.context_processors.navigation",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- Redis, broker, cache -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://localhost//"
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}
# Several Opsportal installations (or test runs) can share one Redis with their own queue names.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (JSON lines), like the web process.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The scheduler only pokes; every timer is a due-time column in the database (docs/architecture.md section 3).
SLA_TICK_SECONDS = env.float("SLA_TICK_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE = {
    "sla-tick": {
        "task": "incidents.tasks.sla_tick",
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
CELERY_BEAT_SCHEDULE["alertmanager-inactivity-sweep"] = {
    "task": "incidents.integrations.alertmanager.tasks.alertmanager_inactivity_sweep",
    "schedule": timedelta(seconds=ALERTMANAGER_SWEEP_SECONDS),
    "options": {"expires": ALERTMANAGER_SWEEP_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE["alertmanager-prune-deliveries"] = {
    "task": "incidents.integrations.alertmanager.tasks.alertmanager_prune_deliveries",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# --- Notifications (outbox) ------------------------------------------------------------------
# A delivery is retried with exponential backoff (from NOTIFY_BACKOFF_SECONDS, capped) and is dead
# after NOTIFY_MAX_ATTEMPTS; the defaults ride out an outage of the other side of about 30 minutes.
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=12)
NOTIFY_BACKOFF_SECONDS = env.float("NOTIFY_BACKOFF_SECONDS", default=5.0)
NOTIFY_BACKOFF_MAX_SECONDS = env.float("NOTIFY_BACKOFF_MAX_SECONDS", default=300.0)
# A flush that has not finished after this long (a killed worker) is taken over by the sweep.
NOTIFY_LEASE_SECONDS = env.int("NOTIFY_LEASE_SECONDS", default=60)
NOTIFY_SWEEP_SECONDS = env.float("NOTIFY_SWEEP_SECONDS", default=5.0)
# Shown in the default "INCIDENT ALERT" message when set.
STATUS_PAGE_URL = env.str("STATUS_PAGE_URL", default="")
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {
    "task": "incidents.notifications.tasks.outbox_sweep_task",
    "schedule": timedelta(seconds=NOTIFY_SWEEP_SECONDS),
    "options": {"expires": NOTIFY_SWEEP_SECONDS * 2},
}

# --- PagerDuty (docs/pagerduty.md) -------------------------------------------------------------
# Events API v2: the routing key of the service's "Events API v2" integration is the default target;
# PAGERDUTY_ROUTING_KEYS names more ("payments=<key>,checkout=<key>") for routes to refer to by name.
PAGERDUTY_EVENTS_URL = env.str("PAGERDUTY_EVENTS_URL", default="https://events.pagerduty.com").rstrip("/")
PAGERDUTY_ROUTING_KEY = env.str("PAGERDUTY_ROUTING_KEY", default="")
PAGERDUTY_ROUTING_KEYS: dict[str, str] = env.dict("PAGERDUTY_ROUTING_KEYS", default={})
# A PEM file of the CA that signed the Events API endpoint's certificate (a private proxy or relay).
PAGERDUTY_CA_BUNDLE = env.str("PAGERDUTY_CA_BUNDLE", default="")
PAGERDUTY_TIMEOUT_SECONDS = env.float("PAGERDUTY_TIMEOUT_SECONDS", default=10.0)
# Our severity name -> PagerDuty's (critical, error, warning, info).
PAGERDUTY_SEVERITY_MAP: dict[str, str] = {
    "P1": "critical", "P2": "error", "P3": "warning", "P4": "info",
    **env.dict("PAGERDUTY_SEVERITY_MAP", default={}),
}
if not set(PAGERDUTY_SEVERITY_MAP.values()) <= {"critical", "error", "warning", "info"}:
    raise environ.ImproperlyConfigured(
        f"PAGERDUTY_SEVERITY_MAP maps to {sorted(PAGERDUTY_SEVERITY_MAP.values())}; PagerDuty's severities are "
        "critical, error, warning and info."
    )
# The signing secret of the v3 webhook subscription; without it /hooks/pagerduty refuses everything.
PAGERDUTY_WEBHOOK_SECRET = env.str("PAGERDUTY_WEBHOOK_SECRET", default="")
# Webhook event ids are remembered this long, so a redelivered webhook changes nothing twice.
PAGERDUTY_WEBHOOK_RETENTION = timedelta(days=env.float("PAGERDUTY_WEBHOOK_RETENTION_DAYS", default=7))
CELERY_BEAT_SCHEDULE["pagerduty-prune-webhook-events"] = {
    "task": "incidents.integrations.pagerduty.tasks.pagerduty_prune_webhook_events",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# --- Email (docs/email.md) ---------------------------------------------------------------------
# EMAIL_URL (smtp+tls://user:password@host:587) sets the backend, host, port, user, password and TLS at
# once; otherwise the discrete variables do. The console backend (the default) prints each email.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# A worker waiting on a dead mail server gives up after this and the outbox retries later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Opsportal <opsportal@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Who gets incident email when no route for channel "email" matches: comma-separated addresses.
NOTIFY_EMAIL_TO = env.str("NOTIFY_EMAIL_TO", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=""),
        }
    }
else:
    # A cache every process on this machine sees: heartbeats are written by the worker and the
    # scheduler and read by the web process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
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
