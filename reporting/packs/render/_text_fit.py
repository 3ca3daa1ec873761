"""Measuring and fitting slide text, so that what the PowerPoint renderer measures is what is drawn.

Fitting rule (measured, not guessed; the same rule sets table row heights and where tables split):
a line of text at size s pt holds characters while the sum of their Arial advance widths (Helvetica's metrics,
shared by Arial and Liberation Sans: the 95 ASCII widths, regular and bold, are tabled below; an accented letter
counts as its base letter, anything else unknown as 1 em) times ``WIDTH_MARGIN`` (1.05) is at most the box
width. For ordinary text that is about ``width_pt / (0.5 * s)`` characters a line. Words wrap greedily (a
longer word is broken); a line is ``LINE_HEIGHT_EM * s`` (1.2 s; Arial's own is 1.15 s) high and each paragraph
after the first adds ``PARA_GAP_EM * s`` (0.4 s). On the default master the slide body (12.3 x 5.3 in) holds
17 lines of about 95 characters at 18 pt, and 26 lines of about 140 at 12 pt.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pptx.util import Emu, Pt

__all__ = ["LINE_HEIGHT_EM", "PARA_GAP_EM", "WIDTH_MARGIN"]

WIDTH_MARGIN = 1.05  # text is counted 5% wider than Arial draws it
#: Arial advance widths in 1/1000 em for ASCII 32-126 (space to ~), regular and bold, rounded up; these are
#: Helvetica's metrics, which Arial and Liberation Sans share.
_ARIAL = (
    278,
    278,
    355,
    557,
    557,
    890,
    667,
    191,
    334,
    334,
    390,
    584,
    278,
    334,
    278,
    278,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    278,
    278,
    584,
    584,
    584,
    557,
    1016,
    667,
    667,
    723,
    723,
    667,
    611,
    778,
    723,
    278,
    500,
    667,
    557,
    834,
    723,
    778,
    667,
    778,
    723,
    667,
    611,
    723,
    667,
    944,
    667,
    667,
    611,
    278,
    278,
    278,
    470,
    557,
    334,
    557,
    557,
    500,
    557,
    557,
    278,
    557,
    557,
    223,
    223,
    500,
    223,
    834,
    557,
    557,
    557,
    557,
    334,
    500,
    278,
    557,
    500,
    723,
    500,
    500,
    500,
    334,
    260,
    334,
    584,
)
_ARIAL_BOLD = (
    278,
    334,
    475,
    557,
    557,
    890,
    723,
    238,
    334,
    334,
    390,
    584,
    278,
    334,
    278,
    278,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    557,
    334,
    334,
    584,
    584,
    584,
    611,
    976,
    723,
    723,
    723,
    723,
    667,
    611,
    778,
    723,
    278,
    557,
    723,
    611,
    834,
    723,
    778,
    667,
    778,
    723,
    667,
    611,
    723,
    667,
    944,
    667,
    667,
    611,
    334,
    278,
    334,
    584,
    557,
    334,
    557,
    611,
    557,
    611,
    557,
    334,
    611,
    611,
    278,
    278,
    557,
    278,
    890,
    611,
    611,
    611,
    611,
    390,
    557,
    334,
    611,
    557,
    778,
    557,
    557,
    500,
    390,
    280,
    390,
    584,
)
#: common non-ASCII characters of British text; anything else unknown counts as 1 em (the widest letter)
_OTHER = {
    "–": 557,
    "—": 1000,
    "‘": 223,
    "’": 223,
    "“": 334,
    "”": 334,
    "…": 1000,
    "•": 350,
    "·": 278,
    "£": 557,
    "€": 557,
    "°": 400,
    "×": 584,
    "±": 584,
    "↑": 1000,
    "↓": 1000,
    "\u00a0": 278,
}
LINE_HEIGHT_EM = 1.2  # line pitch = 1.2 x size
PARA_GAP_EM = 0.4  # space before every paragraph but the first


@dataclass(frozen=True)
class _Run:
    text: str
    bold: bool = False
    italic: bool = False
    colour: str | None = None


@dataclass(frozen=True)
class _Para:
    runs: tuple[_Run, ...]
    factor: float = 1.0  # size relative to the block's size
    level: int = 0
    align: Any = None

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


def _para(text: str, **run: Any) -> _Para:
    return _Para((_Run(text, **run),))


def _paras(texts: Sequence[str], **run: Any) -> list[_Para]:
    """One paragraph per line: a newline inside a string starts a new paragraph."""
    return [_para(line, **run) for text in texts for line in str(text).split("\n")]


@functools.lru_cache(maxsize=8192)
def _char_width(ch: str, bold: bool) -> int:
    """Advance width of one character in 1/1000 em (Arial metrics; generous for anything unknown)."""
    table = _ARIAL_BOLD if bold else _ARIAL
    if 32 <= ord(ch) < 127:
        return table[ord(ch) - 32]
    if ch in _OTHER:
        return _OTHER[ch]
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    base = unicodedata.normalize("NFKD", ch)[0]  # ŵ, â, ò are as wide as w, a, o; î as a dotless i (0.278)
    if base != ch and 32 <= ord(base) < 127:
        return max(table[ord(base) - 32], 278)
    return 1000


@functools.lru_cache(maxsize=65536)
def _em(text: str, bold: bool) -> float:
    """Width of `text` in em. Memoised, like `_lines`: a pack measures the same words and cells many times over
    (every candidate size of `_fit`, every row height of a table split), and both are pure."""
    return sum(_char_width(ch, bold) for ch in text) / 1000


@functools.lru_cache(maxsize=65536)
def _lines(text: str, line_em: float, bold: bool = False) -> int:
    """Lines `text` wraps to when a line is `line_em` em wide (greedy, word by word; long words broken)."""
    space = _char_width(" ", bold) / 1000
    lines, used = 1, 0.0
    for word in text.split():
        width = _em(word, bold)
        need = width if used == 0 else used + space + width
        if need <= line_em:
            used = need
            continue
        if used:
            lines += 1
        while width > line_em:
            width -= line_em
            lines += 1
        used = width
    return lines


@functools.lru_cache(maxsize=4096)
def _line_em(width: int, size: float) -> float:
    """How many em of text one line `width` EMU wide holds at `size` pt, after the safety margin."""
    return max(0.5, Emu(width).pt / (size * WIDTH_MARGIN))


def _height(paras: Sequence[_Para], size: float, width: int) -> int:
    """EMU needed by `paras` at `size` pt in a text area `width` EMU wide (insets excluded)."""
    points = 0.0
    for i, p in enumerate(paras):
        s = size * p.factor
        bold = any(r.bold for r in p.runs)
        points += _lines(p.text, _line_em(width, s), bold) * LINE_HEIGHT_EM * s + (PARA_GAP_EM * s if i else 0)
    return int(Pt(points))


@functools.lru_cache(maxsize=65536)
def _text_height(text: str, bold: bool, size: float, width: int) -> int:
    """`_height` of one plain paragraph: a table cell, measured again for every cut of a table's columns."""
    return _height((_para(text, bold=bold),), size, width)


def _fit(paras: Sequence[_Para], width: int, height: int, base: float, minimum: float) -> float | None:
    """The largest size from `base` down to `minimum` (of the smallest paragraph) at which `paras` fit."""
    smallest = min((p.factor for p in paras), default=1.0)
    size = float(base)
    while size * smallest >= minimum - 1e-9:
        if _height(paras, size, width) <= height:
            return size
        size -= 1
    return None
