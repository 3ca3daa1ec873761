"""The writers' speed caches give what the uncached code gives: the same partnames, measurements and pictures.

Each cache in the Office writers (issue 19, round 5) is a shortcut for work whose result is fixed by its inputs;
these tests build the case both ways and compare, and show the comparison would catch a cache that drifts."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.opc.package import OpcPackage
from pptx.util import Inches

from reporting.charts import icon_chart, raster
from reporting.charts.theme import DEFAULT_THEME
from reporting.packs import _pptx_xml as X
from reporting.packs.render import _text_fit as T

TEMPLATES = (
    "/ppt/notesSlides/notesSlide%d.xml",
    "/ppt/charts/chart%d.xml",
    "/ppt/embeddings/Microsoft_Excel_Sheet%d.xlsx",
    "/ppt/slides/slide%d.xml",
)


def _parts(package: bytes) -> list[tuple[str, bytes]]:
    """Each part's name and bytes, in order, recursing into embedded workbooks. The zips' own timestamps and an
    embedded workbook's docProps/core.xml (python-pptx's XlsxWriter stamps the time it was made) are the clock's,
    so two decks made a second apart still compare equal; everything else must match."""
    out: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        for name in z.namelist():
            data = z.read(name)
            if data[:2] == b"PK":
                out += [(f"{name}:{n}", d) for n, d in _parts(data) if n != "docProps/core.xml"]
            else:
                out.append((name, data))
    return out


def _saved(deck: Any) -> bytes:
    stream = io.BytesIO()
    deck.save(stream)
    return stream.getvalue()


def _deck(counted: bool, slides: int = 6) -> tuple[bytes, list[list[str]]]:
    """A deck whose slides each get a chart and speaker notes; with `counted`, names come from the counter.
    Also every template's next name, from the real walk, before each slide."""
    deck = Presentation()
    package = deck.part.package
    if counted:
        X.count_partnames(package)
    expected = []
    for n in range(slides):
        expected.append([str(OpcPackage.next_partname(package, t)) for t in TEMPLATES])
        if counted:  # the counter agrees with the walk (asking it twice hands out two names, so ask a copy)
            probe = X._PartnameCounter(package)
            assert [str(probe(t)) for t in TEMPLATES] == expected[-1]
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        data = CategoryChartData()
        data.categories = ["Jan", "Feb"]
        data.add_series("Attendances", (10, 12 + n))
        slide.shapes.add_chart(XL_CHART_TYPE.LINE, Inches(1), Inches(1), Inches(4), Inches(3), data)
        X.set_speaker_notes(slide, f"Source {n}")
    return _saved(deck), expected


def test_counted_partnames_give_the_same_deck() -> None:
    plain, _ = _deck(counted=False)
    counted, names = _deck(counted=True)
    assert _parts(counted) == _parts(plain)
    assert names[-1][0] == "/ppt/notesSlides/notesSlide6.xml"  # five notes slides before the sixth slide's


def test_a_counter_that_misses_a_part_is_caught() -> None:
    """A part of a counted kind added behind the counter's back (here: a notes slide named by the walk while the
    counter had already listed the names) gets a name the walk would not give: the comparison above fails."""
    deck = Presentation()
    package = deck.part.package
    counter = X._PartnameCounter(package)
    assert str(counter("/ppt/notesSlides/notesSlide%d.xml")) == "/ppt/notesSlides/notesSlide1.xml"
    X.set_speaker_notes(deck.slides.add_slide(deck.slide_layouts[6]), "made without the counter: notesSlide1")
    X.set_speaker_notes(deck.slides.add_slide(deck.slide_layouts[6]), "and notesSlide2")
    walk = str(OpcPackage.next_partname(package, "/ppt/notesSlides/notesSlide%d.xml"))
    assert str(counter("/ppt/notesSlides/notesSlide%d.xml")) != walk


@pytest.mark.parametrize("code", ["improvement_high", "concern_low", "common_cause", "consistent_pass", "inconsistent"])
def test_cached_icon_is_the_drawn_icon(code: str, tmp_path: Path) -> None:
    spec = icon_chart(code, DEFAULT_THEME)
    fresh = io.BytesIO()
    raster._draw_icon_png(spec, fresh)
    raster._ICONS.clear()
    first, again = io.BytesIO(), io.BytesIO()
    raster.draw(spec, first)
    raster.draw(spec, again)  # from the cache
    raster.draw(spec, tmp_path / "icon.png")
    assert first.getvalue() == again.getvalue() == fresh.getvalue() == (tmp_path / "icon.png").read_bytes()
    assert len(raster._ICONS) == 1


def test_icons_of_other_sizes_are_drawn_anew() -> None:
    spec = icon_chart("improvement_high", DEFAULT_THEME)
    from dataclasses import replace

    small, large = io.BytesIO(), io.BytesIO()
    raster.draw(replace(spec, width=32, height=32), small)
    raster.draw(spec, large)
    assert small.getvalue() != large.getvalue()


TEXTS = ["", "A&E", "Four-hour waits in A&E (%)", "Sehr große Zeichenketten ŵ", "x" * 300, "ok " * 80]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("bold", [False, True])
def test_memoised_measures_are_the_measures(text: str, bold: bool) -> None:
    for line_em in (0.5, 3.0, 17.25, 60.0):
        assert T._lines(text, line_em, bold) == T._lines.__wrapped__(text, line_em, bold)
        assert T._lines(text, line_em, bold) == T._lines(text, line_em, bold)
    assert T._em(text, bold) == T._em.__wrapped__(text, bold)
    paras = T._paras([text, "second line"], bold=bold)
    warm = T._height(paras, 12.0, 3_000_000)
    for cached in (T._lines, T._em, T._line_em):
        cached.cache_clear()
    assert T._height(paras, 12.0, 3_000_000) == warm
    for size, width in ((9.0, 400_000), (11.0, 1_234_567)):
        assert T._text_height(text, bold, size, width) == T._height([T._para(text, bold=bold)], size, width)


def test_style_ids_are_python_docx_s() -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    from reporting.packs import _docx_xml as DX

    document = docx.Document()
    part = document.part
    header_part = document.sections[0].header.part  # a header's styles are the document's
    for name, kind in (("Caption", WD_STYLE_TYPE.PARAGRAPH), ("Normal", WD_STYLE_TYPE.PARAGRAPH)):
        assert DX.style_id(part, name, kind) == part.get_style_id(name, kind)
        assert DX.style_id(header_part, name, kind) == part.get_style_id(name, kind)
    assert DX.style_id(part, "Normal") is None  # the default style: no w:pStyle, as python-docx writes
    assert DX.style_id(part, "Table Grid", WD_STYLE_TYPE.TABLE) == "TableGrid"
    with pytest.raises(KeyError):
        DX.style_id(part, "No such style")
    by_setter, by_id = document.add_paragraph(style="Caption"), document.add_paragraph()
    by_id._p.style = DX.style_id(part, "Caption")
    assert by_id._p.xml == by_setter._p.xml


def test_a_repeated_icon_is_the_picture_python_docx_adds() -> None:
    """Icons copied from the document's first picture of them (`_icon_inline`) are the XML python-docx's
    add_picture writes for each: the same image part and rId, each its own shape id and name."""
    import docx
    from docx.shared import Cm

    from reporting.packs.render.docx import tables as DT
    from reporting.packs.render.docx.document import _Context

    codes = ["improvement_high", "concern_low", "improvement_high", "improvement_high", "concern_low"]
    pngs = {}
    for code in set(codes):
        stream = io.BytesIO()
        raster.draw(icon_chart(code, DEFAULT_THEME), stream)
        pngs[code] = stream.getvalue()

    plain = docx.Document()
    for code in codes:
        DT._tight(plain.add_paragraph().add_run().add_picture(io.BytesIO(pngs[code]), width=Cm(DT.ICON_CM)))
    copied = docx.Document()
    ctx = _Context(copied, pack=None, template=Path())  # type: ignore[arg-type]  # no pack: the PNGs are given
    ctx.icons.update(pngs)
    for code in codes:
        DT._icon_inline(copied.add_paragraph().add_run(), ctx, code)
    assert copied.element.body.xml == plain.element.body.xml
    assert len(copied.inline_shapes) == 5 and len(ctx.icon_inlines) == 2
    ids = [shape._inline.docPr.id for shape in copied.inline_shapes]
    assert len(set(ids)) == 5


def _noted_deck(copied: bool) -> bytes:
    """Four slides with speaker notes (the third had notes already), by copy of the first notes slide or by
    python-pptx's own `notes_slide` for each."""
    deck = Presentation()
    for n in range(4):
        slide = deck.slides.add_slide(deck.slide_layouts[1 + n % 2])
        if n == 2:
            slide.notes_slide.notes_text_frame.text = "there before"
        if copied:
            X.set_speaker_notes(slide, f"Data sources: {n}\nsnapshot {n}")
        else:
            frame = slide.notes_slide.notes_text_frame
            frame.text = f"Data sources: {n}\nsnapshot {n}"
            X.set_language(frame)
    return _saved(deck)


def test_copied_notes_slides_are_python_pptx_s() -> None:
    assert _parts(_noted_deck(copied=True)) == _parts(_noted_deck(copied=False))
    deck = Presentation(io.BytesIO(_noted_deck(copied=True)))
    assert [s.notes_slide.notes_text_frame.text for s in deck.slides][3] == "Data sources: 3\nsnapshot 3"
    assert [s.notes_slide.part.partname for s in deck.slides][1] == "/ppt/notesSlides/notesSlide2.xml"


def _slid_deck(copied: bool) -> bytes:
    """Slides of three layouts, in turn, each titled and noted after it is made (the first slide of a layout is
    filled before the second is copied from it)."""
    deck = Presentation()
    layouts = [deck.slide_layouts[i] for i in (0, 1, 5)]
    for n in range(7):
        layout = layouts[n % 3]
        slide = X.add_slide(deck, layout) if copied else deck.slides.add_slide(layout)
        slide.shapes.title.text = f"Slide {n}"
        X.set_speaker_notes(slide, f"notes {n}")
    return _saved(deck)


def test_copied_slides_are_python_pptx_s() -> None:
    assert _parts(_slid_deck(copied=True)) == _parts(_slid_deck(copied=False))
    deck = Presentation(io.BytesIO(_slid_deck(copied=True)))
    assert [s.shapes.title.text for s in deck.slides] == [f"Slide {n}" for n in range(7)]
    assert [len(s.placeholders) for s in deck.slides][:3] == [len(s.placeholders) for s in deck.slides][3:6]
