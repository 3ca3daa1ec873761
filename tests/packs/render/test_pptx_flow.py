"""How the deck flows, as a board secretary would lay it out: short headed paragraphs share a slide, no content
slide is left nearly empty, a table continues under its own title in even parts, a league table stays whole,
dividers carry no subsection name, the weekly headline table puts what needs attention first, and point types
read as in every other format (reporting.mdc.icon_text)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pptx import Presentation
from sample_pack import sample_pack

from reporting.charts.export import Renderer
from reporting.mdc import COMMON_CAUSE_POINT, icon_text
from reporting.packs.render import pptx as R
from reporting.packs.render.pptx.tables import _split
from reporting.packs.tree import Cell, Column, DataTable, Heading, Pack, Section, SummaryRow, SummaryTable, Text

DECKS = [(name, org) for name in ("board", "weekly-executive", "monthly-performance") for org in ("RJ1", "RXW")]
#: a content slide holding less than this share of the body area is nearly empty
MIN_FILL = 0.25


@pytest.fixture(scope="module")
def decks(assembled, renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("flow")
    built = {}
    for name, org in DECKS:
        pack: Pack = assembled(name, org=org)
        specs = pack.chart_specs()
        images = renderer.render(specs)
        pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
        built[f"{name}-{org}"] = R.render(pack, out / f"{name}-{org}.pptx")
    return built


def _body_height(prs) -> int:
    layout = next(lay for lay in prs.slide_layouts if lay.name == "Title and Content")
    return next(p for p in layout.placeholders if p.placeholder_format.idx == 1).height


def nearly_empty(path: Path) -> list[str]:
    """Content slides ("Title Only") whose text boxes and tables fill less than MIN_FILL of the body, leaving
    out slides with a chart (a chart takes its slide) and a section's only slide (the weekly pack's fixed
    "Exceptions" place says "nothing needs attention" there every quiet week)."""
    prs = Presentation(str(path))
    body = _body_height(prs)
    slides = list(prs.slides)
    titles = [s.shapes.title.text if s.shapes.title is not None else "" for s in slides]
    found = []
    for n, slide in enumerate(slides):
        if slide.slide_layout.name != "Title Only" or any(sh.has_chart for sh in slide.shapes):
            continue
        alone = not (n + 1 < len(slides) and titles[n + 1].startswith(titles[n])) and not titles[n].endswith(
            "(continued)"
        )
        if alone:
            continue
        used = sum(
            sum(r.height for r in sh.table.rows) if sh.has_table else sh.height
            for sh in slide.shapes
            if not sh.is_placeholder and (sh.has_table or sh.has_text_frame)
        )
        if used < MIN_FILL * body:
            found.append(f"slide {n + 1} '{titles[n]}' is {used / body:.0%} filled")
    return found


# --- 1. the executive summary flows onto few slides ------------------------------------------------------


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_the_executive_summary_takes_few_slides_with_its_headings_in_the_flow(decks, org: str) -> None:
    prs = Presentation(str(decks[f"board-{org}"]))
    summary = [s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text.startswith("Executive")]
    assert 2 <= len(summary) <= 5  # seven headed paragraphs and the performance summary (was 7 slides, plus 2)
    assert [s.shapes.title.text for s in summary] == ["Executive summary"] + ["Executive summary (continued)"] * (
        len(summary) - 1
    )
    text = "\n".join(sh.text_frame.text for s in summary for sh in s.shapes if sh.has_text_frame)
    for heading in ("Purpose", "Overview", "What is stable", "What the Board is asked to do"):
        assert f"{heading}\n" in text  # a bold line above its paragraph, not a slide title
    first = [sh for sh in summary[0].shapes if sh.has_text_frame and not sh.is_placeholder]
    assert len(first) >= 3  # several headed paragraphs share the first slide


@pytest.mark.parametrize(
    "key",
    [
        "board-RJ1",
        "board-RXW",
        "weekly-executive-RJ1",
        "weekly-executive-RXW",
        "monthly-performance-RJ1",
        "monthly-performance-RXW",
    ],
)
def test_no_content_slide_is_nearly_empty(decks, key: str) -> None:
    assert nearly_empty(decks[key]) == []


def test_the_emptiness_check_finds_a_nearly_empty_slide(tmp_path: Path) -> None:
    """One headed paragraph per slide (the old layout: every heading a slide title) is what the check must name."""
    blocks = []
    for i in range(3):
        blocks += [Heading(f"Point {i}", 2), Text((f"One short sentence about point {i}.",)), Heading("x", 1)]
    pack = dataclasses.replace(sample_pack(), sections=(Section("Summary", tuple(blocks[:-1])),))
    found = nearly_empty(R.render(pack, tmp_path / "thin.pptx"))
    assert found and all("filled" in f for f in found)


def test_headed_paragraphs_share_a_slide_and_continue_under_the_topic(tmp_path: Path) -> None:
    para = "A sentence of an executive summary that says what the statistics say, in plain words. " * 3
    blocks: list = [Heading("Executive summary", 1)]
    for i in range(8):
        blocks += [Heading(f"Part {i}", 2), Text((para,))]
    pack = dataclasses.replace(sample_pack(), sections=(Section("Summary", tuple(blocks)),))
    prs = Presentation(str(R.render(pack, tmp_path / "s.pptx")))
    titles = [s.shapes.title.text for s in prs.slides if s.slide_layout.name == "Title Only"]
    assert titles[0] == "Executive summary" and set(titles[1:]) == {"Executive summary (continued)"}
    assert 2 <= len(titles) <= 4  # eight headed paragraphs of three lines: two or three to a slide at least


# --- 2. tables continue under their own title, in even parts -------------------------------------------


def test_parts_come_out_even() -> None:
    assert [e - s for s, e in _split([1] * 40, 17, 17)] == [14, 13, 13]  # not 17, 17, 6
    assert [e - s for s, e in _split([1] * 18, 17, 17)] == [9, 9]  # not 17, 1
    assert _split([1] * 10, 17, 17) == [(0, 10)]
    assert _split([1, 20], 17, 17) == [(1, 1)]  # a row taller than a slide: the caller names it


def _data_table(rows: int) -> DataTable:
    columns = (Column("Organisation"), Column("Value", "number"))
    body = tuple((Cell(f"Trust {i}", f"Trust {i}"), Cell(i, str(i), "number")) for i in range(rows))
    return DataTable("Performance summary", columns, body, caption="Performance summary – every trust")


def test_a_table_continues_under_its_own_title_not_the_heading_above(tmp_path: Path) -> None:
    blocks = (
        Heading("What the Board is asked to do", 2),
        Text(("Take assurance.",)),
        _data_table(34),
    )
    pack = dataclasses.replace(sample_pack(), sections=(Section("Summary", blocks),))
    prs = Presentation(str(R.render(pack, tmp_path / "t.pptx")))
    parts = [(s, sh) for s in prs.slides for sh in s.shapes if sh.has_table]
    assert len(parts) >= 2
    for slide, _ in parts[1:]:
        assert slide.shapes.title.text == "Performance summary (continued)"
    rows = [len(sh.table.rows) - 1 for _, sh in parts]
    assert sum(rows) == 34 and min(rows) >= 3 and max(rows) - min(rows) <= 2


def test_a_table_that_fits_one_slide_is_not_split(tmp_path: Path) -> None:
    para = "Words that fill most of the slide before the table comes. " * 12
    pack = dataclasses.replace(sample_pack(), sections=(Section("Summary", (Text((para,)), _data_table(11))),))
    prs = Presentation(str(R.render(pack, tmp_path / "t.pptx")))
    parts = [sh for s in prs.slides for sh in s.shapes if sh.has_table]
    assert [len(sh.table.rows) - 1 for sh in parts] == [11]


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_the_league_table_splits_evenly_under_its_own_title(decks, org: str) -> None:
    """The NOF league table (nine columns, ranks with intervals) takes two slides: the top five and the trust on
    one, the bottom five on the next, titled as the table, never a slide of one or two rows."""
    prs = Presentation(str(decks[f"board-{org}"]))
    parts = [(s, sh) for s in prs.slides for sh in s.shapes if sh.has_table and sh.table.cell(0, 0).text == "Position"]
    rows = [len(sh.table.rows) - 1 for _, sh in parts]
    assert sum(rows) >= 10 and min(rows) >= 5, rows  # top and bottom 5, and the trust
    for slide, _ in parts[1:]:
        assert slide.shapes.title.text.startswith("League table") and slide.shapes.title.text.endswith("(continued)")


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in DECKS])
def test_no_table_caption_repeats_its_title(decks, key: str) -> None:
    """'League table: acute, August 2024 to July 2025 – League table, top and bottom 5 ...' says it twice: the
    caption line under a table gives its title (bold) and only what the caption adds."""
    prs = Presentation(str(decks[key]))
    seen = 0
    for slide in prs.slides:
        for sh in slide.shapes:
            if not sh.has_text_frame or sh.is_placeholder:
                continue
            for paragraph in sh.text_frame.paragraphs:
                runs = paragraph.runs
                if len(runs) >= 2 and runs[0].font.bold and runs[1].text.startswith(" – "):
                    seen += 1
                    lead = runs[0].text.split(":")[0].split(",")[0].strip().casefold()
                    assert not runs[1].text[3:].casefold().startswith(lead), paragraph.text
    assert seen or not key.startswith("board"), "no table caption found: the check would pass vacuously"


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in DECKS])
def test_no_slide_carries_one_or_two_continued_rows(decks, key: str) -> None:
    prs = Presentation(str(decks[key]))
    for slide in prs.slides:
        title = slide.shapes.title.text if slide.shapes.title is not None else ""
        for sh in slide.shapes:
            if sh.has_table and title.endswith("(continued)"):
                assert len(sh.table.rows) - 1 >= 3, title


def test_a_note_under_a_table_stays_on_its_slide(decks) -> None:
    prs = Presentation(str(decks["board-RJ1"]))
    for slide in prs.slides:
        boxes = [sh for sh in slide.shapes if not sh.is_placeholder]
        if len(boxes) == 1 and boxes[0].has_text_frame:
            assert not boxes[0].text_frame.text.startswith("Data not current"), "a table's note alone on a slide"


# --- 3. dividers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_section_dividers_do_not_name_a_subsection(decks, org: str) -> None:
    prs = Presentation(str(decks[f"board-{org}"]))
    dividers = [s for s in prs.slides if s.slide_layout.name == "Section Header"]
    assert dividers
    for slide in dividers:
        words = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame and sh != slide.shapes.title]
        assert not any("How we compare" in w or "Definitions" in w for w in words), words


# --- 4. what needs attention first; captions say something ---------------------------------------------


def _row(metric_id: str, icon: str, *, exception: bool = False) -> SummaryRow:
    return SummaryRow(
        metric_id, metric_id, "July 2025", Cell(1, "1"), Cell(None, "–"), icon, None, "", exception=exception
    )


def test_the_summary_table_puts_exceptions_then_special_cause_first(tmp_path: Path) -> None:
    rows = (
        _row("steady_a", "common_cause"),
        _row("unusual", "neutral_low"),
        _row("steady_b", "common_cause"),
        _row("worse", "concern_high", exception=True),
        _row("better", "improvement_high"),
    )
    table = SummaryTable("Headlines", rows)
    pack = dataclasses.replace(sample_pack(), sections=(Section("Headlines", (table,)),))
    prs = Presentation(str(R.render(pack, tmp_path / "h.pptx")))
    shape = next(sh for s in prs.slides for sh in s.shapes if sh.has_table)
    order = [r.cells[0].text for r in list(shape.table.rows)[1:]]
    assert order == ["worse", "unusual", "better", "steady_a", "steady_b"]  # template order within each class


def test_weekly_headlines_open_with_the_signal_and_the_chart_caption_does_not_repeat_its_title(decks) -> None:
    prs = Presentation(str(decks["weekly-executive-RJ1"]))
    shape = next(sh for s in prs.slides for sh in s.shapes if sh.has_table)
    assert shape.table.cell(1, 0).text == "Discharges per week"  # special cause (unusually low), first
    chart_slide = next(s for s in prs.slides if any(sh.has_chart for sh in s.shapes))
    texts = [sh.text_frame.text for sh in chart_slide.shapes if sh.has_text_frame and not sh.is_placeholder]
    assert not any(t.endswith("SPC chart") for t in texts)


# --- 6. one vocabulary ----------------------------------------------------------------------------------


def test_point_types_read_as_in_every_other_format(decks) -> None:
    prs = Presentation(str(decks["board-RJ1"]))
    cells = {
        c.text
        for s in prs.slides
        for sh in s.shapes
        if sh.has_table and sh.table.cell(0, len(sh.table.columns) - 1).text == "Point type"
        for r in list(sh.table.rows)[1:]
        for c in [r.cells[len(sh.table.columns) - 1]]
    }
    # a point is drawn as its chart marker and named as the legend names it: "● Common cause", never the series
    # verdict "~ Common cause variation"
    assert icon_text(COMMON_CAUSE_POINT) in cells and icon_text("common_cause") not in cells, cells
    assert "common cause" not in cells and all(c == "" or c[0] in "●■◆▲▼" for c in cells), cells


def _point_type_glyphs(tables) -> dict[str, set[str]]:
    """glyph -> the colours its runs have, over every "Point type" cell of python-pptx's or python-docx's tables;
    each cell must be the glyph's run then an uncoloured label."""
    found: dict[str, set[str]] = {}
    for rows in tables:
        if rows[0][-1].text != "Point type":
            continue
        for row in rows[1:]:
            cell = row[-1]
            paragraphs = cell.text_frame.paragraphs if hasattr(cell, "text_frame") else cell.paragraphs
            runs = [r for p in paragraphs for r in p.runs if r.text]
            if not runs:
                continue
            glyph, label = runs[0], "".join(r.text for r in runs[1:])
            assert glyph.text.strip() in "●■◆▲▼" and label and label[0] != " ", [r.text for r in runs]
            assert all(r.font.color.type is None for r in runs[1:])  # the words in the text colour
            found.setdefault(glyph.text.strip(), set()).add(str(glyph.font.color.rgb))
    return found


def test_point_type_glyphs_are_their_markers_colour_as_in_the_word_paper(
    decks, assembled, renderer: Renderer, tmp_path: Path
) -> None:
    """The deck's data tables coloured each point's glyph black; the Word paper and the HTML colour it as its
    chart marker (reporting.packs.render._brand.mark_colour). Read back from both files, not from the code."""
    from docx import Document

    from reporting.packs.render._brand import contrast_ratio
    from reporting.packs.render.docx import render as render_docx

    deck = Presentation(str(decks["board-RJ1"]))
    in_deck = _point_type_glyphs(
        [[list(r.cells) for r in sh.table.rows] for s in deck.slides for sh in s.shapes if sh.has_table]
    )
    pack: Pack = assembled("board", org="RJ1")
    specs = pack.chart_specs()
    images = renderer.render(specs)
    pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
    paper = Document(str(render_docx(pack, tmp_path / "board-RJ1.docx")))
    in_paper = _point_type_glyphs([[list(r.cells) for r in t.rows] for t in paper.tables])
    assert in_deck == in_paper and {"●", "■"} <= set(in_deck), (in_deck, in_paper)
    colours = {c for found in in_deck.values() for c in found}
    assert all(len(found) == 1 for found in in_deck.values()) and len(colours) == len(in_deck)
    assert all(contrast_ratio(c, "FFFFFF") >= 3.0 for c in colours)  # WCAG non-text contrast on the page
