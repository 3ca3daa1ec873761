"""PowerPoint renderer: tables drawn row by row, split between rows onto continued slides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pptx.oxml.ns import qn
from pptx.util import Pt

from reporting.packs import _pptx_xml as X
from reporting.packs.render._brand import current as _b
from reporting.packs.render._text_fit import (
    PARA_GAP_EM,
    WIDTH_MARGIN,
    _em,
    _height,
    _Para,
    _paras,
    _Run,
)
from reporting.packs.render.pptx.deck import (
    CAPTION_PT,
    CELL_INSET_X,
    CELL_INSET_Y,
    GAP,
    LANGUAGE,
    TABLE_PT,
    TEXT_INSET,
    TextOverflowError,
    _Box,
    _Deck,
    _text_box,
)
from reporting.packs.tree import (
    SUPPRESSED_NOTE,
    Pack,
)

# ---------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    paras: tuple[_Para, ...]
    fill: str | None = None
    min_height: int = 0
    overlay: Callable[[Any, _Box], None] | None = None  # draws a picture/chart over the cell (sparklines, icons)
    indent: int = 0  # extra left margin, room for an overlay drawn at the cell's left (an MDC icon)


def _cell(
    text: str, *, align: Any = None, bold: bool = False, colour: str | None = None, fill: str | None = None
) -> _Cell:
    return _Cell((_Para((_Run(text, bold=bold, colour=colour),), align=align),), fill)


def _row_height(cells: Sequence[_Cell], widths: Sequence[int], size: float) -> int:
    inner = [_height(c.paras, size, w - 2 * CELL_INSET_X - c.indent) + 2 * CELL_INSET_Y for c, w in zip(cells, widths)]
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
            if spec.indent:
                tcs[i][j].find(qn("a:tcPr")).set("marL", str(CELL_INSET_X + spec.indent))
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

    rest = _caption_after(title, caption)

    def caption_paras(part: int) -> list[_Para]:
        runs = [_Run(title + (" (continued)" if part else ""), bold=True, colour=_b().primary_dark)]
        if rest and not part:
            runs.append(_Run(f" – {rest}", colour=_b().muted))
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


def _caption_after(title: str, caption: str) -> str:
    """What the caption adds to the title: a caption that opens with the title ("Headlines: latest week and month,
    Guy's ... week of 25 August 2025") is not printed after it twice."""
    if caption.casefold().startswith(title.casefold()):
        return caption[len(title) :].lstrip(" ,;:–-")
    return caption


def _widths(total: int, weights: Sequence[float]) -> list[int]:
    scale = sum(weights)
    widths = [int(total * w / scale) for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _word_width(words: Sequence[str], size: float, bold: bool) -> int:
    """EMU the longest of `words` needs on one line, measured by the fitting rule, cell insets included."""
    return int(Pt(max((_em(w, bold) for w in words), default=0) * size * WIDTH_MARGIN)) + 2 * CELL_INSET_X + 1


def _unbroken(widths: Sequence[int], header: Sequence[str], body: Sequence[Sequence[str]], size: float) -> list[int]:
    """`widths` moved between columns so no word breaks inside ("Ra nk", "AM R"): each column gets at least its
    longest word (the header's in bold, else the body's), taken from the columns with room to spare; header words
    alone where every word cannot fit, and `widths` unchanged where not even those can."""
    columns = list(zip(*body)) if body else [() for _ in header]
    for words_of in (
        lambda j: [*header[j].split()] + [w for text in columns[j] for w in text.split()],
        lambda j: header[j].split(),
    ):
        need = [
            max(_word_width(header[j].split(), TABLE_PT, True), _word_width(words_of(j), size, False))
            for j in range(len(header))
        ]
        if sum(need) > sum(widths):
            continue
        out = [max(w, n) for w, n in zip(widths, need)]
        excess = sum(out) - sum(widths)
        spare = [o - n for o, n in zip(out, need)]
        total_spare = sum(spare)
        out = [o - excess * sp // total_spare if total_spare else o for o, sp in zip(out, spare)]
        out[max(range(len(out)), key=lambda j: out[j] - need[j])] += sum(widths) - sum(out)
        return out
    return list(widths)


def _suppression_note(pack: Pack, footnotes: Sequence[str], any_suppressed: bool) -> list[str]:
    notes = list(footnotes)
    if any_suppressed and not any(n.lstrip().startswith("*") for n in notes):
        pack_note = next((n for n in pack.footnotes if n.lstrip().startswith("*")), None)
        notes.append(pack_note or SUPPRESSED_NOTE.split(":")[0] + " by disclosure control (small numbers).")
    return notes


def _header(names: Sequence[str], aligns: Sequence[Any]) -> list[_Cell]:
    return [_cell(n, align=a, bold=True, colour=_b().white, fill=_b().primary) for n, a in zip(names, aligns)]


_RIGHT = {"number", "percent", "count"}
