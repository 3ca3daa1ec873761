"""The Jinja sandbox every piece of pack and email text is rendered in: sandboxed, bounded, and text only.

On top of Jinja's SandboxedEnvironment (no attribute escapes):
- `include`, `import` and `extends` are refused when the text is parsed (there is no loader: text blocks are
  self-contained), as a TemplateSyntaxError, so the caller's one-line error names the file and line;
- only text we choose is shown: `{{ x }}` must be a string, number, date or boolean, and the functions a
  template may call (narrative(), value(), ...) are wrapped so that str(), repr(), `|format`, `~` and `|join`
  of them give their name, never the internal object behind them (which held the whole unsuppressed
  snapshot);
- bounded (reporting.limits): rendering time (checked at every call, every loop step of range() and every
  chunk of output), output size (checked on `*`, `+` and `%` of strings, on every call's result and on the
  output), and the size of range().
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from numbers import Number
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from reporting.limits import current

__all__ = ["TemplateFunction", "TemplateLimit", "pack_environment", "render_text"]

_FORBIDDEN = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "import", nodes.Extends: "extends"}
_state = threading.local()


class TemplateLimit(SecurityError):
    """A resource limit was reached while rendering; the message names the limit and how to change it."""


class TemplateFunction:
    """A function offered to templates whose text form is its name, whatever object it is bound to."""

    __slots__ = ("_fn", "_name")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self._name, self._fn = name, fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<function {self._name}>"

    __str__ = __repr__


def _limit(name: str) -> str:
    return f"limits.{name} / REPORTING_LIMIT_{name.upper()}"


def _check_time() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimit(
            f"the text took longer than {current().template_seconds:g} s to render ({_limit('template_seconds')})"
        )


def _check_length(n: int) -> None:
    if n > current().template_output_chars:
        raise TemplateLimit(
            f"the text would be longer than {current().template_output_chars:,} characters "
            f"({_limit('template_output_chars')})"
        )


def _check_size(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)):
        _check_length(len(value))
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, Number, dt.date, bool))


def _bounded_range(*args: int) -> Iterator[int]:
    span = range(*args)
    if len(span) > current().template_range:
        raise TemplateLimit(
            f"range() of {len(span):,} items is over the limit of {current().template_range:,} "
            f"({_limit('template_range')})"
        )
    for i in span:
        _check_time()
        yield i


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    if not all(_scalar(a) for a in (*args, *kwargs.values())):
        raise SecurityError("format() takes only text, numbers and dates")
    text = str(value) % (kwargs or args) if (args or kwargs) else str(value)
    return str(_check_size(text))


def _finalize(value: Any) -> Any:
    if isinstance(value, Undefined):
        return str(value)  # StrictUndefined raises "'x' is undefined" here
    if not _scalar(value):
        raise SecurityError(
            f"a {type(value).__name__} cannot be shown as text; call one of the template "
            f"functions (e.g. narrative('ae_4hr')) instead"
        )
    return value


class PackSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for kind, word in _FORBIDDEN.items():
            node = next(tree.find_all(kind), None)
            if node is not None:
                raise TemplateSyntaxError(
                    f"'{{% {word} %}}' is not allowed in pack text (each text block stands alone)",
                    node.lineno,
                    name,
                    filename,
                )
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*" and isinstance(left, (str, list, tuple)) and isinstance(right, int):
            _check_length(len(left) * max(right, 0))  # sized before it is built
        if operator == "*" and isinstance(right, (str, list, tuple)) and isinstance(left, int):
            _check_length(len(right) * max(left, 0))
        if operator == "**" and isinstance(right, Number) and abs(right) > 1000:  # type: ignore[arg-type]
            raise TemplateLimit("an exponent over 1000 is refused in pack text")
        if operator == "%" and isinstance(left, str):
            parts = right if isinstance(right, tuple) else right.values() if isinstance(right, Mapping) else (right,)
            if not all(_scalar(p) for p in parts):
                raise SecurityError("'%' formatting takes only text, numbers and dates")
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's names
        _check_time()
        return _check_size(super().call(__context, __obj, *args, **kwargs))


def pack_environment(**options: Any) -> PackSandbox:
    env = PackSandbox(undefined=StrictUndefined, autoescape=False, finalize=_finalize, **options)
    env.globals["range"] = _bounded_range
    env.filters["format"] = _format
    return env


def render_text(env: SandboxedEnvironment, text: str, context: Mapping[str, Any]) -> str:
    """Render `text` within the time and size limits; callables in `context` are shown only by name."""
    limits = current()
    safe = {
        k: TemplateFunction(k, v) if callable(v) and not isinstance(v, TemplateFunction) else v
        for k, v in context.items()
    }
    template = env.from_string(text)
    previous = getattr(_state, "deadline", None)
    _state.deadline = time.monotonic() + limits.template_seconds
    try:
        out, size = [], 0
        for chunk in template.generate(**safe):
            size += len(chunk)
            _check_length(size)
            _check_time()
            out.append(chunk)
        return "".join(out)
    finally:
        _state.deadline = previous
