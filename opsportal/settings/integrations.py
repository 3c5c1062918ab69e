"""What each feature and outside system reads: Alertmanager ingestion, the outbox, Slack,
PagerDuty, email and runbooks (README, "Configuration"). The sweeps and beat entries they add go
into the core's tables."""

from __future__ import annotations

from datetime import timedelta

import environ

from .base import CELERY_BEAT_SCHEDULE, DATABASES, OPSPORTAL_PROCESS, SCHEDULER_SWEEPS, USING_POSTGRES, env

# --- Alertmanager webhook ingestion ---------------------------------------------------------
# A bigger body gets 413 (lower max_alerts in the receiver config); 10,000 alerts fit in 10 MB.
ALERTMANAGER_MAX_BODY_BYTES = env.int("ALERTMANAGER_MAX_BODY_BYTES", default=10 * 1024 * 1024)
ALERTMANAGER_MAX_ALERTS = env.int("ALERTMANAGER_MAX_ALERTS", default=20_000)
# Raw webhook bodies are kept this long (and at most this many) for debugging.
ALERTMANAGER_DELIVERY_RETENTION = timedelta(days=env.float("ALERTMANAGER_DELIVERY_RETENTION_DAYS", default=7))
ALERTMANAGER_DELIVERY_MAX_ROWS = env.int("ALERTMANAGER_DELIVERY_MAX_ROWS", default=100_000)
# ...and at most this many bytes of bodies in all (the oldest go first): a few big posts cannot fill the disk.
ALERTMANAGER_DELIVERY_MAX_BYTES = env.int("ALERTMANAGER_DELIVERY_MAX_BYTES", default=512 * 1024 * 1024)
ALERTMANAGER_SWEEP_SECONDS = env.float("ALERTMANAGER_SWEEP_SECONDS", default=30.0)
# A webhook waiting longer than this for a row lock answers 503 (Alertmanager retries) instead of hanging.
ALERTMANAGER_LOCK_TIMEOUT_SECONDS = env.float("ALERTMANAGER_LOCK_TIMEOUT_SECONDS", default=15.0)
# The hooks pool's connections start with it, so its posts need no SET of their own (the webhook
# sets it per transaction elsewhere); there it bounds the Slack and PagerDuty hooks' lock waits too.
if OPSPORTAL_PROCESS == "hooks" and USING_POSTGRES and ALERTMANAGER_LOCK_TIMEOUT_SECONDS > 0:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (f"{_options.get('options', '')} "
                           f"-c lock_timeout={int(ALERTMANAGER_LOCK_TIMEOUT_SECONDS * 1000)}ms").strip()
# A database timer: it runs in the scheduler process (SCHEDULER_SWEEPS above), not through the broker.
SCHEDULER_SWEEPS["alertmanager-inactivity"] = (
    "incidents.integrations.alertmanager.inactivity.incidents_resolve_inactive", ALERTMANAGER_SWEEP_SECONDS)
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
# A message waiting for its time (a Slack pace slot, the quiet time after a send, a retry) goes out
# at most this long after it: each round is one indexed query, about a millisecond when nothing is due.
NOTIFY_SWEEP_SECONDS = env.float("NOTIFY_SWEEP_SECONDS", default=1.0)
# After a send, a conversation's next messages wait this long and go out together (storm noise control).
NOTIFY_COALESCE_SECONDS = env.float("NOTIFY_COALESCE_SECONDS", default=3.0)
# Shown in the default "INCIDENT ALERT" message when set.
STATUS_PAGE_URL = env.str("STATUS_PAGE_URL", default="")
# The outbox sweep runs in the scheduler with the other timers; it hands due flushes to workers.
SCHEDULER_SWEEPS["outbox"] = ("incidents.notifications.outbox.outbox_sweep", NOTIFY_SWEEP_SECONDS)

# --- Slack (docs/slack.md) ----------------------------------------------------------------
# Messages are sent when SLACK_BOT_TOKEN is set (otherwise they are kept as previews); the hooks
# (/hooks/slack/actions, /hooks/slack/commands) answer only when SLACK_SIGNING_SECRET is set.
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="")
# Channel id (C0123...) or name (#incidents) for incidents no route sends elsewhere.
SLACK_DEFAULT_CHANNEL = env.str("SLACK_DEFAULT_CHANNEL", default="")
# Web API base URL; tests point it at a local contract server. Keep the trailing slash.
SLACK_API_URL = env.str("SLACK_API_URL", default="https://slack.com/api/").rstrip("/") + "/"
SLACK_TIMEOUT_SECONDS = env.float("SLACK_TIMEOUT_SECONDS", default=5.0)
# Severities (comma-separated names) whose incidents also get a channel of their own.
SLACK_INCIDENT_CHANNEL_SEVERITIES = env.list("SLACK_INCIDENT_CHANNEL_SEVERITIES", default=["P1"])
# Slack's chat.postMessage limit is about one message per second per channel, with short bursts.
SLACK_CHANNEL_MESSAGES_PER_SECOND = env.float("SLACK_CHANNEL_MESSAGES_PER_SECOND", default=1.0)
SLACK_CHANNEL_BURST = env.int("SLACK_CHANNEL_BURST", default=4)
# e.g. https://acme.slack.com/ for message links; asked of Slack (auth.test) once when empty.
SLACK_WORKSPACE_URL = env.str("SLACK_WORKSPACE_URL", default="")
# Where ephemeral replies may be posted (the response_url of a signed request must start with it).
SLACK_RESPONSE_URL_PREFIX = env.str("SLACK_RESPONSE_URL_PREFIX", default="https://hooks.slack.com/")

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

# --- Runbooks (docs/runbooks.md) ----------------------------------------------------------------
# Secrets steps refer to by name (never stored in a step): RUNBOOK_SECRET_OPS_API_TOKEN=... is "OPS_API_TOKEN".
RUNBOOK_SECRETS: dict[str, str] = {
    name.removeprefix("RUNBOOK_SECRET_"): value
    for name, value in env.ENVIRON.items() if name.startswith("RUNBOOK_SECRET_") and value
}
# The `command` action runs only when enabled, and only programs named here (absolute paths), as argv.
RUNBOOK_COMMANDS_ENABLED = env.bool("RUNBOOK_COMMANDS_ENABLED", default=False)
RUNBOOK_COMMAND_ALLOWLIST = [p.strip() for p in env.list("RUNBOOK_COMMAND_ALLOWLIST", default=[]) if p.strip()]
# Output kept per step (a marker says how much was cut) and response bytes read per HTTP step.
RUNBOOK_OUTPUT_MAX_BYTES = env.int("RUNBOOK_OUTPUT_MAX_BYTES", default=64 * 1024)
RUNBOOK_HTTP_MAX_BODY_BYTES = env.int("RUNBOOK_HTTP_MAX_BODY_BYTES", default=1024 * 1024)
# A step still "running" this long after its own timeout (its worker was killed) is failed or retried.
RUNBOOK_REAPER_GRACE_SECONDS = env.float("RUNBOOK_REAPER_GRACE_SECONDS", default=30.0)
# A step handed to the workers but not picked up within this long (broker down, task lost) is re-sent.
RUNBOOK_QUEUE_GRACE_SECONDS = env.float("RUNBOOK_QUEUE_GRACE_SECONDS", default=300.0)
RUNBOOK_SWEEP_SECONDS = env.float("RUNBOOK_SWEEP_SECONDS", default=2.0)
# `wait` steps falling due, and the reaper of steps whose worker died: database timers in the scheduler.
SCHEDULER_SWEEPS["runbook-waits"] = ("runbooks.sweeps.runbook_waits_sweep", RUNBOOK_SWEEP_SECONDS)
SCHEDULER_SWEEPS["runbook-reaper"] = ("runbooks.sweeps.runbook_reaper_sweep", RUNBOOK_SWEEP_SECONDS)
