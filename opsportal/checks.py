"""System checks that stop a production start with settings copied from an example.

They run with every ``manage.py`` command that checks (migrate, check) and so in the compose
``migrate`` one-shot every other service waits for: ``docker compose up`` with the example
SECRET_KEY or ``ALLOWED_HOSTS=*`` stops there and says why (docs/security.md). With DEBUG=1 they
stay quiet: a developer's machine may use anything.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

# Values that appear in our examples (docker-compose.yml, docs) and Django's own startproject.
EXAMPLE_SECRET_KEYS = frozenset({"change-me-in-production", "change-me", "changeme", "secret", ""})


@register()
def example_settings_check(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    if settings.DEBUG:
        return []
    problems: list[Error | Warning] = []
    key = settings.SECRET_KEY
    if key in EXAMPLE_SECRET_KEYS or key.startswith("django-insecure-") or key.startswith("change-me"):
        problems.append(Error(
            "SECRET_KEY is an example value, so anyone can forge sessions and password-reset links.",
            hint='Set SECRET_KEY to a long random string, e.g. the output of '
                 '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.',
            id="opsportal.E001",
        ))
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(Error(
            "ALLOWED_HOSTS=* accepts any Host header, which lets others make the app build links "
            "to their own host (host header poisoning).",
            hint="Set ALLOWED_HOSTS to the host names people and senders use, comma-separated, "
                 "e.g. ALLOWED_HOSTS=opsportal.example.com,web.",
            id="opsportal.E002",
        ))
    if settings.SECURE_SSL_REDIRECT and not settings.SECURE_PROXY_SSL_HEADER:
        problems.append(Warning(
            "SECURE_SSL_REDIRECT is on (PUBLIC_URL is https) but SECURE_PROXY_SSL_HEADER is not set: "
            "behind a TLS-terminating proxy every request would be redirected again and again.",
            hint="Behind a proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO, or let the proxy "
                 "redirect to https and set SECURE_SSL_REDIRECT=0.",
            id="opsportal.W001",
        ))
    return problems
