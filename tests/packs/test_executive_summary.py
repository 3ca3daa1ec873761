"""The Board paper's executive summary (issue 13): written from the statistics, in the parts boards expect,
plain English, never repeating a sentence of the pack, adapting to commentary, rewritable from the workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import textstat
from openpyxl import load_workbook
from project_fixtures import assemble_pack

from reporting.errors import DataError
from reporting.packs.commentary import SUMMARY_PARTS, read_commentary, summary_rows, write_commentary_workbook
from reporting.packs.tree import Commentary, Heading, Pack, Section, SummaryTable, Text
from reporting.project import Project

PARTS = (
    "Overview",
    "What needs the Board's attention",
    "What has improved",
    "What is stable",
    "What the data cannot tell us yet",
    "What the Board is asked to do",
)
#: Flesch reading ease: 60-70 is "plain English" (about age 13-15), what NHS England asks of public papers
MIN_READING_EASE = 60


def summary(pack: Pack) -> dict[str, list[str]]:
    """{part heading: paragraphs} of the executive summary (from "Overview" to the performance table)."""
    parts: dict[str, list[str]] = {}
    current: str | None = None
    for block in pack.sections[0].blocks:
        if isinstance(block, Heading) and block.text == "Overview":
            current = block.text
        if current is None:
            continue
        if isinstance(block, SummaryTable) or (isinstance(block, Heading) and block.text == "Performance summary"):
            break  # the table and its own heading follow the summary
        if isinstance(block, Heading):
            current = block.text
            parts[current] = []
        elif isinstance(block, Text):
            parts[current].extend(block.paragraphs)
    return parts


def pack_sentences(pack: Pack) -> Iterator[str]:
    """Every sentence a reader meets: paragraphs, table narratives, commentary and footnotes."""
    texts: list[str] = list(pack.footnotes)
    for block in pack.blocks():
        if isinstance(block, Text):
            texts += block.paragraphs
        elif isinstance(block, SummaryTable):
            texts += [r.narrative for r in block.rows if r.narrative]
        elif isinstance(block, Commentary):
            texts += [block.commentary, block.actions]
    for text in texts:
        yield from (s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip())


def repeated(pack: Pack) -> list[str]:
    seen: set[str] = set()
    twice = []
    for sentence in pack_sentences(pack):
        if sentence in seen:
            twice.append(sentence)
        seen.add(sentence)
    return twice


def reading_ease(parts: Mapping[str, list[str]]) -> float:
    return float(textstat.flesch_reading_ease(" ".join(p for paragraphs in parts.values() for p in paragraphs)))


def test_parts_in_the_order_boards_expect(assembled: Callable[..., Pack]) -> None:
    for org in ("RJ1", "RXW"):
        parts = summary(assembled("board", org=org))
        assert [h for h in parts if h in PARTS] == list(PARTS), org
        assert all(parts[h] for h in parts), f"{org}: a part with no paragraph"


def test_rj1_summary_reads_the_statistics(assembled: Callable[..., Pack]) -> None:
    parts = summary(assembled("board", org="RJ1"))
    # RJ1, July 2025: every current measure common cause; A&E meets 78% this month but not reliably
    assert parts["What needs the Board's attention"][0].startswith("Nothing in July 2025")
    stable = " ".join(parts["What is stable"])
    assert "A&E 4-hour performance (78.1% in July 2025, against a 78% target)" in stable  # which figure (13a)
    # the 12-month peer figure says it is one, so 75.8% is not read against the month's 78.1%
    assert "Over the 12 months from August 2024 to July 2025, A&E 4-hour performance was 75.8%" in stable
    # special cause improvement in May and June 2025 (Table 4) is told, though July is back in the usual range
    assert summary(assembled("board", org="RJ1"))["What has improved"][0].startswith(
        "A&E 4-hour performance was better than usual in May 2025 and June 2025."
    )
    assert "Steady within the usual range, with no target: A&E attendances" in stable
    unknown = " ".join(parts["What the data cannot tell us yet"])
    assert "Discharges before 5pm (the latest are for the week of 22 May 2023)" in unknown  # stale, with its period
    assert "from October 2023 onwards cannot be set against earlier ones" in unknown  # the annotated break
    assert "No figures were supplied for February 2025 and March 2025" in unknown  # the gap in the series


def test_concerns_say_since_when_and_how_big(assembled: Callable[..., Pack]) -> None:
    parts = summary(assembled("board", org="RXW"))
    attention = parts["What needs the Board's attention"]
    # failing assurance: since when (every month shown) and the size of the shortfall in percentage points
    assert attention[0].startswith("A&E 4-hour performance has missed the 78% target in all 22 months with figures")
    assert re.search(r"was \d+\.\d percentage points below it in July 2025", attention[0])
    # special cause concern: the first point of the current signal, latest vs the mean in the metric's units
    assert re.search(
        r"Trolley waits .* has been worse than usual since \w+ 20\d\d\. At \d+\.\d% in July 2025, it is "
        r"\d+\.\d percentage points higher than the usual level of \d+\.\d%\.",
        attention[1],
    )
    # the funnel against acute peers, in the same measure's paragraph (the overview counts two measures, and
    # two paragraphs follow), saying its figure is for 12 months
    assert re.search(
        r"Over the 12 months from August 2024 to July 2025, A&E 4-hour performance was \d+\.\d%: below the "
        r"range expected around the average of \d+\.\d% for [\w,-]+ other non-specialist acute trusts with a type 1 A&E\.$",
        attention[0],
    )
    assert (
        len(attention) == 2
        and "Two need the Board's attention" in summary(assembled("board", org="RXW"))["Overview"][0]
    )
    asks = parts["What the Board is asked to do"]
    assert asks[0].startswith("Seek assurance on the recovery plan for A&E 4-hour performance")
    assert any("Trolley waits" in a and "recovery plan" in a for a in asks)


def test_a_trust_without_stale_data_does_not_say_so(assembled: Callable[..., Pack]) -> None:
    unknown = " ".join(summary(assembled("board", org="RYG"))["What the data cannot tell us yet"])
    assert "no current figures" not in unknown
    assert "no current figures" in " ".join(summary(assembled("board", org="RJ1"))["What the data cannot tell us yet"])


@pytest.mark.parametrize("name", ["board", "monthly-performance", "weekly-executive"])
@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_no_sentence_appears_twice_in_a_shipped_pack(assembled: Callable[..., Pack], name: str, org: str) -> None:
    assert repeated(assembled(name, org=org)) == []


def test_the_repetition_check_finds_a_repeated_sentence(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    first = summary(pack)["What needs the Board's attention"][0]
    broken = dataclasses.replace(
        pack, sections=(*pack.sections, Section("Again", (Text((f"Something else. {first}",)),)))
    )
    assert repeated(broken) == [first]


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_plain_english(assembled: Callable[..., Pack], org: str) -> None:
    score = reading_ease(summary(assembled("board", org=org)))
    assert score >= MIN_READING_EASE, f"{org}: Flesch reading ease {score}"


def test_the_readability_measure_fails_on_jargon() -> None:
    jargon = {
        "x": [
            "Statistical process control methodology demonstrates special cause variation characterised by "
            "consecutive observations exceeding the upper process limit, indicating non-random deterioration."
        ]
    }
    assert reading_ease(jargon) < MIN_READING_EASE


def test_purpose_is_one_paragraph(assembled: Callable[..., Pack]) -> None:
    pack = assembled("board", org="RJ1")
    purpose = next(
        b.paragraphs for b in pack.sections[0].blocks if isinstance(b, Text) and b.paragraphs[0].startswith("To give")
    )
    assert len(purpose) == 1 and "\n" not in purpose[0]
    assert purpose[0].endswith("rather than to noise.")


def test_asks_adapt_to_commentary(demo_project: Project, assembled: Callable[..., Pack]) -> None:
    without = assembled("board", org="RXW")
    asks = summary(without)["What the Board is asked to do"]
    assert asks[-1] == (
        "Note this report. Service leads sent no commentary for July 2025, so it rests on the figures alone."
    )
    sentences = list(pack_sentences(without))
    assert not any("actions in the commentary" in s for s in sentences)

    def commentary(period: dt.date, org: str | None) -> dict[str, tuple[str, str, str]]:
        return {"ae_4hr": ("Ambulance handovers slowed flow.", "Open the discharge lounge.", "COO")}

    received = assemble_pack(demo_project, "board", org="RXW", commentary=commentary)
    asks = summary(received)["What the Board is asked to do"]
    assert asks[0].startswith("Seek assurance that the actions in the commentary on A&E 4-hour performance")
    assert any(a.startswith("Seek assurance on the recovery plan for Trolley waits") for a in asks)  # none for it
    assert asks[-1] == "Note this report and the service leads' commentary on the measures it covers."
    assert repeated(received) == []


def _workbook_with_overrides(path: Path, edits: Mapping[str, tuple[str, str]]) -> Path:
    """The commentary workbook as `reporting commentary` writes it for the Board paper, filled in by hand."""
    rows = [("ae_4hr", "A&E 4-hour performance", "July 2025", "52.8%", "", ""), *summary_rows("July 2025")]
    write_commentary_workbook(rows, path, pack_id="board", period=dt.date(2025, 7, 1), title="Board paper")
    wb = load_workbook(path)
    ws = wb["Commentary"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Metric ID")
    cols = {c.value: c.column for c in header}
    for row in ws.iter_rows(min_row=header[0].row + 1):
        if row[0].value in edits:
            replaced, added = edits[row[0].value]
            ws.cell(row=row[0].row, column=cols["Commentary"], value=replaced or None)
            ws.cell(row=row[0].row, column=cols["Actions"], value=added or None)
    wb.save(path)
    return path


def test_analysts_override_and_extend_parts_from_the_workbook(demo_project: Project, tmp_path: Path) -> None:
    path = _workbook_with_overrides(
        tmp_path / "board.xlsx",
        {
            "summary:attention": (
                "A&E 4-hour performance is the one concern.\nIt has been below target all year.\n\n"
                "The recovery plan is in its second month.",
                "",
            ),
            "summary:asks": ("", "Approve the winter plan."),
        },
    )
    known = ["ae_4hr", "trolley_wait_4hr"]
    read = read_commentary(path, pack_id="board", period=dt.date(2025, 7, 1), known_metrics=known)
    assert set(read) == {"summary:attention", "summary:asks"}  # the empty rows are skipped
    pack = assemble_pack(demo_project, "board", org="RXW", commentary=lambda period, org: read)
    parts = summary(pack)
    # Commentary replaces the part (a single line break joins, a blank line starts a paragraph) ...
    assert parts["What needs the Board's attention"] == [
        "A&E 4-hour performance is the one concern. It has been below target all year.",
        "The recovery plan is in its second month.",
    ]
    # ... Actions are added after the generated paragraphs
    asks = parts["What the Board is asked to do"]
    assert asks[0].startswith("Seek assurance on the recovery plan") and asks[-1] == "Approve the winter plan."
    # summary rows are not commentary on a measure: the asks still say none was received
    assert "Service leads sent no commentary for July 2025" in asks[-2]


def test_an_unknown_summary_part_is_refused(tmp_path: Path) -> None:
    rows = [*summary_rows("July 2025"), ("summary:risks", "Risks", "July 2025", "", "", "")]
    path = write_commentary_workbook(rows, tmp_path / "c.xlsx", pack_id="board", period=dt.date(2025, 7, 1))
    wb = load_workbook(path)
    ws = wb["Commentary"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Metric ID")
    ws.cell(row=header[0].row + len(rows), column=6, value="Winter")
    wb.save(path)
    with pytest.raises(DataError, match="unknown part of the executive summary 'summary:risks'") as err:
        read_commentary(path, pack_id="board", period=dt.date(2025, 7, 1), known_metrics=[])
    assert "summary:attention" in str(err.value) and len(SUMMARY_PARTS) == 7


def test_the_commentary_command_writes_the_summary_rows(demo_project: Project, tmp_path: Path) -> None:
    from project_fixtures import copy_project

    from reporting.packs.commentary_files import write_commentary_for_pack

    project = copy_project(demo_project, tmp_path)
    path = write_commentary_for_pack(project, "board", org="RJ1")
    ids = [r[0] for r in load_workbook(path)["Commentary"].iter_rows(min_row=5, values_only=True)]
    written = [p for p in SUMMARY_PARTS if p != "changed"]  # RJ1: no special cause without a better direction
    assert ids[-len(written) :] == [f"summary:{p}" for p in written]
    assert "ae_4hr" in ids  # the measures' rows are still there, first
    # the monthly report's shorter summary: a row for each part it writes, showing the words it wrote
    monthly = write_commentary_for_pack(project, "monthly-performance", org="RJ1")
    rows = list(load_workbook(monthly)["Commentary"].iter_rows(min_row=5, values_only=True))
    assert [r[0] for r in rows if str(r[0]).startswith("summary:")] == [
        "summary:overview",
        "summary:attention",
        "summary:improved",
        "summary:unknown",
    ]
    # the Narrative column holds the generated words the analyst may override, never blank (13a)
    assert all(r[5] for r in rows)
    overview = next(r for r in rows if r[0] == "summary:overview")
    assert str(overview[5]).startswith("This summary covers seven measures for July 2025.")
