"""A chart's separate notes (the text blocks right after it: "1 organisation is not shown", "Not ranked: ...")
print on the chart's page of the workbook, never alone on the next (issue 13: page 11 of the RJ1 monthly
workbook). Read from LibreOffice's own print layout: the .xlsx converted to PDF, page by page."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from notes_pages import pages_of_notes_only
from office import to_pdf

from reporting.packs.render import xlsx as R
from reporting.packs.render.xlsx import blocks as xlsx_blocks
from reporting.packs.tree import ChartBlock, Heading, Pack, Section, Text

NOTES = tuple(
    Text((f"Note {i} on the chart above: one organisation is not shown, to protect small numbers (*).",), "note")
    for i in range(3)
)


def _charts_with_notes(charted_sample: Pack) -> tuple[Pack, list[str]]:
    """Three charts on one sheet, each followed by three separate notes: the second chart fits the first page
    only without its notes."""
    chart = next(b for s in charted_sample.sections for b in s.blocks if isinstance(b, ChartBlock))
    blocks = []
    for i in range(3):
        blocks += [chart, *NOTES] if i else [Heading("Charts", 1), chart, *NOTES]
    pack = dataclasses.replace(charted_sample, sections=(Section("Charts", tuple(blocks)),))
    return pack, [p for t in NOTES for p in t.paragraphs]


def test_a_charts_separate_notes_print_on_its_page(charted_sample: Pack, tmp_path: Path) -> None:
    pack, notes = _charts_with_notes(charted_sample)
    pdf = to_pdf(R.render(pack, tmp_path / "charts.xlsx"), tmp_path)
    assert pages_of_notes_only(pdf, notes) == []


def test_the_check_finds_notes_alone_when_the_chart_does_not_count_them(
    charted_sample: Pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_blocks, "_notes_after_px", lambda sheet, chart: 0.0)  # the renderer as it was
    pack, notes = _charts_with_notes(charted_sample)
    pdf = to_pdf(R.render(pack, tmp_path / "charts.xlsx"), tmp_path)
    assert pages_of_notes_only(pdf, notes), "the check did not find the notes alone"


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_no_page_of_the_monthly_workbook_holds_only_notes(assembled, renderer, tmp_path: Path, org: str) -> None:
    pack: Pack = assembled("monthly-performance", org=org)
    specs = pack.chart_specs()
    images = renderer.render(specs)
    pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
    notes = [
        p for s in pack.sections for b in s.blocks if isinstance(b, Text) and b.style == "note" for p in b.paragraphs
    ]
    notes += [
        n for s in pack.sections for b in s.blocks if isinstance(b, ChartBlock) for n in (b.caption, b.notes) if n
    ]
    pdf = to_pdf(R.render(pack, tmp_path / f"monthly-{org}.xlsx"), tmp_path)
    assert pages_of_notes_only(pdf, notes) == []
