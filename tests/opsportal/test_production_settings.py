"""Production mode from the environment, as `manage.py` sees it in a fresh process: example values
are refused, a production-like setup passes `check --deploy`, and https turns on secure cookies,
redirects and HSTS while plain-http local use (`make run`) keeps them off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 10 + "Zq8v3XwT1pLm7Rn2Yb6Hc9Jd4Fg0SsAe5Ku1Wo8Ti3Vx"
PRODUCTION = {
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "ops.example.com",
    "PUBLIC_URL": "https://ops.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
}


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS",
                                                                      "PUBLIC_URL", "DEBUG", "SECURE_", "SESSION_"))}
    clean.update(OPSPORTAL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="opsportal.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def settings_in(tmp_path: Path, **env: str) -> dict[str, object]:
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
             "SECURE_PROXY_SSL_HEADER"]
    code = f"from django.conf import settings; import json; print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    result = manage(tmp_path, "shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("env", "code", "says"),
    [
        ({"SECRET_KEY": "change-me-in-production", "ALLOWED_HOSTS": "ops.example.com"}, "opsportal.E001",
         "SECRET_KEY is an example value"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "*"}, "opsportal.E002", "ALLOWED_HOSTS=* accepts any Host header"),
    ],
)
def test_it_refuses_example_values_in_production_mode(tmp_path, env, code, says) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "ERROR", DEBUG="0", **env)

    assert result.returncode != 0
    assert code in result.stderr and says in result.stderr


def test_a_developer_with_debug_on_may_use_them(tmp_path) -> None:
    result = manage(tmp_path, "check", DEBUG="1", SECRET_KEY="change-me-in-production", ALLOWED_HOSTS="*")

    assert result.returncode == 0, result.stderr


def test_a_production_like_setup_passes_check_deploy_without_a_warning(tmp_path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", DEBUG="0", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_https_turns_on_secure_cookies_redirects_and_hsts(tmp_path) -> None:
    assert settings_in(tmp_path, DEBUG="0", **PRODUCTION) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_plain_http_local_use_keeps_them_off(tmp_path) -> None:
    """`make run` sets no PUBLIC_URL: it serves http://127.0.0.1, where Secure cookies would never
    come back and a redirect to https would lead nowhere."""
    assert settings_in(tmp_path) == {
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0, "SECURE_PROXY_SSL_HEADER": None,
    }


def test_https_without_the_proxy_header_warns_of_a_redirect_loop(tmp_path) -> None:
    env = {**PRODUCTION}
    del env["SECURE_PROXY_SSL_HEADER"]

    result = manage(tmp_path, "check", DEBUG="0", **env)

    assert "opsportal.W001" in result.stderr and "SECURE_PROXY_SSL_HEADER" in result.stderr
