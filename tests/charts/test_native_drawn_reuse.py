"""A chart drawn a second time (the same spec for Word, then for PowerPoint) is made from the first drawing's bytes
(charts.native_pptx._DRAWN); it must be exactly what drawing it again gives: the same chart part, workbook, part
names and relationships, in a deck and in a Word document."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from docx import Document
from docx.shared import Inches as DocxInches
from pptx import Presentation
from pptx.util import Inches
from spc_cases import case_result

from reporting.charts import native_pptx, spc_chart
from reporting.charts.native_docx import WordCharts
from reporting.charts.native_pptx import add_native_chart
from reporting.charts.spec import ChartSpec


@pytest.fixture
def specs() -> Iterator[list[ChartSpec]]:
    made = []
    for case in ("11_two_in_three_both_sides", "17_rebase_two_groups"):
        points, summary = case_result(case)
        made.append(spc_chart(points.sort_values("x"), summary, title=case))
    native_pptx._DRAWN.clear()
    yield made
    native_pptx._DRAWN.clear()


def _parts(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("core.xml")}


def _deck(specs: list[ChartSpec]) -> dict[str, bytes]:
    deck = Presentation()
    for spec in specs:
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        add_native_chart(slide.shapes, spec, Inches(1), Inches(1), Inches(8), Inches(4.5))
    out = io.BytesIO()
    deck.save(out)
    return _parts(out.getvalue())


def _paper(specs: list[ChartSpec]) -> dict[str, bytes]:
    document = Document()
    charts = WordCharts(document)
    for spec in specs:
        charts.add(document.add_paragraph().add_run(), spec, DocxInches(6), DocxInches(3.4), title="t", description="d")
    out = io.BytesIO()
    document.save(out)
    return _parts(out.getvalue())


def test_a_chart_drawn_again_is_the_bytes_of_drawing_it_again(specs: list[ChartSpec]) -> None:
    drawn = _deck(specs)  # drawn, and kept
    assert len(native_pptx._DRAWN) == len(specs)
    reused = _deck(specs)  # every chart from the kept bytes
    native_pptx._DRAWN.clear()
    assert reused == drawn
    assert any(n.startswith("ppt/charts/") for n in drawn) and any(n.startswith("ppt/embeddings/") for n in drawn)


def test_word_then_powerpoint_as_a_board_paper_draws_them(specs: list[ChartSpec]) -> None:
    fresh_paper = _paper(specs)
    native_pptx._DRAWN.clear()
    fresh_deck = _deck(specs)
    native_pptx._DRAWN.clear()
    assert _paper(specs) == fresh_paper and _deck(specs) == fresh_deck  # the deck's charts came from Word's


def test_the_comparison_would_see_a_changed_chart(specs: list[ChartSpec]) -> None:
    drawn = _deck(specs)
    key = specs[0].content_hash()
    xml, xlsx = native_pptx._DRAWN[key]
    assert b'<c:date1904 val="0"/>' in xml
    native_pptx._DRAWN[key] = (xml.replace(b'<c:date1904 val="0"/>', b'<c:date1904 val="1"/>'), xlsx)
    assert _deck(specs) != drawn
