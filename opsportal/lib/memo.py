"""Lookups read once per unit of work instead of once per use.

A webhook post records several timeline events, and each asks which routes, templates and
channels apply; inside :func:`scope` the first answer is kept for the rest of the post
(docs/architecture.md section 10). Outside a scope every call loads afresh, so nothing else ever
sees a stale answer, and a scope lives only as long as one request's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

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
