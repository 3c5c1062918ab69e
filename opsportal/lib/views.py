"""Small pieces every HTML view module shares: the staff gate, service errors on forms, list pages
of bounded size, and URLs for the rows of a table."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .exceptions import ApplicationError

View = Callable[..., HttpResponse]


def staff_required(message: str) -> Callable[[View], View]:
    """Signed in (else the login page) and staff (else 403 with ``message``)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_staff:
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def apply_error(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a service's error on the field it names, else on the form as a whole."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


def page_of(request: HttpRequest, rows: Any, per_page: int) -> Page[Any]:
    """One page of ``rows`` (``?page=N``; out of range or not a number: the nearest page), so a
    list page stays the same size however many rows there are. Shown with ``_pager.html``."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def url_for_each(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for every row of a table at the cost of one ``reverse``
    (which resolves the URL patterns on each call): the URL with a marker id, split around it."""
    marker = str(2**62)  # no real id
    head, tail = reverse(name, args=[marker]).split(marker)
    return lambda pk: f"{head}{pk}{tail}"
