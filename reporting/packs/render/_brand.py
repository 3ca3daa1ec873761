"""The pack's identity colours and font for the Office renderers, from its theme (never hard-coded).

Renderers read `current()` inside `using(pack.theme)`: a context variable rather than an argument threaded
through every helper, and safe for builds in parallel threads (each thread has its own context).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from reporting.charts.theme import DEFAULT_THEME, Theme

__all__ = ["Brand", "brand_of", "current", "using"]


@dataclass(frozen=True)
class Brand:
    """Hex colours without '#', as python-pptx, python-docx and openpyxl take them."""

    primary: str
    primary_dark: str
    text: str
    muted: str
    band: str
    white: str
    font: str


def brand_of(theme: Theme) -> Brand:
    p = theme.palette
    return Brand(
        *(c.lstrip("#").upper() for c in (p.brand, p.brand_dark, p.text, p.muted_text, p.table_band, p.background)),
        theme.document_font,
    )


_CURRENT: ContextVar[Brand] = ContextVar("reporting_brand", default=brand_of(DEFAULT_THEME))  # noqa: B039 (Brand is frozen)


def current() -> Brand:
    return _CURRENT.get()


@contextmanager
def using(theme: Theme) -> Iterator[Brand]:
    token = _CURRENT.set(brand_of(theme))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)
