"""Excel renderer: one singledispatch function, `_block`, with a rule per block type, and the writers blocks share."""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from pathlib import Path
from typing import Any

from openpyxl.drawing.fill import Blip
from openpyxl.drawing.geometry import PresetGeometry2D
from openpyxl.drawing.image import Image as XLImage
from openpyxl.drawing.picture import PictureFrame
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, OneCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.styles import Alignment, Font
from openpyxl.utils.units import pixels_to_EMU
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.pagebreak import Break

from reporting.charts.native_pptx import supports_native
from reporting.charts.native_xlsx import add_excel_chart
from reporting.packs.render._brand import current as _b
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render.xlsx.cells import (
    CHART_DATA,
    CHART_WIDTH_PX,
    FIRST_ROW,
    PAGE_HEIGHT_PX,
    PAGE_WIDTH_PX,
    ROW_PX,
    SPARK_WIDTH_PX,
    _Ctx,
    _lines,
    _merged_text,
    _put,
    _quoted,
    _Sheet,
)
from reporting.packs.render.xlsx.tables import TREND, _summary_cells, _table
from reporting.packs.tree import (
    ChartBlock,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    PageBreak,
    SummaryTable,
    Text,
)

# --- the blocks -------------------------------------------------------------------------------------------------


@functools.singledispatch
def _block(block: object, ctx: _Ctx) -> None:
    raise no_rule("Excel", block)


#: cover lines the "Pack details" rows below say already (the board-paper essentials are not among them)
_PACK_DETAILS = {"Cover title", "Cover subtitle", "Period", "For", "Report owner", "Version", "Classification"}


@_block.register
def _cover(block: Cover, ctx: _Ctx) -> None:
    """On the Contents sheet, under the pack title: the cover's labelled lines (the board-paper essentials
    first) that the pack details below do not already say."""
    sheet, pack = ctx.contents, ctx.pack
    said = {pack.title, pack.subtitle, pack.period_label, pack.audience, pack.owner, pack.classification, pack.version}
    for label, value in (("Cover title", block.title), ("Cover subtitle", block.subtitle), *block.details):
        if value and not (value in said and label in _PACK_DETAILS):
            _key_value(sheet, label, value)
    sheet.row += 1


@_block.register
def _contents(block: Contents, ctx: _Ctx) -> None:
    """The hyperlinked list of sheets, on the Contents sheet (written once, where the pack puts it)."""
    if ctx.contents_done:
        return
    ctx.contents_done = True
    sheet = ctx.contents
    ws = sheet.ws
    _heading_row(sheet, block.title, 2)
    for other in ctx.sheets:
        name = other.ws.title
        cell = _put(
            ws,
            sheet.row,
            1,
            name,
            style="Hyperlink",
            font=Font(name=_b().font, size=10, underline="single", color=_b().primary),
        )
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{_quoted(name)}!A1", display=name)
        _put(ws, sheet.row, 2, other.label if other.label != name else "")
        sheet.row += 1
    if ctx.data_ws is not None or _any_native(ctx):
        sheet.row += 1
        _put(
            ws,
            sheet.row,
            1,
            f"The numbers behind each chart are on the hidden sheet '{CHART_DATA}' "
            "(right-click a sheet tab, then Unhide).",
            style="Explanatory Text",
            font=Font(name=_b().font, size=9, italic=True, color=_b().muted),
        )
        sheet.row += 1
    sheet.row += 1


@_block.register
def _heading(block: Heading, ctx: _Ctx) -> None:
    _heading_row(ctx.sheet, block.text, block.level)


@_block.register
def _text(block: Text, ctx: _Ctx) -> None:
    sheet = ctx.sheet
    font = {
        "lead": Font(name=_b().font, size=11, bold=True),
        "note": Font(name=_b().font, size=9, italic=True, color=_b().muted),
    }.get(block.style, Font(name=_b().font, size=10))
    start = sheet.row
    for paragraph in block.paragraphs:
        _merged_text(sheet, paragraph, font)
    sheet.row += 1
    sheet.text_at = sheet.heading_at if _nothing_between(sheet, sheet.heading_at, start) else start
    sheet.text_end = sheet.row


@_block.register
def _summary_table(block: SummaryTable, ctx: _Ctx) -> None:
    columns, rows, layout = _summary_cells(block)
    first_data, _ = _table(
        ctx, block.title, block.caption, columns, rows, block.footnotes, layout=layout, wrap_columns={0, 7}
    )
    sheet = ctx.sheet
    for i, r in enumerate(block.rows):
        row = first_data + i
        if r.sparkline_image is not None and Path(r.sparkline_image).exists():
            alt = r.sparkline.alt_text if r.sparkline is not None else f"Trend of {r.title}"
            col = layout.excel_column(TREND)
            h = _picture(sheet, Path(r.sparkline_image), row, col, SPARK_WIDTH_PX, f"Trend: {r.title}", alt, offset=3)
            sheet.ws.row_dimensions[row].height = max(sheet.ws.row_dimensions[row].height or 15, (h + 8) * 0.75)
        elif r.sparkline is not None:
            warnings.warn(
                f"summary row '{r.metric_id}': no sparkline image; the Excel trend cell is empty "
                "(render the pack's charts first)",
                RuntimeWarning,
                stacklevel=2,
            )


@_block.register
def _chart(block: ChartBlock, ctx: _Ctx) -> None:
    sheet = ctx.sheet
    spec = block.spec
    w_px, h_px = spec.size
    height_px = round(CHART_WIDTH_PX * h_px / w_px)
    # its notes stay under it
    below_px: float = sum(2 * ROW_PX for t in (spec.subtitle, block.caption, block.notes) if t)
    below_px += _notes_after_px(sheet, block)  # and so do the notes that follow it ("1 organisation is not shown")
    lead = sheet.text_at if sheet.text_at is not None and sheet.text_end == sheet.row else None
    room = _keep_together(sheet, height_px + below_px, lead)
    # where even a fresh page leaves too little room (a sheet's first chart, under its narrative), the chart is
    # drawn smaller (to 70%) rather than leave its notes alone on the next page
    scale = min(1.0, max(MIN_CHART_SCALE, (room - below_px) / height_px))
    width_px, height_px = round(CHART_WIDTH_PX * scale), round(height_px * scale)
    top = sheet.row
    if block.native and supports_native(spec):
        # the chart's title is the plain title (a long one wrapped to six lines and took half the chart); the
        # organisation and the method (p′ chart, σz, breaks) are a note under it
        spec = dataclasses.replace(spec, subtitle="", title=_short_title(spec.title))
        data_ws = _chart_data_sheet(ctx)
        _put(data_ws, ctx.data_row, 1, spec.title, font=Font(name=_b().font, size=10, bold=True))
        _put(
            data_ws,
            ctx.data_row,
            2,
            f"(chart on sheet '{sheet.ws.title}', cell A{top})",
            font=Font(name=_b().font, size=9, italic=True, color=_b().muted),
        )
        chart = add_excel_chart(
            data_ws,
            spec,
            f"A{top}",
            data_row=ctx.data_row + 1,
            data_col=1,
            width_cm=width_px / 96 * 2.54,
            height_cm=height_px / 96 * 2.54,
        )
        data_ws._charts.remove(chart)  # the data stays on "Chart data"; the chart goes on the section
        sheet.ws.add_chart(chart, f"A{top}")
        sheet.charts.append(chart.reporting_alt_text)
        n_rows = max(len(s.x) for s in spec.series) if spec.series else 0
        ctx.data_row += n_rows + 3
    elif block.image is not None and Path(block.image).exists():
        height_px = _picture(sheet, Path(block.image), top, 1, width_px, spec.title, spec.alt_text)
    else:
        reason = spec.message or "no image was rendered for it and it has no native Excel form"
        warnings.warn(
            f"chart '{spec.title}': {reason}; the Excel sheet shows its description instead",
            RuntimeWarning,
            stacklevel=2,
        )
        _put(sheet.ws, top, 1, spec.title, font=Font(name=_b().font, size=10, bold=True))
        sheet.row += 1
        _merged_text(sheet, spec.message or spec.alt_text, Font(name=_b().font, size=10))
        height_px = 0
    sheet.row = top + math.ceil(height_px / ROW_PX) + (1 if height_px else 0)
    if block.native and supports_native(block.spec) and block.spec.subtitle:
        _merged_text(sheet, block.spec.subtitle, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    if block.caption:
        _merged_text(sheet, block.caption, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    if block.notes:
        _merged_text(sheet, block.notes, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    sheet.row += 1


def _notes_after_px(sheet: _Sheet, chart: ChartBlock) -> float:
    """The height (px) the note-style text blocks right after `chart` on its sheet take when printed (as
    `_text` writes them: a row per paragraph at 9 pt, then a blank row), so they print on the chart's page."""
    blocks = sheet.blocks
    at = next((i for i, b in enumerate(blocks) if b is chart), len(blocks))
    px = 0.0
    for block in blocks[at + 1 :]:
        if not (isinstance(block, Text) and block.style == "note"):
            break
        lines = (_lines(p, sheet.span_width(1)) for p in block.paragraphs)
        px += sum(max(15.0, n * 9 * 1.45) * 4 / 3 for n in lines) + ROW_PX
    return px


#: an Excel chart title longer than this wraps over the plot
TITLE_CHARS = 70


def _short_title(title: str) -> str:
    """The measure alone where the whole title would wrap ("A&E 4-hour performance: non-specialist acute trusts
    with a type 1 A&E, August 2024 to July 2025"): the peers and the period are in the caption under the chart."""
    head, sep, _ = title.partition(": ")
    return head if sep and len(title) > TITLE_CHARS else title


@_block.register
def _data_table(block: DataTable, ctx: _Ctx) -> None:
    _table(ctx, block.title, block.caption, list(block.columns), [list(r) for r in block.rows], block.footnotes)


@_block.register
def _commentary(block: Commentary, ctx: _Ctx) -> None:
    sheet = ctx.sheet
    _put(
        sheet.ws,
        sheet.row,
        1,
        f"Commentary: {block.title}",
        style="Headline 3",
        font=Font(name=_b().font, size=11, bold=True, color=_b().primary),
    )
    sheet.row += 1
    for label, value in (("Commentary", block.commentary), ("Actions", block.actions), ("Author", block.author)):
        if value:
            _put(sheet.ws, sheet.row, 1, label, font=Font(name=_b().font, size=10, bold=True), align="left")
            sheet.ws.cell(row=sheet.row, column=1).alignment = Alignment(vertical="top")
            _merged_text(sheet, value, Font(name=_b().font, size=10), first_col=2)
    sheet.row += 1


@_block.register
def _page_break(block: PageBreak, ctx: _Ctx) -> None:
    _break_before(ctx.sheet)


def _break_before(sheet: _Sheet, row: int | None = None) -> None:
    row = row or sheet.row
    if row > sheet.page_start:
        sheet.ws.row_breaks.append(Break(id=row - 1))
        sheet.page_start = row


def _nothing_between(sheet: _Sheet, above: int | None, row: int) -> bool:
    return above is not None and all(sheet.ws.cell(row=r, column=1).value is None for r in range(above + 1, row))


#: the smallest a chart is drawn to keep it on one printed page with its notes
MIN_CHART_SCALE = 0.7


def _keep_together(sheet: _Sheet, height_px: float, lead: int | None = None) -> float:
    """Start a new printed page before a chart that would otherwise be cut in two by the page's end, with the
    heading right above it or `lead` (the first row of its narrative and heading), so neither is left behind.
    Returns the room (px) left on the page for the chart.

    Pages are fitted to width, so a page holds more sheet rows the wider the sheet is; this is an estimate
    (A4 landscape, half-inch margins, room for header and footer), erring towards an early break.
    """
    content_px = (
        sum(sheet.widths[i - 1] if i <= len(sheet.widths) else 14.0 for i in range(1, sheet.text_columns + 1)) * 7 + 10
    )
    page_px = PAGE_HEIGHT_PX / min(1.0, PAGE_WIDTH_PX / content_px)
    used = sum((sheet.ws.row_dimensions[r].height or 15) * 4 / 3 for r in range(sheet.page_start, sheet.row))
    if page_px - used >= MIN_CHART_SCALE * height_px:
        return page_px - used  # it fits here, drawn a little smaller if need be: no page of a few lines
    at = lead if lead is not None else sheet.heading_at
    keep = lead is not None or _nothing_between(sheet, at, sheet.row)
    first = at if keep and at is not None else sheet.row
    if used > 0 and used + height_px > page_px and first > max(sheet.page_start, FIRST_ROW):
        _break_before(sheet, first)  # (never a page of the link back to Contents alone)
        used = sum((sheet.ws.row_dimensions[r].height or 15) * 4 / 3 for r in range(first, sheet.row))
    return page_px - used


# --- shared writers ---------------------------------------------------------------------------------------------


def _heading_row(sheet: _Sheet, text: str, level: int) -> None:
    level = min(max(level, 1), 3)
    size = {1: 15, 2: 13, 3: 11}[level]
    _put(
        sheet.ws,
        sheet.row,
        1,
        text,
        style=f"Headline {level}",
        font=Font(name=_b().font, size=size, bold=True, color=_b().primary if level < 3 else _b().text),
    )
    sheet.ws.row_dimensions[sheet.row].height = size * 1.6
    sheet.heading_at = sheet.row
    sheet.row += 2 if level == 1 else 1


def _key_value(sheet: _Sheet, label: str, value: str, *, mono: bool = False) -> None:
    _put(sheet.ws, sheet.row, 1, label, font=Font(name=_b().font, size=10, bold=True), top=True)
    _put(sheet.ws, sheet.row, 2, value, font=Font(name="Courier New" if mono else _b().font, size=10), wrap=True)
    sheet.row += 1


def _picture(
    sheet: _Sheet, path: Path, row: int, col: int, width_px: int, title: str, descr: str, offset: int = 0
) -> int:
    """Insert a PNG at (row, col), `width_px` wide, with alt text set on its own frame; returns its height."""
    img = XLImage(str(path))
    height_px: int = round(width_px * img.height / img.width)
    img.width, img.height = width_px, height_px
    sheet.pictures += 1
    pic = PictureFrame()
    nv = pic.nvPicPr.cNvPr
    nv.id, nv.name, nv.title, nv.descr = 1000 + sheet.pictures, f"Picture {sheet.pictures}", title, descr
    pic.blipFill.blip = Blip()
    pic.spPr.prstGeom = PresetGeometry2D(prst="rect")
    pic.spPr.ln = None
    anchor = OneCellAnchor(
        _from=AnchorMarker(col=col - 1, colOff=pixels_to_EMU(offset), row=row - 1, rowOff=pixels_to_EMU(offset)),
        ext=XDRPositiveSize2D(pixels_to_EMU(width_px), pixels_to_EMU(height_px)),
    )
    anchor.pic = pic
    img.anchor = anchor
    sheet.ws.add_image(img)
    return height_px


def _chart_data_sheet(ctx: _Ctx) -> Any:
    if ctx.data_ws is None:
        ctx.data_ws = ctx.wb.create_sheet(CHART_DATA)
        ctx.data_ws.sheet_state = "hidden"
        _put(
            ctx.data_ws,
            1,
            1,
            "The data behind each native chart in this workbook. Edit a value here and the chart follows.",
            font=Font(name=_b().font, size=9, italic=True, color=_b().muted),
        )
        ctx.data_ws.column_dimensions["A"].width = 24
        ctx.data_row = 3
    return ctx.data_ws


def _any_native(ctx: _Ctx) -> bool:
    return any(isinstance(b, ChartBlock) and b.native and supports_native(b.spec) for s in ctx.sheets for b in s.blocks)
