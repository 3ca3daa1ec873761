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
    ChartBlock,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    SummaryTable,
    Text,
)

# --- planning: which block goes on which sheet -------------------------------------------------------------------


def _table_widths(block: Block) -> list[float]:
    """Column widths of a table block, column by column as the sheet shows it (tables.`_layout`)."""
    if isinstance(block, (SummaryTable, DataTable)):
        return _layout_widths(*_table_layout(block))
    return []


def _own_sheet(block: Block | None) -> bool:
    return isinstance(block, DataTable) and bool(block.sheet_name)


def _narrative_first(blocks: list[Block]) -> list[Block]:
    """A chart's narrative (the body text right after it) above the chart, as in the deck: printed, the sentence
    then heads its chart instead of falling alone onto the next page."""
    out = list(blocks)
    i = 0
    while i < len(out) - 1:
        chart, text = out[i], out[i + 1]
        if isinstance(chart, ChartBlock) and isinstance(text, Text) and text.style == "body":
            out[i], out[i + 1] = out[i + 1], out[i]
            i += 2
        else:
            i += 1
    return out


def _plan(pack: Pack, wb: Any) -> tuple[_Sheet, list[_Sheet], list[Block]]:
    contents = _Sheet(wb.active, CONTENTS, [24.0, 80.0], min_columns=2)  # portrait A4 at about 95%
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
        pending: list[Block] = []  # headings not yet placed: they go where what follows them goes
        blocks = _narrative_first(list(section.blocks))
        for i, block in enumerate(blocks):
            if isinstance(block, (Cover, Contents)):
                front.append(block)
                continue
            if isinstance(block, PageBreak) and ("section", n) not in by_key:
                continue  # a page break before anything is on the section's sheet means nothing in Excel
            if isinstance(block, Heading):
                pending.append(block)
                continue
            if isinstance(block, DataTable) and block.sheet_name:
                target = sheet_for(("sheet", block.sheet_name.lower()), block.sheet_name, block.title)
                run = 1  # the tables in a row under the pending headings that go to sheets of their own
                while run + i < len(blocks) and _own_sheet(blocks[i + run]):
                    run += 1
                if run == 1:
                    target.blocks += pending  # "Definitions" goes with the definitions to their sheet
                pending = []  # over several sheets ("Data"): the contents list says it; no bare heading
            else:
                target = sheet_for(("section", n), section.title, section.title)
                target.blocks += pending
                pending = []
            target.blocks.append(block)
        if pending:  # a heading with nothing under it still shows
            sheet_for(("section", n), section.title, section.title).blocks.extend(pending)
    for sheet in sheets:
        for block in sheet.blocks:
            for i, w in enumerate(_table_widths(block)):
                if i < len(sheet.widths):
                    sheet.widths[i] = max(sheet.widths[i], w)
                else:
                    sheet.widths.append(w)
        if not sheet.widths:
            sheet.widths = [14.0] * MIN_TEXT_COLUMNS
        elif not any(isinstance(b, ChartBlock) for b in sheet.blocks):
            sheet.min_columns = 1
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
