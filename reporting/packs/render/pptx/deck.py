"""PowerPoint renderer: sizes, the deck being built (`_Deck`: the slide flow engine), and writing text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.util import Inches, Pt

from reporting.errors import ConfigError, ReportingError
from reporting.packs import _pptx_xml as X
from reporting.packs.office_templates import layout
from reporting.packs.render._text_fit import (
    LINE_HEIGHT_EM,
    PARA_GAP_EM,
    _fit,
    _height,
    _line_em,
    _Para,
    _para,
)
from reporting.packs.tree import (
    Contents,
    Pack,
)

LANGUAGE = "en-GB"
TEXT_PT = {"body": 18, "lead": 22, "note": 14}
MIN_TEXT_PT = 12
MIN_TITLE_PT = 18
MIN_FOOTER_PT = 8
SUMMARY_PT = 14  # summary table body (header 12)
TABLE_PT = 12  # data tables, captions, footnotes
CAPTION_PT = 12
MIN_CHART_H = Inches(3.0)
SPARK_H, SPARK_PAD = Inches(0.36), Inches(0.05)  # as tall as an icon: rows stay compact
ICON, ICON_GAP = Inches(0.36), Inches(0.06)  # MDC icon pictures in the summary table, and the gap to their words
GAP = Inches(0.15)  # between blocks on a slide
TEXT_INSET = Inches(0.05)
CELL_INSET_X, CELL_INSET_Y = Inches(0.08), Inches(0.05)

# Colours come from the pack's theme (render/_brand.py: NHS identity unless the pack rebrands); RAG fills are
# status colours, not identity, and live with the MDC vocabulary (reporting.mdc.RAG).
#: each column wide enough for its usual words on one line at 14 pt ("A&E attendances over 4 hours", "July 2025
#: (monthly)", "Common cause" and "consistently missed" after their icons), so rows are one or two lines tall and
#: a seven-measure summary leaves room for its notes on the same slide
SUMMARY_COLUMNS = (
    ("Metric", 0.26),
    ("Period", 0.16),
    ("Latest", 0.07),
    ("Target", 0.07),
    ("Variation", 0.17),
    ("Assurance", 0.19),
    ("Trend", 0.08),
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
    colour: RGBColor = RGBColor.from_string(hex_.lstrip("#").upper())  # type: ignore[no-untyped-call]  # no hints in python-pptx
    return colour


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
    prose: bool = True  # the current slide holds only text so far (headed paragraphs may join it)
    topic: str = ""  # title of the current run of content slides
    topic_from_heading: bool = False
    topic_slides: int = 0
    where: str = ""  # "section 2 'Urgent care', block 3 (Text)" for error messages
    topic_where: str = ""  # the block that set the topic (a title that does not fit names it)
    section_slides: list[tuple[str, Any]] = field(default_factory=list)
    agendas: list[tuple[Any, Contents]] = field(default_factory=list)
    icons: dict[str, bytes] = field(default_factory=dict)  # MDC icon code -> PNG, drawn once per deck
    #: (layout partname, placeholder type) -> the layout's (or its master's) placeholder that slides copy
    placeholder_sources: dict[tuple[str, Any], Any] = field(default_factory=dict)

    def layout(self, name: str) -> Any:
        return layout(self.prs, name, template_path=self.template)

    def add_slide(self, layout_name: str) -> Any:
        slide = X.add_slide(self.prs, self.layout(layout_name))
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

    def fresh_slide(self, title: str | None = None) -> None:
        """A new content slide, titled with the topic ("... (continued)" after its first slide), or with `title`
        (a table continued from the slide before carries its own title, not the topic's)."""
        if title is None:
            title = self.topic if self.topic_slides == 0 else f"{self.topic} (continued)"
        self.topic_slides += 1
        self.slide = self.add_slide("Title Only")
        _title(self, self.slide, title, 28, self.topic_where)
        self.cursor, self.filled, self.prose = self.body.top, False, True

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
