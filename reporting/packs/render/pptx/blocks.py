"""PowerPoint renderer: one singledispatch function, `_block`, with a rule per block type."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pptx.enum.text import PP_ALIGN

from reporting.charts import raster
from reporting.charts.native_pptx import NativeChartUnsupported, add_native_chart, supports_native
from reporting.charts.spc_charts import icon_chart
from reporting.charts.theme import Theme
from reporting.errors import ConfigError, ReportingError
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, RAG, VARIATION, VARIATION_SHORT, icon, icon_text
from reporting.packs import _pptx_xml as X
from reporting.packs.render._brand import current as _b
from reporting.packs.render._brand import mark_colour
from reporting.packs.render._dispatch import no_rule
from reporting.packs.render._text_fit import (
    _em,
    _height,
    _line_em,
    _Para,
    _para,
    _paras,
    _Run,
)
from reporting.packs.render.pptx.deck import (
    CAPTION_PT,
    CELL_INSET_X,
    GAP,
    ICON,
    ICON_GAP,
    MIN_CHART_H,
    MIN_TEXT_PT,
    SPARK_H,
    SPARK_PAD,
    SUMMARY_COLUMNS,
    SUMMARY_PT,
    TABLE_PT,
    TEXT_INSET,
    TEXT_PT,
    TextOverflowError,
    _Box,
    _Deck,
    _fixed_frame,
    _flow_text,
    _text_box,
    _title,
    _write,
)
from reporting.packs.render.pptx.tables import (
    _RIGHT,
    _Cell,
    _flow_table,
    _header,
    _one_line,
    _suppression_note,
    _widths,
)
from reporting.packs.tree import (
    Block,
    Cell,
    ChartBlock,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    PageBreak,
    SummaryRow,
    SummaryTable,
    Text,
)

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
    sub = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
    if sub is None:
        raise ConfigError("layout 'Title Slide' has no subtitle placeholder (idx 1)", file=deck.template)
    if not block.subtitle and not block.details:
        sub._element.getparent().remove(sub._element)
        return
    width = sub.width - 2 * TEXT_INSET
    for height in (sub.height, _room_below(slide, sub)):  # the layout's box, else down to the footer
        size: float = 20
        while size * DETAIL_FACTOR >= MIN_TEXT_PT - 1e-9:
            lines = ([_para(block.subtitle, colour=_b().primary)] if block.subtitle else []) + _cover_details(
                block.details, width, size * DETAIL_FACTOR
            )
            if _height(lines, size, width) <= height - 2 * TEXT_INSET:
                if height != sub.height:  # all four set: a placeholder's box is inherited until it has its own
                    sub.left, sub.top, sub.width, sub.height = sub.left, sub.top, sub.width, height
                frame = sub.text_frame
                _fixed_frame(frame)
                _write(frame, lines, size)
                return
            size -= 1
    raise TextOverflowError(deck.where, "the cover's subtitle and details do not fit above the footer")


def _room_below(slide: Any, sub: Any) -> int:
    """The subtitle's height grown down to a gap above the footer, date and slide-number placeholders (a board
    paper's cover has a dozen labelled lines; the Title Slide layout leaves the space under its subtitle free)."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    bottom_kinds = (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.SLIDE_NUMBER)
    tops = [p.top for p in slide.slide_layout.placeholders if p.placeholder_format.type in bottom_kinds]
    below = [top for top in tops if top >= sub.top + sub.height]
    return max(int(sub.height), int(min(below, default=sub.top + sub.height + GAP) - GAP - sub.top))


#: the cover's labelled lines are this much smaller than its subtitle
DETAIL_FACTOR = 0.8
_DETAIL_GAP = "   ·   "


def _cover_details(details: Sequence[tuple[str, str]], width: int, size: float) -> list[_Para]:
    """The cover's labelled lines ("Meeting: …", "Purpose: For assurance"), packed several to a line in order
    so a board paper's dozen fit the title slide's subtitle area; an item never breaks across two lines
    unless it is wider than a line on its own."""
    limit, gap = _line_em(width, size), _em(_DETAIL_GAP, False)
    rows: list[list[_Run]] = []
    used = 0.0
    for label, value in details:
        bold = label == "Classification"
        runs = [_Run(f"{label}: ", bold=True, colour=_b().muted), _Run(value, bold=bold, colour=_b().muted)]
        width_em = _em(f"{label}: ", True) + _em(value, bold)
        if rows and used + gap + width_em <= limit:
            rows[-1] += [_Run(_DETAIL_GAP, colour=_b().muted), *runs]
            used += gap + width_em
        else:
            rows.append(runs)
            used = width_em
    return [_Para(tuple(runs), factor=DETAIL_FACTOR, level=1) for runs in rows]


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


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w'’&-]+", text.casefold()))


def _caption_adds(caption: str, title: str) -> bool:
    """Whether a chart's caption says more than the chart's title and subtitle ("Discharges per week, Guy's ...:
    SPC chart" under "Discharges per week (last 52 weeks) – Guy's ..." does not: the slide says it once)."""
    return bool(_words(caption) - _words(title) - {"spc", "chart"})


@_block.register(ChartBlock)
def _chart(block: ChartBlock, deck: _Deck) -> None:
    heading = f"{block.spec.title} {block.spec.subtitle}"  # what the chart's own title line says
    shown = block.caption if block.caption and _caption_adds(block.caption, heading) else ""
    cap = [_para(shown, colour=_b().muted)] if shown else []
    cap_h = _height(cap, CAPTION_PT, deck.body.width) + 2 * TEXT_INSET if cap else 0
    deck.space_for(MIN_CHART_H + cap_h)
    deck.prose = False
    box = _Box(deck.body.left, deck.cursor, deck.body.width, deck.remaining - cap_h - (GAP if cap else 0))
    shape = _chart_shape(deck, block, box)
    X.set_alt_text(shape, block.spec.title, block.spec.alt_text or f"Chart: {block.spec.title}")
    deck.cursor = box.bottom + GAP
    if cap:
        _text_box(deck, cap, CAPTION_PT, cap_h)
    deck.note(block.notes)
    deck.cursor, deck.filled = deck.body.bottom, True  # a chart takes the rest of its slide


def _icon(
    code: str | None, table: dict[str, tuple[str, str, str]], deck: _Deck, fill: str, kind: str, *, short: bool
) -> _Cell:
    """The MDC icon as a picture (the one the email carries: charts.raster) at the cell's left, with its alt
    text, and the words beside it, so neither colour nor the picture carries the meaning alone."""
    if code is None:
        return _Cell((_Para((_Run(NOT_ASSESSED_CELL, colour=_b().muted),)),), fill)
    if code not in table:
        return _Cell((_para(code),), fill)
    _, colour_name, label = table[code]
    words = VARIATION_SHORT.get(code, label) if short else label
    if code not in deck.icons:
        stream = io.BytesIO()
        raster.draw(icon_chart(code, deck.pack.theme), stream)
        deck.icons[code] = stream.getvalue()
    image = deck.icons[code]

    def draw(slide: Any, box: _Box) -> None:
        top = box.top + (box.height - ICON) // 2
        shape = slide.shapes.add_picture(io.BytesIO(image), box.left + CELL_INSET_X, top, ICON, ICON)
        X.set_alt_text(shape, f"{kind}: {label}", f"{kind} icon: {label}")

    return _Cell((_para(words),), fill, ICON + 2 * SPARK_PAD, draw, ICON + ICON_GAP)


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


def _attention_first(rows: Sequence[SummaryRow]) -> list[SummaryRow]:
    """The rows a presenter speaks to first at the top: exceptions (mdc.is_exception, as the row says), then
    other special cause variation, then common cause, then measures not assessed; the template's order within
    each. A deck cannot be re-sorted by its reader (the workbook has filters; the paper keeps the template's)."""

    def rank(row: SummaryRow) -> int:
        if row.exception:
            return 0
        if row.variation_icon in VARIATION and row.variation_icon != "common_cause":
            return 1
        return 2 if row.variation_icon == "common_cause" else 3

    return sorted(rows, key=rank)


@_block.register(SummaryTable)
def _summary_table(block: SummaryTable, deck: _Deck, keep_with: Sequence[int] = ()) -> int | None:
    right, centre = PP_ALIGN.RIGHT, PP_ALIGN.CENTER
    aligns = [None, None, right, right, None, None, centre]
    header = _header([name for name, _ in SUMMARY_COLUMNS], aligns)
    rows = []
    ordered = _attention_first(block.rows)
    for i, r in enumerate(ordered):
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
                _icon(r.variation_icon, VARIATION, deck, fill, "Variation", short=True),
                _icon(r.assurance, ASSURANCE, deck, fill, "Assurance", short=False),
                _Cell(
                    () if trend else (_Para((_Run("–", colour=_b().muted),), align=centre),),
                    fill,
                    SPARK_H + 2 * SPARK_PAD if trend else 0,
                    trend,
                ),
            ]
        )
    suppressed = any(r.latest.suppressed or r.target.suppressed for r in ordered)
    widths = _widths(deck.body.width, [w for _, w in SUMMARY_COLUMNS])

    def describe(start: int, end: int) -> str:
        parts = []
        for r in ordered[start:end]:
            latest = "suppressed" if r.latest.suppressed else r.latest.text
            target = "suppressed" if r.target.suppressed else r.target.text
            bits = [f"latest {latest} ({r.period_label})", f"target {target}"]
            bits += [VARIATION[r.variation_icon][2].lower()] if r.variation_icon in VARIATION else []
            bits += [ASSURANCE[r.assurance][2].lower()] if r.assurance in ASSURANCE else []
            parts.append(f"{r.title}: " + ", ".join(bits) + ".")
        span = f", metrics {start + 1} to {end} of {len(block.rows)}" if end - start < len(block.rows) else ""
        return f"Summary table '{block.title}'{span}. " + " ".join(parts)

    return _flow_table(
        deck,
        block.title,
        block.caption,
        header,
        rows,
        widths,
        SUMMARY_PT,
        _suppression_note(deck.pack, block.footnotes, suppressed),
        describe,
        keep_with,
    )


def _cell_runs(cell: Cell, theme: Theme) -> list[_Run]:
    """A data cell's words: "*" when suppressed, a point type or icon in the one MDC wording every format uses
    (mdc.icon_text: "● Common cause", "▲ Special cause variation (high)"), else the cell's text. A point type's
    glyph is its chart marker's colour, as in the Word paper and the HTML (the words say it without colour)."""
    if cell.suppressed:
        return [_Run("*")]
    found = icon(cell.icon) if cell.icon else None
    if found is None:
        return [_Run(cell.text)]
    if cell.icon in VARIATION or cell.icon in ASSURANCE:
        return [_Run(icon_text(cell.icon))]
    letter, colour_name, label = found
    return [_Run(f"{letter} ", colour=mark_colour(theme, colour_name)), _Run(label)]


@_block.register(DataTable)
def _data_table(block: DataTable, deck: _Deck, keep_with: Sequence[int] = ()) -> int | None:
    aligns = [PP_ALIGN.RIGHT if c.kind in _RIGHT else None for c in block.columns]
    header = _header([c.name for c in block.columns], aligns)
    rows, texts = [], []
    for i, row in enumerate(block.rows):
        band = _b().band if (i + 1) % 2 == 0 else _b().white
        cells = []
        for cell, align in zip(row, aligns):
            runs = _cell_runs(cell, deck.pack.theme)
            if cell.rag is not None and not cell.suppressed:
                runs.append(_Run(f" {RAG[cell.rag][0]}", bold=True))
            cells.append(_Cell((_Para(tuple(runs), align=align),), RAG[cell.rag][2] if cell.rag in RAG else band))
        rows.append(cells)
        texts.append(["".join(r.text for r in c.paras[0].runs) for c in cells])
    suppressed = any(c.suppressed for row in block.rows for c in row)
    notes = _suppression_note(deck.pack, block.footnotes, suppressed)
    if any(c.rag for row in block.rows for c in row):
        notes.append("R, A, G: red, amber, green rating (also shown by the cell's shading).")
    widths = _one_line(
        _widths(deck.body.width, [max(c.width, len(c.name)) for c in block.columns]),
        [c.name for c in block.columns],
        texts,
        TABLE_PT,
    )
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

    return _flow_table(deck, block.title, block.caption, header, rows, widths, TABLE_PT, notes, describe, keep_with)
