"""PowerPoint renderer: tables drawn row by row, split between rows onto continued slides."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from reporting.packs import _pptx_xml as X
from reporting.packs.render._brand import current as _b
from reporting.packs.render._caption import caption_rest
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
    TEXT_PT,
    TextOverflowError,
    _Box,
    _Deck,
    _flow_text,
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
) -> None:
    top = deck.cursor
    frame = deck.slide.shapes.add_table(len(rows), len(widths), deck.body.left, top, sum(widths), sum(heights))
    table = frame.table
    X.set_table_header_row(table)
    table.horz_banding = False
    # straight onto a:gridCol and a:tr: python-pptx's column width and row height setters each re-add every
    # column or row to resize the frame, to the sums add_table was given (set again below, as they would be)
    for grid_col, w in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        grid_col.w = Emu(w)
    for tr, h in zip(table._tbl.tr_lst, heights, strict=True):
        tr.h = Emu(h)
    frame.width, frame.height = Emu(sum(widths)), Emu(sum(heights))
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
    X.set_alt_text(frame, title, description)
    for draw, box in overlays:
        draw(deck.slide, box)
    deck.advance(sum(heights))


#: a table does not start on a slide already holding other blocks with fewer rows than this: it starts afresh
MIN_PART_ROWS = 3


def _split(heights: Sequence[int], first_room: int, room: int, after: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each part of a table whose rows are `heights` tall: the first part gets `first_room`, each
    later part `room`, and the last part `after` less, room for the text that follows the table (its notes), so
    that text is never left alone on a slide of its own.

    The parts are as few as fit, then as even as fit (14, 13, 13 rows, never 17, 17, 6: no slide carries one or
    two continuation rows; 6 and 5 with the notes under the 5), the larger ones first. A part of no rows means a
    row taller than the room it is given: `[(i, i)]` for the first such row (row 0 when even it does not fit
    `first_room`), or, when only `after` leaves no room, no parts fit with that text (the caller tries without)."""
    total = len(heights)
    ends = [0]
    for h in heights:
        ends.append(ends[-1] + h)

    def fits(n: int, lo: int, hi: int) -> list[tuple[int, int]] | None:
        """The parts when the table is in `n` parts of `lo` to `hi` rows each, larger parts first, else None."""
        memo: dict[tuple[int, int], bool] = {}

        def limit(k: int) -> int:
            return (first_room if k == 0 else room) - (after if k == n - 1 else 0)

        def counts(k: int, i: int) -> range:  # how many rows part k may take from row i, most first
            return range(min(hi, bisect_right(ends, ends[i] + limit(k)) - 1 - i), lo - 1, -1)

        def rest(k: int, i: int) -> bool:  # rows i.. make parts k..n-1
            if k == n:
                return i == total
            if (k, i) not in memo:
                memo[k, i] = any(rest(k + 1, i + c) for c in counts(k, i))
            return memo[k, i]

        if not rest(0, 0):
            return None
        parts, i = [], 0
        for k in range(n):
            c = next(c for c in counts(k, i) if rest(k + 1, i + c))
            parts.append((i, i + c))
            i += c
        return parts

    fewest, i = 0, 0  # filled greedily without `after`: no split has fewer parts
    while i < total:
        take = bisect_right(ends, ends[i] + (first_room if fewest == 0 else room)) - 1 - i
        if take <= 0:
            break
        fewest, i = fewest + 1, i + take
    for n in range(max(fewest, 1), total + 1) if i == total else ():
        if fits(n, 1, total) is None:
            continue
        for spread in range(total):
            for lo in range(total // n, max(0, -(-total // n) - spread - 1), -1):
                parts = fits(n, lo, lo + spread)
                if parts is not None:
                    return parts
    too_tall = next((i for i, h in enumerate(heights) if h > room), None)
    return [(too_tall, too_tall)] if too_tall is not None else [(0, 0)]


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
    keep_with: Sequence[int] = (),
) -> int | None:
    """Header + rows, split between rows across continued slides with the header repeated on each part.

    `keep_with` are the heights, at the sizes it may take (its own, then smaller), of the text that follows the
    table in the pack (its notes, a key to its icons): where the table and that text fit one slide together, the
    table starts where both fit; a longer table leaves room for that text under its last part (`_split`), so the
    text is not left alone on the next slide. Returns which of the sizes the table left room for (None: none).

    A table that fits one slide is never split: when the current slide has no room for all of it, it starts a
    fresh one. A longer table is split into even parts (`_split`); each later part goes on a slide titled with
    the table's own title, "(continued)", whatever heading the table sat under.
    """
    rest = caption_rest(title, caption)
    cap = [
        _Para(
            (
                _Run(title, bold=True, colour=_b().primary_dark),
                *((_Run(f" – {rest}", colour=_b().muted),) if rest else ()),
            )
        )
    ]
    width = deck.body.width
    if not body:  # a header over nothing is not a table: one sentence says so, with the table's notes
        said = _Para((_Run(title, bold=True, colour=_b().primary_dark), _Run(": no rows for this period.")))
        _flow_text(deck, [said, *_paras(footnotes, colour=_b().muted)], TEXT_PT["note"])
        return None
    head_h = _row_height(header, widths, TABLE_PT)
    heights = [_row_height(row, widths, size) for row in body]
    cap_h = _height(cap, CAPTION_PT, width) + 2 * TEXT_INSET

    notes = _paras(footnotes, colour=_b().muted)
    foot_h = _height(notes, TABLE_PT, width) + 2 * TEXT_INSET + GAP if notes else 0
    frame_h = cap_h + GAP + head_h + foot_h  # the first part: caption, header row, footnotes
    later_room = deck.body.height - head_h - foot_h  # a continued part: the slide's title names the table

    def plan(first_room: int) -> tuple[list[tuple[int, int]], int | None]:
        """The parts, and which of `keep_with`'s sizes the last part leaves room for (None: none does, and the
        text after the table flows on by itself). Fewest parts first, then the text's own size; never a
        continued part of fewer than MIN_PART_ROWS rows for the text's sake (a short table stays whole)."""
        options = [(_split(heights, first_room, later_room, h), k) for k, h in enumerate(keep_with)]
        options = [
            (parts, k)
            for parts, k in options
            if parts[0][1] > parts[0][0] and all(e - s >= MIN_PART_ROWS for s, e in parts[1:])
        ]
        bare = _split(heights, first_room, later_room)
        if not options or min(len(p) for p, _ in options) > len(bare) + 1:  # the text's slide is the cheaper
            return bare, None
        return min(options, key=lambda o: (len(o[0]), o[1]))

    def whole(parts: list[tuple[int, int]]) -> bool:
        return len(parts) == 1 and parts[0][1] > parts[0][0]

    if deck.slide is not None and deck.filled:
        here, _ = plan(deck.remaining - frame_h)
        if not whole(here) and (
            whole(plan(deck.body.height - frame_h)[0]) or here[0][1] - here[0][0] < min(MIN_PART_ROWS, len(heights))
        ):
            deck.fresh_slide()
    if deck.slide is None:
        deck.fresh_slide()
    deck.prose = False
    parts, kept = plan(deck.remaining - frame_h)
    for part, (start, end) in enumerate(parts):
        if end == start:
            raise TextOverflowError(
                deck.where, f"row {start + 1} of table '{title}' is taller than a slide; shorten the text in that row"
            )
        label = title + (" (continued)" if part else "")
        if part:
            deck.end_slide()
            deck.fresh_slide(label)
            deck.prose = False
        else:
            _text_box(deck, cap, CAPTION_PT, cap_h)
        _draw_table(
            deck,
            [header, *body[start:end]],
            widths,
            [head_h, *heights[start:end]],
            size,
            label,
            describe(start, end),
        )
        if notes:
            _text_box(deck, notes, TABLE_PT, foot_h - GAP)
    return kept


def _widths(total: int, weights: Sequence[float]) -> list[int]:
    scale = sum(weights)
    widths = [int(total * w / scale) for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _word_width(words: Sequence[str], size: float, bold: bool) -> int:
    """EMU the longest of `words` needs on one line, measured by the fitting rule, cell insets included."""
    return int(Pt(max((_em(w, bold) for w in words), default=0) * size * WIDTH_MARGIN)) + 2 * CELL_INSET_X + 1


def _one_line(widths: Sequence[int], header: Sequence[str], body: Sequence[Sequence[str]], size: float) -> list[int]:
    """`widths` re-cut so every body cell is on one line (an organisation's long name is not wrapped while a
    column of numbers has room to spare: the rows stay one line tall and a league table fits one slide), where
    that fits; the room left goes first to headers that would wrap, then in proportion to `widths`. Else
    `_unbroken`'s words-never-break rule."""
    total = sum(widths)
    columns = list(zip(*body)) if body else [() for _ in header]
    need = [
        max(_word_width(header[j].split(), TABLE_PT, True), _word_width(list(columns[j]), size, False))
        for j in range(len(header))
    ]
    if not body:
        return _unbroken(widths, header, body, size)
    if sum(need) > total:
        cuts = [_unbroken(widths, header, body, size), _one_long(widths, header, columns, need, size)]
        return min((c for c in cuts if c is not None), key=lambda c: _table_height(c, header, body, size))
    head = [max(n, _word_width([header[j]], TABLE_PT, True)) for j, n in enumerate(need)]
    spare = total - sum(need)
    short = sum(h - n for h, n in zip(head, need))
    out = [n + ((h - n) * spare // short if short else 0) for n, h in zip(need, head)] if short > spare else head
    rest = total - sum(out)
    out = [o + rest * w // total for o, w in zip(out, widths)]
    out[-1] += total - sum(out)
    return out


def _one_long(
    widths: Sequence[int], header: Sequence[str], columns: Sequence[Sequence[str]], need: Sequence[int], size: float
) -> list[int] | None:
    """Where not every cell fits one line: every column but the one with the longest cells (a league table's
    organisation names) on one line, under a header of two lines at most, and that column the rest, where the
    rest holds its longest word; the rows are then as short as the long column lets them be. None where not."""
    total = sum(widths)
    long = max(range(len(need)), key=lambda j: need[j])
    out = [max(n, _two_lines(header[j])) for j, n in enumerate(need)]
    rest = total - sum(o for j, o in enumerate(out) if j != long)
    words = [w for text in columns[long] for w in text.split()]
    if rest < max(_word_width(header[long].split(), TABLE_PT, True), _word_width(words, size, False)):
        return None
    out[long] = rest
    return out


def _table_height(widths: Sequence[int], header: Sequence[str], body: Sequence[Sequence[str]], size: float) -> int:
    """The height of a plain-text table cut to `widths`, by the fitting rule: how two cuts are compared."""
    rows = [[_cell(t, bold=True) for t in header]] + [[_cell(t) for t in row] for row in body]
    return sum(_row_height(row, widths, TABLE_PT if i == 0 else size) for i, row in enumerate(rows))


def _two_lines(header: str) -> int:
    """EMU a bold header needs to sit on two lines at most ("Trolley waits over / 4 hours (%)")."""
    words = header.split()
    return min(
        _word_width([" ".join(words[:k]), " ".join(words[k:])], TABLE_PT, True) for k in range(1, max(len(words), 2))
    )


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
