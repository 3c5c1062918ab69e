"""Slack messages as Block Kit payloads, built without HTTP so tests can check them directly
(docs/slack.md, "Messages").

Everything that came from outside (titles, alert text, names) is escaped with :func:`escape`, so
it can never become a mention (``<!channel>``, ``<@U123>``) or a link; links are only the ones
built here by :func:`link`. Every payload stays within Slack's limits and carries a ``text``
fallback for notifications.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The target of an incident's own channel (one per incident): "incident-channel:<name>".
OWN_CHANNEL_PREFIX = "incident-channel:"

# Slack's limits (Block Kit reference; slack_sdk.models.blocks validators).
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
CONTEXT_TEXT_MAX = 3000
FALLBACK_MAX = 3900  # the top-level text: Slack truncates at 40,000, notifications show far less
# The sum of block text Slack accepts is undocumented (msg_blocks_too_long near 13k): stay below.
REPLY_BODY_MAX = 11_000
TOPIC_MAX = 250
CHANNEL_NAME_MAX = 80

ACK_ACTION = "incident_acknowledge"
RESOLVE_ACTION = "incident_resolve"
OPEN_ACTION = "incident_open_link"
DECLARE_CALLBACK = "incident_declare"
OPEN_STATUSES = ("triggered", "acknowledged", "mitigated")


def escape(text: str) -> str:
    """Slack's three control characters, so user text is shown, never parsed as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, text: str) -> str:
    """A link we build: only http(s) URLs, the label escaped and free of the ``|`` separator."""
    if not url.startswith(("https://", "http://")):
        return escape(text)
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{escape(text).replace('|', '¦')}>"


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending in "…" when cut, and never in the middle of an
    escaped entity (``&amp;``) or a ``<...>`` link."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    amp, semi = head.rfind("&"), head.rfind(";")
    if amp > semi and len(head) - amp <= 5:
        head = head[:amp]
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:
        head = head[:lt]
    return head + "…"


@dataclass(frozen=True)
class Update:
    """One message for the thread: the timeline kind, its rendered (already escaped) text, and for
    alert events the counts of alerts that joined, fired again or resolved."""

    kind: str
    text: str
    counts: dict[str, int] | None = None


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit) or " "}


def _deadline(text: str, done: bool, breached: bool) -> str:
    if not text:
        return "—"
    mark = " ✅" if done else (" ⚠️ breached" if breached else "")
    return escape(text) + mark


def root_message(incident: dict[str, Any], *, fallback: str = "", latest: str = "") -> dict[str, Any]:
    """The incident's root message: title as header, a colour bar of the severity's colour with the
    current state (status, severity, service, commander, both SLA deadlines), the latest update,
    and the buttons. ``fallback`` (already escaped, e.g. the rendered opening message) is the
    notification text; ``latest`` (already escaped) the last update shown under the fields."""
    status = str(incident.get("status", ""))
    is_open = status in OPEN_STATUSES
    title = f"{incident['severity']} · #{incident['id']} {incident['title']}"
    fields = [
        ("Status", escape(str(incident.get("status_label") or status))),
        ("Severity", escape(f"{incident['severity']} {incident.get('severity_label', '')}".strip())),
        ("Service", escape(incident.get("service") or "not set")),
        ("Commander", escape(incident.get("commander") or "not assigned")),
        ("Acknowledge by", _deadline(incident.get("response_due_at_text", ""),
                                     bool(incident.get("acknowledged_at")) or not is_open,
                                     bool(incident.get("response_breached")))),
        ("Resolve by", _deadline(incident.get("resolve_due_at_text", ""), not is_open,
                                 bool(incident.get("resolve_breached")))),
    ]
    details: list[dict[str, Any]] = [{
        "type": "section",
        "fields": [_mrkdwn(f"*{name}*\n{value}", FIELD_TEXT_MAX) for name, value in fields],
    }]
    if latest:
        details.append({"type": "context", "elements": [_mrkdwn(f"Latest: {latest}", 500)]})
    details.append({"type": "context", "elements": [_mrkdwn(
        f"{link(incident['url'], 'Incident #' + str(incident['id']))} · opened "
        f"{escape(str(incident.get('opened_at', ''))[:16].replace('T', ' '))} UTC · source "
        f"{escape(str(incident.get('source', '')))}", CONTEXT_TEXT_MAX)]})
    details.append({"type": "actions", "block_id": f"incident:{incident['id']}", "elements": _buttons(incident, is_open)})
    summary = f"{incident['severity']} #{incident['id']} {incident['title']} · {incident.get('status_label', status)}"
    return {
        "text": cut(fallback or escape(summary), FALLBACK_MAX),
        "blocks": [{"type": "header", "text": _plain(title, HEADER_MAX)}],
        "attachments": [{"color": incident.get("severity_colour") or "#64748b", "blocks": details}],
    }


def _buttons(incident: dict[str, Any], is_open: bool) -> list[dict[str, Any]]:
    value = str(incident["id"])
    buttons: list[dict[str, Any]] = []
    if is_open and incident.get("status") == "triggered":
        buttons.append({"type": "button", "action_id": ACK_ACTION, "style": "primary", "value": value,
                        "text": _plain("Acknowledge", BUTTON_TEXT_MAX)})
    if is_open:
        buttons.append({
            "type": "button", "action_id": RESOLVE_ACTION, "value": value, "text": _plain("Resolve", BUTTON_TEXT_MAX),
            "confirm": {"title": _plain("Resolve the incident?", 100),
                        "text": _mrkdwn(cut(f"Resolve #{incident['id']} {escape(incident['title'])}?", 300), 300),
                        "confirm": _plain("Resolve", 30), "deny": _plain("Cancel", 30)},
        })
    buttons.append({"type": "button", "action_id": OPEN_ACTION, "url": incident["url"][:3000],
                    "text": _plain("Open in Opsportal", BUTTON_TEXT_MAX)})
    return buttons


def _alerts_summary(run: Sequence[Update]) -> str:
    """A run of alert events as one line: "12 more alerts joined, 3 resolved (5 updates)"."""
    totals = {"joined": 0, "refired": 0, "resolved": 0}
    known = True
    for update in run:
        if update.counts is None:
            known = False
            continue
        for key in totals:
            totals[key] += int(update.counts.get(key, 0))
    parts = []
    if totals["joined"]:
        parts.append(f"{totals['joined']} more alert{'s' if totals['joined'] != 1 else ''} joined")
    if totals["refired"]:
        parts.append(f"{totals['refired']} firing again")
    if totals["resolved"]:
        parts.append(f"{totals['resolved']} resolved")
    head = ", ".join(parts) if known and parts else f"{len(run)} alert updates"
    lines = "\n".join(f"• {u.text.removeprefix('🔔 ')}" for u in run)
    return f"🔔 {head}:\n{lines}"


def coalesce(updates: Sequence[Update]) -> list[str]:
    """Updates as the paragraphs of one reply, in order: a run of alert events becomes one
    summary, every other message stays whole."""
    paragraphs: list[str] = []
    i = 0
    while i < len(updates):
        if updates[i].kind == "alerts":
            j = i
            while j < len(updates) and updates[j].kind == "alerts":
                j += 1
            run = updates[i:j]
            paragraphs.append(run[0].text if len(run) == 1 else _alerts_summary(run))
            i = j
        else:
            paragraphs.append(updates[i].text)
            i += 1
    return paragraphs


def thread_reply(updates: Sequence[Update], *, incident_url: str = "") -> dict[str, Any]:
    """One thread reply carrying a burst of updates, within Slack's limits: sections of at most
    3000 characters, a bounded total (the rest is named, with a link to the timeline)."""
    paragraphs = coalesce(updates)
    body = "\n\n".join(paragraphs)
    if len(body) > REPLY_BODY_MAX:
        kept, size = [], 0
        for paragraph in paragraphs:
            if size + len(paragraph) > REPLY_BODY_MAX - 200:
                break
            kept.append(paragraph)
            size += len(paragraph) + 2
        if not kept:
            kept = [cut(paragraphs[0], REPLY_BODY_MAX - 200)]
        rest = len(paragraphs) - len(kept)
        more = f"… and {rest} more update{'s' if rest != 1 else ''}" if rest > 0 else "…"
        if incident_url:
            more += f": see {link(incident_url, 'the incident timeline')}"
        body = "\n\n".join(kept + [more])
    blocks = [{"type": "section", "text": _mrkdwn(chunk)} for chunk in _chunks(body, SECTION_TEXT_MAX)]
    return {"text": cut(body, FALLBACK_MAX), "blocks": blocks[:MAX_BLOCKS]}


def _chunks(text: str, size: int) -> list[str]:
    """Split at paragraph or line ends where possible, never inside an entity or a link."""
    chunks: list[str] = []
    while len(text) > size:
        at = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        if at < size // 2:
            at = size - 1
            amp, lt = text.rfind("&", 0, at), text.rfind("<", 0, at)
            if amp > text.rfind(";", 0, at) and at - amp <= 5:
                at = amp
            if lt > text.rfind(">", 0, at):
                at = lt
        chunks.append(text[:at].rstrip() or text[:size])
        text = text[at:].lstrip()
    if text:
        chunks.append(text)
    return chunks


_NAME_INVALID = re.compile(r"[^a-z0-9_-]+")


def channel_name(incident: dict[str, Any]) -> str:
    """A valid Slack channel name for the incident: ``inc-42-checkout-502`` (lowercase letters,
    digits, hyphens and underscores, at most 80 characters)."""
    words = " ".join(str(incident.get(k) or "") for k in ("service", "title"))
    slug = _NAME_INVALID.sub("-", words.lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)
    name = f"inc-{incident['id']}-{slug}" if slug else f"inc-{incident['id']}"
    return name[:CHANNEL_NAME_MAX].rstrip("-_")


def channel_topic(incident: dict[str, Any]) -> str:
    """The incident channel's topic (plain text: Slack shows topics as they are)."""
    text = f"{incident['severity']} {incident['title']} · {incident.get('status_label', '')} · {incident['url']}"
    return cut(text, TOPIC_MAX)


def incident_list(incidents: Sequence[dict[str, Any]], *, more: int = 0) -> dict[str, Any]:
    """``/incident list``: the open incidents, most urgent first, as an ephemeral answer."""
    if not incidents:
        return {"response_type": "ephemeral", "text": "No open incidents. 🎉"}
    lines = [
        f"{link(i['url'], '#' + str(i['id']) + ' ' + i['title'])} · {escape(i['severity'])} · "
        f"{escape(i['status_label'])}{' · ' + escape(i['service']) if i.get('service') else ''}"
        for i in incidents
    ]
    if more:
        lines.append(f"… and {more} more.")
    body = "\n".join(lines)
    return {
        "response_type": "ephemeral",
        "text": cut(f"Open incidents:\n{body}", FALLBACK_MAX),
        "blocks": [{"type": "section", "text": _mrkdwn(chunk)} for chunk in _chunks(f"*Open incidents*\n{body}",
                                                                                   SECTION_TEXT_MAX)][:MAX_BLOCKS],
    }


def declare_modal(*, title: str, severities: Sequence[tuple[str, str]], services: Sequence[str],
                  private_metadata: str = "") -> dict[str, Any]:
    """The "Declare an incident" modal: title, severity, service."""
    severity_options = [{"text": _plain(label, 75), "value": value} for value, label in severities[:100]]
    blocks: list[dict[str, Any]] = [
        {"type": "input", "block_id": "title", "label": _plain("Title", 2000),
         "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200,
                     **({"initial_value": title[:200]} if title else {})}},
        {"type": "input", "block_id": "severity", "label": _plain("Severity", 2000),
         "element": {"type": "static_select", "action_id": "value", "options": severity_options,
                     **({"initial_option": severity_options[0]} if severity_options else {})}},
    ]
    if services:
        blocks.append({"type": "input", "block_id": "service", "optional": True, "label": _plain("Service", 2000),
                       "element": {"type": "static_select", "action_id": "value",
                                   "options": [{"text": _plain(s, 75), "value": s[:150]} for s in services[:100]]}})
    return {
        "type": "modal", "callback_id": DECLARE_CALLBACK, "private_metadata": private_metadata[:3000],
        "title": _plain("Declare an incident", 24), "submit": _plain("Declare", 24), "close": _plain("Cancel", 24),
        "blocks": blocks,
    }
