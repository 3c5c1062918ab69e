"""Input for the incident pages. Forms only parse and bound input; every change goes through
``incidents.lifecycle`` (which re-checks the same limits for the API and webhooks)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from .models import DESCRIPTION_MAX, TITLE_MAX, Service, Severity


def severity_options() -> QuerySet[Severity]:
    """Every severity, most urgent first (filters, the declare form, the severity picker)."""
    return Severity.objects.order_by("rank")


COMMANDER_CHOICES_MAX = 200


def commander_options() -> QuerySet[User]:
    """People who can command an incident: active accounts, by username."""
    return get_user_model().objects.filter(is_active=True).order_by("username")


def commander_choices(current: User | None) -> tuple[list[tuple[int, str]], bool]:
    """The picker's rows: the first COMMANDER_CHOICES_MAX people by username (and the current
    commander), and whether there are more, who are assigned by typing their username. An
    organisation of 20,000 accounts does not put 20,000 options in every incident page."""
    rows = list(commander_options().values_list("pk", "username")[: COMMANDER_CHOICES_MAX + 1])
    more = len(rows) > COMMANDER_CHOICES_MAX
    rows = rows[:COMMANDER_CHOICES_MAX]
    if current is not None and current.is_active and all(pk != current.pk for pk, _ in rows):
        rows.append((current.pk, current.get_username()))
    return rows, more


class SeverityField(forms.ModelChoiceField[Severity]):
    """A severity picked by name (``P1``), which is what people and URLs say."""

    default_error_messages = {
        "invalid_choice": "Unknown severity “%(value)s”: choose one of the listed severities.",
        "required": "Pick a severity: it sets the SLA clocks.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=severity_options(), to_field_name="name", empty_label=None, **kwargs)

    def label_from_instance(self, obj: Severity) -> str:
        return f"{obj.name} · {obj.label}"


class DeclareIncidentForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"autofocus": True, "placeholder": "Checkout API returns 502 for EU users"}),
        error_messages={
            "required": "Give the incident a title: what is broken, for whom.",
            "max_length": "Keep the title to %(limit_value)d characters or fewer (it has %(show_value)d).",
        },
    )
    severity = SeverityField()
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="— none —"
    )
    description = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Impact, first signals, links to dashboards."}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What did you find, what are you trying next?"}),
        error_messages={"required": "Write something before adding the note."},
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Resolution note (optional)"}),
    )


class SeverityForm(forms.Form):
    severity = SeverityField()


class AssignForm(forms.Form):
    """A commander picked from the list (``commander``: an id, empty for nobody) or typed
    (``commander_username``, for people past the list's first COMMANDER_CHOICES_MAX)."""

    commander = forms.ModelChoiceField(
        queryset=commander_options(),
        required=False,
        empty_label="— nobody —",
        error_messages={"invalid_choice": "That person is not an active user."},
    )
    commander_username = forms.CharField(required=False, max_length=150, strip=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed = cleaned.get("commander_username")
        if typed:
            found = commander_options().filter(username=typed).first()
            if found is None:
                raise forms.ValidationError(f"No active user named “{typed}”.")
            cleaned["commander"] = found
        return cleaned
