"""Excel renderer: constants, the render state (`_Ctx`, `_Sheet`) and the small writers every part uses."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from reporting.cells import text_cell
from reporting.charts.theme import Palette
from reporting.mdc import ASSURANCE, POINT_TYPE_ICONS, VARIATION, icon_text
from reporting.packs.render._brand import current as _b
from reporting.packs.tree import (
    Block,
    Cell,
    Pack,
)

CONTENTS = "Contents"
CHART_DATA = "Chart data"
# Colours and the font come from the pack's theme (render/_brand.py: NHS identity unless the pack rebrands);
# RAG fills are status colours, not identity.
TABLE_STYLE = "TableStyleMedium2"
FIRST_ROW = 3  # row 1: back to contents; row 2: blank
MIN_TEXT_COLUMNS = 8  # text and captions are merged over at least this many columns
CHART_WIDTH_PX = 800  # charts and pictures on section sheets
SPARK_WIDTH_PX = 120
ROW_PX = 20  # default row height (15 pt)
PAGE_WIDTH_PX = 1020  # printable A4 landscape at 96 dpi, half-inch margins
PAGE_HEIGHT_PX = 580  # ... less the margins (1 in top and bottom), header and footer
MAX_CELL_TEXT = 32767
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
NUMBER_FORMATS = {"percent": "0.0%", "count": "#,##0", "number": "#,##0.0", "date": "d mmm yyyy"}


# --- small helpers --------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", text)
    return cleaned[:MAX_CELL_TEXT]


def _put(
    ws: Any,
    row: int,
    col: int,
    value: Any,
    *,
    style: str | None = None,
    font: Font | None = None,
    fmt: str | None = None,
    wrap: bool = False,
    align: str | None = None,
    top: bool = False,
) -> Any:
    """Write one cell; text is always stored as text (never a formula), whatever it starts with."""
    cell = ws.cell(row=row, column=col)
    if value == "":
        pass
    elif isinstance(value, str):
        text_cell(cell, _clean(value))
    else:
        cell.value = value
    if style:
        cell.style = style
    cell.font = font or Font(name=_b().font, size=10)
    if fmt:
        cell.number_format = fmt
    if wrap or align or top:
        cell.alignment = Alignment(wrap_text=wrap, vertical="top", horizontal=align)
    return cell


def _tint(colour: str, amount: float = 0.7) -> str:
    """colour mixed with white: a light fill that keeps black text readable."""
    c = colour.lstrip("#")
    rgb = [int(c[i : i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(v + (255 - v) * amount):02X}" for v in rgb)


def _lines(text: str, width_chars: float) -> int:
    per_line = max(int(width_chars * 1.1), 10)  # Arial 10 fits a little more than one char per width unit
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _decimals(text: str) -> int:
    match = re.search(r"\d\.(\d+)", text)
    return len(match.group(1)) if match else 0


def _cell_format(cell: Cell, column_format: str) -> str:
    if column_format and column_format != "General":
        return column_format
    if cell.kind == "percent":
        return "0" + ("." + "0" * _decimals(cell.text) if _decimals(cell.text) else "") + "%"
    if cell.kind in {"count", "number"}:
        return "#,##0" + ("." + "0" * _decimals(cell.text) if _decimals(cell.text) else "")
    return NUMBER_FORMATS.get(cell.kind, "General")


def _icon_text(code: str | None) -> str:
    return icon_text(code)


def _label_colours(palette: Palette) -> dict[str, list[str]]:
    """palette colour -> the exact icon-cell texts (reporting.mdc.icon_text) conditional formatting fills with it.

    Only special cause and pass/fail assurance are filled: common cause and "met inconsistently" stay plain,
    so the fill draws the eye to what is unusual, as the charts' orange and blue do.
    """
    out: dict[str, list[str]] = {}
    for table in (VARIATION, ASSURANCE, POINT_TYPE_ICONS):
        for code, (_, name, _) in table.items():
            if name != "common_cause":
                out.setdefault(getattr(palette, name), []).append(icon_text(code))
    return out


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """An Excel-safe sheet name: no []:*?/\\, no edge apostrophes, <= 31 chars, unique ignoring case."""
    base = re.sub(r"\s+", " ", _BAD_SHEET_CHARS.sub(" ", name)).strip().strip("'").strip() or "Sheet"
    if base.lower() == "history":  # reserved by Excel
        base = "History sheet"
    base = base[:31].rstrip()
    used = {t.lower() for t in taken}
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)].rstrip() + suffix
        n += 1
    return candidate


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _table_name(title: str, taken: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:40]
    n = len(taken) + 1
    name = f"Table{n}" + (f"_{slug}" if slug else "")
    while name.lower() in taken:
        n += 1
        name = f"Table{n}" + (f"_{slug}" if slug else "")
    taken.add(name.lower())
    return name


def _unique_headers(names: Sequence[str]) -> list[str]:
    """Header texts, each once: a repeated name is qualified by the column before it ("Rank" after
    "A&E 4-hour performance" is "A&E 4-hour performance rank"), never numbered ("Rank 2") unless that fails."""
    clean = [re.sub(r"\s+", " ", name).strip() or "Column" for name in names]
    counts: dict[str, int] = {}
    for name in clean:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    seen: set[str] = set()
    out = []
    for i, base in enumerate(clean):
        if counts[base.lower()] > 1 and i > 0 and counts[clean[i - 1].lower()] == 1:
            base = f"{clean[i - 1]} {base[:1].lower()}{base[1:]}"
        candidate, n = base, 2
        while candidate.lower() in seen:
            candidate, n = f"{base} {n}", n + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


# --- render state ---------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    ws: Any
    label: str  # what the contents list says about it
    widths: list[float]  # column widths (characters)
    blocks: list[Block] = field(default_factory=list)
    row: int = FIRST_ROW
    charts: list[tuple[str, str]] = field(default_factory=list)  # native charts' (title, descr), in order
    pictures: int = 0
    print_titles: str | None = None
    page_start: int = 1  # first row of the current printed page (after the last manual break)
    heading_at: int | None = None  # row of the latest heading, kept on the page of what follows it
    text_at: int | None = None  # first row of the text just written (a chart's narrative), kept with the chart
    text_end: int = 0  # the row after that text
    #: text and captions are merged over at least this many columns: a sheet of tables only uses its tables'
    #: columns (1), so nothing wider than the tables widens the printed page and shrinks it to fit
    min_columns: int = MIN_TEXT_COLUMNS

    @property
    def text_columns(self) -> int:
        return max(self.min_columns, len(self.widths))

    def span_width(self, first: int = 1) -> float:
        return sum(self.widths[i - 1] if i <= len(self.widths) else 14.0 for i in range(first, self.text_columns + 1))


@dataclass
class _Ctx:
    wb: Any
    pack: Pack
    contents: _Sheet
    sheets: list[_Sheet]
    sheet: _Sheet
    label_colours: dict[str, list[str]]
    table_names: set[str] = field(default_factory=set)
    data_ws: Any = None
    data_row: int = 1
    contents_done: bool = False


def _merged_text(sheet: _Sheet, text: str, font: Font, *, first_col: int = 1) -> None:
    ws, row = sheet.ws, sheet.row
    last = sheet.text_columns
    _put(ws, row, first_col, text, font=font, wrap=True)
    if last > first_col:
        ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last)
    lines = _lines(text, sheet.span_width(first_col))
    ws.row_dimensions[row].height = max(15.0, lines * (font.sz or 10) * 1.45)
    sheet.row += 1
