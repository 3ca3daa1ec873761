"""Issue 13a, item 4: an SPC chart's title is plain (measure, organisation, the periods shown); how its limits
were set goes in the caption in plain words, and a break's reason is said once, by the text under the chart."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reporting.packs.tree import ChartBlock, Pack, Text

PACKS = [("board", "RJ1"), ("board", "RXW"), ("monthly-performance", "RJ1"), ("weekly-executive", "RJ1")]
#: words of the method that a lay reader should not meet in a chart's title
JARGON = re.compile(r"σ|Laney|overdispers|p′|u′|chart|Break|Rebased|baseline|Trial", re.IGNORECASE)


def jargon_titles(pack: Pack) -> list[str]:
    return [
        f"{b.spec.title} · {b.spec.subtitle}"
        for b in pack.blocks()
        if isinstance(b, ChartBlock) and b.spec.kind == "spc" and JARGON.search(f"{b.spec.title} {b.spec.subtitle}")
    ]


@pytest.mark.parametrize(("name", "org"), PACKS)
def test_spc_chart_titles_carry_no_method(assembled: Callable[..., Pack], name: str, org: str) -> None:
    assert jargon_titles(assembled(name, org=org)) == []


def test_the_check_finds_method_in_a_title(assembled: Callable[..., Pack]) -> None:
    import dataclasses

    pack = assembled("board", org="RJ1")
    chart = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc")
    old = dataclasses.replace(
        chart, spec=dataclasses.replace(chart.spec, subtitle="p′ chart (Laney): overdispersed, σz 7.62")
    )
    broken = dataclasses.replace(pack, sections=(dataclasses.replace(pack.sections[0], blocks=(old,)),))
    assert len(jargon_titles(broken)) == 1


def test_a_title_names_the_organisation_and_the_periods(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    ae = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.title == "A&E 4-hour performance")
    assert ae.spec.subtitle == "Guy's and St Thomas' NHS Foundation Trust · August 2023 to July 2025"
    assert ae.caption.endswith("SPC chart; limits widened for overdispersion (Laney p′)")


def test_a_break_is_said_once_not_in_the_title(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    urgent = next(s for s in pack.sections if s.title == "Urgent and emergency care")
    reason = "change in how emergency admissions are recorded"
    said = [p for b in urgent.blocks if isinstance(b, Text) for p in b.paragraphs if reason in p]
    charts = [b for b in urgent.blocks if isinstance(b, ChartBlock) and reason in b.spec.subtitle + b.caption]
    assert charts == []
    assert len(said) == 2  # one sentence under each of the two charts with the break, each naming its measure
    assert said[0] != said[1]
