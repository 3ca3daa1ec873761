"""Nothing on a slide overflows it, overprints the footer or another shape: every shipped pack, for RJ1 and for
a trust with long names (RXW), and a pack with a synthetic long metric title, measured twice: the boxes
python-pptx reads back (tables by the row heights the renderer planned), and the words LibreOffice draws
(``pdftotext -bbox``), since LibreOffice grows a row past its planned height when a cell's lines are taller
than the renderer measured (an empty run got the default 18 pt line: the rows ran over the footer)."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from office import to_pdf
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from reporting.charts.export import Renderer
from reporting.packs.render import _text_fit as F
from reporting.packs.render import pptx as R
from reporting.packs.tree import Pack, SummaryTable

PACKS = [(name, org) for name in ("board", "monthly-performance", "weekly-executive") for org in ("RJ1", "RXW")]
FRAME = (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)
PT = 12700  # EMU a point


@dataclasses.dataclass(frozen=True)
class _Box:
    name: str
    left: int
    top: int
    right: int
    bottom: int

    def overlaps(self, other: _Box) -> bool:
        return (
            self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom
        )

    def inside(self, other: _Box) -> bool:
        return (
            self.left >= other.left
            and self.right <= other.right
            and self.top >= other.top
            and self.bottom <= other.bottom
        )


def _boxes(slide) -> list[_Box]:
    found = []
    for shape in slide.shapes:
        height = sum(r.height for r in shape.table.rows) if shape.has_table else shape.height
        found.append(_Box(shape.name, shape.left, shape.top, shape.left + shape.width, shape.top + height))
    return found


def layout_problems(path: Path) -> list[str]:
    """Shapes off the slide, over the footer band, or over each other (a picture drawn inside a table's cell,
    as sparklines and icons are, is part of the table)."""
    prs = Presentation(str(path))
    page = _Box("slide", 0, 0, prs.slide_width, prs.slide_height)
    problems = []
    for number, slide in enumerate(prs.slides, start=1):
        boxes = _boxes(slide)
        frame = [b for s, b in zip(slide.shapes, boxes) if s.is_placeholder and s.placeholder_format.type in FRAME]
        band = min(b.top for b in frame)
        tables = [b for s, b in zip(slide.shapes, boxes) if s.has_table]
        content = []
        for shape, box in zip(slide.shapes, boxes):
            if not box.inside(page):
                problems.append(f"slide {number}: {box.name} is off the slide")
            if box in frame:
                continue
            if box.bottom > band:
                problems.append(f"slide {number}: {box.name} runs {(box.bottom - band) / PT:.0f} pt into the footer")
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE and any(box.inside(t) for t in tables):
                continue
            content.append(box)
        for i, a in enumerate(content):
            for b in content[i + 1 :]:
                if a.overlaps(b):
                    problems.append(f"slide {number}: {a.name} overlaps {b.name} by {(a.bottom - b.top) / PT:.0f} pt")
    return problems


def _words(pdf: Path) -> Iterator[list[tuple[float, float, float, float, str]]]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    for page in out.split("<page ")[1:]:
        yield [
            (float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in re.findall(pattern, page)
        ]


def drawn_problems(path: Path, pdf: Path) -> list[str]:
    """Words LibreOffice drew in the footer band that are not the footer's, and words printed over others
    (more than half a line's height: lines of one paragraph touch by a point or two)."""
    prs = Presentation(str(path))
    problems = []
    for number, (slide, words) in enumerate(zip(prs.slides, _words(pdf), strict=True), start=1):
        frame = [p for p in slide.placeholders if p.placeholder_format.type in FRAME]
        band = min(p.top for p in frame) / PT
        own = {w for p in frame for w in p.text_frame.text.split()}
        for *_, y1, text in words:
            if y1 > band + 1 and text not in own:
                problems.append(f"slide {number}: '{text}' drawn {y1 - band:.0f} pt into the footer")
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                dx, dy = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
                if dx > 1 and dy > 0.5 * min(a[3] - a[1], b[3] - b[1]):
                    problems.append(f"slide {number}: '{a[4]}' and '{b[4]}' overprint")
    return problems


@pytest.fixture(scope="module")
def decks(assembled, renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("layout")
    built = {}
    for name, org in PACKS:
        pack: Pack = assembled(name, org=org)
        specs = pack.chart_specs()
        images = renderer.render(specs)
        pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
        built[f"{name}-{org}"] = R.render(pack, out / f"{name}-{org}.pptx")
    return built


@pytest.fixture(scope="module")
def long_titles(assembled, renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The board paper for RXW with every summary row's metric title made long (three lines in its column)."""
    pack: Pack = assembled("board", org="RXW")
    title = "Patients waiting more than twelve hours from decision to admit to leaving the emergency department "

    def lengthen(block):
        if isinstance(block, SummaryTable):
            rows = tuple(dataclasses.replace(r, title=title + r.title) for r in block.rows)
            return dataclasses.replace(block, rows=rows)
        return block

    pack = dataclasses.replace(
        pack,
        sections=tuple(dataclasses.replace(s, blocks=tuple(lengthen(b) for b in s.blocks)) for s in pack.sections),
    )
    specs = pack.chart_specs()
    images = renderer.render(specs)
    pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
    return R.render(pack, tmp_path_factory.mktemp("long") / "long.pptx")


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in PACKS])
def test_no_shape_overflows_or_overlaps(decks: dict[str, Path], key: str) -> None:
    assert layout_problems(decks[key]) == []


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in PACKS])
def test_libreoffice_draws_nothing_over_the_footer_or_other_text(
    decks: dict[str, Path], key: str, tmp_path: Path
) -> None:
    assert drawn_problems(decks[key], to_pdf(decks[key], tmp_path)) == []


def test_long_metric_titles_still_fit(long_titles: Path, tmp_path: Path) -> None:
    assert layout_problems(long_titles) == []
    assert drawn_problems(long_titles, to_pdf(long_titles, tmp_path)) == []


def test_the_checks_catch_an_overprint_and_a_row_over_the_footer(decks: dict[str, Path], tmp_path: Path) -> None:
    """Break a real deck the two ways the shipped decks were broken: a table moved down onto the footer, and a
    text box moved onto a table; both checks must name them."""
    prs = Presentation(str(decks["board-RJ1"]))
    slide = next(s for s in prs.slides if any(sh.has_table for sh in s.shapes))
    table = next(sh for sh in slide.shapes if sh.has_table)
    footer = next(p for p in slide.placeholders if p.placeholder_format.type == PP_PLACEHOLDER.FOOTER)
    table.top = footer.top - sum(r.height for r in table.table.rows) // 2
    caption = slide.shapes.add_textbox(table.left, table.top, table.width, 20 * PT)
    caption.text_frame.text = "A caption printed over the header row"
    broken = tmp_path / "broken.pptx"
    prs.save(str(broken))
    problems = layout_problems(broken)
    assert any("into the footer" in p for p in problems) and any("overlaps" in p for p in problems)
    drawn = drawn_problems(broken, to_pdf(broken, tmp_path / "pdf"))
    assert any("into the footer" in p for p in drawn) and any("overprint" in p for p in drawn)


def _agenda(path: Path) -> list[tuple[str, int]]:
    prs = Presentation(str(path))
    (slide,) = [s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text == "Contents"]
    body = next(p for p in slide.placeholders if p.placeholder_format.idx == 1)
    entries = []
    for line in body.text_frame.text.split("\n"):
        title, _, number = line.rpartition("   slide ")
        entries.append((title, int(number)))
    return entries


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_contents_lists_every_section_at_its_slide(assembled, decks: dict[str, Path], org: str) -> None:
    """The board paper's executive summary shares the cover's section and has no header slide; it was left out."""
    pack: Pack = assembled("board", org=org)
    entries = _agenda(decks[f"board-{org}"])
    assert [t for t, _ in entries] == [s.title for s in pack.sections]
    prs = Presentation(str(decks[f"board-{org}"]))
    titles = [s.shapes.title.text if s.shapes.title is not None else "" for s in prs.slides]
    assert entries[0] == ("Executive summary", 3) and titles[2].startswith("Executive summary")
    for title, number in entries[1:]:
        assert titles[number - 1] == title  # the section's header slide


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in PACKS])
def test_no_table_caption_repeats_its_title(decks: dict[str, Path], key: str) -> None:
    """'Headlines: latest week and month – Headlines: latest week and month, …' printed the title twice."""
    for slide in Presentation(str(decks[key])).slides:
        for shape in slide.shapes:
            if shape.has_text_frame and " – " in shape.text_frame.text:
                head, _, rest = shape.text_frame.text.partition(" – ")
                assert not rest.casefold().startswith(head.casefold()), shape.text_frame.text


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in PACKS])
def test_no_table_header_breaks_inside_a_word(decks: dict[str, Path], key: str, tmp_path: Path) -> None:
    """League tables printed 'AM R', 'Ra nk', 'Segm ent': every header word must fit its column by the fitting
    rule, and LibreOffice must draw each one whole."""
    prs = Presentation(str(decks[key]))
    drawn = list(_words(to_pdf(decks[key], tmp_path)))
    for number, slide in enumerate(prs.slides, start=1):
        words_drawn = {w[4] for w in drawn[number - 1]}
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            for column, cell in zip(shape.table.columns, shape.table.rows[0].cells):
                room = column.width - int(cell._tc.tcPr.get("marL")) - int(cell._tc.tcPr.get("marR"))
                for word in cell.text.split():
                    assert F._lines(word, F._line_em(room, 12), bold=True) == 1, (number, word)
                    assert word in words_drawn, (number, word)
