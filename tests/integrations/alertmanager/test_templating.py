"""Incident titles and descriptions from sandboxed Jinja2 templates over plain dicts."""

from __future__ import annotations

from typing import Any

import pytest

from incidents.integrations.alertmanager.models import DEFAULT_TITLE_TEMPLATE
from incidents.integrations.alertmanager.payload import parse_payload
from incidents.integrations.alertmanager.templating import (
    render_description,
    render_title,
    template_context,
    template_validate,
)
from incidents.models import TITLE_MAX
from opsportal.lib.exceptions import ApplicationError

from .webhook_support import alert, captured, payload


def context(body: dict[str, Any]) -> dict[str, Any]:
    return template_context(parse_payload(body))


def test_it_renders_the_default_title_from_the_summary_and_service() -> None:
    assert render_title(DEFAULT_TITLE_TEMPLATE, context(captured("run1")[0]["body"])) == "5xx rate above 5% (checkout)"


def test_it_falls_back_to_the_alertname_when_there_is_no_summary() -> None:
    body = payload([alert("web-1")], commonAnnotations={}, commonLabels={"alertname": "DiskFull"})

    assert render_title(DEFAULT_TITLE_TEMPLATE, context(body)) == "DiskFull"


def test_it_reads_a_missing_label_as_empty_like_alertmanager() -> None:
    assert render_title("[{{ commonLabels.nothing }}] x", context(payload([alert("web-1")]))) == "[] x"


def test_it_makes_titles_one_line_and_bounded() -> None:
    title = render_title("a\n\n b {{ 'x' * 500 }}", context(payload([alert("web-1")])))

    assert "\n" not in title and len(title) == TITLE_MAX and title.startswith("a b x")


def test_it_keeps_templates_away_from_python_internals() -> None:
    ctx = context(payload([alert("web-1")]))
    hostile = "{{ alerts.__class__.__mro__[1].__subclasses__() }}"

    assert "subprocess" not in render_description(hostile, ctx)
    with pytest.raises(ApplicationError):
        template_validate(hostile, field="description_template")


def test_it_does_not_let_a_template_change_the_data() -> None:
    with pytest.raises(ApplicationError, match="title_template"):
        template_validate("{{ commonLabels.clear() }}", field="title_template")


@pytest.mark.parametrize("source", ["{{ commonLabels.alertname ", "{% for %}", "{{ typo_name }}", "{{ 1 / 0 }}"])
def test_it_refuses_templates_that_fail_on_a_sample(source: str) -> None:
    with pytest.raises(ApplicationError) as exc:
        template_validate(source, field="title_template")
    assert exc.value.extra["field"] == "title_template"
