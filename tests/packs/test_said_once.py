"""Issue 13a: a pack says a thing once. A metric with no current data is named once per section (not by the
chart's line and again by the narrative under it), and a table that would have no rows is one sentence instead
of a header row over nothing ("Table 9 ... last 0 periods")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from reporting.packs.tree import DataTable, Pack, Section, Text

PACKS = [("board", "RJ1"), ("board", "RXW"), ("monthly-performance", "RJ1"), ("weekly-executive", "RJ1")]
STALE = "no current data"


def repeated_stale_lines(pack: Pack) -> list[tuple[str, int]]:
    """(section, count) of every section that says "no current data" in more than one paragraph."""
    out = []
    for section in pack.sections:
        count = sum(
            STALE in paragraph for block in section.blocks if isinstance(block, Text) for paragraph in block.paragraphs
        )
        if count > 1:
            out.append((section.title, count))
    return out


@pytest.mark.parametrize(("name", "org"), PACKS)
def test_no_current_data_is_said_once_per_section(assembled: Callable[..., Pack], name: str, org: str) -> None:
    pack = assembled(name, org=org)
    assert repeated_stale_lines(pack) == []


def test_the_board_paper_still_says_it_where_the_chart_would_be(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    flow = next(s for s in pack.sections if s.title == "Patient flow and discharge")
    lines = [p for b in flow.blocks if isinstance(b, Text) for p in b.paragraphs if STALE in p]
    assert lines == ["Discharges before 5pm: no current data (latest: week of 22 May 2023), so no chart is shown."]


def test_the_check_finds_a_repeated_line(assembled: Callable[..., Pack]) -> None:
    line = "Discharges before 5pm: no current data (latest: week of 22 May 2023)."
    broken = Section("Flow", (Text((line,), "note"), Text((line,))))
    pack = assembled("board", org="RJ1")
    assert repeated_stale_lines(dataclasses.replace(pack, sections=(broken,))) == [("Flow", 2)]


@pytest.mark.parametrize(("name", "org"), PACKS)
def test_no_table_without_rows(assembled: Callable[..., Pack], name: str, org: str) -> None:
    pack = assembled(name, org=org)
    empty = [b.title for b in pack.blocks() if isinstance(b, DataTable) and not b.rows]
    assert empty == []


def test_an_empty_data_table_is_one_sentence(assembled: Callable[..., Pack]) -> None:
    appendix = next(s for s in assembled("board", org="RJ1").sections if s.title == "Appendix")
    titles = [b.title for b in appendix.blocks if isinstance(b, DataTable)]
    assert not any(t.startswith("Discharges before 5pm") for t in titles)
    said = [
        p for b in appendix.blocks if isinstance(b, Text) for p in b.paragraphs if p.startswith("Discharges before")
    ]
    assert said == ["Discharges before 5pm: no current data (latest: week of 22 May 2023), so no data table is shown."]
