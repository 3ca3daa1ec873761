"""Word renderer: a Pack tree -> a .docx built on the corporate template's styles (found by name).

    render(pack, path) -> path

What the document holds, and why:
- every style comes from the template (`pack.office["docx"]`, else templates/office/paper.docx) and is
  checked up front (`require_styles`), so a corporate template lacking one fails with a ConfigError
  naming the file and the style rather than silently falling back to Word's defaults;
- a cover page (Title, Subtitle, then the cover's labelled lines: the board-paper essentials, period,
  audience, owner, version, classification; provenance is the About block's, at the end), then a TOC field;
  render leaves its placeholder and Word's update-on-open request, and the build then fills it with the
  headings and the pages LibreOffice lays them on and drops the request (`contents`);
- real Heading 1-3 styles: each Section's title is a Heading 1 (unless the section opens with a cover,
  contents or its own level-1 heading), and Heading blocks keep their level;
- charts are native, editable Word charts (the PowerPoint chart part and its embedded workbook, see
  charts/native_docx.py) where the spec has a native form and the block does not say `native: false`,
  else the block's rendered PNG; either way as wide as the text, with alt text (wp:docPr descr), and a
  numbered "Figure N" caption (a SEQ field) below; tables get a "Table N" caption above;
- MDC icons are written as their letter/arrow AND label ("H↑ Special cause improvement (high)"), with a
  coloured dot that only decorates, so meaning never rests on colour; RAG cells likewise carry R/A/G;
- data tables repeat their header row on every page and never split a row; a `wide` table gets its own
  landscape section (its headings move with it) and the document returns to portrait afterwards; the text
  right under a table (its notes: who is not shown, who is not ranked) is kept on a page with the table's
  last rows (`keep_with_table`), never alone on a page;
- suppressed cells show "*" and the table carries the suppression footnote;
- the header shows the classification and the footer `pack.footer` plus "Page X of Y" (fields);
- core properties from the one policy (render/_properties.py), saved through reporting.office_package (fixed
  times and zip entry dates), so the same Pack gives byte-identical files.

One function per block type, dispatched on the block class (`functools.singledispatch`), named in parallel
with the other renderers: _cover, _contents, _heading, _text, _summary_table, _chart, _data_table,
_commentary, _page_break. A block this module cannot show raises rather than being dropped.

The package splits the renderer by job: `document` (`_Context`: page setup, headers and footers, landscape
sections; the plan; small helpers), `blocks` (the singledispatch `_block` and its rules), `tables` (table
writing, icon and sparkline cells, footnotes), `contents` (the TOC filled after the PDF is made); this module
opens the template, builds and saves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reporting.office_package import save
from reporting.packs import _docx_xml as X
from reporting.packs.office_templates import DEFAULT_DOCX, REQUIRED_STYLES, open_document, require_styles
from reporting.packs.render._draft import mark_docx
from reporting.packs.render._properties import document_properties
from reporting.packs.render.docx.blocks import _block
from reporting.packs.render.docx.document import _Context, _empty_body, _plan
from reporting.packs.render.docx.tables import keep_with_table
from reporting.packs.tree import (
    DataTable,
    Pack,
    PageBreak,
    SummaryTable,
    Text,
)

if TYPE_CHECKING:
    pass

__all__ = ["REQUIRED_STYLES", "render"]


def render(pack: Pack, path: Path) -> Path:
    """Write `pack` as a Word document at `path` (parents created) and return `path`."""
    template = Path(pack.office.get("docx") or DEFAULT_DOCX)
    document = open_document(template)
    require_styles(document, REQUIRED_STYLES, template_path=template)
    _empty_body(document)
    first = document.sections[0]
    ctx = _Context(
        document,
        pack,
        template,
        landscape=bool(first.page_width and first.page_height and first.page_width > first.page_height),
    )
    ctx.own_header, ctx.own_footer = X.own_paragraphs(first.header), X.own_paragraphs(first.footer)
    X.set_default_language(document, "en-GB")
    ctx.header_footer(first)
    body = document.element.body
    table_at: int | None = None  # where the last table starts in the body, while only its notes follow it
    turned = False
    for block, landscape in _plan(pack.sections):
        if not isinstance(block, PageBreak):
            turned = landscape != ctx.landscape
            ctx.orient(landscape)
        before = len(body) - 1  # the body ends with its section properties
        _block(block, ctx)
        if isinstance(block, DataTable | SummaryTable):
            table_at = before
        elif isinstance(block, Text) and table_at is not None and not turned:
            keep_with_table(list(body)[table_at:-1])
        else:
            table_at = None
    if pack.footnotes:  # they close the last page (a cover carries only the paper's essentials)
        ctx.pending_break = False
        for note in pack.footnotes:
            ctx.note(note)
    mark_docx(document)
    return save(document, Path(path), document_properties(pack))
