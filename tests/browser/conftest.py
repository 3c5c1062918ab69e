"""Playwright against Debian's chromium and pytest-django's live server.

Browser tests skip (with the reason) when /usr/bin/chromium is missing, except under CI, where a
missing browser is a failure: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.conftest import Login

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 900}

NewPage = Callable[..., Page]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for the tests of one module.

    Playwright's sync API keeps an asyncio event loop in this thread while it runs, and Django
    refuses ORM calls from a thread with a running loop. The browser tests call the ORM between
    browser steps, so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for as long as Playwright runs, and
    removed with it: every other test keeps Django's guard.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set but {CHROMIUM} is missing: install Debian's chromium package.")
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer, login: Login) -> Iterator[NewPage]:
    """``new_page(user, **context_options)``: a page in a fresh browser context, signed in as
    ``user`` with the session cookie of ``login(user)`` (the same sign-in as the other tests)."""
    contexts = []

    def open_page(user: User, **options: Any) -> Page:
        session = login(user).cookies[settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(**options)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in_page(new_page: NewPage, live_server: LiveServer, responder: User) -> Page:
    """A laptop-sized page signed in as ``responder``, on the incident list."""
    page = new_page(responder, viewport=LAPTOP)
    page.goto(f"{live_server.url}/")
    return page
