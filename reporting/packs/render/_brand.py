"""The pack's identity colours and font for the Office renderers, from its theme (never hard-coded).

Renderers read `current()` inside `using(pack.theme)`: a context variable rather than an argument threaded
through every helper, and safe for builds in parallel threads (each thread has its own context).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from reporting.charts.theme import DEFAULT_THEME, Theme

__all__ = [
    "NON_TEXT_CONTRAST",
    "TEXT_CONTRAST",
    "Brand",
    "brand_of",
    "contrast_ratio",
    "current",
    "mark_colour",
    "readable",
    "using",
]


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

    def hex_(colour: str) -> str:
        return colour.lstrip("#").upper()

    return Brand(
        hex_(p.brand),
        hex_(p.brand_dark),
        hex_(p.text),
        hex_(p.muted_text),
        hex_(p.table_band),
        hex_(p.background),
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


def _luminance(colour: str) -> float:
    text = colour.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        raise ValueError(f"{colour!r} is not a #RRGGBB colour")
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours (1 to 21)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


TEXT_CONTRAST = 4.5  # WCAG 2.2 AA for text
NON_TEXT_CONTRAST = 3.0  # WCAG 2.2 AA for a graphical mark


def readable(colour: str, background: str, minimum: float = TEXT_CONTRAST) -> str:
    """`colour` (hex, no '#') darkened in 5% steps until it has `minimum` contrast with `background`.

    Every renderer colours its MDC icons through this: 4.5:1 for a coloured letter (WCAG AA text), 3:1 for a
    coloured mark beside black text (WCAG non-text contrast). The theme's text colour if nothing reaches it.
    """
    h = colour.lstrip("#")
    background = background.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    for step in range(21):
        k = 1 - step * 0.05
        candidate = f"{round(r * k):02X}{round(g * k):02X}{round(b * k):02X}"
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return current().text


def mark_colour(theme: Theme, name: str) -> str:
    """The colour of an MDC mark beside its words (a data table's point-type glyph, the HTML's icon letter): the
    palette's `name` colour (common cause if the palette has none), darkened to 3:1 against the page. One rule
    for the deck, the Word paper and the HTML, so a point's glyph is the same colour in each."""
    palette = theme.palette
    return readable(getattr(palette, name, palette.common_cause), palette.background, NON_TEXT_CONTRAST)
