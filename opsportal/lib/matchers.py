"""Label matchers, as Alertmanager writes them (``service="checkout", instance=~"web-.*"``):
parsing, validation, formatting and matching. Maintenance windows and silences (Alertmanager)
and runbook triggers use these, and the pages show matchers in this one text form.

A matcher is ``{"name", "value", "is_regex", "is_equal"}``; regexes are anchored, like
Alertmanager's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opsportal.lib.exceptions import ApplicationError

MATCHERS_MAX = 50
VALUE_MAX = 1_000
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# name, operator, then a double-quoted (with \" escapes) or bare value, then a comma or the end
_MATCHER = re.compile(r'\s*([^=!~\s,"{}]+)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^,"\s]*))\s*(?:,|$)')
# Values shown without quotes when they read back the same (quoted otherwise, as Alertmanager does).
_BARE = re.compile(r'[^,"\s\\{}#]+')
_OPERATORS = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def matchers_parse(text: str) -> list[dict[str, Any]]:
    """Matcher text to matcher objects: one or more per line, separated by commas, braces
    optional, ``#`` lines ignored. Raises ApplicationError (field ``matchers``) naming the line."""
    matchers: list[dict[str, Any]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("{") and line.endswith("}"):
            line = line[1:-1].strip()
        if not line or line.startswith("#"):
            continue
        pos = 0
        while pos < len(line):
            match = _MATCHER.match(line, pos)
            if not match or match.end() == pos:
                raise _invalid(
                    f"Line {number} “{line}” is not a matcher: write label=value, label!=value, "
                    'label=~regex or label!~regex (quote values with spaces: label="a b").'
                )
            name, op, quoted, bare = match.groups()
            value = re.sub(r'\\(["\\])', r"\1", quoted) if quoted is not None else bare
            matchers.append({"name": name, "value": value, "is_regex": "~" in op, "is_equal": op[0] == "="})
            pos = match.end()
    return matchers_validate(matchers)


def matchers_validate(matchers: Any) -> list[dict[str, Any]]:
    """Normalise a list of matcher objects (API, admin and parsed text alike); raise
    ApplicationError naming the bad one."""
    if matchers is None:
        return []
    if not isinstance(matchers, list):
        raise _invalid("Matchers must be a list.")
    if len(matchers) > MATCHERS_MAX:
        raise _invalid(f"At most {MATCHERS_MAX} matchers.")
    clean = []
    for i, m in enumerate(matchers):
        where = f"Matcher {i + 1}"
        if not isinstance(m, dict):
            raise _invalid(f"{where} must be an object with name and value.")
        name, value = m.get("name"), m.get("value", "")
        is_regex, is_equal = m.get("is_regex", False), m.get("is_equal", True)
        if not isinstance(name, str) or not LABEL_NAME.match(name):
            raise _invalid(f"{where}: “{name}” is not a label name (letters, digits and _).")
        if not isinstance(value, str):
            raise _invalid(f"{where} ({name}): the value must be text.")
        if len(value) > VALUE_MAX:
            raise _invalid(f"{where} ({name}): the value is longer than {VALUE_MAX} characters.")
        if not isinstance(is_regex, bool) or not isinstance(is_equal, bool):
            raise _invalid(f"{where} ({name}): is_regex and is_equal must be true or false.")
        if is_regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise _invalid(f"{where} ({name}): “{value}” is not a valid regular expression ({exc}).") from None
        clean.append({"name": name, "value": value, "is_regex": is_regex, "is_equal": is_equal})
    return clean


def matchers_format(matchers: list[dict[str, Any]] | None) -> str:
    """Matcher objects as Alertmanager's text (what :func:`matchers_parse` reads back), quoting
    only values that need it: ``service=checkout, note="a b"``. Also takes
    Alertmanager's own API shape (``isRegex``/``isEqual``), as stored on silences."""
    parts = []
    for m in matchers or []:
        is_regex = bool(m.get("is_regex", m.get("isRegex", False)))
        is_equal = bool(m.get("is_equal", m.get("isEqual", True)))
        value = str(m.get("value", ""))
        if not _BARE.fullmatch(value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f'{m.get("name")}{_OPERATORS[(is_regex, is_equal)]}{value}')
    return ", ".join(parts)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern})", re.DOTALL)


def matcher_matches(matcher: dict[str, Any], labels: dict[str, str]) -> bool:
    """Alertmanager's rule: a missing label is the empty string; regexes match the whole value."""
    value = labels.get(matcher["name"], "")
    if matcher.get("is_regex"):
        hit = _compiled(matcher["value"]).fullmatch(value) is not None
    else:
        hit = value == matcher["value"]
    return hit if matcher.get("is_equal", True) else not hit


def matchers_match(matchers: list[dict[str, Any]] | None, labels: dict[str, str]) -> bool:
    return all(matcher_matches(m, labels) for m in matchers or [])


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", extra={"field": "matchers"})
