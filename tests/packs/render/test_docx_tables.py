"""Every shipped Word pack, for RJ1 and a trust with long names (RXW): no table header breaks inside a word, and
no caption says the same words twice.

The header check measures each header word in Arial bold at the table's font size (the metrics in
render/_text_fit.py) against the column's width in word/document.xml less the cell margins; a second check reads
the board paper's PDF (LibreOffice's own layout) and finds every header word whole.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import pytest
from docx.shared import Pt
from docx_text import cell_text_pt
from project_fixtures import copy_project

from reporting.packs.build import build
from reporting.packs.render import pdf
from reporting.packs.render._caption import caption_rest, caption_text
from reporting.packs.render._text_fit import WIDTH_MARGIN, _em
from reporting.packs.render.docx.tables import column_widths, table_font_pt
from reporting.project import Project

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARGINS_PT = 2 * 85 / 20  # the NHS Table style's left + right cell margins
ORGS = ("RJ1", "RXW")


@pytest.fixture(scope="module")
def papers(demo_project: Project, renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every shipped pack with Word among its formats, built for RJ1 and RXW: {"board-RJ1": .docx, ...}, plus
    the board papers' PDFs as "board-RJ1.pdf"."""
    project = copy_project(demo_project, tmp_path_factory.mktemp("papers"))
    found: dict[str, Path] = {}
    for pack in ("board", "monthly-performance"):
        formats = ["docx", "pdf"] if pack == "board" and pdf.libreoffice_available() else ["docx"]
        for result in build(project, pack, orgs=list(ORGS), formats=formats, renderer=renderer):
            for f in result.files:
                if f.suffix in (".docx", ".pdf"):
                    found[f"{pack}-{result.org}" + (".pdf" if f.suffix == ".pdf" else "")] = f
    assert {k for k in found if not k.endswith(".pdf")} == {
        f"{p}-{o}" for p in ("board", "monthly-performance") for o in ORGS
    }
    return found


def header_overflows(path: Path) -> list[str]:
    """'table N column M: word (x pt) wider than its column (y pt)' for every header word that cannot fit."""
    document = docx.Document(str(path))
    normal = Pt(table_font_pt(document)).pt  # Normal's 11 pt: what Word and LibreOffice set table text at
    problems = []
    for t, table in enumerate(document.tables, start=1):
        grid = [int(col.get(f"{W}w")) / 20 for col in table._tbl.tblGrid.iter(f"{W}gridCol")]  # twips -> pt
        for c, cell in enumerate(table.rows[0].cells):
            room = grid[c] - MARGINS_PT
            size = cell_text_pt(cell, normal)
            for word in cell.text.split():
                need = _em(word, True) * size * WIDTH_MARGIN
                if need > room:
                    problems.append(f"{path.name} table {t} column {c + 1}: {word!r} ({need:.1f} pt) > {room:.1f} pt")
    return problems


def test_no_header_word_is_wider_than_its_column(papers: dict[str, Path]) -> None:
    for name, path in papers.items():
        if not name.endswith(".pdf"):
            assert header_overflows(path) == [], name


def test_the_check_finds_a_column_too_narrow_for_its_header(papers: dict[str, Path], tmp_path: Path) -> None:
    """The header check fails on a paper whose league table has the old, weight-only widths (Position at 6/104)."""
    document = docx.Document(str(papers["monthly-performance-RXW"]))
    league = next(t for t in document.tables if t.rows[0].cells[0].text == "Position")
    cols = list(league._tbl.tblGrid.iter(f"{W}gridCol"))
    cols[0].set(f"{W}w", "300")  # 15 pt: narrower than "Position" in bold
    broken = tmp_path / "broken.docx"
    document.save(str(broken))
    assert any("'Position'" in problem for problem in header_overflows(broken))


def test_the_board_pdf_shows_every_header_word_whole(papers: dict[str, Path]) -> None:
    for org in ORGS:
        made = papers.get(f"board-{org}.pdf")
        if made is None:
            pytest.skip("LibreOffice is not installed")
        words = set(
            subprocess.run(["pdftotext", str(made), "-"], capture_output=True, text=True, check=True).stdout.split()
        )
        document = docx.Document(str(papers[f"board-{org}"]))
        for table in document.tables:
            for cell in table.rows[0].cells:
                for word in cell.text.split():
                    assert word in words, (org, word)


def test_long_metric_titles_use_the_catalogues_short_title_in_headers(papers: dict[str, Path]) -> None:
    document = docx.Document(str(papers["monthly-performance-RJ1"]))
    league = next(t for t in document.tables if t.rows[0].cells[0].text == "Position")
    headers = [c.text for c in league.rows[0].cells]
    assert "Trolley waits over 4 hours (%)" in headers
    assert not any("share of emergency admissions" in h for h in headers)


def _trigrams(text: str) -> list[tuple[str, ...]]:
    words = re.findall(r"[\w&'’-]+", text.lower())
    return [tuple(words[i : i + 3]) for i in range(len(words) - 2)]


def test_no_caption_repeats_itself(papers: dict[str, Path]) -> None:
    """No run of three words appears twice in one caption ("League table… – League table…")."""
    seen = 0
    for name, path in papers.items():
        if name.endswith(".pdf"):
            continue
        for paragraph in docx.Document(str(path)).paragraphs:
            if paragraph.style.name == "Caption":
                seen += 1
                grams = _trigrams(re.sub(r"^(Table|Figure) \d+: ", "", paragraph.text))
                assert len(grams) == len(set(grams)), (name, paragraph.text)
    assert seen > 20


@pytest.mark.parametrize(
    ("title", "caption", "expected"),
    [
        (
            "League table: acute, August 2024 to July 2025",
            "League table, top and bottom 5 of 118 acute ranked",
            "League table: acute, August 2024 to July 2025 – top and bottom 5 of 118 acute ranked",
        ),
        (
            "A&E: data",
            "A&E, Guy's and St Thomas': last 13 periods",
            "A&E: data – Guy's and St Thomas': last 13 periods",
        ),
        ("Metric definitions", "Metric definitions", "Metric definitions"),
        ("Summary", "Summary for July", "Summary for July"),
        ("Summary", "", "Summary"),
        ("", "Only a caption", "Only a caption"),
        ("Waits", "Longest first", "Waits – Longest first"),
    ],
)
def test_caption_text(title: str, caption: str, expected: str) -> None:
    assert caption_text(title, caption) == expected


def test_column_widths_keep_every_minimum_and_share_the_rest_by_weight() -> None:
    assert column_widths(1000, [1, 1, 2], [0, 0, 0]) == [250, 250, 500]
    widths = column_widths(1000, [6, 40, 14], [200, 0, 0])  # the first column's share (100) is below 200
    assert widths[0] == 200 and widths[1] == int(800 * 40 / 54) and sum(widths) <= 1000
    assert column_widths(100, [1, 1], [80, 80]) == [50, 50]  # cannot all fit: scaled down together


@pytest.mark.parametrize(
    ("title", "caption", "expected"),
    [
        (
            "League table: acute, August 2024 to July 2025",
            "League table, top and bottom 5 of 118",
            "top and bottom 5 of 118",
        ),
        ("Headlines: latest week", "Headlines: latest week, Guy's, week of 25 August", "Guy's, week of 25 August"),
        ("Metric definitions", "metric definitions", ""),
        ("Waits", "Longest first", "Longest first"),
        ("", "Only a caption", "Only a caption"),
        ("Waits", "", ""),
    ],
)
def test_caption_rest_is_what_the_caption_adds(title: str, caption: str, expected: str) -> None:
    """The decks and workbooks set the title and the rest apart: the rest never opens with the title's words."""
    assert caption_rest(title, caption) == expected


def test_the_league_tables_ranks_stay_on_one_line_and_the_table_on_one_page(papers: dict[str, Path]) -> None:
    """A wide table is set at 9 pt (WIDE_TABLE_PT), so the NOF league table's ranks with intervals ("110
    (108–111)") sit on one line and its eleven rows of long names, with its notes, fit one landscape page of the
    PDF (at 11 pt they wrapped, and the table ran over two pages)."""
    for name in ("board-RJ1", "board-RXW"):
        document = docx.Document(str(papers[name]))
        table = next(t for t in document.tables if t.rows[0].cells[0].text == "Position")
        grid = [int(col.get(f"{W}w")) / 20 for col in table._tbl.tblGrid.iter(f"{W}gridCol")]
        normal = Pt(table_font_pt(document)).pt
        wrapped = [
            cell.text
            for row in table.rows[1:]
            for c, cell in enumerate(row.cells)
            if re.fullmatch(r"\d+ \(\d+–\d+\)", cell.text)
            and _em(cell.text, True) * cell_text_pt(cell, normal) * WIDTH_MARGIN > grid[c] - MARGINS_PT
        ]
        assert wrapped == [], (name, wrapped)
        if f"{name}.pdf" in papers:
            text = subprocess.run(
                ["pdftotext", str(papers[f"{name}.pdf"]), "-"], capture_output=True, text=True, check=True
            ).stdout
            pages = [i for i, page in enumerate(text.split("\f"), start=1) if "To next" in page]
            assert len(pages) == 1, (name, pages)  # the header repeats on every page the table takes
