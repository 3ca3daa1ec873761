"""PowerPoint renderer: a Pack tree -> a .pptx built on the corporate master, one function per block type.

    render(pack, path) -> path

Slides, in order: the template's own slides are removed; a Cover block gives the "Title Slide" (title,
subtitle, audience/owner, date, classification); a Contents block gives an agenda on "Title and Content"
listing every section with its slide number; each section except the cover's opens with a "Section Header"
slide; content then flows onto "Title Only" slides inside the body area of the "Title and Content" layout.
Headings of level 1-2 start a new slide titled with their text (level 3 is a bold line in the flow); later
slides under the same heading are titled "... (continued)". Text, tables, charts and commentary are stacked
top to bottom while they fit; a chart takes the rest of its slide; PageBreak ends the slide. Every slide gets
the layout's footer placeholder (``pack.footer``) and slide-number placeholder (a ``slidenum`` field), cloned
from its layout because python-pptx does not copy them; speaker notes carry chart notes, the data sources,
the snapshot hash and the pack's footnotes. Text is en-GB; the output is byte-identical for the same Pack
(fixed core properties, no timestamps, fixed zip entry times, also inside embedded chart workbooks).

Charts are native (editable) when ``ChartBlock.native`` and ``supports_native(spec)``, else the block's PNG,
scaled to fit; every chart, picture and table carries alt text (the spec's, or a description generated for
tables). Summary-table icons are a letter/arrow in the palette colour (darkened until it reaches 4.5:1
contrast on its cell) followed by the words ("H↑ Improvement"), so colour never carries meaning alone.
Suppressed cells show "*" and the suppression footnote.

Text is measured and fitted by `_text_fit` (Arial advance widths; its docstring gives the rule).

A text block goes at its style's size (body 18, lead 22, note 14 pt) where the slide has room, else on a fresh
slide; if it does not fit an empty slide body it shrinks 1 pt at a time down to ``MIN_TEXT_PT`` (12); if it
still does not fit, the build stops with TextOverflowError naming the section and block. Titles shrink to
``MIN_TITLE_PT`` (18). Tables never shrink: they split between rows onto continued slides, repeating the header
row; a single row taller than a slide is a TextOverflowError. Text boxes have autofit off, and table rows are
given their measured height, so what was measured is what is drawn.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pptx.dml.color import RGBColor
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Inches, Pt

from reporting.charts.native_pptx import NativeChartUnsupported, add_native_chart, supports_native
from reporting.errors import ConfigError, ReportingError
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, RAG, VARIATION
from reporting.office_package import save
from reporting.packs import _pptx_xml as X
from reporting.packs.office_templates import DEFAULT_PPTX, REQUIRED_LAYOUTS, layout, open_presentation
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import readable
from reporting.packs.render._brand import using as _using_brand
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render._properties import document_properties
from reporting.packs.render._text_fit import (
    LINE_HEIGHT_EM,
    PARA_GAP_EM,
    _fit,
    _height,
    _line_em,
    _Para,
    _para,
    _paras,
    _Run,
)
from reporting.packs.tree import (
    SUPPRESSED_NOTE,
    Block,
    Cell,
    ChartBlock,
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

__all__ = ["TextOverflowError", "render"]

LANGUAGE = "en-GB"
TEXT_PT = {"body": 18, "lead": 22, "note": 14}
MIN_TEXT_PT = 12
MIN_TITLE_PT = 18
MIN_FOOTER_PT = 8
SUMMARY_PT = 14  # summary table body (header 12)
TABLE_PT = 12  # data tables, captions, footnotes
CAPTION_PT = 12
MIN_CHART_H = Inches(3.0)
SPARK_H, SPARK_PAD = Inches(0.42), Inches(0.05)
GAP = Inches(0.15)  # between blocks on a slide
TEXT_INSET = Inches(0.05)
CELL_INSET_X, CELL_INSET_Y = Inches(0.08), Inches(0.05)

# Colours come from the pack's theme (render/_brand.py: NHS identity unless the pack rebrands); RAG fills are
# status colours, not identity, and live with the MDC vocabulary (reporting.mdc.RAG).
VARIATION_WORDS = {
    "improvement": "Improvement",
    "concern": "Concern",
    "neutral": "Neutral",
    "common_cause": "Common cause",
}
SUMMARY_COLUMNS = (
    ("Metric", 0.31),
    ("Period", 0.10),
    ("Latest", 0.08),
    ("Target", 0.08),
    ("Variation", 0.14),
    ("Assurance", 0.17),
    ("Trend", 0.12),
)


class TextOverflowError(ReportingError):
    """Text that does not fit its slide even at the minimum size; names the section and block."""

    def __init__(self, where: str, message: str) -> None:
        self.where, self.reason = where, message
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------------------------------------------------
# writing text, colours
# ---------------------------------------------------------------------------------------------------------


def _rgb(hex_: str) -> RGBColor:
    return RGBColor.from_string(hex_.lstrip("#").upper())


def _write(frame: Any, paras: Sequence[_Para], size: float | None) -> None:
    """Replace the frame's text with `paras`; sizes explicit when `size` is given, else inherited."""
    frame.clear()
    for i, p in enumerate(paras):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.level = p.level
        if p.align is not None:
            paragraph.alignment = p.align
        if size is not None and i:
            paragraph.space_before = Pt(PARA_GAP_EM * size * p.factor)
        for r in p.runs:
            run = paragraph.add_run()
            run.text = r.text
            font = run.font
            if size is not None:
                font.size = Pt(round(size * p.factor, 1))
            if r.bold:
                font.bold = True
            if r.italic:
                font.italic = True
            if r.colour:
                font.color.rgb = _rgb(r.colour)


def _fixed_frame(frame: Any, inset_x: int = 0, inset_y: int = TEXT_INSET) -> None:
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = inset_x
    frame.margin_top = frame.margin_bottom = inset_y


# ---------------------------------------------------------------------------------------------------------
# the deck being built
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass
class _Deck:
    """The presentation being built and where the flow of blocks has got to."""

    prs: Any
    pack: Pack
    template: Path
    body: _Box
    notes: dict[int, list[str]] = field(default_factory=dict)
    slide: Any = None  # current content slide, None when the next block starts a new one
    cursor: int = 0  # y where the next block goes
    filled: bool = False  # the current slide already holds a block
    topic: str = ""  # title of the current run of content slides
    topic_from_heading: bool = False
    topic_slides: int = 0
    where: str = ""  # "section 2 'Urgent care', block 3 (Text)" for error messages
    topic_where: str = ""  # the block that set the topic (a title that does not fit names it)
    section_slides: list[tuple[str, Any]] = field(default_factory=list)
    agendas: list[tuple[Any, Contents]] = field(default_factory=list)

    def layout(self, name: str) -> Any:
        return layout(self.prs, name, template_path=self.template)

    def add_slide(self, layout_name: str) -> Any:
        slide = self.prs.slides.add_slide(self.layout(layout_name))
        self.notes[slide.slide_id] = []
        return slide

    def note(self, text: str) -> None:
        if text and self.slide is not None:
            self.notes[self.slide.slide_id].append(text)

    def start_topic(self, title: str, *, from_heading: bool) -> None:
        self.end_slide()
        self.topic, self.topic_from_heading, self.topic_slides = title, from_heading, 0
        self.topic_where = self.where

    def end_slide(self) -> None:
        self.slide, self.filled = None, False

    @property
    def remaining(self) -> int:
        return self.body.bottom - self.cursor if self.slide is not None else 0

    def fresh_slide(self) -> None:
        """A new content slide, titled with the topic ("... (continued)" after its first slide)."""
        title = self.topic if self.topic_slides == 0 else f"{self.topic} (continued)"
        self.topic_slides += 1
        self.slide = self.add_slide("Title Only")
        _title(self, self.slide, title, 28, self.topic_where)
        self.cursor, self.filled = self.body.top, False

    def space_for(self, height: int) -> None:
        """Make sure the current slide has `height` left, starting a fresh one when it has not."""
        if self.slide is None or (self.filled and height > self.remaining):
            self.fresh_slide()

    def advance(self, height: int) -> None:
        self.cursor += height + GAP
        self.filled = True


def _title(deck: _Deck, slide: Any, text: str, base: float, where: str | None = None) -> None:
    where = where or deck.where
    shape = slide.shapes.title
    if shape is None:
        raise ConfigError(f"layout '{slide.slide_layout.name}' has no title placeholder (idx 0)", file=deck.template)
    frame = shape.text_frame
    paras = [_para(text)]
    width, height = (
        shape.width - frame.margin_left - frame.margin_right,
        shape.height - frame.margin_top - frame.margin_bottom,
    )
    size = _fit(paras, width, height, base, MIN_TITLE_PT)
    if size is None:
        raise TextOverflowError(
            where, f"title '{text}' does not fit its placeholder even at {MIN_TITLE_PT} pt; shorten the heading"
        )
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    _write(frame, paras, size if size < base else None)


def _text_box(deck: _Deck, paras: Sequence[_Para], size: float, height: int) -> Any:
    box = deck.slide.shapes.add_textbox(deck.body.left, deck.cursor, deck.body.width, height)
    _fixed_frame(box.text_frame)
    _write(box.text_frame, paras, size)
    deck.advance(height)
    return box


def _flow_text(deck: _Deck, paras: Sequence[_Para], base: float, minimum: float = MIN_TEXT_PT) -> None:
    """Place text where the slide has room, else on a fresh slide, shrinking only when a whole body is too small."""
    width, inset = deck.body.width, 2 * TEXT_INSET
    needed = _height(paras, base, width) + inset
    if deck.slide is not None and deck.filled and needed <= deck.remaining:
        _text_box(deck, paras, base, needed)
        return
    if deck.slide is None or deck.filled:
        deck.fresh_slide()
    size = _fit(paras, width, deck.remaining - inset, base, minimum)
    if size is None:
        chars = sum(len(p.text) for p in paras)
        per_line = _line_em(width, minimum) / 0.5  # Arial text averages about 0.5 em a character
        lines_needed = round(_height(paras, minimum, width) / Pt(LINE_HEIGHT_EM * minimum))
        lines_room = int((deck.remaining - inset) / Pt(LINE_HEIGHT_EM * minimum))
        raise TextOverflowError(
            deck.where,
            f"{chars:,} characters of text need about {lines_needed} lines of "
            f"about {per_line:.0f} characters at {minimum:g} pt, but one slide holds "
            f"{lines_room}; shorten it or split it into several blocks",
        )
    _text_box(deck, paras, size, _height(paras, size, width) + inset)


# ---------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    paras: tuple[_Para, ...]
    fill: str | None = None
    min_height: int = 0
    overlay: Callable[[Any, _Box], None] | None = None  # draws a picture/chart over the cell (sparklines)


def _cell(
    text: str, *, align: Any = None, bold: bool = False, colour: str | None = None, fill: str | None = None
) -> _Cell:
    return _Cell((_Para((_Run(text, bold=bold, colour=colour),), align=align),), fill)


def _row_height(cells: Sequence[_Cell], widths: Sequence[int], size: float) -> int:
    inner = [_height(c.paras, size, w - 2 * CELL_INSET_X) + 2 * CELL_INSET_Y for c, w in zip(cells, widths)]
    return max([*inner, *(c.min_height for c in cells)])


def _draw_table(
    deck: _Deck,
    rows: Sequence[Sequence[_Cell]],
    widths: Sequence[int],
    heights: Sequence[int],
    size: float,
    title: str,
    description: str,
    *,
    merge_row: int | None = None,
) -> None:
    top = deck.cursor
    frame = deck.slide.shapes.add_table(len(rows), len(widths), deck.body.left, top, sum(widths), sum(heights))
    table = frame.table
    X.set_table_header_row(table)
    table.horz_banding = False
    for j, w in enumerate(widths):
        table.columns[j].width = w
    for i, h in enumerate(heights):
        table.rows[i].height = h
    overlays = []
    y = top
    tcs = [tr.tc_lst for tr in table._tbl.tr_lst]
    for i, row in enumerate(rows):
        x = deck.body.left
        for j, spec in enumerate(row):
            X.fill_table_cell(
                tcs[i][j],
                spec.paras,
                size if i else TABLE_PT,
                spec.fill or (_b().primary if i == 0 else (_b().band if i % 2 == 0 else _b().white)),
                (CELL_INSET_X, CELL_INSET_Y),
                PARA_GAP_EM,
                LANGUAGE,
            )
            if spec.overlay is not None:
                overlays.append((spec.overlay, _Box(x, y, widths[j], heights[i])))
            x += widths[j]
        y += heights[i]
    if merge_row is not None:  # one message across the whole row ("No rows")
        table.cell(merge_row, 0).merge(table.cell(merge_row, len(widths) - 1))
    X.set_alt_text(frame, title, description)
    for draw, box in overlays:
        draw(deck.slide, box)
    deck.advance(sum(heights))


def _flow_table(
    deck: _Deck,
    title: str,
    caption: str,
    header: Sequence[_Cell],
    body: Sequence[Sequence[_Cell]],
    widths: Sequence[int],
    size: float,
    footnotes: Sequence[str],
    describe: Callable[[int, int], str],
) -> None:
    """Header + rows, split between rows across continued slides with the header repeated on each part."""

    def caption_paras(part: int) -> list[_Para]:
        runs = [_Run(title + (" (continued)" if part else ""), bold=True, colour=_b().primary_dark)]
        if caption and not part:
            runs.append(_Run(f" – {caption}", colour=_b().muted))
        return [_Para(tuple(runs))]

    width = deck.body.width
    empty = not body
    if empty:
        body = [[_cell("No rows for this period.", colour=_b().muted), *(_Cell(()) for _ in widths[1:])]]
    head_h = _row_height(header, widths, TABLE_PT)
    heights = [_row_height(row, widths, size) for row in body]
    notes = _paras(footnotes, colour=_b().muted)
    foot_h = _height(notes, TABLE_PT, width) + 2 * TEXT_INSET + GAP if notes else 0
    start, part = 0, 0
    while start < len(body):
        cap = caption_paras(part)
        cap_h = _height(cap, CAPTION_PT, width) + 2 * TEXT_INSET
        deck.space_for(cap_h + GAP + head_h + heights[start] + foot_h)
        room = deck.remaining - cap_h - GAP - head_h - foot_h
        end, used = start, 0
        while end < len(body) and used + heights[end] <= room:
            used += heights[end]
            end += 1
        if end == start:
            raise TextOverflowError(
                deck.where, f"row {start + 1} of table '{title}' is taller than a slide; shorten the text in that row"
            )
        _text_box(deck, cap, CAPTION_PT, cap_h)
        label = title + (" (continued)" if part else "")
        _draw_table(
            deck,
            [header, *body[start:end]],
            widths,
            [head_h, *heights[start:end]],
            size,
            label,
            describe(start, end) + (" It has no rows for this period." if empty else ""),
            merge_row=1 if empty else None,
        )
        if notes:
            _text_box(deck, notes, TABLE_PT, foot_h - GAP)
        start, part = end, part + 1
        if start < len(body):
            deck.end_slide()


def _widths(total: int, weights: Sequence[float]) -> list[int]:
    scale = sum(weights)
    widths = [int(total * w / scale) for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _suppression_note(pack: Pack, footnotes: Sequence[str], any_suppressed: bool) -> list[str]:
    notes = list(footnotes)
    if any_suppressed and not any(n.lstrip().startswith("*") for n in notes):
        pack_note = next((n for n in pack.footnotes if n.lstrip().startswith("*")), None)
        notes.append(pack_note or SUPPRESSED_NOTE.split(":")[0] + " by disclosure control (small numbers).")
    return notes


def _header(names: Sequence[str], aligns: Sequence[Any]) -> list[_Cell]:
    return [_cell(n, align=a, bold=True, colour=_b().white, fill=_b().primary) for n, a in zip(names, aligns)]


_RIGHT = {"number", "percent", "count"}


# ---------------------------------------------------------------------------------------------------------
# one function per block type
# ---------------------------------------------------------------------------------------------------------


@functools.singledispatch
def _block(block: Block, deck: _Deck) -> None:
    raise no_rule("PowerPoint", block, deck.where)


@_block.register(Cover)
def _cover(block: Cover, deck: _Deck) -> None:
    deck.end_slide()
    slide = deck.add_slide("Title Slide")
    _title(deck, slide, block.title, 40)
    who = " · ".join(
        p
        for p in (f"For: {block.audience}" if block.audience else "", f"Owner: {block.owner}" if block.owner else "")
        if p
    )
    lines = [_para(block.subtitle, colour=_b().primary)] if block.subtitle else []
    lines += [
        _Para((_Run(t, bold=bold, colour=_b().muted),), factor=0.8, level=1)
        for t, bold in ((who, False), (block.date_label, False), (block.classification, True))
        if t
    ]
    sub = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
    if sub is None:
        raise ConfigError("layout 'Title Slide' has no subtitle placeholder (idx 1)", file=deck.template)
    if not lines:
        sub._element.getparent().remove(sub._element)
        return
    frame = sub.text_frame
    _fixed_frame(frame)
    size = _fit(lines, sub.width, sub.height - 2 * TEXT_INSET, 20, MIN_TEXT_PT)
    if size is None:
        raise TextOverflowError(
            deck.where, "cover subtitle, audience, owner, date and classification do not fit the subtitle placeholder"
        )
    _write(frame, lines, size)


@_block.register(Contents)
def _contents(block: Contents, deck: _Deck) -> None:
    deck.end_slide()
    slide = deck.add_slide("Title and Content")
    _title(deck, slide, block.title, 28)
    deck.agendas.append((slide, block))  # filled in once every section header has its slide number


@_block.register(Heading)
def _heading(block: Heading, deck: _Deck) -> None:
    if block.level <= 2:
        unused = deck.topic_from_heading and deck.topic_slides == 0
        title = f"{deck.topic} – {block.text}" if block.level == 2 and unused else block.text
        deck.start_topic(title, from_heading=True)
        return
    _flow_text(deck, [_para(block.text, bold=True, colour=_b().primary_dark)], 20, 14)


@_block.register(Text)
def _text(block: Text, deck: _Deck) -> None:
    colour = _b().muted if block.style == "note" else None
    _flow_text(deck, _paras(block.paragraphs, colour=colour), TEXT_PT[block.style])


@_block.register(Commentary)
def _commentary(block: Commentary, deck: _Deck) -> None:
    paras = [_para(f"Commentary: {block.title}", bold=True, colour=_b().primary_dark), *_paras([block.commentary])]
    if block.actions:
        lines = block.actions.split("\n")
        paras.append(_Para((_Run("Actions: ", bold=True), _Run(lines[0]))))
        paras += _paras(lines[1:])
    if block.author:
        paras.append(_para(f"– {block.author}", italic=True, colour=_b().muted))
    _flow_text(deck, paras, TEXT_PT["body"])


@_block.register(PageBreak)
def _page_break(block: PageBreak, deck: _Deck) -> None:
    deck.end_slide()


def _slide_order(blocks: Sequence[Block]) -> list[tuple[int, Block]]:
    """(1-based index, block) in slide order: a chart's narrative (the body text right after it) goes above
    the chart as the slide's headline, so the two share a slide instead of the text spilling onto the next."""
    order = list(enumerate(blocks, start=1))
    i = 0
    while i < len(order) - 1:
        chart, text = order[i][1], order[i + 1][1]
        if isinstance(chart, ChartBlock) and isinstance(text, Text) and text.style == "body":
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2
        else:
            i += 1
    return order


def _picture(slide: Any, image: Path, box: _Box) -> Any:
    from PIL import Image

    with Image.open(image) as im:
        w_px, h_px = im.size
    width = min(box.width, int(box.height * w_px / h_px))
    height = int(width * h_px / w_px)
    picture = slide.shapes.add_picture(
        str(image), box.left + (box.width - width) // 2, box.top + (box.height - height) // 2, width, height
    )
    picture._element.nvPicPr.cNvPr.set("descr", "")  # python-pptx puts the file name here; callers set the alt text
    return picture


def _chart_shape(deck: _Deck, block: ChartBlock, box: _Box) -> Any:
    spec = block.spec
    if block.native and supports_native(spec):
        try:
            return add_native_chart(deck.slide.shapes, spec, box.left, box.top, box.width, box.height)
        except NativeChartUnsupported:
            pass
    if block.image is None or not Path(block.image).is_file():
        raise ReportingError(
            f"{deck.where}: chart '{spec.title}' has no rendered image"
            + ("" if block.native else " and native=false")
            + "; render the pack's charts (Pack.with_images) before the PowerPoint renderer"
        )
    return _picture(deck.slide, Path(block.image), box)


@_block.register(ChartBlock)
def _chart(block: ChartBlock, deck: _Deck) -> None:
    cap = [_para(block.caption, colour=_b().muted)] if block.caption else []
    cap_h = _height(cap, CAPTION_PT, deck.body.width) + 2 * TEXT_INSET if cap else 0
    deck.space_for(MIN_CHART_H + cap_h)
    box = _Box(deck.body.left, deck.cursor, deck.body.width, deck.remaining - cap_h - (GAP if cap else 0))
    shape = _chart_shape(deck, block, box)
    X.set_alt_text(shape, block.spec.title, block.spec.alt_text or f"Chart: {block.spec.title}")
    deck.cursor = box.bottom + GAP
    if cap:
        _text_box(deck, cap, CAPTION_PT, cap_h)
    deck.note(block.notes)
    deck.cursor, deck.filled = deck.body.bottom, True  # a chart takes the rest of its slide


def _icon(
    code: str | None, table: dict[str, tuple[str, str, str]], deck: _Deck, fill: str, *, short: bool
) -> tuple[_Para, ...]:
    if code is None:
        return (_Para((_Run(NOT_ASSESSED_CELL, colour=_b().muted),)),)
    if code not in table:
        return (_para(code),)
    letter, colour_name, label = table[code]
    words = VARIATION_WORDS.get(colour_name, label) if short else label
    colour = readable(getattr(deck.pack.theme.palette, colour_name), fill)
    return (_Para((_Run(letter, bold=True, colour=colour), _Run(f" {words}"))),)


def _sparkline(row: SummaryRow) -> Callable[[Any, _Box], None] | None:
    image, spec = row.sparkline_image, row.sparkline

    def draw(slide: Any, box: _Box) -> None:
        inner = _Box(
            box.left + CELL_INSET_X, box.top + SPARK_PAD, box.width - 2 * CELL_INSET_X, box.height - 2 * SPARK_PAD
        )
        if image is not None and Path(image).is_file():
            shape = _picture(slide, Path(image), inner)
        else:
            assert spec is not None
            shape = add_native_chart(slide.shapes, spec, inner.left, inner.top, inner.width, inner.height)
        X.set_alt_text(shape, f"Trend: {row.title}", spec.alt_text if spec is not None else f"Trend of {row.title}")

    if (image is not None and Path(image).is_file()) or (spec is not None and supports_native(spec)):
        return draw
    return None


def _value(cell: Cell, align: Any = PP_ALIGN.RIGHT) -> _Para:
    return _Para((_Run("*" if cell.suppressed else cell.text),), align=align)


@_block.register(SummaryTable)
def _summary_table(block: SummaryTable, deck: _Deck) -> None:
    right, centre = PP_ALIGN.RIGHT, PP_ALIGN.CENTER
    aligns = [None, None, right, right, None, None, centre]
    header = _header([name for name, _ in SUMMARY_COLUMNS], aligns)
    rows = []
    for i, r in enumerate(block.rows):
        fill = _b().band if (i + 1) % 2 == 0 else _b().white
        metric = (
            _para(r.title, bold=True),
            *([_Para((_Run(r.narrative, colour=_b().muted),), factor=TABLE_PT / SUMMARY_PT)] if r.narrative else []),
        )
        trend = _sparkline(r)
        rows.append(
            [
                _Cell(metric, fill),
                _Cell((_para(r.period_label),), fill),
                _Cell((_value(r.latest),), fill),
                _Cell((_value(r.target),), fill),
                _Cell(_icon(r.variation_icon, VARIATION, deck, fill, short=True), fill),
                _Cell(_icon(r.assurance, ASSURANCE, deck, fill, short=False), fill),
                _Cell(
                    () if trend else (_Para((_Run("–", colour=_b().muted),), align=centre),),
                    fill,
                    SPARK_H + 2 * SPARK_PAD if trend else 0,
                    trend,
                ),
            ]
        )
    suppressed = any(r.latest.suppressed or r.target.suppressed for r in block.rows)
    widths = _widths(deck.body.width, [w for _, w in SUMMARY_COLUMNS])

    def describe(start: int, end: int) -> str:
        parts = []
        for r in block.rows[start:end]:
            latest = "suppressed" if r.latest.suppressed else r.latest.text
            target = "suppressed" if r.target.suppressed else r.target.text
            bits = [f"latest {latest} ({r.period_label})", f"target {target}"]
            bits += [VARIATION[r.variation_icon][2].lower()] if r.variation_icon in VARIATION else []
            bits += [ASSURANCE[r.assurance][2].lower()] if r.assurance in ASSURANCE else []
            parts.append(f"{r.title}: " + ", ".join(bits) + ".")
        span = f", metrics {start + 1} to {end} of {len(block.rows)}" if end - start < len(block.rows) else ""
        return f"Summary table '{block.title}'{span}. " + " ".join(parts)

    _flow_table(
        deck,
        block.title,
        block.caption,
        header,
        rows,
        widths,
        SUMMARY_PT,
        _suppression_note(deck.pack, block.footnotes, suppressed),
        describe,
    )


@_block.register(DataTable)
def _data_table(block: DataTable, deck: _Deck) -> None:
    aligns = [PP_ALIGN.RIGHT if c.kind in _RIGHT else None for c in block.columns]
    header = _header([c.name for c in block.columns], aligns)
    rows = []
    for i, row in enumerate(block.rows):
        band = _b().band if (i + 1) % 2 == 0 else _b().white
        cells = []
        for cell, align in zip(row, aligns):
            runs = [_Run("*" if cell.suppressed else cell.text)]
            if cell.rag is not None and not cell.suppressed:
                runs.append(_Run(f" {RAG[cell.rag][0]}", bold=True))
            cells.append(_Cell((_Para(tuple(runs), align=align),), RAG[cell.rag][2] if cell.rag in RAG else band))
        rows.append(cells)
    suppressed = any(c.suppressed for row in block.rows for c in row)
    notes = _suppression_note(deck.pack, block.footnotes, suppressed)
    if any(c.rag for row in block.rows for c in row):
        notes.append("R, A, G: red, amber, green rating (also shown by the cell's shading).")
    widths = _widths(deck.body.width, [max(c.width, len(c.name)) for c in block.columns])
    names = ", ".join(c.name for c in block.columns)

    def describe(start: int, end: int) -> str:
        span = (
            f"rows {start + 1} to {end} of {len(block.rows)}"
            if end - start < len(block.rows)
            else f"{len(block.rows)} rows"
        )
        return (
            f"Table '{block.title}'" + (f" ({block.caption})" if block.caption else "") + f": {span}; columns {names}."
        )

    _flow_table(deck, block.title, block.caption, header, rows, widths, TABLE_PT, notes, describe)


# ---------------------------------------------------------------------------------------------------------
# slides that frame the content
# ---------------------------------------------------------------------------------------------------------


def _section_header(section: Section, deck: _Deck) -> None:
    slide = deck.add_slide("Section Header")
    _title(deck, slide, section.title, 36)
    body = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
    headings = [b.text for b in section.blocks if isinstance(b, Heading) and b.level <= 2]
    summary = " · ".join((["Appendix"] if section.appendix else []) + headings)
    paras = [_para(summary)]
    size = _fit(paras, body.width, body.height - 2 * TEXT_INSET, 20, MIN_TEXT_PT) if body and summary else None
    if body is not None and size is not None:
        _fixed_frame(body.text_frame)
        _write(body.text_frame, paras, size)
    elif body is not None:  # nothing to say (or too many headings to list): no empty prompt left behind
        body._element.getparent().remove(body._element)
    deck.section_slides.append((section.title, slide))


def _fill_agendas(deck: _Deck) -> None:
    numbers = {s.slide_id: n for n, s in enumerate(deck.prs.slides, start=1)}
    for slide, block in deck.agendas:
        body = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
        if body is None:
            raise ConfigError("layout 'Title and Content' has no content placeholder (idx 1)", file=deck.template)
        paras = [
            _Para((_Run(title), _Run(f"   slide {numbers[s.slide_id]}", colour=_b().muted)))
            for title, s in deck.section_slides
        ] or [_para("This pack has no sections.")]
        frame = body.text_frame
        _fixed_frame(frame)
        size = _fit(paras, body.width - Inches(0.35), body.height - 2 * TEXT_INSET, 20, MIN_TEXT_PT)
        if size is None:
            raise TextOverflowError(f"{block.title} (agenda)", f"{len(paras)} sections do not fit one agenda slide")
        _write(frame, paras, size)


def _clone_placeholder(slide: Any, kind: Any, deck: _Deck) -> Any:
    """Copy the layout's (else the master's) footer/slide-number placeholder onto the slide."""
    source = next((p for p in slide.slide_layout.placeholders if p.placeholder_format.type == kind), None)
    if source is None:
        source = next(
            (p for p in slide.slide_layout.slide_master.placeholders if p.placeholder_format.type == kind), None
        )
    if source is None:
        raise ConfigError(
            f"layout '{slide.slide_layout.name}' and its master have no {kind.name} placeholder", file=deck.template
        )
    element = copy.deepcopy(source._element)
    element.xpath("./p:nvSpPr/p:cNvPr")[0].set("id", str(slide.shapes._next_shape_id))
    slide.shapes._spTree.append(element)
    return next(p for p in slide.placeholders if p._element is element)


def _finish_slide(slide: Any, deck: _Deck) -> None:
    pack = deck.pack
    footer = _clone_placeholder(slide, PP_PLACEHOLDER.FOOTER, deck)
    paras = [_para(pack.footer)]
    frame = footer.text_frame
    size = _fit(
        paras,
        footer.width - frame.margin_left - frame.margin_right,
        footer.height - frame.margin_top - frame.margin_bottom,
        10,
        MIN_FOOTER_PT,
    )
    if size is None:
        raise TextOverflowError("pack footer", f"'{pack.footer}' does not fit the footer placeholder")
    frame.word_wrap = True
    _write(frame, paras, size if size < 10 else None)
    number = _clone_placeholder(slide, PP_PLACEHOLDER.SLIDE_NUMBER, deck)
    number.text_frame.clear()
    X.add_slide_number(number.text_frame, LANGUAGE)
    for shape in slide.shapes:  # (table cells are written with their language: X.fill_table_cell)
        if shape.has_text_frame:
            X.set_language(shape.text_frame, LANGUAGE)
    prov = pack.provenance
    lines = [*deck.notes.get(slide.slide_id, [])]
    lines.append("Data sources: " + ("; ".join(prov.sources) if prov.sources else "none recorded"))
    lines.append(
        f"Data snapshot {prov.snapshot_hash}; template {prov.template_path} ({prov.template_hash}); "
        f"reporting {prov.package_version}."
    )
    lines += list(pack.footnotes)
    X.set_speaker_notes(slide, "\n".join(lines), LANGUAGE)


# ---------------------------------------------------------------------------------------------------------
# the renderer
# ---------------------------------------------------------------------------------------------------------


def render(pack: Pack, path: Path) -> Path:
    """Write `pack` as a PowerPoint deck at `path`, in the colours of the pack's theme (see _render)."""
    with _using_brand(pack.theme):
        return _render(pack, path)


def _render(pack: Pack, path: Path) -> Path:
    """Write `pack` as a PowerPoint deck at `path` (from `pack.office["pptx"]`, else the default master).

    Raises ConfigError when the template lacks a layout or placeholder it needs, TextOverflowError when text
    cannot fit even at the minimum size; nothing is written unless the whole deck was built.
    """
    template = Path(pack.office.get("pptx", DEFAULT_PPTX))
    prs = open_presentation(template)
    for name in REQUIRED_LAYOUTS:
        layout(prs, name, template_path=template)  # every layout checked before any slide is made
    id_list = prs.slides._sldIdLst
    for sld_id in list(id_list):  # the template's own example slides
        rid = sld_id.rId
        id_list.remove(sld_id)
        prs.part.drop_rel(rid)
    body_ph = next(
        (
            p
            for p in layout(prs, "Title and Content", template_path=template).placeholders
            if p.placeholder_format.idx == 1
        ),
        None,
    )
    if body_ph is None:
        raise ConfigError("layout 'Title and Content' has no content placeholder (idx 1)", file=template)
    deck = _Deck(prs, pack, template, _Box(body_ph.left, body_ph.top, body_ph.width, body_ph.height))
    for s_index, section in enumerate(pack.sections, start=1):
        deck.where = f"section {s_index} '{section.title}'"
        deck.end_slide()
        if pack.section_slides and not any(isinstance(b, Cover) for b in section.blocks):
            _section_header(section, deck)
        deck.start_topic(section.title, from_heading=False)
        for b_index, block in _slide_order(section.blocks):
            deck.where = f"section {s_index} '{section.title}', block {b_index} ({type(block).__name__})"
            _block(block, deck)
            if isinstance(block, Heading) and block.level <= 2 and b_index == len(section.blocks):
                deck.fresh_slide()  # a heading with nothing under it still shows
    _fill_agendas(deck)
    for slide in prs.slides:
        _finish_slide(slide, deck)
    return save(prs, Path(path), document_properties(pack, LANGUAGE))
