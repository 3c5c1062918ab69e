"""Typing for views behind django-htmx's middleware."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through HtmxMiddleware (django-htmx's documented typing pattern; the
    installed django-htmx does not ship the class in ``django_htmx.http``)."""

    htmx: HtmxDetails
