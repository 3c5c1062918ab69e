"""Input for the Alertmanager pages. Forms parse and bound what people type; the services
(tokens, maintenance, silences) make the changes and re-check their own rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from incidents.models import Service, Severity
from opsportal.lib.durations import format_duration, parse_duration
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.matchers import LABEL_NAME, matchers_parse
from opsportal.lib.validators import ServiceURLValidator

from .models import Integration


class DurationTextField(forms.CharField):
    """A duration typed as people say it (``4h``, ``1h30m``, ``2d``)."""

    def __init__(self, *, minimum: timedelta = timedelta(0), maximum: timedelta | None = None, **kwargs: Any):
        self.minimum = minimum
        self.maximum = maximum
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_duration(value) if isinstance(value, timedelta) else value

    def clean(self, value: Any) -> timedelta | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            duration = parse_duration(text)
        except ValueError:
            raise forms.ValidationError(
                f"“{text}” is not a duration: write it like 30m, 4h, 1h30m or 2d.", code="invalid"
            ) from None
        if duration < self.minimum:
            raise forms.ValidationError(f"Use at least {format_duration(self.minimum)}.", code="min")
        if self.maximum is not None and duration > self.maximum:
            raise forms.ValidationError(f"Use at most {format_duration(self.maximum)}.", code="max")
        return duration


def parse_label_names(text: str) -> list[str]:
    """``alertname, service`` or one per line -> ["alertname", "service"]; ValidationError names a bad one."""
    names = [n for n in re.split(r"[\s,]+", text.strip()) if n]
    for name in names:
        if not LABEL_NAME.match(name):
            raise forms.ValidationError(
                f"“{name}” is not a label name (letters, digits and _, not starting with a digit).",
                code="invalid",
            )
    return list(dict.fromkeys(names))


def parse_severity_mapping(text: str, known: set[str]) -> dict[str, str]:
    """Lines ``critical=P1`` -> {"critical": "P1"}; every severity must exist."""
    mapping: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        value, sep, severity = line.partition("=")
        value, severity = value.strip(), severity.strip()
        if not sep or not value or not severity:
            raise forms.ValidationError(
                f"Line {number} “{line}”: write label value=severity, e.g. critical=P1.", code="invalid"
            )
        if severity not in known:
            raise forms.ValidationError(
                f"Line {number}: unknown severity “{severity}” (known: {', '.join(sorted(known))}).",
                code="invalid",
            )
        mapping[value] = severity
    return mapping


class IntegrationForm(forms.Form):
    """Create or edit an Alertmanager integration (the token is never part of the form)."""

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "prod-alertmanager"}))
    default_service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="— none —",
        help_text="Service of incidents this integration opens.",
    )
    grouping = forms.ChoiceField(
        choices=Integration.Grouping.choices,
        initial=Integration.Grouping.GROUP_KEY,
        help_text="One incident per Alertmanager group (groupKey), or per value of the listed labels.",
    )
    group_by_labels = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "alertname, service"}),
        help_text="For “Listed labels”: label names, separated by commas.",
    )
    severity_label = forms.CharField(
        max_length=100, initial="severity", help_text="The alert label that says how bad it is."
    )
    severity_mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One per line: label value=severity. Empty uses the defaults shown.",
    )
    default_severity = forms.ModelChoiceField(
        queryset=Severity.objects.order_by("rank"),
        required=False,
        empty_label="— least severe —",
        help_text="For label values the mapping does not name.",
    )
    auto_resolve = forms.BooleanField(
        required=False, initial=True, help_text="Resolve the incident when all its alerts have resolved."
    )
    reopen_window = DurationTextField(
        initial=timedelta(hours=1),
        maximum=timedelta(days=30),
        help_text=(
            "A group that fires again within this time after resolving reopens its incident (0m: never)."
        ),
    )
    inactivity_timeout = DurationTextField(
        required=False,
        minimum=timedelta(minutes=1),
        maximum=timedelta(days=30),
        help_text="Resolve when no alert was seen for this long, for senders that never resolve. Empty: off.",
    )
    alertmanager_url = forms.CharField(
        label="Alertmanager API URL",
        required=False,
        max_length=300,
        validators=[ServiceURLValidator()],
        widget=forms.URLInput(attrs={"placeholder": "http://alertmanager:9093"}),
        help_text="Alertmanager's base URL, so responders can create silences from the incident page.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.known_severities = set(Severity.objects.values_list("name", flat=True))

    def clean_group_by_labels(self) -> list[str]:
        return parse_label_names(self.cleaned_data.get("group_by_labels") or "")

    def clean_severity_mapping(self) -> dict[str, str]:
        return parse_severity_mapping(self.cleaned_data.get("severity_mapping") or "", self.known_severities)

    def clean_severity_label(self) -> str:
        value: str = self.cleaned_data["severity_label"].strip()
        if not LABEL_NAME.match(value):
            raise forms.ValidationError(
                f"“{value}” is not a label name (letters, digits and _).", code="invalid"
            )
        return value

    def clean_alertmanager_url(self) -> str:
        return (self.cleaned_data.get("alertmanager_url") or "").rstrip("/")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("grouping") == Integration.Grouping.LABELS and not data.get("group_by_labels"):
            self.add_error("group_by_labels", "Name at least one label to group by, or group by groupKey.")
        return data

    @classmethod
    def initial_for(cls, integration: Integration) -> dict[str, Any]:
        return {
            "name": integration.name,
            "default_service": integration.default_service_id,
            "grouping": integration.grouping,
            "group_by_labels": ", ".join(integration.group_by_labels or []),
            "severity_label": integration.severity_label,
            "severity_mapping": "\n".join(
                f"{k}={v}" for k, v in (integration.severity_mapping or {}).items()
            ),
            "default_severity": integration.default_severity_id,
            "auto_resolve": integration.auto_resolve,
            "reopen_window": integration.reopen_window,
            "inactivity_timeout": integration.inactivity_timeout,
            "alertmanager_url": integration.alertmanager_url,
        }


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MaintenanceWindowForm(forms.Form):
    """Schedule a maintenance window ahead. Times are in the server's zone (TIME_ZONE, UTC by default)."""

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "Postgres upgrade"}))
    starts_at = forms.DateTimeField(
        widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
    )
    ends_at = forms.DateTimeField(
        widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
    )
    integration = forms.ModelChoiceField(
        queryset=Integration.objects.order_by("name"), required=False, empty_label="All integrations"
    )
    matchers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "service=checkout\nalertname=~Disk.*"}),
        help_text="One per line: label=value, label!=value, label=~regex, label!~regex. Empty: every alert.",
    )
    comment = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_matchers(self) -> list[dict[str, Any]]:
        try:
            return matchers_parse(self.cleaned_data.get("matchers") or "")
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_at: datetime | None = data.get("starts_at")
        ends_at: datetime | None = data.get("ends_at")
        if starts_at and ends_at:
            if ends_at <= starts_at:
                self.add_error("ends_at", "The window must end after it starts.")
            elif ends_at <= timezone.now():
                self.add_error("ends_at", "This window would already be over: pick an end in the future.")
        return data


SILENCE_DURATIONS = [("1h", "1 hour"), ("4h", "4 hours"), ("24h", "24 hours"), ("custom", "Custom…")]


class SilenceForm(forms.Form):
    duration = forms.ChoiceField(choices=SILENCE_DURATIONS, initial="1h")
    custom_duration = DurationTextField(
        required=False, widget=forms.TextInput(attrs={"placeholder": "e.g. 90m, 2d"})
    )
    comment = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Why? e.g. fix deploying, known noise"}),
        error_messages={"required": "A comment is required: say why the alerts are silenced."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("duration")
        if choice == "custom":
            if not data.get("custom_duration") and "custom_duration" not in self.errors:
                self.add_error("custom_duration", "Type a duration such as 90m or 2d.")
            data["silence_duration"] = data.get("custom_duration")
        elif choice:
            data["silence_duration"] = parse_duration(choice)
        return data
