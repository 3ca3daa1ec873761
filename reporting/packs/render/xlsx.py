"""Pack -> Excel workbook (openpyxl), one function per block type, as in the other renderers.

Layout
    "Contents"    always first: pack title and details, provenance (snapshot hash, template and its hash,
                  build time, package version, sources, parameters), then a hyperlinked list of the other
                  sheets. Cover and Contents blocks render here, wherever they sit in the pack.
    one sheet per section (or per `DataTable.sheet_name`), blocks top to bottom from row 3; row 1 links
                  back to Contents. Names are sanitised for Excel: at most 31 characters, none of []:*?/\\,
                  no leading/trailing apostrophe, unique ignoring case.
    "Chart data"  last and hidden: the numbers behind every native chart, one labelled block per chart,
                  stacked top to bottom. Keeping them off the section sheets keeps those sheets (and their
                  printed PDF) readable; an analyst unhides the sheet to edit a chart's data.

Tables (summary and data) are real Excel tables (own style, header row, autofilter), with number formats,
column widths from `Column.width`, a "<column> status" text column beside any column that carries RAG
(conditional formatting colours both, the text carries the meaning), icon cells written as letter/arrow +
label with conditional formatting on the label, and suppressed cells written as "*" with a cell note and the
table's footnote below. A sheet whose only table is its last block freezes that table's header.

Safety: every text cell is stored as a string (`data_type = "s"`), so text from data that starts with
= + - @ can never become a formula.

Determinism: the same Pack gives the same bytes (fixed zip entry times). The build time is the one thing
that differs between two builds of the same data, so it lives only in the workbook's Created/Modified
properties (File > Info), which manifest content hashes leave out, and the Contents sheet says so; written into
a cell it would change the content hash of every rebuild.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.drawing.fill import Blip
from openpyxl.drawing.geometry import PresetGeometry2D
from openpyxl.drawing.image import Image as XLImage
from openpyxl.drawing.picture import PictureFrame
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, OneCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.units import pixels_to_EMU
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table, TableStyleInfo

from reporting.cells import text_cell
from reporting.charts._xlsx_xml import with_alt_text
from reporting.charts.native_pptx import supports_native
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.theme import Palette
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, POINT_TYPE_LABELS, RAG, VARIATION
from reporting.office_package import save
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import readable
from reporting.packs.render._brand import using as _using_brand
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render._properties import document_properties
from reporting.packs.tree import (
    Block,
    Cell,
    ChartBlock,
    Column,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    SummaryTable,
    Text,
)

__all__ = ["render"]

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
PAGE_HEIGHT_PX = 620  # ... less the header and footer
MAX_CELL_TEXT = 32767
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
NUMBER_FORMATS = {"percent": "0.0%", "count": "#,##0", "number": "#,##0.0", "date": "d mmm yyyy"}


# --- small helpers --------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_TEXT]


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
    if code in VARIATION:
        return f"{VARIATION[code][0]} {VARIATION[code][2]}"
    if code in ASSURANCE:
        return f"{ASSURANCE[code][0]} {ASSURANCE[code][2]}"
    return ""


def _label_colours(palette: Palette) -> dict[str, list[str]]:
    """palette colour -> the icon and point-type labels conditional formatting colours with it."""
    out: dict[str, list[str]] = {}
    for letter_colour_label in (*VARIATION.values(), *ASSURANCE.values()):
        _, name, label = letter_colour_label
        out.setdefault(getattr(palette, name), []).append(label)
    for code, label in POINT_TYPE_LABELS.items():
        out.setdefault(palette.point(code), []).append(label)
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
    seen: set[str] = set()
    out = []
    for name in names:
        base = re.sub(r"\s+", " ", name).strip() or "Column"
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

    @property
    def text_columns(self) -> int:
        return max(MIN_TEXT_COLUMNS, len(self.widths))

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


# --- planning: which block goes on which sheet -------------------------------------------------------------------


def _table_widths(block: Block) -> list[float]:
    if isinstance(block, SummaryTable):
        return [w for _, w, _ in _summary_columns(block)]
    if isinstance(block, DataTable):
        out = []
        for i, col in enumerate(block.columns):
            out.append(col.width)
            if _has_rag(block, i):
                out.append(_status_width(col.name))
        return out
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


# --- the blocks -------------------------------------------------------------------------------------------------


@functools.singledispatch
def _block(block: object, ctx: _Ctx) -> None:
    raise no_rule("Excel", block)


@_block.register
def _cover(block: Cover, ctx: _Ctx) -> None:
    """On the Contents sheet, under the pack title: what the cover says that the pack details do not."""
    sheet, pack = ctx.contents, ctx.pack
    said = {pack.title, pack.subtitle, pack.period_label, pack.audience, pack.owner, pack.classification}
    for label, value in (
        ("Cover title", block.title),
        ("Cover subtitle", block.subtitle),
        ("Date", block.date_label),
        ("Prepared for", block.audience),
        ("Presented by", block.owner),
        ("Classification", block.classification),
    ):
        if value and (label == "Date" or value not in said):
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
    for paragraph in block.paragraphs:
        _merged_text(sheet, paragraph, font)
    sheet.row += 1


@_block.register
def _summary_table(block: SummaryTable, ctx: _Ctx) -> None:
    columns = _summary_columns(block)
    rows = []
    for r in block.rows:
        rows.append(
            [
                Cell(r.title, r.title),
                Cell(r.period_label, r.period_label),
                r.latest,
                r.target,
                Cell(
                    _icon_text(r.variation_icon) or NOT_ASSESSED_CELL,
                    _icon_text(r.variation_icon) or NOT_ASSESSED_CELL,
                    "icon",
                    icon=r.variation_icon,
                ),
                Cell(
                    _icon_text(r.assurance) or NOT_ASSESSED_CELL,
                    _icon_text(r.assurance) or NOT_ASSESSED_CELL,
                    "icon",
                    icon=r.assurance,
                ),
                Cell("" if (r.sparkline_image or r.sparkline) else "–", ""),
                Cell(r.narrative, r.narrative),
            ]
        )
    specs = [Column(name, kind, "General", width) for name, width, kind in columns]
    first_data = _table(ctx, block.title, block.caption, specs, rows, block.footnotes, wrap_columns={0, 7})
    sheet = ctx.sheet
    for i, r in enumerate(block.rows):
        row = first_data + i
        if r.sparkline_image is not None and Path(r.sparkline_image).exists():
            alt = r.sparkline.alt_text if r.sparkline is not None else f"Trend of {r.title}"
            h = _picture(sheet, Path(r.sparkline_image), row, 7, SPARK_WIDTH_PX, f"Trend: {r.title}", alt, offset=3)
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
    _keep_together(sheet, height_px)
    top = sheet.row
    if block.native and supports_native(spec):
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
            width_cm=CHART_WIDTH_PX / 96 * 2.54,
            height_cm=height_px / 96 * 2.54,
        )
        data_ws._charts.remove(chart)  # the data stays on "Chart data"; the chart goes on the section
        sheet.ws.add_chart(chart, f"A{top}")
        sheet.charts.append(chart.reporting_alt_text)
        n_rows = max(len(s.x) for s in spec.series) if spec.series else 0
        ctx.data_row += n_rows + 3
    elif block.image is not None and Path(block.image).exists():
        height_px = _picture(sheet, Path(block.image), top, 1, CHART_WIDTH_PX, spec.title, spec.alt_text)
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
    if block.caption:
        _merged_text(sheet, block.caption, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    if block.notes:
        _merged_text(sheet, block.notes, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    sheet.row += 1


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


def _keep_together(sheet: _Sheet, height_px: float) -> None:
    """Start a new printed page before a chart that would otherwise be cut in two by the page's end.

    Pages are fitted to width, so a page holds more sheet rows the wider the sheet is; this is an estimate
    (A4 landscape, half-inch margins, room for header and footer), erring towards an early break.
    """
    content_px = (
        sum(sheet.widths[i - 1] if i <= len(sheet.widths) else 14.0 for i in range(1, sheet.text_columns + 1)) * 7 + 10
    )
    page_px = PAGE_HEIGHT_PX / min(1.0, PAGE_WIDTH_PX / content_px)
    used = sum((sheet.ws.row_dimensions[r].height or 15) * 4 / 3 for r in range(sheet.page_start, sheet.row))
    if used > 0 and used + height_px > page_px:
        at = sheet.heading_at
        keep = at is not None and all(sheet.ws.cell(row=r, column=1).value is None for r in range(at + 1, sheet.row))
        _break_before(sheet, at if keep else None)


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


def _merged_text(sheet: _Sheet, text: str, font: Font, *, first_col: int = 1) -> None:
    ws, row = sheet.ws, sheet.row
    last = sheet.text_columns
    _put(ws, row, first_col, text, font=font, wrap=True)
    if last > first_col:
        ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last)
    lines = _lines(text, sheet.span_width(first_col))
    ws.row_dimensions[row].height = max(15.0, lines * (font.sz or 10) * 1.45)
    sheet.row += 1


def _key_value(sheet: _Sheet, label: str, value: str, *, mono: bool = False) -> None:
    _put(sheet.ws, sheet.row, 1, label, font=Font(name=_b().font, size=10, bold=True), top=True)
    _put(sheet.ws, sheet.row, 2, value, font=Font(name="Courier New" if mono else _b().font, size=10), wrap=True)
    sheet.row += 1


def _picture(
    sheet: _Sheet, path: Path, row: int, col: int, width_px: int, title: str, descr: str, offset: int = 0
) -> int:
    """Insert a PNG at (row, col), `width_px` wide, with alt text set on its own frame; returns its height."""
    img = XLImage(str(path))
    height_px = round(width_px * img.height / img.width)
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


# --- the Contents sheet and the workbook --------------------------------------------------------------------------


def _contents_header(ctx: _Ctx, front: list[Block]) -> None:
    pack, sheet = ctx.pack, ctx.contents
    ws = sheet.ws
    _put(ws, 1, 1, pack.title, style="Title", font=Font(name=_b().font, size=18, bold=True, color=_b().primary))
    ws.row_dimensions[1].height = 30
    sheet.row = 2
    if pack.subtitle:
        _put(ws, 2, 1, pack.subtitle, font=Font(name=_b().font, size=12, color=_b().muted))
        sheet.row = 3
    sheet.row += 1
    for block in front:
        if isinstance(block, Cover):
            _block(block, ctx)
    _heading_row(sheet, "Pack details", 2)
    org = " ".join(p for p in (pack.org_name or "", f"({pack.org_code})" if pack.org_code else "") if p)
    for label, value in (
        ("Period", pack.period_label),
        ("Organisation", org),
        ("Classification", pack.classification),
        ("Audience", pack.audience),
        ("Owner", pack.owner),
        ("Version", pack.version),
    ):
        if value:
            _key_value(sheet, label, value)
    sheet.row += 1
    prov = pack.provenance
    _heading_row(sheet, "Provenance", 2)
    _key_value(sheet, "Snapshot hash", prov.snapshot_hash, mono=True)
    _key_value(sheet, "Template", prov.template_path)
    _key_value(sheet, "Template hash", prov.template_hash, mono=True)
    _key_value(sheet, "Built at", "In the pack's manifest.json (File > Info > Created is the period it reports on)")
    _key_value(sheet, "Package version", prov.package_version)
    for i, source in enumerate(prov.sources):
        _key_value(sheet, "Sources" if i == 0 else "", source)
    for i, (key, value) in enumerate(sorted(prov.parameters.items())):
        _key_value(sheet, "Parameters" if i == 0 else "", f"{key} = {value}")
    sheet.row += 1


def render(pack: Pack, path: Path) -> Path:
    """Write the pack as an .xlsx workbook at `path`, in the colours and font of the pack's theme."""
    with _using_brand(pack.theme):
        return _render(pack, path)


def _render(pack: Pack, path: Path) -> Path:
    """Write the pack as an .xlsx workbook at `path` (written beside it, then moved into place)."""
    path = Path(path)
    wb = Workbook()
    contents, sheets, front = _plan(pack, wb)
    ctx = _Ctx(wb, pack, contents, sheets, contents, _label_colours(pack.theme.palette))
    _contents_header(ctx, front)
    for block in front:
        if isinstance(block, Contents):
            _block(block, ctx)
    if not ctx.contents_done:
        _block(Contents(), ctx)
    for note in pack.footnotes:
        _merged_text(contents, note, Font(name=_b().font, size=9, italic=True, color=_b().muted))
    for sheet in sheets:
        ctx.sheet = sheet
        _back_link(sheet)
        for block in sheet.blocks:
            _block(block, ctx)
    _finish_sheets(ctx)
    wb.active = 0
    alt = {s.ws.title: s.charts for s in sheets if s.charts}
    return save(wb, path, document_properties(pack), rewrite=(lambda data: with_alt_text(data, alt)) if alt else None)


def _finish_sheets(ctx: _Ctx) -> None:
    contents = ctx.contents
    ws = contents.ws
    for i, w in enumerate(contents.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.sheet_view.showGridLines = False
    _page_setup(ws, ctx.pack, landscape=False)
    for sheet in ctx.sheets:
        ws = sheet.ws
        for i in range(1, sheet.text_columns + 1):
            ws.column_dimensions[get_column_letter(i)].width = sheet.widths[i - 1] if i <= len(sheet.widths) else 14.0
        tables = [b for b in sheet.blocks if isinstance(b, (DataTable, SummaryTable))]
        substantive = [b for b in sheet.blocks if not isinstance(b, (Heading, PageBreak))]
        if len(tables) == 1 and substantive and substantive[-1] is tables[0] and ws.tables:
            table = next(iter(ws.tables.values()))
            header_row = int(re.search(r"\d+", table.ref).group())
            ws.freeze_panes = f"A{header_row + 1}"
            if sheet.print_titles:
                ws.print_title_rows = sheet.print_titles
        _page_setup(ws, ctx.pack)
        ws.sheet_view.zoomScale = 90
