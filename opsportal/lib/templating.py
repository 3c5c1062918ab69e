"""A Jinja2 sandbox for templates that users write (incident titles, message templates), bounded
in what one render may cost: output size, loop length, range length, number size and time.

Jinja's own sandbox stops a template from reaching Python internals, but not from exhausting the
process: ``{{ 'x' * 500000000 }}`` allocates half a gigabyte, ``{% for a in range(100000) %}{% for b
in range(100000) %}`` runs for hours. Here every loop iterates through a counter that also checks
the clock, ``*``/``%``/``+``/``**`` and every call are checked before they can build something
huge, strings joined with ``~`` are checked after, and the output is cut off at its limit. Each
breach raises ``TemplateLimitError`` (a ``jinja2.SecurityError``) naming the limit and its setting,
so a save can refuse the template with that message (docs/security.md, "Template limits").
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from jinja2 import Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# Widths and precisions in a format string: "%500000000s", "%.9999999f", "{:>500000000}".
_PERCENT_SPEC = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d*))?")
_BRACE_FIELD = re.compile(r"\{[^{}]*\}")
_NUMBER = re.compile(r"\d+")
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")


class TemplateLimitError(SecurityError):
    """A template went over one of the render limits."""


@dataclass(frozen=True)
class TemplateLimits:
    max_output_chars: int
    max_range: int
    max_iterations: int
    max_seconds: float

    @classmethod
    def from_settings(cls) -> TemplateLimits:
        return cls(
            max_output_chars=settings.TEMPLATE_MAX_OUTPUT_CHARS,
            max_range=settings.TEMPLATE_MAX_RANGE,
            max_iterations=settings.TEMPLATE_MAX_ITERATIONS,
            max_seconds=settings.TEMPLATE_MAX_RENDER_SECONDS,
        )


class _Budget:
    """What one render may still spend."""

    def __init__(self, limits: TemplateLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds
        self.iterations = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"the template took longer than {self.limits.max_seconds:g} s to render "
                "(TEMPLATE_MAX_RENDER_SECONDS)."
            )

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise TemplateLimitError(
                f"the template's loops run more than {self.limits.max_iterations} times in all "
                "(TEMPLATE_MAX_ITERATIONS)."
            )
        if self.iterations % 64 == 0:
            self.tick()

    def check_size(self, value: object) -> None:
        if isinstance(value, str) and len(value) > self.limits.max_output_chars:
            raise _too_long(self.limits)

    def check_width(self, number: object) -> None:
        """An integer argument larger than the output limit can only ask for too much
        (``'x'.ljust(10**9)``, ``center(10**9)``)."""
        if isinstance(number, int) and not isinstance(number, bool) and abs(number) > self.limits.max_output_chars:
            raise TemplateLimitError(
                f"the number {number} asks for more than {self.limits.max_output_chars} characters "
                "(TEMPLATE_MAX_OUTPUT_CHARS)."
            )

    def check_format_string(self, fmt: str, *, style: str) -> None:
        """Refuse a ``%`` (style "percent") or ``str.format`` (style "brace") width or precision
        larger than the output limit."""
        if style == "percent":
            numbers = [n for m in _PERCENT_SPEC.finditer(fmt) for n in m.groups() if n]
        else:
            numbers = [n for field in _BRACE_FIELD.findall(fmt) for n in _NUMBER.findall(field)]
        for number in numbers:
            if len(number) > 9 or int(number) > self.limits.max_output_chars:
                raise TemplateLimitError(
                    f"the format width {number} is more than {self.limits.max_output_chars} characters "
                    "(TEMPLATE_MAX_OUTPUT_CHARS)."
                )


def _too_long(limits: TemplateLimits) -> TemplateLimitError:
    return TemplateLimitError(
        f"the template renders more than {limits.max_output_chars} characters (TEMPLATE_MAX_OUTPUT_CHARS)."
    )


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _current() -> _Budget:
    """The running render's budget; a render started outside BoundedTemplate.render gets a fresh one
    (only reachable through jinja internals, never through this module's API)."""
    budget = _budget.get()
    if budget is None:
        budget = _Budget(TemplateLimits.from_settings())
        _budget.set(budget)
    return budget


class _BoundLoops(NodeTransformer):
    """Route every ``for`` loop's iterable through ``bounded_iter`` and every ``~`` result through
    ``bounded_value``, by rewriting the parsed template before it is compiled."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("bounded_value"), [node], [], None, None, lineno=node.lineno
        )


def _bounded_filter(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A built-in filter with its width-like arguments and its result checked. The first
    positional argument after the value is where widths live (center, indent, wordwrap...)."""

    @functools.wraps(func)  # keeps jinja_pass_arg, so context-taking filters still get it
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        offset = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
        value_and_args = args[offset:]
        for extra in (*value_and_args[1:], *kwargs.values()):
            budget.check_width(extra)
        if name == "format" and value_and_args and isinstance(value_and_args[0], str):
            budget.check_format_string(value_and_args[0], style="percent")
        result = func(*args, **kwargs)
        budget.check_size(result)
        return result

    return bounded


class BoundedTemplate(Template):
    """Renders within the limits; ``render`` is the only entry point callers need."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        limits = TemplateLimits.from_settings()
        budget = _Budget(limits)
        token = _budget.set(budget)
        try:
            parts: list[str] = []
            size = 0
            for chunk in self.generate(*args, **kwargs):
                size += len(chunk)
                if size > limits.max_output_chars:
                    raise _too_long(limits)
                budget.tick()
                parts.append(chunk)
            return "".join(parts)
        finally:
            _budget.reset(token)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox plus the render limits above. Limits are read from settings at
    each render (TEMPLATE_MAX_OUTPUT_CHARS, TEMPLATE_MAX_RANGE, TEMPLATE_MAX_ITERATIONS,
    TEMPLATE_MAX_RENDER_SECONDS)."""

    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "%", "+", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self.bounded_range
        self.globals.pop("lipsum", None)  # lipsum(n) writes n paragraphs: no use in a title
        self.filters = {name: _bounded_filter(f, name) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _BoundLoops().visit(super()._parse(source, name, filename))
        assert isinstance(tree, nodes.Template)
        tree.set_environment(self)
        return tree

    def bounded_range(self, *args: int) -> range:
        rng = range(*args)
        limit = _current().limits.max_range
        if len(rng) > limit:
            raise TemplateLimitError(
                f"range() of {len(rng)} items is more than {limit} (TEMPLATE_MAX_RANGE)."
            )
        return rng

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _current()
        for item in iterable:
            budget.iterate()
            yield item

    def bounded_value(self, value: Any) -> Any:
        budget = _current()
        budget.tick()
        budget.check_size(value)
        return value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map``, reached through ``getattr``: check the format string's
        widths first (``'{:>500000000}'.format(1)``)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__
        format_call = wrapped

        def checked(*args: Any, **kwargs: Any) -> str:
            budget = _current()
            budget.check_format_string(fmt, style="brace")
            if _NESTED_FIELD.search(fmt):  # '{:>{}}'.format(1, n): n is a width
                for extra in (*args, *kwargs.values()):
                    budget.check_width(extra)
            return format_call(*args, **kwargs)

        return checked

    def getattr(self, obj: Any, attribute: str) -> Any:
        _current().tick()
        return super().getattr(obj, attribute)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - jinja's signature
        budget = _current()
        budget.tick()
        if isinstance(getattr(__obj, "__self__", None), str):  # 'x'.ljust(n), .center(n), .zfill(n)...
            for extra in (*args, *kwargs.values()):
                budget.check_width(extra)
        result = super().call(__context, __obj, *args, **kwargs)
        budget.check_size(result)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = _current()
        budget.tick()
        if operator == "*":
            _check_repeat(budget, left, right)
            _check_repeat(budget, right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            budget.check_format_string(left, style="percent")
            for extra in right if isinstance(right, tuple) else (right,):
                if "*" in left:
                    budget.check_width(extra)
        result = super().call_binop(context, operator, left, right)
        budget.check_size(result)
        return result


def _check_repeat(budget: _Budget, seq: Any, times: Any) -> None:
    """``'x' * n`` may make up to the output limit; ``[...] * n`` up to the range limit (a list
    is there to be looped over)."""
    if isinstance(times, bool) or not isinstance(times, int):
        return
    if isinstance(seq, str) and len(seq) * times > budget.limits.max_output_chars:
        raise TemplateLimitError(
            f"repeating {len(seq)} characters {times} times makes more than "
            f"{budget.limits.max_output_chars} (TEMPLATE_MAX_OUTPUT_CHARS)."
        )
    if isinstance(seq, list | tuple) and len(seq) * times > budget.limits.max_range:
        raise TemplateLimitError(
            f"repeating {len(seq)} items {times} times makes more than {budget.limits.max_range} "
            "(TEMPLATE_MAX_RANGE)."
        )


MAX_POWER_BITS = 4096


def _check_power(base: Any, exponent: Any) -> None:
    """``9 ** 9 ** 9`` would compute a number of 370 million digits."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 0:
        if exponent * math.log2(abs(base)) > MAX_POWER_BITS:
            raise TemplateLimitError(f"{base} ** {exponent} is too large a number to compute.")
