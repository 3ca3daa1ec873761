"""Issue 13a, item 5: the monthly report has a written summary (the executive summary, shorter: `parts:`) under
a "Summary" heading, so the Word contents list it as the deck does; a bad part is refused with file:line."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.packs.template_load import load_template
from reporting.packs.tree import Heading, Pack, SummaryTable, Text

REPO = Path(__file__).resolve().parents[2]


def test_the_monthly_summary_is_written_and_headed(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    first = pack.sections[0]
    headings = [b.text for b in first.blocks if isinstance(b, Heading)]
    assert headings[:1] == ["Summary"] and first.title == "Summary"  # the Word contents list the section
    assert headings[1:] == [
        "Overview",
        "What needs the Board's attention",
        "What has improved",
        "What the data cannot tell us yet",
        "Performance summary",  # the table's own heading: not under the summary's last part
    ]  # shorter than the Board paper's: no "What is stable", no asks
    before_table = []
    for block in first.blocks:
        if isinstance(block, SummaryTable):
            break
        if isinstance(block, Text):
            before_table += block.paragraphs
    assert before_table[0].startswith("This summary covers seven measures for July 2025.")
    assert any("May 2025 and June 2025" in p for p in before_table)


def test_the_board_paper_keeps_every_part(assembled: Callable[..., Pack]) -> None:
    headings = [b.text for b in assembled("board", org="RJ1").sections[0].blocks if isinstance(b, Heading)]
    assert "What is stable" in headings and "What the Board is asked to do" in headings


def test_a_part_that_does_not_exist_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "packs"
    folder.mkdir(parents=True)
    (tmp_path / "templates" / "metrics.yaml").write_text((REPO / "templates" / "metrics.yaml").read_text())
    (folder / "t.yaml").write_text(
        textwrap.dedent(
            """\
            pack: t
            title: T
            cadence: monthly
            formats: [docx]
            sections:
              - title: One
                blocks:
                  - executive_summary: {parts: [overview, asks, summary]}
            """
        )
    )
    with pytest.raises(ConfigError) as info:
        load_template(tmp_path, "t")
    message = str(info.value)
    assert info.value.line == 8 and str(info.value.file).endswith("t.yaml")
    assert "summary" in message and "overview" in message and "unknown" in message  # lists the choices
