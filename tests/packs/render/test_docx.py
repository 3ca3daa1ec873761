"""The Word renderer: the sample Pack (every block type) written, re-opened with python-docx and checked."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from lxml import etree
from sample_pack import AWKWARD

from reporting.errors import ConfigError, ReportingError
from reporting.packs.office_templates import DEFAULT_DOCX
from reporting.packs.render import docx as docx_renderer
from reporting.packs.render.docx import REQUIRED_STYLES, render
from reporting.packs.tree import ChartBlock, DataTable, Heading, Pack, PageBreak, Section, Text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WELSH = "Bwrdd Iechyd Prifysgol Aneurin Bevan: Tŷ Gwyn, Llŷn, Ysbyty Ystrad Fawr – ŵyr"
FORMULA = "=SUM(A1:A3) & <b>not bold</b> \"quoted\" 'single'"


@pytest.fixture(scope="module")
def pack(charted_sample: Pack) -> Pack:
    """The sample pack with chart images, plus a section after the wide table (so the document returns to
    portrait), a section without its own heading, and awkward Welsh/formula-like text."""
    base = charted_sample
    extra = (Section("Planned care", (Text((WELSH, FORMULA, "Bell\x07 and vertical\x0btab")),)),)
    return dataclasses.replace(base, sections=base.sections + extra)


@pytest.fixture(scope="module")
def path(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(pack, tmp_path_factory.mktemp("docx") / "sub" / "sample.docx")


@pytest.fixture(scope="module")
def document(path: Path) -> docx.document.Document:
    return docx.Document(str(path))


def _text_of(element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def _body_text(document) -> str:
    return _text_of(document.element.body)


def _instructions(element) -> list[str]:
    return [(t.text or "").strip() for t in element.iter(f"{W}instrText")]


def test_render_writes_the_file_and_returns_its_path(path: Path) -> None:
    assert path.name == "sample.docx" and path.is_file()
    assert not list(path.parent.glob(".*tmp"))  # the temporary file was renamed into place


def test_cover_page_comes_first_then_the_contents_field(document) -> None:
    paragraphs = document.paragraphs
    assert [(p.style.name, p.text) for p in paragraphs[:2]] == [("Title", "Sample pack"), ("Subtitle", "July 2025")]
    texts = [p.text for p in paragraphs[:12]]
    for line in ("Date: 22 November 2026", "For: Board", "Report owner: Director", "Classification: OFFICIAL"):
        assert line in texts
    toc_heading = next(p for p in paragraphs if p.style.name == "TOC Heading")
    assert toc_heading.text == "Contents" and toc_heading.paragraph_format.page_break_before
    assert any(i.startswith('TOC \\o "1-3"') for i in _instructions(document.element.body))
    update = document.settings.element.find(qn("w:updateFields"))
    assert update is not None and update.get(qn("w:val")) == "true"


def test_headings_use_real_styles_at_their_levels(document) -> None:
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Urgent and emergency care") in headings
    assert ("Heading 2", "League position") in headings
    assert ("Heading 3", "Commentary: A&E 4-hour performance") in headings
    assert ("Heading 1", "Planned care") in headings  # a section title, the section has no heading
    assert ("Heading 1", "Urgent care") not in headings  # the section opens with its own level-1 heading
    assert ("Heading 1", "Cover") not in headings


def test_header_shows_the_classification_and_footer_page_x_of_y(document, pack: Pack) -> None:
    for section in document.sections:
        assert section.header.paragraphs[0].text == "OFFICIAL"
        footer = section.footer.paragraphs[0]
        assert footer.text.startswith(pack.footer + "\tPage ")
        instructions = _instructions(footer._p)
        assert instructions == ["PAGE", "NUMPAGES"]


def test_figure_captions_are_numbered_in_order_under_each_picture(document) -> None:
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    figures = [p.text for p in captions if p.text.startswith("Figure")]
    tables = [p.text for p in captions if p.text.startswith("Table")]
    assert figures == ["Figure 1: A&E 4-hour performance, RJ1", "Figure 2: League, 2024"]
    assert tables == [
        "Table 1: Performance summary – Latest month against target, with MDC icons",
        "Table 2: A&E by trust – Attendances and 4-hour performance",
    ]
    for caption in captions:
        assert any(i.startswith("SEQ ") for i in _instructions(caption._p))
    for caption in (p for p in captions if p.text.startswith("Figure")):  # the picture is just above
        previous = caption._p.getprevious()
        assert previous is not None and previous.find(f".//{W}drawing") is not None
    for caption in (p for p in captions if p.text.startswith("Table")):  # the table just below
        assert caption._p.getnext().tag == f"{W}tbl"


def test_every_picture_has_alt_text_and_charts_fill_the_text_width(document, pack: Pack) -> None:
    shapes = list(document.inline_shapes)
    assert len(shapes) == 6  # two charts, one sparkline (the other summary row has no trend), three MDC icons
    for shape in shapes:
        doc_pr = shape._inline.docPr
        assert doc_pr.get("descr", "").strip() and doc_pr.get("title", "").strip()
    spc = next(b for b in pack.blocks() if isinstance(b, ChartBlock))
    first = shapes[4]._inline.docPr  # the summary table's icons and sparkline come first
    assert (first.get("title"), first.get("descr")) == (spc.spec.title, spc.spec.alt_text)
    section = document.sections[0]
    assert shapes[4].width == section.page_width - section.left_margin - section.right_margin


def test_summary_table_shows_icons_as_letters_and_labels(document) -> None:
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "Metric",
        "Period",
        "Latest",
        "Target",
        "Variation",
        "Assurance",
        "Trend",
    ]
    improving, suppressed = table.rows[1].cells, table.rows[2].cells
    # the icons are pictures (test_docx_pictures.py), the words beside them the deck's (mdc.VARIATION_SHORT)
    assert improving[4].text.strip() == "Improvement"
    assert improving[5].text.strip() == "Target met inconsistently"
    assert improving[2].text == "78.1%" and improving[6]._tc.find(f".//{W}drawing") is not None
    assert suppressed[2].text == "*" and suppressed[4].text.strip() == "Concern"
    assert suppressed[5].text == "– Not assessed" and suppressed[6].text == "–"
    assert "=cmd|' /C calc'!A0 is not a formula." in suppressed[0].text
    following = table._tbl.getnext()
    assert "".join(t.text for t in following.iter(f"{W}t")).startswith("* Suppressed")


def test_tables_repeat_header_rows_and_never_split_rows(document) -> None:
    for table in document.tables:
        rows = table.rows
        assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in rows)
        assert all(row._tr.trPr.find(qn("w:tblHeader")) is None for row in rows[1:])
        assert table.style.name == "NHS Table"


def test_wide_table_gets_a_landscape_section_then_portrait_again(document) -> None:
    orientations = [s.orientation for s in document.sections]
    assert orientations == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    wide = document.sections[1]
    assert wide.page_width == document.sections[0].page_height
    data = document.tables[1]
    assert data.rows[3].cells[2].text == "*"  # suppressed cell
    assert data.rows[1].cells[3].text == "70.0%  R"  # RAG carries a letter, not colour alone
    # The heading that introduces the wide table moved to the landscape page with it: the section break
    # (a w:sectPr in a paragraph) comes before "Data", not between the heading and the table.
    body = list(document.element.body)
    breaks = [i for i, el in enumerate(body) if el.find(f"{W}pPr/{W}sectPr") is not None]
    data_heading = next(i for i, el in enumerate(body) if _text_of(el) == "Data")
    assert breaks[0] < data_heading < body.index(data._tbl) < breaks[1]


def test_awkward_text_survives_verbatim(document) -> None:
    texts = [p.text for p in document.paragraphs]
    assert AWKWARD in texts and WELSH in texts and FORMULA in texts
    assert "Bell and verticaltab" in texts  # control characters XML cannot hold are dropped
    assert f"Trolley waits {AWKWARD}" in _body_text(document)
    assert document.core_properties.title == f"Sample pack {AWKWARD}"


def test_core_properties_and_language(document) -> None:
    props = document.core_properties
    assert (props.author, props.subject, props.language) == (
        "Director of Performance",
        "Guy's and St Thomas' – July 2025",
        "en-GB",
    )
    assert props.category == "OFFICIAL" and "0123456789abcdef" in props.comments
    lang = document.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(qn("w:val")) == "en-GB"


def test_same_pack_gives_identical_bytes(pack: Pack, path: Path, tmp_path: Path) -> None:
    again = render(pack, tmp_path / "again.docx")
    assert again.read_bytes() == path.read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        etree.fromstring(archive.read("word/document.xml"))  # well-formed


def test_page_breaks_never_leave_blank_pages(tmp_path: Path, pack: Pack) -> None:
    doubled = dataclasses.replace(
        pack,
        sections=(
            Section("", (PageBreak(), Text(("first",)), PageBreak(), PageBreak(), Text(("second",)), PageBreak())),
        ),
    )
    document = docx.Document(str(render(doubled, tmp_path / "breaks.docx")))
    breaks = [p.text for p in document.paragraphs if p.paragraph_format.page_break_before]
    assert breaks == ["second"]  # a break before any content, a doubled one and a trailing one are dropped
    assert document.paragraphs[-1].text == pack.footnotes[0]  # the pack's notes close the last page


def test_a_document_that_opens_with_a_wide_table_turns_its_first_section(tmp_path: Path, pack: Pack) -> None:
    table = next(b for b in pack.blocks() if isinstance(b, DataTable))
    wide_first = dataclasses.replace(pack, sections=(Section("Data", (Heading("Data", 1), table)),))
    document = docx.Document(str(render(wide_first, tmp_path / "wide.docx")))
    assert [s.orientation for s in document.sections] == [WD_ORIENT.LANDSCAPE]
    assert document.paragraphs[0].text == "Data"


def test_chart_without_its_image_is_an_error_not_a_gap(tmp_path: Path, pack: Pack) -> None:
    chart = next(b for b in pack.blocks() if isinstance(b, ChartBlock))
    bare = dataclasses.replace(
        pack, sections=(Section("Charts", (dataclasses.replace(chart, image=None, native=False),)),)
    )
    with pytest.raises(ReportingError, match="A&E 4-hour performance.*no rendered image"):
        render(bare, tmp_path / "bare.docx")
    assert not (tmp_path / "bare.docx").exists()


def test_custom_template_missing_a_style_is_a_config_error(tmp_path: Path, pack: Pack) -> None:
    template = docx.Document(str(DEFAULT_DOCX))
    style = template.styles["NHS Table"]
    style.element.getparent().remove(style.element)
    custom = tmp_path / "corporate.docx"
    template.save(str(custom))
    broken = dataclasses.replace(pack, office={**pack.office, "docx": custom})
    with pytest.raises(ConfigError, match=r"corporate\.docx: no style 'NHS Table'") as caught:
        render(broken, tmp_path / "out.docx")
    assert "styles are:" in str(caught.value)
    assert "NHS Table" in REQUIRED_STYLES and not (tmp_path / "out.docx").exists()


def test_custom_template_body_is_replaced_and_its_styles_used(tmp_path: Path, pack: Pack) -> None:
    template = docx.Document(str(DEFAULT_DOCX))
    template.add_paragraph("Delete me: sample text in a corporate template")
    template.styles["Heading 1"].font.size = docx.shared.Pt(20)
    custom = tmp_path / "corporate.docx"
    template.save(str(custom))
    document = docx.Document(str(render(dataclasses.replace(pack, office={"docx": custom}), tmp_path / "c.docx")))
    assert "Delete me" not in _body_text(document)
    assert document.styles["Heading 1"].font.size == docx.shared.Pt(20)


def test_unknown_block_type_is_refused(tmp_path: Path, pack: Pack) -> None:
    @dataclasses.dataclass(frozen=True)
    class Gauge:
        value: float

    odd = dataclasses.replace(pack, sections=(Section("Odd", (Gauge(1.0),)),))  # type: ignore[arg-type]
    with pytest.raises(ReportingError, match=re.escape("no rule for a Gauge block")):
        render(odd, tmp_path / "odd.docx")


def test_all_is_sorted_and_resolvable() -> None:
    names = list(docx_renderer.__all__)
    assert names == sorted(names) and all(hasattr(docx_renderer, name) for name in names)


def test_template_header_and_footer_are_kept_with_the_classification_added(pack: Pack, tmp_path: Path) -> None:
    """Seen: an analyst's Word header ("Anytown NHS Trust – Board papers") was replaced by "OFFICIAL"."""
    template = docx.Document(str(DEFAULT_DOCX))
    template.sections[0].header.paragraphs[0].text = "Anytown NHS Trust – Board papers"
    template.sections[0].footer.paragraphs[0].text = "Ref: BP/2025/07"
    own = tmp_path / "own.docx"
    template.save(str(own))
    out = render(dataclasses.replace(pack, office={"docx": own}), tmp_path / "out.docx")
    document = docx.Document(str(out))
    assert len(document.sections) > 1  # the landscape section for the wide table gets them too
    for section in document.sections:
        header = [p.text for p in section.header.paragraphs]
        footer = [p.text for p in section.footer.paragraphs]
        assert header[0] == "Anytown NHS Trust – Board papers" and header[-1] == pack.classification, header
        assert footer[0] == "Ref: BP/2025/07" and "Page " in footer[-1], footer
