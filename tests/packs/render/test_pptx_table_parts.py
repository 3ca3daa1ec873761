"""A table split over slides leaves room for the notes under it (issue 13): its parts are as few as fit and as
even as fit, no part is without rows, and the text after the table is never alone on a slide of its own (the
NOF league table for a trust with long names: 6 and 5 rows, the notes under the 5, not a third slide 13% full)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pptx import Presentation
from sample_pack import sample_pack

from reporting.packs.render import pptx as R
from reporting.packs.render.pptx.tables import _split
from reporting.packs.tree import Cell, Column, DataTable, Section, Text


def _check(heights: list[int], first: int, room: int, after: int) -> list[int]:
    """The part sizes `_split` gives, after checking every rule a split must keep."""
    parts = _split(heights, first, room, after)
    sizes = [e - s for s, e in parts]
    assert all(sizes), parts  # no part without rows
    assert parts[0][0] == 0 and parts[-1][1] == len(heights)
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))  # contiguous, in order
    for k, (s, e) in enumerate(parts):
        limit = (first if k == 0 else room) - (after if k == len(parts) - 1 else 0)
        assert sum(heights[s:e]) <= limit, (k, parts)  # the last part leaves room for the notes
    return sizes


@pytest.mark.parametrize("after", [0, 1, 3, 6, 10])
@pytest.mark.parametrize("rows", range(1, 50))
def test_parts_leave_room_for_the_notes_and_are_even_where_they_can_be(rows: int, after: int) -> None:
    sizes = _check([1] * rows, 17, 17, after)
    fewest = next(n for n in range(1, rows + 1) if rows <= 17 * n - after)
    assert len(sizes) == fewest  # as few parts as fit
    # within one row of each other, unless the notes keep the last part short: then it is as full as it can be
    assert max(sizes) - min(sizes) <= 1 or sizes[-1] == 17 - after, sizes


def test_uneven_rows_split_evenly_with_the_notes_under_the_last_part() -> None:
    """The RXW league table as measured (points): 11 rows of one or two lines, the notes 70 pt."""
    league = [36] * 9 + [22, 36]
    assert _check(league, 252, 284, 0) == [6, 5]
    assert _check(league, 252, 284, 70) == [6, 5]  # the 5 leave room for the notes
    assert _check([1] * 40, 17, 17, 0) == [14, 13, 13]
    assert _check([1] * 20, 17, 17, 10) == [13, 7]  # 7 rows and the notes fill the last slide


def test_a_row_taller_than_a_slide_is_named_and_notes_that_fit_no_part_are_not_forced() -> None:
    assert _split([1, 20, 1], 17, 17) == [(1, 1)]  # the caller names row 2
    assert _split([1] * 5, -3, 17) == [(0, 0)]  # nothing fits the room left on the slide: start afresh
    assert _split([1] * 5, 17, 17, 17) == [(0, 0)]  # no part can hold a row and the notes: they go on alone


def _long_table(rows: int) -> DataTable:
    columns = (Column("Organisation"), Column("Value", "number"))
    body = tuple((Cell(f"Trust {i}", f"Trust {i}"), Cell(i, str(i), "number")) for i in range(rows))
    return DataTable("League", columns, body, caption="League – every trust", footnotes=("Method: as published.",))


def _slides(path: Path) -> list[tuple[str, list[int], list[str]]]:
    """(title, rows of each table, texts of the other boxes) per content slide."""
    out = []
    for s in Presentation(str(path)).slides:
        if s.slide_layout.name != "Title Only":
            continue
        tables = [len(sh.table.rows) - 1 for sh in s.shapes if sh.has_table]
        texts = [sh.text_frame.text for sh in s.shapes if sh.has_text_frame and not sh.is_placeholder]
        out.append((s.shapes.title.text, tables, texts))
    return out


@pytest.mark.parametrize("rows", [18, 30, 31, 40])
@pytest.mark.parametrize("notes", [1, 2, 3])
def test_the_notes_after_a_split_table_share_its_last_slide(tmp_path: Path, rows: int, notes: int) -> None:
    after = tuple(Text((f"Note {i}: one organisation is not shown, to protect small numbers.",)) for i in range(notes))
    pack = dataclasses.replace(sample_pack(), sections=(Section("Compare", (_long_table(rows), *after)),))
    slides = _slides(R.render(pack, tmp_path / "t.pptx"))
    parts = [t for _, tables, _ in slides for t in tables]
    assert sum(parts) == rows and len(parts) >= 2 and min(parts) >= 3, parts  # evenness: the tests above
    for title, tables, texts in slides:
        assert tables, f"'{title}' holds only text: {texts}"  # the notes are never alone
    last = slides[-1][2]
    assert all(any(f"Note {i}:" in t for t in last) for i in range(notes)), last


def test_a_short_table_is_not_cut_into_tiny_parts_for_its_notes(tmp_path: Path) -> None:
    """Four rows that fit a fresh slide but not with long notes: the table stays whole and the notes go on, rather
    than two parts of two rows."""
    long_note = Text(("A long note that fills much of a slide on its own, said again and again. " * 30,))
    pack = dataclasses.replace(sample_pack(), sections=(Section("Compare", (_long_table(4), long_note)),))
    slides = _slides(R.render(pack, tmp_path / "t.pptx"))
    assert [t for _, tables, _ in slides for t in tables] == [4]
