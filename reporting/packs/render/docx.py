"""Word renderer: a Pack tree -> a .docx built on the corporate template's styles (found by name).

    render(pack, path) -> path

What the document holds, and why:
- every style comes from the template (`pack.office["docx"]`, else templates/office/paper.docx) and is
  checked up front (`require_styles`), so a corporate template lacking one fails with a ConfigError
  naming the file and the style rather than silently falling back to Word's defaults;
- a cover page (Title, Subtitle, date, audience, owner, classification, provenance, the pack's notes),
  then a TOC field that Word refreshes on open (and the PDF path refreshes in LibreOffice);
- real Heading 1-3 styles: each Section's title is a Heading 1 (unless the section opens with a cover,
  contents or its own level-1 heading), and Heading blocks keep their level;
- charts are native, editable Word charts (the PowerPoint chart part and its embedded workbook, see
  charts/native_docx.py) where the spec has a native form and the block does not say `native: false`,
  else the block's rendered PNG; either way as wide as the text, with alt text (wp:docPr descr), and a
  numbered "Figure N" caption (a SEQ field) below; tables get a "Table N" caption above;
- MDC icons are written as their letter/arrow AND label ("H↑ Special cause improvement (high)"), with a
  coloured dot that only decorates, so meaning never rests on colour; RAG cells likewise carry R/A/G;
- data tables repeat their header row on every page and never split a row; a `wide` table gets its own
  landscape section (its headings move with it) and the document returns to portrait afterwards;
- suppressed cells show "*" and the table carries the suppression footnote;
- the header shows the classification and the footer `pack.footer` plus "Page X of Y" (fields);
- core properties (title, author, subject, language en-GB) and fixed timestamps, and the zip is rewritten
  with fixed entry dates, so the same Pack gives byte-identical files.

One function per block type, dispatched on the block class (`functools.singledispatch`), named in parallel
with the other renderers: _cover, _contents, _heading, _text, _summary_table, _chart, _data_table,
_commentary, _page_break. A block this module cannot show raises rather than being dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting.errors import ReportingError
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, RAG, RAG_NOTE, VARIATION
from reporting.office_package import save
from reporting.packs import _docx_xml as X
from reporting.packs.office_templates import DEFAULT_DOCX, REQUIRED_STYLES, open_document, require_styles
from reporting.packs.render._brand import NON_TEXT_CONTRAST, readable
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
    Section,
    SummaryRow,
    SummaryTable,
    Text,
)

if TYPE_CHECKING:
    from docx.document import Document
    from docx.section import Section as DocxSection
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

__all__ = ["REQUIRED_STYLES", "render"]


TABLE_STYLE = "NHS Table"
FALLBACK_SUPPRESSED_NOTE = "* Suppressed by disclosure control: too few events to publish safely."
NOTE_SIZE_PT = 9
MAX_CHART_HEIGHT = 0.55  # of the text height: two charts and their captions fit one portrait page
COMMENTARY_KEEP_TOGETHER = 12  # paragraphs; longer commentary may break across pages
BULLET = re.compile(r"^(?:•|-)\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RIGHT_ALIGNED = {"number", "percent", "count"}


@dataclass
class _Context:
    """What the block functions share: the document, the pack, and where the page/section stands."""

    document: Document
    pack: Pack
    template: Path
    landscape: bool = False
    pending_break: bool = False  # start the next paragraph on a new page
    page_empty: bool = True  # nothing on the current page yet (a break now would leave a blank page)
    own_header: tuple[Any, ...] = ()  # the template's own header/footer paragraphs, kept in every section
    own_footer: tuple[Any, ...] = ()
    charts: Any = None  # charts.native_docx.WordCharts, made on the first native chart

    # -- paragraphs ---------------------------------------------------------------------------------
    def claim(self, paragraph: Paragraph) -> Paragraph:
        """Mark `paragraph` as new content: it takes any pending page break."""
        if self.pending_break:
            paragraph.paragraph_format.page_break_before = True
            self.pending_break = False
        self.page_empty = False
        return paragraph

    def paragraph(self, text: str = "", style: str = "Normal") -> Paragraph:
        paragraph = self.document.add_paragraph(style=style)
        if text:
            paragraph.add_run(_clean(text))
        return self.claim(paragraph)

    def note(self, text: str) -> Paragraph:
        """A small-print paragraph (footnotes under tables, provenance)."""
        from docx.shared import Pt

        paragraph = self.paragraph(style="Normal")
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(_clean(text))
        run.font.size = Pt(NOTE_SIZE_PT)
        return paragraph

    def page_break(self) -> None:
        if not self.page_empty:
            self.pending_break = True

    def before_table(self) -> None:
        """Tables cannot carry page_break_before; give a pending break its own (empty) paragraph."""
        if self.pending_break:
            self.paragraph()

    # -- geometry -----------------------------------------------------------------------------------
    @property
    def text_width(self) -> int:
        section = self.document.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    @property
    def text_height(self) -> int:
        section = self.document.sections[-1]
        return section.page_height - section.top_margin - section.bottom_margin

    def orient(self, landscape: bool) -> None:
        """Start a new section when the orientation changes (a section break also starts a new page);
        before anything is written, turn the first section itself rather than leave an empty page."""
        from docx.enum.section import WD_ORIENT

        if landscape == self.landscape:
            return
        if len(self.document.element.body) == 1:  # only the final w:sectPr: nothing written yet
            section = self.document.sections[-1]
            section.page_width, section.page_height = section.page_height, section.page_width
            section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        elif landscape:
            section = X.add_landscape_section(self.document)
            _shrink_section_break(self.document)
        else:
            section = X.add_portrait_section(self.document)
            _shrink_section_break(self.document)
        self.header_footer(section)
        self.landscape = landscape
        self.pending_break, self.page_empty = False, True

    def header_footer(self, section: DocxSection) -> None:
        X.set_header_footer(
            section,
            _clean(self.pack.classification),
            _clean(self.pack.footer),
            keep_header=self.own_header,
            keep_footer=self.own_footer,
        )


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
    covered = False
    for block, landscape in _plan(pack.sections):
        if not isinstance(block, PageBreak):
            ctx.orient(landscape)
        _block(block, ctx)
        covered = covered or isinstance(block, Cover)
    if not covered and pack.footnotes:  # no cover to carry them: they close the last page
        ctx.pending_break = False
        for note in pack.footnotes:
            ctx.note(note)
    return save(document, Path(path), document_properties(pack))


# --- the plan: sections flattened into blocks, with landscape runs marked ------------------------------


def _plan(sections: Sequence[Section]) -> list[tuple[Block, bool]]:
    """(block, on landscape pages?) in order, each Section's title as a Heading 1 unless the section opens
    with a cover, contents or its own level-1 heading; an appendix section starts on a new page.

    A wide table is on landscape pages together with the headings (and page breaks) that lead into it,
    so a heading is never stranded at the foot of the portrait page before.
    """
    flat: list[Block] = []
    for section in sections:
        blocks = list(section.blocks)
        opens_itself = bool(blocks) and (
            isinstance(blocks[0], (Cover, Contents)) or (isinstance(blocks[0], Heading) and blocks[0].level == 1)
        )
        if section.appendix and flat:
            flat.append(PageBreak())
        if section.title and not opens_itself:
            flat.append(Heading(section.title, 1))
        flat.extend(blocks)
    wide = [False] * len(flat)
    for index in range(len(flat) - 1, -1, -1):
        block = flat[index]
        if isinstance(block, DataTable):
            wide[index] = block.wide
        elif isinstance(block, (Heading, PageBreak)) and index + 1 < len(flat):
            wide[index] = wide[index + 1]
    return list(zip(flat, wide, strict=True))


# --- blocks --------------------------------------------------------------------------------------------


@singledispatch
def _block(block: object, ctx: _Context) -> None:
    raise no_rule("Word", block)


@_block.register
def _cover(block: Cover, ctx: _Context) -> None:
    from docx.shared import Cm, Pt

    pack = ctx.pack
    ctx.page_break()  # a cover is a page of its own, even when a template puts it after other blocks
    title = ctx.paragraph(block.title or pack.title, "Title")
    title.paragraph_format.space_before = Cm(4)
    ctx.paragraph(block.subtitle or pack.subtitle, "Subtitle")
    details = (
        ("Date", block.date_label),
        ("For", block.audience or pack.audience),
        ("Report owner", block.owner or pack.owner),
        ("Version", pack.version),
        ("Classification", block.classification or pack.classification),
    )
    for label, value in details:
        if value:
            paragraph = ctx.paragraph()
            paragraph.paragraph_format.space_after = Pt(4)
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(_clean(value))
    provenance = pack.provenance
    spacer = ctx.paragraph()
    spacer.paragraph_format.space_before = Cm(3)
    ctx.note(
        f"Built from data snapshot {provenance.snapshot_hash[:12]} with template {provenance.template_path} "
        f"({provenance.template_hash[:12]}), reporting {provenance.package_version}."
    )
    for note in pack.footnotes:
        ctx.note(note)
    ctx.page_break()


@_block.register
def _contents(block: Contents, ctx: _Context) -> None:
    if block.title:
        ctx.paragraph(block.title, "TOC Heading")
    X.add_toc(ctx.paragraph(), levels="1-3", title=None)
    ctx.page_break()


@_block.register
def _heading(block: Heading, ctx: _Context) -> None:
    level = min(max(block.level, 1), 3)
    ctx.paragraph(block.text, f"Heading {level}")


@_block.register
def _text(block: Text, ctx: _Context) -> None:
    from docx.shared import Pt, RGBColor

    for text in block.paragraphs:
        bullet = BULLET.match(text)
        if bullet:
            paragraph = ctx.paragraph(text[bullet.end() :], "List Bullet")
        else:
            paragraph = ctx.paragraph(text)
        for run in paragraph.runs:
            if block.style == "lead":
                run.font.size = Pt(12)
            elif block.style == "note":
                run.font.size = Pt(NOTE_SIZE_PT)
                run.font.color.rgb = RGBColor(0x42, 0x55, 0x63)


@_block.register
def _summary_table(block: SummaryTable, ctx: _Context) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    _table_caption(ctx, block.title, block.caption)
    headers = ("Metric", "Period", "Latest", "Target", "Variation", "Assurance", "Trend")
    weights = (5.0, 2.1, 1.9, 1.9, 3.0, 3.0, 2.6)
    table = _TableWriter.start(ctx, headers, weights, right_aligned={2, 3})
    suppressed = False
    for row in block.rows:
        cells = table.row()
        metric = cells[0].paragraphs[0]
        metric.add_run(_clean(row.title))
        if row.narrative:
            narrative = cells[0].add_paragraph()
            narrative.paragraph_format.space_before = Pt(2)
            run = narrative.add_run(_clean(row.narrative))
            run.bold, run.font.size = False, Pt(8.5)
        _write(cells[1], row.period_label)
        suppressed |= _value_cell(cells[2], row.latest)
        suppressed |= _value_cell(cells[3], row.target)
        _icon_cell(cells[4], row.variation_icon, VARIATION, ctx)
        _icon_cell(cells[5], row.assurance, ASSURANCE, ctx)
        _sparkline_cell(cells[6], row, ctx)
        for cell in cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        cells[6].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    table.table.rows[0].cells[6].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _footnotes(ctx, block.footnotes, suppressed, rag=False)


@_block.register
def _chart(block: ChartBlock, ctx: _Context) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from reporting.charts.native_pptx import supports_native

    spec = block.spec
    native = block.native and supports_native(spec)
    if not native and block.image is None:
        raise ReportingError(
            f"chart '{spec.title}' has no rendered image: the Word renderer needs "
            "Pack.with_images(...) after the batched chart render"
        )
    paragraph = ctx.paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_with_next = True
    limit = int(ctx.text_height * MAX_CHART_HEIGHT)
    title, description = _clean(spec.title), _clean(spec.alt_text or spec.title)
    if native:  # an editable chart, the same model as PowerPoint's (charts/native_docx.py)
        from reporting.charts.native_docx import WordCharts

        if ctx.charts is None:
            ctx.charts = WordCharts(ctx.document)
        w_px, h_px = spec.size
        width = int(ctx.text_width)
        height = int(width * h_px / w_px)
        if height > limit:
            width, height = int(width * limit / height), limit
        ctx.charts.add(paragraph.add_run(), spec, width, height, title=title, description=description)
    else:
        picture = paragraph.add_run().add_picture(str(block.image), width=ctx.text_width)
        if picture.height > limit:
            picture.width, picture.height = int(picture.width * limit / picture.height), limit
        X.set_picture_alt_text(picture, title, description)
    caption = X.add_caption(ctx.document, "Figure", _clean(block.caption or spec.title))
    # The Caption style keeps with the next paragraph (right for table captions above tables); under a
    # figure that would chain the figure to whatever follows and push whole runs of charts to a new page.
    caption.paragraph_format.keep_with_next = False
    ctx.page_empty = False


@_block.register
def _data_table(block: DataTable, ctx: _Context) -> None:
    _table_caption(ctx, block.title, block.caption)
    right = {i for i, column in enumerate(block.columns) if column.kind in _RIGHT_ALIGNED}
    table = _TableWriter.start(
        ctx, tuple(c.name for c in block.columns), tuple(_width(c) for c in block.columns), right_aligned=right
    )
    suppressed = rag = False
    width = len(block.columns)
    for values in block.rows:
        if len(values) != width:
            raise ReportingError(f"table '{block.title}': a row has {len(values)} cells for {width} columns")
        cells = table.row()
        for cell, value in zip(cells, values, strict=True):
            if value.kind == "icon" and value.icon:
                _icon_cell(cell, value.icon, {**VARIATION, **ASSURANCE}, ctx)
            else:
                suppressed |= _value_cell(cell, value)
            if value.rag and not value.suppressed:
                rag = True
                letter, _, fill, _ = RAG[value.rag]
                cell.paragraphs[0].add_run(f"  {letter}").bold = True
                X.set_cell_shading(cell, fill)
    _footnotes(ctx, block.footnotes, suppressed, rag)


@_block.register
def _commentary(block: Commentary, ctx: _Context) -> None:
    from docx.shared import Cm

    written = [ctx.paragraph(f"Commentary: {block.title}", "Heading 3")]
    for text in _paragraphs(block.commentary):
        written.append(ctx.paragraph(text))
        written[-1].paragraph_format.left_indent = Cm(0.5)
    if block.actions:
        written.append(ctx.paragraph())
        written[-1].paragraph_format.left_indent = Cm(0.5)
        written[-1].add_run("Actions").bold = True
        for text in _paragraphs(block.actions):
            bullet = BULLET.match(text)
            written.append(ctx.paragraph(text[bullet.end() :] if bullet else text, "List Bullet"))
    if block.author:
        written.append(ctx.paragraph())
        written[-1].paragraph_format.left_indent = Cm(0.5)
        written[-1].add_run(f"— {_clean(block.author)}").italic = True
    if len(written) <= COMMENTARY_KEEP_TOGETHER:  # short commentary stays on one page with its heading
        for paragraph in written[:-1]:
            paragraph.paragraph_format.keep_with_next = True


@_block.register
def _page_break(block: PageBreak, ctx: _Context) -> None:
    ctx.page_break()


# --- tables ----------------------------------------------------------------------------------------------


def _table_caption(ctx: _Context, title: str, caption: str) -> None:
    if caption and title and not caption.startswith(title):
        text = f"{title} – {caption}"
    else:
        text = caption or title
    ctx.claim(X.add_caption(ctx.document, "Table", _clean(text)))


def _width(column: Column) -> float:
    return max(column.width, 4.0)


@dataclass
class _TableWriter:
    """A table in the template's table style, its header row repeated and unsplittable, its columns
    sized to the text width; `row()` adds a body row whose cells already have their width and alignment."""

    table: Table
    widths: list[int]
    right_aligned: set[int]

    @classmethod
    def start(
        cls, ctx: _Context, headers: Sequence[str], weights: Sequence[float], *, right_aligned: set[int]
    ) -> _TableWriter:
        ctx.before_table()
        table = ctx.document.add_table(rows=0, cols=len(headers))
        table.style = ctx.document.styles[TABLE_STYLE]
        table.autofit = False
        total = sum(weights)
        widths = [int(ctx.text_width * w / total) for w in weights]
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        writer = cls(table, widths, right_aligned)
        header = writer.row()
        X.repeat_header_row(table.rows[0])
        for cell, text in zip(header, headers, strict=True):
            _write(cell, text)
        ctx.page_empty = False
        return writer

    def row(self) -> list[_Cell]:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        row = self.table.add_row()
        X.prevent_row_split(row)
        cells = row.cells
        for index, cell in enumerate(cells):
            cell.width = self.widths[index]
            if index in self.right_aligned:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return cells


def _write(cell: _Cell, text: str) -> None:
    cell.paragraphs[0].add_run(_clean(text))


def _value_cell(cell: _Cell, value: Cell) -> bool:
    """Write a value ("*" when suppressed); True if it was suppressed."""
    _write(cell, "*" if value.suppressed else value.text)
    return value.suppressed


def _icon_cell(cell: _Cell, code: str | None, icons: dict[str, tuple[str, str, str]], ctx: _Context) -> None:
    """'● H↑ Special cause improvement (high)': the dot is decoration; the letter and label carry meaning."""
    from docx.shared import Pt, RGBColor

    paragraph = cell.paragraphs[0]
    if not code:
        paragraph.add_run(NOT_ASSESSED_CELL)
        return
    letter, colour_name, label = icons.get(code, ("?", "common_cause", code.replace("_", " ")))
    palette = ctx.pack.theme.palette
    colour = readable(getattr(palette, colour_name, palette.common_cause), palette.background, NON_TEXT_CONTRAST)
    dot = paragraph.add_run("● ")
    dot.font.color.rgb = RGBColor.from_string(colour.upper())
    mark = paragraph.add_run(letter)
    mark.bold = True
    paragraph.add_run(" ")
    text = paragraph.add_run(_clean(label))
    text.bold, text.font.size = False, Pt(8.5)


def _sparkline_cell(cell: _Cell, row: SummaryRow, ctx: _Context) -> None:
    from docx.shared import Cm

    if row.sparkline is None:
        cell.paragraphs[0].add_run("–")
        return
    if row.sparkline_image is None:
        raise ReportingError(
            f"sparkline for '{row.title}' has no rendered image: the Word renderer needs "
            "Pack.with_images(...) after the batched chart render"
        )
    width = min(cell.width or Cm(2.4), Cm(2.4)) - Cm(0.3)
    picture = cell.paragraphs[0].add_run().add_picture(str(row.sparkline_image), width=width)
    X.set_picture_alt_text(picture, _clean(row.sparkline.title), _clean(row.sparkline.alt_text or row.title))


def _footnotes(ctx: _Context, footnotes: Sequence[str], suppressed: bool, rag: bool) -> None:
    from docx.shared import Pt

    notes = list(footnotes)
    if suppressed and not any(note.lstrip().startswith("*") for note in notes):
        notes.append(FALLBACK_SUPPRESSED_NOTE)
    if rag:
        notes.append(RAG_NOTE)
    if not notes:
        ctx.paragraph()  # a gap, and keeps two tables from merging
        return
    paragraphs = [ctx.note(note) for note in notes]
    paragraphs[0].paragraph_format.space_before = Pt(4)
    paragraphs[-1].paragraph_format.space_after = Pt(10)


# --- small helpers ---------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Text as given, minus the control characters XML cannot hold (tabs and newlines are kept)."""
    return _CONTROL.sub("", "" if text is None else str(text))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if part.strip()]


def _empty_body(document: Document) -> None:
    """Drop whatever a corporate template has in its body, keeping the final section properties."""
    from docx.oxml.ns import qn

    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _shrink_section_break(document: Document) -> None:
    """The empty paragraph python-docx adds to carry a section break: make it as small as it can be."""
    from docx.shared import Pt

    paragraph = document.paragraphs[-1]
    paragraph.style = document.styles["Normal"]
    paragraph.paragraph_format.space_before = paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(1)
