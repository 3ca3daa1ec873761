"""Excel renderer: summary and data tables as real Excel tables, with RAG status columns and conditional formats."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from reporting.mdc import NOT_ASSESSED_CELL, RAG, icon_text
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import readable
from reporting.packs.render._caption import caption_rest
from reporting.packs.render.xlsx.cells import (
    TABLE_STYLE,
    _cell_format,
    _Ctx,
    _lines,
    _merged_text,
    _put,
    _table_name,
    _tint,
    _unique_headers,
)
from reporting.packs.tree import (
    Cell,
    Column,
    DataTable,
    SummaryTable,
)

NUMERIC = frozenset({"number", "percent", "count"})
NOTE_HEADER = "Note"
NOTE_WIDTH = 28.0
#: what a cell says when it has nothing to say: written as a blank cell, never as text in a number column
_NOTHING = frozenset({"", "–", "-"})


def _status_width(name: str) -> float:
    return float(min(max(12, len(name) + 10), 24))


@dataclass(frozen=True)
class _Layout:
    """Which source columns a table shows, in order, and whether a "Note" column ends it.

    A column no row has anything in is left out (a switched-off narrative, numerators of a count metric);
    a "<column> status" text column follows any column carrying RAG; the Note column says why a number
    cell is blank (suppressed, no data), so number columns hold only numbers or blanks.
    """

    slots: tuple[tuple[int, bool], ...]  # (source column index, is the status column)
    note: bool

    def excel_column(self, source: int) -> int:
        """The 1-based sheet column of a source column (which must be shown)."""
        return 1 + self.slots.index((source, False))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def _empty(cell: Cell) -> bool:
    return (
        not cell.suppressed
        and cell.icon is None
        and cell.rag is None
        and (cell.value is None or cell.value == "")
        and cell.text.strip() in _NOTHING
    )


def _missing_reason(cell: Cell, column: Column) -> str | None:
    """Why a cell of a number column holds no number ("suppressed", "no data"); None if it holds one, or if
    a blank says it all (no target, no numerator)."""
    if column.kind not in NUMERIC:
        return None
    if cell.suppressed:
        return "suppressed"
    if _is_number(cell.value):
        return None
    text = cell.text.strip()
    return None if text in _NOTHING else text


def _layout(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], keep: Collection[int] = ()) -> _Layout:
    slots: list[tuple[int, bool]] = []
    for i in range(len(columns)):
        cells = [r[i] for r in rows if i < len(r)]
        if rows and i not in keep and all(_empty(c) for c in cells):
            continue
        slots.append((i, False))
        if any(c.rag for c in cells):
            slots.append((i, True))
    note = any(_missing_reason(r[i], columns[i]) for r in rows for i, status in slots if not status and i < len(r))
    return _Layout(tuple(slots), note)


#: a text column of names (no cell longer than NAME_CHARS) is widened to its longest, up to NAME_WIDTH
#: characters, so every row is one line tall; a column of prose keeps its width and wraps
NAME_WIDTH = 66.0
NAME_CHARS = 80
#: ... while the table stays this many characters wide or less (about 90% when printed fitted to A4 landscape)
PRINT_CHARS = 160.0
#: a header is given room for two lines at most, up to this width
HEADER_WIDTH = 24.0


def _layout_widths(columns: Sequence[Column], layout: _Layout, rows: Sequence[Sequence[Cell]] = ()) -> list[float]:
    """Each shown column's width: at least its header's longest word, so no header breaks inside a word, and
    half its header (two lines at most, up to HEADER_WIDTH); a text column of names as wide as its longest
    (up to NAME_WIDTH), so the league table's rows are even, one line each."""
    out = [_status_width(columns[i].name) if status else columns[i].width for i, status in layout.slots]
    out += [NOTE_WIDTH] if layout.note else []
    wants = [0.0] * len(out)
    for k, (i, status) in enumerate(layout.slots):
        if not status and columns[i].kind == "text":
            longest = max((len(r[i].text) for r in rows if i < len(r)), default=0)
            if longest <= NAME_CHARS:
                wants[k] = max(0.0, min(longest * 1.05 + 2, NAME_WIDTH) - out[k])
    budget = max(0.0, PRINT_CHARS - sum(out))
    share = min(1.0, budget / sum(wants)) if sum(wants) else 0.0
    out = [w + extra * share for w, extra in zip(out, wants)]
    names = [f"{columns[i].name} status" if status else columns[i].name for i, status in layout.slots]
    headers = _unique_headers(names + ([NOTE_HEADER] if layout.note else []))
    return [
        max(w, max((len(word) for word in h.split()), default=0) * 1.15 + 2, min(len(h) / 2 * 1.1 + 2, HEADER_WIDTH))
        for w, h in zip(out, headers, strict=True)
    ]


#: the summary table's columns, before `_layout` leaves out what no row has
SUMMARY_COLUMNS = (
    Column("Metric", "text", "General", 30.0),
    Column("Period", "text", "General", 20.0),  # "July 2025 (monthly), before this week" on two lines
    Column("Latest", "number", "General", 10.0),
    Column("Target", "number", "General", 10.0),
    Column("Variation", "icon", "General", 30.0),
    Column("Assurance", "icon", "General", 26.0),
    Column("Trend", "text", "General", 18.0),
    Column("Narrative", "text", "General", 50.0),
)
TREND = 6  # the summary table's source column that holds the sparkline pictures


def _summary_cells(block: SummaryTable) -> tuple[list[Column], list[list[Cell]], _Layout]:
    """The summary table as columns and cells, and what of it is shown (Trend only if a row has a sparkline,
    Narrative only if a row has one: `narrative: false` leaves it out)."""
    columns = list(SUMMARY_COLUMNS)
    rows = []
    for r in block.rows:
        variation = icon_text(r.variation_icon) or NOT_ASSESSED_CELL
        assurance = icon_text(r.assurance) or NOT_ASSESSED_CELL
        rows.append(
            [
                Cell(r.title, r.title),
                Cell(r.period_label, r.period_label),
                r.latest,
                r.target,
                Cell(variation, variation, "icon", icon=r.variation_icon),
                Cell(assurance, assurance, "icon", icon=r.assurance),
                Cell("", ""),
                Cell(r.narrative, r.narrative),
            ]
        )
    trend = any(r.sparkline_image is not None and Path(r.sparkline_image).exists() for r in block.rows)
    return columns, rows, _layout(columns, rows, keep={TREND} if trend else ())


def _table_layout(block: DataTable | SummaryTable) -> tuple[list[Column], _Layout, list[list[Cell]]]:
    """Columns, layout and cells of a table block, as the sheet will show it (the planner sizes columns from it)."""
    if isinstance(block, SummaryTable):
        columns, rows, layout = _summary_cells(block)
        return columns, layout, rows
    return list(block.columns), _layout(block.columns, block.rows), [list(r) for r in block.rows]


def _table(
    ctx: _Ctx,
    title: str,
    caption: str,
    columns: list[Column],
    rows: list[list[Cell]],
    footnotes: Sequence[str],
    *,
    layout: _Layout | None = None,
    wrap_columns: set[int] | None = None,
) -> tuple[int, _Layout]:
    """An Excel table with title, caption and footnotes; returns the first data row and the layout shown."""
    sheet = ctx.sheet
    ws = sheet.ws
    wrap_columns = wrap_columns or set()
    layout = layout or _layout(columns, rows)
    if title:
        _put(ws, sheet.row, 1, title, font=Font(name=_b().font, size=11, bold=True))
        sheet.row += 1
    if rest := caption_rest(title, caption):
        _merged_text(sheet, rest, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    names = [f"{columns[i].name} status" if status else columns[i].name for i, status in layout.slots]
    headers = _unique_headers(names + ([NOTE_HEADER] if layout.note else []))
    header_row = sheet.row
    for c, name in enumerate(headers, start=1):  # explicit header look: LibreOffice ignores Excel table styles
        cell = _put(ws, header_row, c, name, font=Font(name=_b().font, size=10, bold=True, color=_b().white), wrap=True)
        cell.fill = PatternFill(fill_type="solid", start_color=_b().primary, end_color=_b().primary)
    header_lines = max(_lines(name, sheet.widths[c - 1]) for c, name in enumerate(headers, start=1))
    ws.row_dimensions[header_row].height = max(15.0, header_lines * 13.5)
    first = header_row + 1
    suppressed_note = next(
        (f for f in footnotes if f.lstrip().startswith("*")),
        "Suppressed by disclosure control: the value would identify a small number of events.",
    )
    any_suppressed = False
    notes_by_row: list[str] = []
    for r, row in enumerate(rows):
        excel_row = first + r
        why: list[str] = []
        for c, (i, status) in enumerate(layout.slots, start=1):
            cell = row[i] if i < len(row) else Cell(None, "")
            if status:
                _put(ws, excel_row, c, RAG[cell.rag][1] if cell.rag in RAG else "", top=True)
                continue
            xl = _table_cell(ws, excel_row, c, cell, columns[i], wrap=i in wrap_columns or columns[i].kind == "text")
            reason = _missing_reason(cell, columns[i])
            if reason:
                why.append(f"{headers[c - 1]}: {reason}")
                text = suppressed_note if cell.suppressed else f"{headers[c - 1]}: {reason}"
                xl.comment = Comment(text, "reporting", width=260, height=70)
            any_suppressed = any_suppressed or cell.suppressed
        notes_by_row.append("; ".join(why))
        if layout.note:
            _put(ws, excel_row, len(headers), notes_by_row[-1], wrap=True, top=True)
    last_row = first + max(len(rows), 1) - 1
    if not rows:  # an Excel table needs at least one data row
        _put(ws, first, 1, "No data for this period")
    last_col = len(headers)
    ref = f"A{header_row}:{get_column_letter(last_col)}{last_row}"
    table = Table(displayName=_table_name(title or "table", ctx.table_names), ref=ref)
    table.tableStyleInfo = TableStyleInfo(
        name=TABLE_STYLE, showRowStripes=True, showColumnStripes=False, showFirstColumn=False, showLastColumn=False
    )
    ws.add_table(table)
    _conditional_formats(ctx, ws, layout, columns, rows, first, last_row)
    # row heights for wrapped text
    for r, row in enumerate(rows):
        texts = [
            (row[i].text if row[i].value is None else str(row[i].value), sheet.widths[c - 1])
            for c, (i, status) in enumerate(layout.slots, start=1)
            if not status and (i in wrap_columns or columns[i].kind in {"text", "icon"}) and i < len(row)
        ]
        if layout.note and notes_by_row[r]:
            texts.append((notes_by_row[r], sheet.widths[last_col - 1]))
        longest = max((_lines(text, width) for text, width in texts), default=1)
        if longest > 1:
            ws.row_dimensions[first + r].height = longest * 13.5
    sheet.print_titles = sheet.print_titles or f"{header_row}:{header_row}"
    sheet.row = last_row + 1
    notes = list(footnotes)
    if any_suppressed and not any(n.lstrip().startswith("*") for n in notes):
        notes.append("* " + suppressed_note)
    for note in notes:
        _merged_text(sheet, note, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    sheet.row += 1
    return first, layout


def _table_cell(ws: Any, row: int, col: int, cell: Cell, column: Column, *, wrap: bool) -> Any:
    """One data cell: a number column gets a number or a blank (the Note column and a cell note say why)."""
    if cell.kind == "icon" or column.kind == "icon":
        text = icon_text(cell.icon) or (cell.text if cell.value is None else str(cell.value))
        return _put(ws, row, col, text, wrap=True, top=True)
    if column.kind in NUMERIC or cell.kind in NUMERIC:
        if _is_number(cell.value) and not cell.suppressed:
            return _put(ws, row, col, cell.value, fmt=_cell_format(cell, column.number_format), top=True)
        if column.kind in NUMERIC:
            return _put(ws, row, col, "", top=True)
    if cell.suppressed:
        return _put(ws, row, col, "*", top=True)
    if cell.kind == "date" and isinstance(cell.value, str):
        try:
            day = dt.date.fromisoformat(cell.value[:10])
        except ValueError:
            return _put(ws, row, col, cell.value, top=True)
        return _put(ws, row, col, day, fmt=_cell_format(cell, column.number_format), align="left", top=True)
    value = cell.value if cell.value is not None else cell.text
    if isinstance(value, str) and value.strip() in _NOTHING:
        value = ""
    return _put(
        ws,
        row,
        col,
        value,
        wrap=wrap,
        top=True,
        fmt=None if isinstance(value, str) else _cell_format(cell, column.number_format),
    )


def _fill_rule(formula: str, colour_fill: str, font_colour: str) -> FormulaRule:
    return FormulaRule(
        formula=[formula],
        fill=PatternFill(fill_type="solid", start_color=colour_fill, end_color=colour_fill, bgColor=colour_fill),
        font=Font(color=font_colour),
    )


def _equals_any(ref: str, texts: Sequence[str]) -> str:
    """A formula true when the cell's text is one of `texts`, exactly as written (Excel compares text
    ignoring case; the texts are the cells' own words from reporting.mdc, so case never decides)."""
    quoted = [f'{ref}="{t.replace(chr(34), chr(34) * 2)}"' for t in sorted(set(texts))]
    return quoted[0] if len(quoted) == 1 else f"OR({','.join(quoted)})"


def _conditional_formats(
    ctx: _Ctx,
    ws: Any,
    layout: _Layout,
    columns: list[Column],
    rows: list[list[Cell]],
    first: int,
    last: int,
) -> None:
    if not rows:
        return
    for c, (i, status) in enumerate(layout.slots, start=1):
        letter = get_column_letter(c)
        rng = f"{letter}{first}:{letter}{last}"
        if status:  # colour the value and its status text from the status text
            value_letter = get_column_letter(c - 1)
            for _, label, fill, font in RAG.values():
                rule = _fill_rule(_equals_any(f"${letter}{first}", [label]), fill, font)
                ws.conditional_formatting.add(f"{value_letter}{first}:{letter}{last}", rule)
            continue
        if columns[i].kind != "icon" and not any(i < len(r) and r[i].icon for r in rows):
            continue
        for colour, texts in ctx.label_colours.items():
            fill = _tint(colour)
            ws.conditional_formatting.add(
                rng, _fill_rule(_equals_any(f"{letter}{first}", texts), fill, readable(colour, fill))
            )
