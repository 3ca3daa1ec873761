"""Word renderer: one singledispatch function, `_block`, with a rule per block type."""

from __future__ import annotations

from functools import singledispatch
from typing import TYPE_CHECKING

from reporting.errors import ReportingError
from reporting.mdc import ASSURANCE, RAG, VARIATION, VARIATION_SHORT, icon, icon_text
from reporting.packs import _docx_xml as X
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render.docx.document import (
    _RIGHT_ALIGNED,
    BULLET,
    COMMENTARY_KEEP_TOGETHER,
    MAX_CHART_HEIGHT,
    NOTE_SIZE_PT,
    _clean,
    _Context,
    _paragraphs,
)
from reporting.packs.render.docx.tables import (
    SPARKLINE_CM,
    WIDE_TABLE_PT,
    _footnotes,
    _icon_cell,
    _sparkline_cell,
    _table_caption,
    _TableWriter,
    _value_cell,
    _width,
    _write,
)
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

if TYPE_CHECKING:
    pass

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
    for label, value in block.details:  # labelled lines of real text; provenance is the About block's
        paragraph = ctx.paragraph()
        paragraph.paragraph_format.space_after = Pt(4)
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(_clean(value))
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
    texts = [
        [row.title for row in block.rows],
        [row.period_label for row in block.rows],
        [row.latest.text for row in block.rows],
        [row.target.text for row in block.rows],
        [VARIATION_SHORT.get(row.variation_icon or "", "") for row in block.rows],
        [ASSURANCE.get(row.assurance or "", ("", "", ""))[2] for row in block.rows],
        [],
    ]
    table = _TableWriter.start(
        ctx,
        headers,
        weights,
        right_aligned={2, 3},
        texts=texts,
        whole={4},
        pictured={4, 5},
        at_least={6: SPARKLINE_CM / 2.54 * 72},
    )
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
        _icon_cell(cells[4], row.variation_icon, VARIATION, ctx, short=True)  # the deck's words (mdc)
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
            from docx.shared import Length

            picture.width, picture.height = Length(int(picture.width * limit / picture.height)), Length(limit)
        X.set_picture_alt_text(picture, title, description)
    caption = X.add_caption(ctx.document, "Figure", _clean(block.caption or spec.title))
    # The Caption style keeps with the next paragraph (right for table captions above tables); under a
    # figure that would chain the figure to whatever follows and push whole runs of charts to a new page.
    caption.paragraph_format.keep_with_next = False
    ctx.page_empty = False


def _icon_words(code: str | None) -> str:
    """The words an icon cell is measured by: a picture's label, or a point type's glyph and label."""
    found = icon(code)
    if found is None:
        return ""
    return found[2] if code in VARIATION or code in ASSURANCE else icon_text(code)


@_block.register
def _data_table(block: DataTable, ctx: _Context) -> None:
    _table_caption(ctx, block.title, block.caption)
    right = {i for i, column in enumerate(block.columns) if column.kind in _RIGHT_ALIGNED}
    texts = [
        [
            _icon_words(row[i].icon) if row[i].kind == "icon" else row[i].text
            for row in block.rows
            if len(row) == len(block.columns)
        ]
        for i in range(len(block.columns))
    ]
    table = _TableWriter.start(
        ctx,
        tuple(c.name for c in block.columns),
        tuple(_width(c) for c in block.columns),
        right_aligned=right,
        texts=texts,
        whole={i for i, column in enumerate(block.columns) if column.kind == "date"},
        pictured={i for i, column in enumerate(block.columns) if column.kind == "icon"},
        fewest_lines=True,
        size_pt=WIDE_TABLE_PT if block.wide else None,
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
    table.set_text_size()
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
