"""Excel renderer: summary and data tables as real Excel tables, with RAG status columns and conditional formats."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from reporting.mdc import RAG
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import readable
from reporting.packs.render.xlsx.cells import (
    TABLE_STYLE,
    _cell_format,
    _Ctx,
    _icon_text,
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


def _status_width(name: str) -> float:
    return float(min(max(12, len(name) + 10), 24))


def _has_rag(block: DataTable, i: int) -> bool:
    return any(len(r) > i and r[i].rag for r in block.rows)


def _summary_columns(block: SummaryTable) -> list[tuple[str, float, str]]:
    return [
        ("Metric", 30.0, "text"),
        ("Period", 11.0, "text"),
        ("Latest", 10.0, "number"),
        ("Target", 10.0, "number"),
        ("Variation", 30.0, "icon"),
        ("Assurance", 26.0, "icon"),
        ("Trend", 18.0, "text"),
        ("Narrative", 50.0, "text"),
    ]


def _table(
    ctx: _Ctx,
    title: str,
    caption: str,
    columns: list[Column],
    rows: list[list[Cell]],
    footnotes: Sequence[str],
    *,
    wrap_columns: set[int] | None = None,
) -> int:
    """An Excel table with title, caption and footnotes; returns the first data row."""
    sheet = ctx.sheet
    ws = sheet.ws
    wrap_columns = wrap_columns or set()
    if title:
        _put(ws, sheet.row, 1, title, font=Font(name=_b().font, size=11, bold=True))
        sheet.row += 1
    if caption:
        _merged_text(sheet, caption, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    # expand columns: a "<name> status" text column after any column carrying RAG
    layout: list[tuple[int, bool]] = []  # (source column index, is the status column)
    for i, _ in enumerate(columns):
        layout.append((i, False))
        if any(len(r) > i and r[i].rag for r in rows):
            layout.append((i, True))
    headers = _unique_headers([f"{columns[i].name} status" if status else columns[i].name for i, status in layout])
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
    for r, row in enumerate(rows):
        excel_row = first + r
        for c, (i, status) in enumerate(layout, start=1):
            cell = row[i] if i < len(row) else Cell(None, "")
            if status:
                _put(ws, excel_row, c, RAG[cell.rag][1] if cell.rag in RAG else "", top=True)
                continue
            xl = _table_cell(ws, excel_row, c, cell, columns[i], wrap=i in wrap_columns or columns[i].kind == "text")
            if cell.suppressed:
                any_suppressed = True
                xl.comment = Comment(suppressed_note, "reporting", width=260, height=70)
                xl.alignment = Alignment(horizontal="right", vertical="top")
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
        longest = max(
            (
                _lines(row[i].text if row[i].value is None else str(row[i].value), sheet.widths[c - 1])
                for c, (i, status) in enumerate(layout, start=1)
                if not status and (i in wrap_columns or columns[i].kind in {"text", "icon"}) and i < len(row)
            ),
            default=1,
        )
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
    return first


def _table_cell(ws: Any, row: int, col: int, cell: Cell, column: Column, *, wrap: bool) -> Any:
    if cell.suppressed:
        return _put(ws, row, col, "*", top=True)
    if cell.kind == "icon" or column.kind == "icon":
        text = _icon_text(cell.icon) or (cell.text if cell.value is None else str(cell.value))
        return _put(ws, row, col, text, wrap=True, top=True)
    if cell.kind == "date":
        value = cell.value
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value[:10])
            except ValueError:
                return _put(ws, row, col, value, top=True)
        if isinstance(value, dt.date):
            return _put(ws, row, col, value, fmt=_cell_format(cell, column.number_format), align="left", top=True)
    if cell.kind in {"number", "percent", "count"}:
        if isinstance(cell.value, (int, float)) and not (isinstance(cell.value, float) and math.isnan(cell.value)):
            return _put(ws, row, col, cell.value, fmt=_cell_format(cell, column.number_format), top=True)
        return _put(ws, row, col, cell.text or "–", align="right", top=True)
    value = cell.value if cell.value is not None else cell.text
    return _put(
        ws,
        row,
        col,
        value,
        wrap=wrap,
        top=True,
        fmt=None if isinstance(value, str) else _cell_format(cell, column.number_format),
    )


def _conditional_formats(
    ctx: _Ctx,
    ws: Any,
    layout: list[tuple[int, bool]],
    columns: list[Column],
    rows: list[list[Cell]],
    first: int,
    last: int,
) -> None:
    if not rows:
        return
    known = {label for labels in ctx.label_colours.values() for label in labels}
    for c, (i, status) in enumerate(layout, start=1):
        letter = get_column_letter(c)
        rng = f"{letter}{first}:{letter}{last}"
        if status:  # colour the value and its status text from the status text
            value_letter = get_column_letter(c - 1)
            for _, label, fill, font in RAG.values():
                rule = FormulaRule(
                    formula=[f'${letter}{first}="{label}"'],
                    fill=PatternFill(fill_type="solid", start_color=fill, end_color=fill, bgColor=fill),
                    font=Font(color=font),
                )
                ws.conditional_formatting.add(f"{value_letter}{first}:{letter}{last}", rule)
            continue
        texts = [_icon_text(r[i].icon) or r[i].text for r in rows if i < len(r)]
        if not (columns[i].kind == "icon" or any(any(k in t for k in known) for t in texts)):
            continue
        for colour, labels in ctx.label_colours.items():
            tests = ",".join(f'ISNUMBER(FIND("{label}",{letter}{first}))' for label in sorted(set(labels)))
            fill = _tint(colour)
            ws.conditional_formatting.add(
                rng,
                FormulaRule(
                    formula=[f"OR({tests})"],
                    fill=PatternFill(fill_type="solid", start_color=fill, end_color=fill, bgColor=fill),
                    font=Font(color=readable(colour, fill)),
                ),
            )
