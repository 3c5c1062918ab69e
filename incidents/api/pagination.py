"""``?limit=&offset=`` paging that refuses what it cannot read instead of guessing.

DRF's LimitOffsetPagination quietly uses its default for ``offset=null`` or ``limit=abc``, so a
script with a bug gets the first page and never learns why; here each is a 400 naming the
parameter, in the API's error shape.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

OFFSET_MAX = 2**31 - 1  # far past any table, and always a valid SQL OFFSET


def _count(request: Request, name: str, *, minimum: int, maximum: int | None, hint: str) -> int | None:
    """The whole-number query parameter ``name`` (None when absent); a 400 naming it otherwise."""
    if name not in request.query_params:
        return None
    raw = request.query_params[name].strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        value = int(raw)
        if value >= minimum and (maximum is None or value <= maximum):
            return value
    raise ValidationError({name: [f"must be {hint}, not {raw[:40]!r}."]})


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """``limit`` is a whole number of 1 or more (values over ``max_limit`` are capped, as
    documented); ``offset`` a whole number from 0 to OFFSET_MAX."""

    def get_limit(self, request: Request) -> int | None:
        hint = "a whole number of 1 or more" + (f" (at most {self.max_limit} are returned)" if self.max_limit else "")
        limit = _count(request, self.limit_query_param, minimum=1, maximum=None, hint=hint)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit) if self.max_limit else limit

    def get_offset(self, request: Request) -> int:
        offset = _count(
            request, self.offset_query_param, minimum=0, maximum=OFFSET_MAX,
            hint=f"a whole number from 0 to {OFFSET_MAX}",
        )
        return offset or 0

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        # Read both parameters before DRF's own code does, so a bad one is always reported.
        self.get_limit(request)
        self.get_offset(request)
        return super().paginate_queryset(queryset, request, view)
