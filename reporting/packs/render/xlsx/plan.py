"""Excel renderer: the render state, which block goes on which sheet, and page setup."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Font
from openpyxl.worksheet.hyperlink import Hyperlink

from reporting.packs.render._brand import current as _b
from reporting.packs.render.xlsx.cells import CHART_DATA, CONTENTS, MIN_TEXT_COLUMNS, _put, _quoted, _Sheet, sheet_title
from reporting.packs.render.xlsx.tables import _layout_widths, _table_layout
from reporting.packs.tree import (
    Block,
    Contents,
    Cover,
    DataTable,
    Pack,
    PageBreak,
    SummaryTable,
)

# --- planning: which block goes on which sheet -------------------------------------------------------------------


def _table_widths(block: Block) -> list[float]:
    """Column widths of a table block, column by column as the sheet shows it (tables.`_layout`)."""
    if isinstance(block, (SummaryTable, DataTable)):
        return _layout_widths(*_table_layout(block))
    return []


def _plan(pack: Pack, wb: Any) -> tuple[_Sheet, list[_Sheet], list[Block]]:
    contents = _Sheet(wb.active, CONTENTS, [24.0, 90.0])
    contents.ws.title = CONTENTS
    sheets: list[_Sheet] = []
    by_key: dict[tuple[object, ...], _Sheet] = {}  # one sheet per section, and per DataTable.sheet_name
    front: list[Block] = []

    def sheet_for(key: tuple[object, ...], name: str, label: str) -> _Sheet:
        if key not in by_key:
            title = sheet_title(name, [CONTENTS, CHART_DATA, *(s.ws.title for s in sheets)])
            by_key[key] = _Sheet(wb.create_sheet(title), label, [])
            sheets.append(by_key[key])
        return by_key[key]

    for n, section in enumerate(pack.sections):
        for block in section.blocks:
            if isinstance(block, (Cover, Contents)):
                front.append(block)
                continue
            if isinstance(block, PageBreak) and ("section", n) not in by_key:
                continue  # a page break before anything is on the section's sheet means nothing in Excel
            target = (
                sheet_for(("sheet", block.sheet_name.lower()), block.sheet_name, block.title)
                if isinstance(block, DataTable) and block.sheet_name
                else sheet_for(("section", n), section.title, section.title)
            )
            target.blocks.append(block)
    for sheet in sheets:
        for block in sheet.blocks:
            for i, w in enumerate(_table_widths(block)):
                if i < len(sheet.widths):
                    sheet.widths[i] = max(sheet.widths[i], w)
                else:
                    sheet.widths.append(w)
        if not sheet.widths:
            sheet.widths = [14.0] * MIN_TEXT_COLUMNS
    return contents, sheets, front


# --- page setup -------------------------------------------------------------------------------------------------


def _page_setup(ws: Any, pack: Pack, *, landscape: bool = True) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    if pack.classification:
        ws.oddHeader.center.text = pack.classification
        ws.oddHeader.center.font = f"{_b().font},Bold"
    ws.oddFooter.left.text = pack.footer.replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8


def _back_link(sheet: _Sheet) -> None:
    cell = _put(
        sheet.ws,
        1,
        1,
        "← Contents",
        style="Hyperlink",
        font=Font(name=_b().font, size=9, underline="single", color=_b().primary),
    )
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{_quoted(CONTENTS)}!A1", display="← Contents")
