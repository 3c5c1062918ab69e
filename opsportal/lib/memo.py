"""Lookups read once per unit of work, or once a second, instead of once per use.

A webhook post records several timeline events, and each asks which routes, templates and
channels apply; inside :func:`scope` the first answer is kept for the rest of the post
(docs/architecture.md section 10). Outside a scope every call loads afresh, and a scope lives only
as long as one request's transaction. :func:`config` keeps the few configuration tables every
post reads for about a second in the process, so a storm does not re-read them thousands of times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
_store: ContextVar[dict[Hashable, Any] | None] = ContextVar("opsportal_memo", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Keep lookups until the block ends; a nested scope shares its enclosing one."""
    if _store.get() is not None:
        yield
        return
    token = _store.set({})
    try:
        yield
    finally:
        _store.reset(token)


def get(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, kept under ``key`` for the rest of the current scope (if any)."""
    store = _store.get()
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    value: T = store[key]
    return value


def put(key: Hashable, value: Any) -> None:
    """Tell the current scope an answer it would otherwise load (no-op outside a scope)."""
    store = _store.get()
    if store is not None:
        store[key] = value


# --- configuration kept in the process ------------------------------------------------------

_config: dict[Hashable, tuple[float, Any]] = {}


def config(key: Hashable, load: Callable[[], T], *, keep_none: bool = True) -> T:
    """Configuration read on every webhook post (severities, routes, templates, runbook triggers,
    the default escalation policy, maintenance windows, integrations by token), kept in this
    process for CONFIG_CACHE_SECONDS. A change saved in this process is seen at once
    (:func:`forget_config` runs on save); one saved by another process within that many seconds.
    0 turns it off. ``keep_none=False`` loads a None answer again next time (for keys a client
    chooses, such as a token's digest: guesses must not fill the process's memory)."""
    seconds = float(settings.CONFIG_CACHE_SECONDS)
    if seconds <= 0:
        return get(key, load)
    now = time.monotonic()
    hit = _config.get(key)
    if hit is not None and hit[0] > now:
        value: T = hit[1]
        return value
    loaded = load()
    if loaded is not None or keep_none:
        _config[key] = (now + seconds, loaded)
    return loaded


def forget_config(*_args: Any, **_kwargs: Any) -> None:
    """Drop what :func:`config` kept (a signal receiver: saves and deletes of configuration)."""
    _config.clear()


def forget_config_on_change(*models: type[Model]) -> None:
    """Forget kept configuration whenever a row of ``models`` is saved or deleted (and again when
    that transaction commits, so a reload inside it cannot keep rows a rollback undoes)."""
    def changed(*_args: Any, **_kwargs: Any) -> None:
        forget_config()
        transaction.on_commit(forget_config)

    for model in models:
        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(changed, sender=model, weak=False, dispatch_uid=f"memo-config-{model._meta.label}-{signal}")
