"""Issue 13a, item 3: the Word (and so the PDF) summary table carries the MDC icons as pictures with alt text, the
same pictures the deck and the email carry, and nothing in a table cell is cut at the cell's edge; a data
table's Period column is wide enough that "September 2024" never wraps."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import docx
import pytest
from docx.shared import Pt
from docx_text import cell_text_pt
from project_fixtures import copy_project

from reporting.charts import icon_chart, raster
from reporting.mdc import ASSURANCE, VARIATION
from reporting.packs.build import build
from reporting.packs.render._text_fit import WIDTH_MARGIN, _em
from reporting.packs.render.docx.tables import table_font_pt
from reporting.project import Project

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MARGINS_PT = 2 * 85 / 20  # the NHS Table style's left + right cell margins
EMU_PER_PT = 12700


@pytest.fixture(scope="module")
def papers(demo_project: Project, renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    project = copy_project(demo_project, tmp_path_factory.mktemp("pictures"))
    found = {}
    for pack, org in (("board", "RJ1"), ("board", "RXW"), ("monthly-performance", "RJ1")):
        for result in build(project, pack, orgs=[org], formats=["docx"], renderer=renderer):
            found[f"{pack}-{org}"] = next(f for f in result.files if f.suffix == ".docx")
    return found


def summary_table(document: docx.document.Document) -> docx.table.Table:
    return next(t for t in document.tables if t.rows[0].cells[0].text == "Metric" and len(t.columns) == 7)


def pictures(cell: docx.table._Cell) -> list[tuple[str, str]]:
    """(alt title, sha256 of the image) of every inline picture in the cell."""
    out = []
    part = cell.part
    for inline in cell._tc.iter(f"{WP}inline"):
        blip = next(inline.iter(f"{A}blip"), None)
        if blip is None:
            continue
        blob = part.related_parts[blip.get(f"{R}embed")].blob
        out.append((inline.find(f"{WP}docPr").get("title"), hashlib.sha256(blob).hexdigest()))
    return out


def drawn(code: str) -> str:
    stream = io.BytesIO()
    raster.draw(icon_chart(code), stream)
    return hashlib.sha256(stream.getvalue()).hexdigest()


@pytest.mark.parametrize("paper", ["board-RJ1", "board-RXW", "monthly-performance-RJ1"])
def test_summary_icons_are_the_decks_pictures_with_alt_text(papers: dict[str, Path], paper: str) -> None:
    table = summary_table(docx.Document(str(papers[paper])))
    seen = 0
    for row in table.rows[1:]:
        for cell, kind, codes in ((row.cells[4], "Variation", VARIATION), (row.cells[5], "Assurance", ASSURANCE)):
            assert "●" not in cell.text  # the old text glyph
            if "Not assessed" in cell.text:
                assert pictures(cell) == []
                continue
            ((title, digest),) = pictures(cell)
            code = next(c for c, (_, _, label) in codes.items() if title == f"{kind}: {label}")
            assert digest == drawn(code)  # the icon charts.raster draws for the deck and the email
            seen += 1
    assert seen >= 7


def cut_pictures(path: Path) -> list[str]:
    """Every picture in a table cell that is wider than the cell less its margins, or keeps a wrap distance
    (LibreOffice reads a missing distL/distR as 0.32 cm), so its right edge is cut off."""
    document = docx.Document(str(path))
    problems = []
    for t, table in enumerate(document.tables, start=1):
        grid = [int(col.get(f"{W}w")) / 20 for col in table._tbl.tblGrid.iter(f"{W}gridCol")]
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                used = 0.0
                for inline in cell._tc.iter(f"{WP}inline"):
                    sides = [float(inline.get(side) or 0.32 * 72 / 2.54 * EMU_PER_PT) for side in ("distL", "distR")]
                    used += (int(inline.find(f"{WP}extent").get("cx")) + sum(sides)) / EMU_PER_PT
                if used > grid[c] - MARGINS_PT:
                    problems.append(f"table {t} row {r} column {c}: {used:.1f} pt in {grid[c] - MARGINS_PT:.1f} pt")
    return problems


@pytest.mark.parametrize("paper", ["board-RJ1", "board-RXW", "monthly-performance-RJ1"])
def test_no_picture_is_cut_at_its_cells_edge(papers: dict[str, Path], paper: str) -> None:
    assert cut_pictures(papers[paper]) == []


def test_the_check_finds_a_sparkline_wider_than_its_cell(papers: dict[str, Path], tmp_path: Path) -> None:
    document = docx.Document(str(papers["board-RJ1"]))
    for inline in summary_table(document)._tbl.iter(f"{WP}inline"):
        del inline.attrib["distR"]  # the old writer's pictures: LibreOffice's default wrap distance
    broken = tmp_path / "broken.docx"
    document.save(str(broken))
    assert cut_pictures(broken)


def period_wraps(path: Path) -> list[str]:
    document = docx.Document(str(path))
    normal = Pt(table_font_pt(document)).pt
    out = []
    for table in document.tables:
        if table.rows[0].cells[0].text != "Period":
            continue
        room = int(next(table._tbl.tblGrid.iter(f"{W}gridCol")).get(f"{W}w")) / 20 - MARGINS_PT
        out += [
            row.cells[0].text
            for row in table.rows[1:]
            if _em(row.cells[0].text, True) * cell_text_pt(row.cells[0], normal) * WIDTH_MARGIN > room
        ]
    return out


@pytest.mark.parametrize("paper", ["board-RJ1", "monthly-performance-RJ1"])
def test_a_data_tables_period_never_wraps(papers: dict[str, Path], paper: str) -> None:
    document = docx.Document(str(papers[paper]))
    periods = [r.cells[0].text for t in document.tables if t.rows[0].cells[0].text == "Period" for r in t.rows[1:]]
    assert "September 2024" in periods
    assert period_wraps(papers[paper]) == []


def test_a_note_among_wide_tables_stays_on_their_landscape_pages() -> None:
    from reporting.packs.render.docx.document import _plan
    from reporting.packs.tree import Column, DataTable, Section, Text

    table = DataTable("T", (Column("Period", "date", "yyyy-mm-dd", 12),), (), wide=True)
    note = Text(("Discharges before 5pm: no current data, so no data table is shown.",), "note")
    body = Text(("A paragraph of the report.",))
    plan = _plan([Section("", (table, note, table, body))])
    assert [wide for _, wide in plan] == [True, True, True, False]  # the note does not get a portrait page
