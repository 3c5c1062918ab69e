"""Durations as on-call people write and read them: ``15m``, ``1h 30m``, ``2d``, ``1w``.

One parser and two formatters serve every page, form, message and timeline entry, so an SLA
target, a silence length and a countdown read the same everywhere (``static/js/app.js`` writes
the live countdowns in the same shape as :func:`compact`).
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS: tuple[tuple[str, int], ...] = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_SECONDS = dict(UNITS)
_PART = re.compile(r"(\d+)([wdhms])")
# Anything longer is not a duration anyone means (and would overflow a timedelta).
MAX_DIGITS = 9


def parse_duration(text: str) -> timedelta:
    """``90m``, ``4h``, ``1h30m``, ``1h 30m``, ``2d``, ``1w``, ``45s``; a bare number is minutes.

    Raises ValueError naming the text when it is not a duration."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    if cleaned.isdigit():
        if len(cleaned) > MAX_DIGITS:
            raise ValueError(text)
        return timedelta(minutes=int(cleaned))
    pos = 0
    seconds = 0
    for match in _PART.finditer(cleaned):
        if match.start() != pos or len(match.group(1)) > MAX_DIGITS:
            raise ValueError(text)
        seconds += int(match.group(1)) * _SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(cleaned) or pos == 0:
        raise ValueError(text)
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | None, *, parts: int | None = None) -> str:
    """``1h 30m``, ``2d``, ``1w 2d``: exact by default (the inverse of :func:`parse_duration`),
    or the largest ``parts`` units, rounded down. Empty for None; ``0s`` for zero."""
    if value is None:
        return ""
    total = int(abs(value.total_seconds()))
    out = []
    for unit, size in UNITS:
        count, total = divmod(total, size)
        if count:
            out.append(f"{count}{unit}")
    if parts is not None:
        out = out[:parts]
    return ("-" if value < timedelta(0) else "") + (" ".join(out) or "0s")


def compact(delta: timedelta, *, seconds: bool = False) -> str:
    """``3d 4h``, ``2h 05m``, ``14m 09s``: two units, largest first, for ages and countdowns.
    Without ``seconds`` the smallest unit shown is minutes. The sign is dropped."""
    total = int(abs(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes or not seconds:
        return f"{minutes}m {secs:02d}s" if seconds else f"{minutes}m"
    return f"{secs}s"
