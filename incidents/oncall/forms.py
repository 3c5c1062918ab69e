"""Input for the on-call pages; the services re-check every rule."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from .models import ContactMethod, Layer

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "60"}, format="%Y-%m-%dT%H:%M")


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="IANA name, e.g. Europe/London.",
                                widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}))
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class LayerForm(forms.Form):
    name = forms.CharField(required=False, max_length=100)
    rotation = forms.ChoiceField(choices=Layer.Rotation.choices)
    length_seconds = forms.IntegerField(required=False, label="Turn length (seconds, custom only)")
    handoff = forms.DateTimeField(widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  help_text="The first handoff, in the schedule's time zone.")
    participants = forms.CharField(required=False, help_text="Usernames in rotation order, separated by commas.")


class ParticipantForm(forms.Form):
    username = forms.CharField(max_length=150)


class OverrideForm(forms.Form):
    user = forms.CharField(max_length=150, label="Who covers (username)")
    starts_at = forms.DateTimeField(widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    ends_at = forms.DateTimeField(widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices)
    value = forms.CharField(max_length=255, help_text="Email address, Slack member ID (U0…) or PagerDuty "
                                                      "integration key.")


def time_zone_names() -> list[str]:
    return sorted(available_timezones())
