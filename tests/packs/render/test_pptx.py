"""The PowerPoint renderer on the sample pack (every block type), re-opened with python-pptx and LibreOffice."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
from office import pdf_pages, to_pdf
from pptx import Presentation
from pptx.chart.chart import Chart
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.util import Inches, Pt
from sample_pack import AWKWARD, sample_pack

from reporting.errors import ConfigError, ReportingError
from reporting.packs.office_templates import DEFAULT_PPTX
from reporting.packs.render import _text_fit as F
from reporting.packs.render import pptx as R
from reporting.packs.render.pptx.blocks import _block
from reporting.packs.render.pptx.deck import MIN_TEXT_PT
from reporting.packs.tree import Block, ChartBlock, Heading, Pack, Section, SummaryTable, Text

DATA_HEADER = ["Organisation", "Period", "Attendances", "Within 4 hours"]
SUMMARY_HEADER = ["Metric", "Period", "Latest", "Target", "Variation", "Assurance", "Trend"]


@pytest.fixture(scope="session")
def pack(charted_sample: Pack) -> Pack:
    return charted_sample


@pytest.fixture(scope="session")
def deck_path(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return R.render(pack, tmp_path_factory.mktemp("deck") / "sample.pptx")


@pytest.fixture(scope="session")
def deck(deck_path: Path):
    return Presentation(str(deck_path))


def _with_section(pack: Pack, *blocks: Block) -> Pack:
    return dataclasses.replace(pack, sections=(*pack.sections[:1], Section("Urgent care", blocks)))


def _titles(deck) -> list[str]:
    return [s.shapes.title.text if s.shapes.title is not None else "" for s in deck.slides]


def _texts(slide) -> list[str]:
    found = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            found += [p.text for p in shape.text_frame.paragraphs]
        elif shape.has_table:
            found += [cell.text for row in shape.table.rows for cell in row.cells]
    return found


def _tables(deck, header: list[str]):
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.has_table and [c.text for c in shape.table.rows[0].cells] == header:
                yield number, slide, shape


def _descr(shape) -> str:
    return shape._element.xpath("./*[1]/p:cNvPr")[0].get("descr", "")


# --- structure -----------------------------------------------------------------------------------


def test_every_block_type_has_a_function() -> None:
    handled = set(_block.registry) - {object}
    assert handled == set(typing.get_args(Block))


def test_slides_in_order_with_layouts_by_name(deck) -> None:
    titles, layouts = _titles(deck), [s.slide_layout.name for s in deck.slides]
    head = [
        "Sample pack",
        "Contents",
        "Urgent care",
        "Urgent and emergency care",
        "Urgent and emergency care (continued)",
        "League position",
        "League position (continued)",
        "Appendix: data",
        "Data",
    ]
    assert titles[: len(head)] == head
    assert set(titles[len(head) :]) == {"A&E by trust (continued)"}  # a table continues under its own title
    assert layouts[:3] == ["Title Slide", "Title and Content", "Section Header"]
    assert layouts[7] == "Section Header"
    assert {layouts[i] for i in (3, 4, 5, 6)} | set(layouts[8:]) == {"Title Only"}
    agenda = deck.slides[1].placeholders[1].text_frame.text
    assert agenda == "Urgent care   slide 3\nAppendix: data   slide 8"


def test_title_slide_carries_the_cover(deck) -> None:
    text = _texts(deck.slides[0])
    details = "Date: 22 November 2026   ·   For: Board   ·   Report owner: Director   ·   Classification: OFFICIAL"
    assert ["Sample pack", "July 2025", details] == [
        t for t in text if t and not t.startswith("OFFICIAL |") and not t.isdigit()
    ]


def test_footer_and_slide_number_on_every_slide(deck, pack: Pack) -> None:
    for number, slide in enumerate(deck.slides, start=1):
        kinds = {p.placeholder_format.type: p for p in slide.placeholders}
        assert kinds[PP_PLACEHOLDER.FOOTER].text_frame.text == pack.footer
        fields = kinds[PP_PLACEHOLDER.SLIDE_NUMBER]._element.xpath(".//a:fld[@type='slidenum']")
        assert len(fields) == 1 and fields[0].xpath("string(./a:t)") == str(number)


def test_everything_stays_inside_the_body_area(deck) -> None:
    bottom, right = Inches(1.42 + 5.3) + 1, Inches(0.5 + 12.334)
    for slide in list(deck.slides)[3:]:
        for shape in slide.shapes:
            if not shape.is_placeholder:
                assert shape.top + shape.height <= bottom, (slide.shapes.title.text, shape.name)
                assert shape.left >= Inches(0.5) - 1 and shape.left + shape.width <= right


def test_text_is_en_gb(deck) -> None:
    for slide in deck.slides:
        langs = {r.get("lang") for r in slide._element.xpath(".//a:r/a:rPr | .//a:fld/a:rPr")}
        assert langs == {"en-GB"}


# --- accessibility ---------------------------------------------------------------------------------


def test_every_picture_chart_and_table_has_alt_text(deck) -> None:
    seen = 0
    for slide in deck.slides:
        for element in slide.shapes._spTree.xpath(".//p:pic | .//p:graphicFrame"):
            seen += 1
            c_nv_pr = element.xpath("./*[1]/p:cNvPr")[0]
            assert c_nv_pr.get("descr", "").strip(), c_nv_pr.get("name")
    assert seen >= 8  # 2 charts, sparkline, summary table, 4+ data table parts


def test_native_chart_for_the_spc_block(deck, pack: Pack) -> None:
    spc = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc")
    charts = [s for slide in deck.slides for s in slide.shapes if s.has_chart and _descr(s) == spc.spec.alt_text]
    assert len(charts) == 1
    chart: Chart = charts[0].chart
    assert chart.chart_type in (XL_CHART_TYPE.LINE, XL_CHART_TYPE.LINE_MARKERS)
    assert len(list(chart.plots[0].categories)) == len(spc.spec.series[0].x)


def test_image_when_native_is_off(pack: Pack, tmp_path: Path) -> None:
    spc = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc")
    deck = Presentation(str(R.render(_with_section(pack, dataclasses.replace(spc, native=False)), tmp_path / "i.pptx")))
    pictures = [s for s in deck.slides[-1].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1 and _descr(pictures[0]) == spc.spec.alt_text
    box = pictures[0]
    assert abs(box.width / box.height - 16 / 9) < 0.01  # aspect kept, scaled to fit
    assert not any(s.has_chart for s in deck.slides[-1].shapes)


def test_chart_without_native_form_or_image_is_an_error(pack: Pack, tmp_path: Path) -> None:
    spc = next(b for b in pack.blocks() if isinstance(b, ChartBlock) and b.spec.kind == "spc")
    with pytest.raises(ReportingError, match="section 2 'Urgent care', block 1 .*no rendered image"):
        R.render(_with_section(pack, dataclasses.replace(spc, native=False, image=None)), tmp_path / "x.pptx")


# --- tables ----------------------------------------------------------------------------------------


def test_summary_table_icons_are_pictures_beside_their_words(deck) -> None:
    ((number, slide, shape),) = _tables(deck, SUMMARY_HEADER)
    rows = [[c.text for c in r.cells] for r in list(shape.table.rows)[1:]]
    assert rows[0][1:6] == ["July 2025", "78.1%", "78.0%", "Improvement", "Target met inconsistently"]
    assert rows[1][2] == "*" and rows[1][4] == "Concern"
    assert rows[1][0] == f"Trolley waits {AWKWARD}\n=cmd|' /C calc'!A0 is not a formula."
    assert any(t.startswith("* Suppressed") for t in _texts(slide))
    pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    icons = sorted(_descr(p) for p in pictures if _descr(p).startswith(("Variation icon", "Assurance icon")))
    assert icons == [
        "Assurance icon: Target met inconsistently",
        "Variation icon: Special cause concern (high)",
        "Variation icon: Special cause improvement (high)",
    ]
    sparkline = [p for p in pictures if not _descr(p).startswith(("Variation icon", "Assurance icon"))]
    assert len(sparkline) == 1 and _descr(sparkline[0])
    assert shape.table._tbl.tblPr.get("firstRow") == "1"


def test_long_table_splits_with_the_header_repeated(deck, pack: Pack) -> None:
    parts = list(_tables(deck, DATA_HEADER))
    assert len(parts) >= 2
    assert [n for n, _, _ in parts] == list(range(parts[0][0], parts[0][0] + len(parts)))  # consecutive slides
    names = [r.cells[0].text for _, _, shape in parts for r in list(shape.table.rows)[1:]]
    assert names == [f"Trust {i}" for i in range(40)]
    for i, (_, slide, shape) in enumerate(parts):
        if i:  # the slide's title names the table; no caption repeats it
            assert slide.shapes.title.text == "A&E by trust (continued)"
        else:
            assert _texts(slide)[1].startswith("A&E by trust – ")
        assert "* Suppressed: fewer than 5 events." in _texts(slide)
        assert _descr(shape).startswith("Table 'A&E by trust'")
    suppressed = parts[0][2].table.cell(3, 2).text
    assert suppressed == "*"


def test_short_table_stays_on_one_slide(pack: Pack, tmp_path: Path) -> None:
    short = sample_pack(rows=5)
    table = short.sections[-1].blocks[-1]
    deck = Presentation(str(R.render(_with_section(pack, table), tmp_path / "t.pptx")))
    assert len(list(_tables(deck, DATA_HEADER))) == 1


# --- text ------------------------------------------------------------------------------------------


def test_awkward_text_survives_verbatim(deck, pack: Pack) -> None:
    everything = "\n".join(t for slide in deck.slides for t in _texts(slide))
    for text in (
        AWKWARD,
        f"Trolley waits {AWKWARD}",
        "=cmd|' /C calc'!A0 is not a formula.",
        pack.footer,
        "Opening paragraph.",
    ):
        assert text in everything


def test_speaker_notes_carry_sources_and_snapshot(deck, pack: Pack) -> None:
    for slide in deck.slides:
        notes = slide.notes_slide.notes_text_frame.text
        assert pack.provenance.snapshot_hash in notes
        assert "demo:ae_trust_monthly_2021_2025.csv" in notes
    spc_slide = deck.slides[4]
    assert "Source: NHS England A&E" in spc_slide.notes_slide.notes_text_frame.text


def test_long_text_shrinks_within_limits(pack: Pack, tmp_path: Path) -> None:
    text = Text(tuple(["word " * 100] * 5))  # about 3 slides' worth at 18 pt
    deck = Presentation(str(R.render(_with_section(pack, text), tmp_path / "s.pptx")))
    box = next(s for s in deck.slides[-1].shapes if not s.is_placeholder)
    sizes = {r.font.size for p in box.text_frame.paragraphs for r in p.runs}
    assert len(sizes) == 1 and Pt(MIN_TEXT_PT) <= sizes.pop() < Pt(18)


def test_text_that_cannot_fit_fails_the_build(pack: Pack, tmp_path: Path) -> None:
    text = Text(tuple(["word " * 100] * 12))
    target = tmp_path / "overflow.pptx"
    with pytest.raises(R.TextOverflowError) as caught:
        R.render(_with_section(pack, Heading("Too much", 1), text), target)
    assert isinstance(caught.value, ReportingError)
    assert str(caught.value).startswith("section 2 'Urgent care', block 2 (Text): ")
    assert "12 pt" in str(caught.value)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_title_that_cannot_fit_fails_the_build(pack: Pack, tmp_path: Path) -> None:
    with pytest.raises(R.TextOverflowError, match="block 1 \\(Heading\\)"):
        R.render(_with_section(pack, Heading("Long title " * 30, 1), Text(("x",))), tmp_path / "t.pptx")


# --- templates -------------------------------------------------------------------------------------


def test_template_without_section_header_is_a_config_error(pack: Pack, tmp_path: Path) -> None:
    prs = Presentation(str(DEFAULT_PPTX))
    prs.slide_layouts.remove(next(lay for lay in prs.slide_layouts if lay.name == "Section Header"))
    custom = tmp_path / "corporate.pptx"
    prs.save(str(custom))
    with pytest.raises(ConfigError, match="no slide layout 'Section Header'") as caught:
        R.render(dataclasses.replace(pack, office={"pptx": custom}), tmp_path / "out.pptx")
    assert str(custom) in str(caught.value)


def test_template_slides_are_removed(pack: Pack, tmp_path: Path) -> None:
    prs = Presentation(str(DEFAULT_PPTX))
    example = prs.slides.add_slide(next(lay for lay in prs.slide_layouts if lay.name == "Title Only"))
    example.shapes.title.text = "Example slide from the corporate template"
    custom = tmp_path / "with-slide.pptx"
    prs.save(str(custom))
    deck = Presentation(str(R.render(dataclasses.replace(pack, office={"pptx": custom}), tmp_path / "o.pptx")))
    assert "Example slide from the corporate template" not in _titles(deck)
    assert _titles(deck)[0] == "Sample pack"


def test_same_pack_gives_the_same_bytes(pack: Pack, deck_path: Path, tmp_path: Path) -> None:
    assert R.render(pack, tmp_path / "again.pptx").read_bytes() == deck_path.read_bytes()
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    assert summary.rows[0].sparkline_image is not None


def test_core_properties(deck, pack: Pack) -> None:
    props = deck.core_properties
    assert props.title == pack.title and props.language == "en-GB"
    assert props.created == props.modified and props.created.date() == pack.period


# --- LibreOffice -----------------------------------------------------------------------------------


def test_libreoffice_converts_every_slide(deck_path: Path, deck, tmp_path: Path) -> None:
    pdf = to_pdf(deck_path, tmp_path / "pdf")
    assert pdf_pages(pdf) == len(deck.slides)


# --- the fitting rule ------------------------------------------------------------------------------

LIBERATION = Path("/usr/share/fonts/truetype/liberation2")


@pytest.mark.parametrize("bold", [False, True])
def test_fitting_rule_never_undercounts_arial(bold: bool) -> None:
    """Liberation Sans has Arial's metrics: every string must measure at most what the rule counts."""
    from PIL import ImageFont

    font_file = LIBERATION / ("LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf")
    if not font_file.exists():
        pytest.skip("Liberation Sans not installed (fonts-liberation2 comes with LibreOffice)")
    font = ImageFont.truetype(str(font_file), 2048)
    import string

    samples = [
        string.ascii_letters,
        string.digits,
        string.punctuation,
        "WWWWWWWW",
        "GUY'S AND ST THOMAS' NHS FT",
        AWKWARD,
        "Ysbyty Gwynedd – Bwrdd Iechyd Prifysgol Betsi Cadwaladr",
        "ŵŷâêîôû ŴŶÂÊÎÔÛ",
        "£1,234.5 – 78.1%",
        "=cmd|' /C calc'!A0",
        *string.printable.strip(),
    ]
    for text in samples:
        assert font.getlength(text) / 2048 <= F._em(text, bold) + 1e-9, text


def test_lines_wrap_word_by_word() -> None:
    assert F._lines("", 10) == 1
    assert F._lines("aaaa aaaa", F._em("aaaa aaaa", False)) == 1
    assert F._lines("aaaa aaaa", F._em("aaaa aaaa", False) - 0.01) == 2
    assert F._lines("a" * 30, F._em("a" * 10, False)) == 3  # a word longer than a line is broken
