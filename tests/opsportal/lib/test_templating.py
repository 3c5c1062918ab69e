"""The bounded sandbox: templates that would render too much, loop too long or take too long are
stopped with a message naming the limit; ordinary templates render as before."""

from __future__ import annotations

import pytest
from jinja2 import StrictUndefined

from opsportal.lib.templating import BoundedSandbox, TemplateLimitError

env = BoundedSandbox(undefined=StrictUndefined, autoescape=False)


def render(source: str, **context: object) -> str:
    return env.from_string(source).render(context)


@pytest.mark.parametrize(
    ("source", "setting"),
    [
        ("{{ 'x' * 500000000 }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", "TEMPLATE_MAX_RANGE"),
        ("{% for a in range(5000) %}{% for b in range(5000) %}{% endfor %}{% endfor %}", "TEMPLATE_MAX_ITERATIONS"),
        ("{% for a in items %}{% for b in items %}{% endfor %}{% endfor %}", "TEMPLATE_MAX_ITERATIONS"),
        ("{{ 'x'.ljust(500000000) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ ''|center(500000000) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ '{:>500000000}'.format(1) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ '{:>{}}'.format(1, 500000000) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ '%500000000s' % 1 }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ '%.500000000f'|format(1.0) }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{% set s = 'x' * 90000 %}{% set s = s ~ s %}{{ s|length }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{% set s = 'x' * 90000 %}{{ (s + s)|length }}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        ("{{ items * 1000 }}", "TEMPLATE_MAX_RANGE"),
        ("{% for i in range(10000) %}{{ 'x' * 20 }}{% endfor %}", "TEMPLATE_MAX_OUTPUT_CHARS"),
        # Exponential macro recursion: each call is cheap, there are 2**40 of them.
        ("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
         "TEMPLATE_MAX_RENDER_SECONDS"),
    ],
)
def test_it_stops_a_template_at_its_limit_and_names_it(source: str, setting: str) -> None:
    with pytest.raises(TemplateLimitError, match=setting):
        render(source, items=list(range(1000)))


def test_it_refuses_numbers_too_large_to_compute() -> None:
    with pytest.raises(TemplateLimitError, match="too large a number"):
        render("{{ 2 ** 100000 }}")


def test_limits_come_from_settings(settings) -> None:
    settings.TEMPLATE_MAX_OUTPUT_CHARS = 10

    assert render("{{ 'x' * 10 }}") == "x" * 10
    with pytest.raises(TemplateLimitError, match="more than 10 .*TEMPLATE_MAX_OUTPUT_CHARS"):
        render("{{ 'x' * 11 }}")


def test_ordinary_templates_render_as_before() -> None:
    source = (
        "[{{ sev|upper }}] {{ name }} x{{ items|length }} {% for i in items[:3] %}{{ i }},{% endfor %}"
        " {{ '%5s|%-3d' % ('a', 2) }} {{ '{:>4}'.format('b') }} {{ 'c'|center(5) }} {{ 2 ** 10 }}"
        " {{ 'ab' * 2 }} {{ '{0:,}'.format(12345678901) }} {{ 'E 9999999: %s' % 1 }}{{ name ~ '!' }}"
    )

    assert render(source, sev="p1", name="Disk", items=[1, 2, 3, 4]) == (
        "[P1] Disk x4 1,2,3,     a|2      b   c   1024 abab 12,345,678,901 E 9999999: 1Disk!"
    )


def test_it_still_keeps_templates_away_from_python_internals() -> None:
    with pytest.raises(Exception, match="unsafe|not safely callable|undefined"):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}")
