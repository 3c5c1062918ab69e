"""Forms of the policy pages. Targets are typed one per line as ``type:value`` (``user:alice``,
``schedule:7``, ``slack_channel:C0PAY``, ``pagerduty:<key>``, ``email:a@example.com``); the
service (``policies.policy_save``) checks them, like every other entry point."""

from __future__ import annotations

from typing import Any

from django import forms

from . import snapshot


def parse_target_lines(text: str) -> list[dict[str, Any]]:
    targets = []
    for line in text.splitlines():
        if not line.strip():
            continue
        kind, sep, value = line.strip().partition(":")
        if not sep:
            raise snapshot.invalid("targets", f"{line.strip()!r}: write type:value, e.g. user:alice.")
        targets.append({"type": kind.strip(), "value": value.strip()})
    return targets


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    repeat = forms.IntegerField(min_value=0, max_value=snapshot.REPEAT_MAX, initial=0)
    escalate_on_sla_breach = forms.BooleanField(required=False, label="A response SLA breach escalates at once")
    is_default = forms.BooleanField(required=False, label="Default policy")


class LevelForm(forms.Form):
    delay_seconds = forms.IntegerField(label="Delay (seconds after the previous level)", initial=300)
    targets = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="One per line: user:alice, schedule:7, slack_channel:C0PAY, "
                                        "pagerduty:<routing key>, email:oncall@example.com")
