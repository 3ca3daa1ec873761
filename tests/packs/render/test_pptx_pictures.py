"""Summary-table pictures in the deck: MDC icons as pictures (the email's own), sparklines with a clear background."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from reporting.charts import icon_chart, raster
from reporting.charts.export import Renderer
from reporting.mdc import ASSURANCE, NOT_ASSESSED_CELL, VARIATION
from reporting.packs.render import pptx as R
from reporting.packs.render.pptx.deck import ICON
from reporting.packs.tree import Pack, SummaryTable

SUMMARY_HEADER = ["Metric", "Period", "Latest", "Target", "Variation", "Assurance", "Trend"]
ICON_PREFIXES = ("Variation icon: ", "Assurance icon: ")


@pytest.fixture(scope="module")
def deck(charted_sample: Pack, tmp_path_factory: pytest.TempPathFactory):
    return Presentation(str(R.render(charted_sample, tmp_path_factory.mktemp("pictures") / "deck.pptx")))


def _summary(deck):
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table and [c.text for c in shape.table.rows[0].cells] == SUMMARY_HEADER:
                return slide, shape
    raise AssertionError("no summary table")


def _descr(shape) -> str:
    return shape._element.xpath("./*[1]/p:cNvPr")[0].get("descr", "")


def _pictures(slide) -> list:
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def test_each_icon_is_a_picture_in_its_cell_beside_its_words(deck, charted_sample: Pack) -> None:
    slide, frame = _summary(deck)
    table = frame.table
    icons = [p for p in _pictures(slide) if _descr(p).startswith(ICON_PREFIXES)]
    summary = next(b for b in charted_sample.blocks() if isinstance(b, SummaryTable))
    expected = [
        f"{kind} icon: {lookup[code][2]}"
        for row in summary.rows
        for kind, code, lookup in (
            ("Variation", row.variation_icon, VARIATION),
            ("Assurance", row.assurance, ASSURANCE),
        )
        if code in lookup
    ]
    assert sorted(_descr(p) for p in icons) == sorted(expected)
    lefts = [frame.left + sum(c.width for c in list(table.columns)[:j]) for j in range(len(table.columns) + 1)]
    tops = [frame.top + sum(r.height for r in list(table.rows)[:i]) for i in range(len(table.rows) + 1)]
    for picture in icons:
        column = 4 if _descr(picture).startswith("Variation") else 5
        row = next(i for i in range(len(tops) - 1) if tops[i] <= picture.top < tops[i + 1])
        assert lefts[column] <= picture.left and picture.left + picture.width <= lefts[column + 1]
        assert row > 0 and picture.top + picture.height <= tops[row + 1]
        margin = int(table.cell(row, column)._tc.tcPr.get("marL"))
        assert margin >= picture.left + picture.width - lefts[column]  # the words start right of the icon
        assert picture.width == picture.height == ICON


def test_icon_cells_carry_no_coloured_text(deck) -> None:
    """The icons were coloured letters ("H↑ Concern" in brown); the words beside the picture are plain."""
    _, frame = _summary(deck)
    for row in list(frame.table.rows)[1:]:
        for cell in list(row.cells)[4:6]:
            if cell.text != NOT_ASSESSED_CELL:  # (that one is muted grey, with no icon)
                assert not cell._tc.xpath(".//a:rPr/a:solidFill"), cell.text
            assert "↑" not in cell.text and "↓" not in cell.text


def test_the_deck_embeds_the_same_icon_the_email_attaches(deck, tmp_path: Path) -> None:
    """The email's icons come from Renderer.render(icon_chart(code)) (schedule.runner); the deck's are those
    bytes, drawn without a browser."""
    slide, _ = _summary(deck)
    picture = next(p for p in _pictures(slide) if _descr(p) == "Variation icon: Special cause concern (high)")
    with Renderer(cache=tmp_path / "cache") as renderer:
        (image,) = renderer.render([icon_chart("concern_high")])
        assert renderer.drawn == 1 and renderer.rendered == 0
    assert picture.image.blob == image.path.read_bytes()


@pytest.mark.parametrize("code", sorted(VARIATION) + sorted(ASSURANCE))
def test_icons_are_clear_outside_the_ring(code: str) -> None:
    stream = io.BytesIO()
    raster.draw(icon_chart(code), stream)
    with Image.open(io.BytesIO(stream.getvalue())) as im:
        assert im.mode == "RGBA"
        assert im.getpixel((0, 0))[3] == 0 and im.getpixel((im.width // 2, im.height // 2))[3] == 255


def test_sparklines_are_transparent_so_the_zebra_shows(deck) -> None:
    slide, _ = _summary(deck)
    (sparkline,) = [p for p in _pictures(slide) if not _descr(p).startswith(ICON_PREFIXES)]
    with Image.open(io.BytesIO(sparkline.image.blob)) as im:
        assert im.mode == "RGBA"
        alpha = im.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0  # the corner: background
        assert alpha.getextrema() == (0, 255)  # and the line itself is opaque
