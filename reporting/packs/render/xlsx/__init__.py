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

Determinism: the same Pack gives the same bytes (reporting.office_package). The build time is the one thing
that differs between two builds of the same data, so it is not in the workbook at all (written into a cell it
would change every rebuild): it is in the pack's manifest.json, and the Contents sheet says so.

The package splits the renderer by job: `cells` (constants and cell writers), `plan` (which block goes on
which sheet, page setup, the render state), `tables` (summary and data tables, their conditional formats),
`blocks` (the one singledispatch function `_block`, a rule per block type, and the writers blocks share) and
`contents` (the Contents sheet). This module puts the workbook together and saves it.
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.charts._xlsx_xml import with_alt_text
from reporting.office_package import save
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import using as _using_brand
from reporting.packs.render._draft import mark_xlsx
from reporting.packs.render._properties import document_properties
from reporting.packs.render.xlsx.blocks import _block, _heading_row, _key_value
from reporting.packs.render.xlsx.cells import _Ctx, _label_colours, _merged_text, _put
from reporting.packs.render.xlsx.plan import _back_link, _page_setup, _plan
from reporting.packs.tree import (
    Block,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    SummaryTable,
)

__all__ = ["render"]


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
    mark_xlsx(wb)
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
            first_row = re.search(r"\d+", table.ref)  # "A5:F20": the table's header row is 5
            header_row = int(first_row.group()) if first_row else 1
            ws.freeze_panes = f"A{header_row + 1}"
            if sheet.print_titles:
                ws.print_title_rows = sheet.print_titles
        _page_setup(ws, ctx.pack)
        ws.sheet_view.zoomScale = 90
