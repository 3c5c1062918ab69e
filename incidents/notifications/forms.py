"""Input for the notification pages; the services re-check every rule."""

from __future__ import annotations

from typing import Any

from django import forms

from incidents.models import Incident, Service, Severity

from .models import TARGET_MAX


class TemplateForm(forms.Form):
    subject = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"spellcheck": "false"}))
    body = forms.CharField(max_length=8_000, widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}))
    incident = forms.ModelChoiceField(
        queryset=Incident.objects.order_by("-opened_at"), required=False, empty_label="A sample incident",
        help_text="The preview renders against this incident.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer the 50 newest incidents, not the whole table (any incident id still validates).
        newest = Incident.objects.order_by("-opened_at").values_list("pk", "title")[:50]
        self.fields["incident"].widget.choices = [("", "A sample incident"),
                                                  *((pk, f"#{pk} {title}") for pk, title in newest)]


class RouteForm(forms.Form):
    channel = forms.ChoiceField(choices=())
    target = forms.CharField(max_length=TARGET_MAX, help_text="A Slack channel id (C0…), a PagerDuty routing key, "
                                                              "or email addresses separated by commas.")
    service = forms.ModelChoiceField(queryset=Service.objects.order_by("name"), required=False,
                                     empty_label="Every service")
    severities = forms.ModelMultipleChoiceField(queryset=Severity.objects.order_by("rank"), required=False,
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="None ticked: every severity.")

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = channels
