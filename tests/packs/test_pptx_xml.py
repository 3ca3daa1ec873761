"""Raw PresentationML tweaks: exact XML on tiny decks, re-opened by python-pptx, read by LibreOffice."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from office import soffice
from PIL import Image
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationT
from pptx.shapes.autoshape import Shape
from pptx.util import Inches

from reporting.packs import _pptx_xml as X

ADEC = "{http://schemas.microsoft.com/office/drawing/2017/decorative}decorative"


def _blank_slide(deck: PresentationT | None = None):
    deck = deck or Presentation()
    return deck.slides.add_slide(deck.slide_layouts[6])


def _png(tmp_path: Path) -> Path:
    path = tmp_path / "dot.png"
    Image.new("RGB", (4, 3), (0, 94, 184)).save(path)
    return path


def _chart(shapes):
    data = CategoryChartData()
    data.categories = ["Jan", "Feb"]
    data.add_series("Attendances", (10, 12))
    return shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, Inches(4), Inches(3), data)


def _reopen(deck: PresentationT) -> PresentationT:
    buffer = io.BytesIO()
    deck.save(buffer)
    buffer.seek(0)
    return Presentation(buffer)


def _c_nv_pr(shape):
    return shape._element.xpath("./*[1]/p:cNvPr")[0]


# --- alt text and decorative marks --------------------------------------------------------------


def test_alt_text_reaches_every_kind_of_shape(tmp_path: Path) -> None:
    slide = _blank_slide()
    shapes = slide.shapes
    group = shapes.add_group_shape()
    group.shapes.add_shape(MSO_SHAPE.OVAL, 0, 0, Inches(1), Inches(1))
    kinds = {
        "picture": shapes.add_picture(str(_png(tmp_path)), 0, 0),
        "chart": _chart(shapes),
        "table": shapes.add_table(2, 2, 0, 0, Inches(3), Inches(1)),
        "group": group,
        "autoshape": shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(1), Inches(1)),
    }
    for kind, shape in kinds.items():
        X.set_alt_text(shape, f"{kind} title", f'{kind}: <values> & "quotes"')
    nv_tags = {kind: shape._element[0].tag.split("}")[1] for kind, shape in kinds.items()}
    assert nv_tags == {
        "picture": "nvPicPr",
        "chart": "nvGraphicFramePr",
        "table": "nvGraphicFramePr",
        "group": "nvGrpSpPr",
        "autoshape": "nvSpPr",
    }
    reopened = {
        shape.shape_id: shape for shape in _reopen(slide.part.package.presentation_part.presentation).slides[0].shapes
    }
    for kind, shape in kinds.items():
        c_nv_pr = _c_nv_pr(reopened[shape.shape_id])
        assert (c_nv_pr.get("title"), c_nv_pr.get("descr")) == (f"{kind} title", f'{kind}: <values> & "quotes"')


def test_mark_decorative_writes_the_office_extension_once_and_drops_the_description() -> None:
    shape = _blank_slide().shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(10), Inches(0.1))
    X.set_alt_text(shape, "rule", "a blue line")
    X.mark_decorative(shape)
    X.mark_decorative(shape)
    c_nv_pr = _c_nv_pr(shape)
    assert c_nv_pr.get("descr") is None and c_nv_pr.get("title") == "rule"
    (ext_lst,) = c_nv_pr
    assert ext_lst.tag == qn("a:extLst")
    (ext,) = ext_lst
    assert (ext.tag, ext.get("uri")) == (qn("a:ext"), X.DECORATIVE_URI)
    (decorative,) = ext
    assert (decorative.tag, dict(decorative.attrib)) == (ADEC, {"val": "1"})


# --- text: slide numbers, language, notes --------------------------------------------------------


def test_slide_number_field_caches_the_real_number_before_the_paragraph_end() -> None:
    deck = Presentation()
    _blank_slide(deck)
    slide = _blank_slide(deck)
    frame = slide.shapes.add_textbox(0, 0, Inches(2), Inches(1)).text_frame
    frame.text = "Slide "
    frame.paragraphs[0]._p.get_or_add_endParaRPr()
    X.add_slide_number(frame)
    p = frame.paragraphs[0]._p
    assert [child.tag.split("}")[1] for child in p] == ["r", "fld", "endParaRPr"]
    fld = p.find(qn("a:fld"))
    assert dict(fld.attrib) == {"id": X.SLIDE_NUMBER_FIELD_ID, "type": "slidenum"}
    assert [(c.tag, c.get("lang"), c.text) for c in fld] == [(qn("a:rPr"), "en-GB", None), (qn("a:t"), None, "2")]


def test_slide_number_on_a_layout_uses_powerpoints_placeholder_text() -> None:
    layout = Presentation().slide_layouts[6]
    frame = layout.shapes._spTree.add_textbox(99, "Number", 0, 0, 10, 10)
    X.add_slide_number(Shape(frame, layout.shapes).text_frame.paragraphs[0])
    assert frame.find(".//" + qn("a:fld")).find(qn("a:t")).text == "\u2039#\u203a"


def test_set_language_covers_runs_fields_and_paragraph_ends() -> None:
    frame = _blank_slide().shapes.add_textbox(0, 0, 10, 10).text_frame
    frame.text = "Four-hour\vperformance"
    frame.add_paragraph().add_run().text = "Second"
    frame.add_paragraph()
    X.add_slide_number(frame)
    X.set_language(frame, "en-GB")
    tx_body = frame._txBody
    langs = [e.get("lang") for e in tx_body.xpath(".//a:rPr | .//a:endParaRPr")]
    assert len(langs) == 7 and set(langs) == {"en-GB"}  # 3 runs, 1 field, 3 paragraph ends


def test_speaker_notes_replace_text_and_set_language() -> None:
    slide = _blank_slide()
    X.set_speaker_notes(slide, "old")
    X.set_speaker_notes(slide, "Source: NHS England A&E\nSnapshot: 3f9c0e")
    frame = slide.notes_slide.notes_text_frame
    assert [p.text for p in frame.paragraphs] == ["Source: NHS England A&E", "Snapshot: 3f9c0e"]
    assert {e.get("lang") for e in frame._txBody.xpath(".//a:rPr")} == {"en-GB"}


def test_table_header_row_sets_first_row_flag() -> None:
    frame = _blank_slide().shapes.add_table(3, 2, 0, 0, Inches(3), Inches(1))
    frame.table.first_row = False
    X.set_table_header_row(frame.table)
    assert frame.table._tbl.tblPr.get("firstRow") == "1"
    assert frame.table.first_row


# --- the deck re-opened and read by LibreOffice -------------------------------------------------


def _deck(path: Path) -> Path:
    """Two slides with every tweak; slide order is then swapped so cached slide numbers go stale."""
    deck = Presentation()
    for title in ("Urgent care", "Planned care"):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
        footer = slide.shapes.add_textbox(Inches(7.5), Inches(6.9), Inches(2), Inches(0.4)).text_frame
        footer.text = "OFFICIAL | Slide "
        X.add_slide_number(footer)
        X.set_language(footer)
        X.set_alt_text(_chart(slide.shapes), f"{title} chart", f"Monthly {title.lower()} activity")
        table = slide.shapes.add_table(2, 2, Inches(5), Inches(2), Inches(4), Inches(1))
        X.set_table_header_row(table.table)
        X.mark_decorative(slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(7.3), Inches(10), Inches(0.1)))
        X.set_speaker_notes(slide, f"Source: demo data for {title}")
    ids = deck.slides._sldIdLst
    second = ids[1]
    ids.remove(second)
    ids.insert(0, second)
    deck.save(path)
    return path


@pytest.fixture(scope="module")
def deck_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pptx_xml")
    path = _deck(folder / "deck.pptx")
    result = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return path, path.with_suffix(".pdf")


def test_python_pptx_reopens_the_deck_with_every_tweak(deck_pdf: tuple[Path, Path]) -> None:
    deck = Presentation(str(deck_pdf[0]))
    first = deck.slides[0]
    assert first.shapes.title.text == "Planned care"
    assert first.has_notes_slide and first.notes_slide.notes_text_frame.text == "Source: demo data for Planned care"
    chart = next(s for s in first.shapes if s.has_chart)
    assert _c_nv_pr(chart).get("descr") == "Monthly planned care activity"
    assert next(s for s in first.shapes if s.has_table).table.first_row
    rule = next(s for s in first.shapes if s.name.startswith("Rectangle"))
    assert _c_nv_pr(rule).find(".//" + ADEC).get("val") == "1"
    assert first.shapes[1].text_frame.text == "OFFICIAL | Slide 2"  # the stale cached number


def test_libreoffice_evaluates_slide_numbers_rather_than_showing_the_cache(deck_pdf: tuple[Path, Path]) -> None:
    pdf = deck_pdf[1]
    pages = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for n in (1, 2)
    ]
    assert "Planned care" in pages[0] and "OFFICIAL | Slide 1" in pages[0]
    assert "Urgent care" in pages[1] and "OFFICIAL | Slide 2" in pages[1]
    assert "Source: demo data" not in pages[0]  # notes are not printed on slides
