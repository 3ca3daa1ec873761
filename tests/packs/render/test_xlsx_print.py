"""The workbooks print as a board secretary would send them: the Contents sheet at a readable scale, a chart's
sentence on the chart's page, short chart titles, even league-table rows under a header of two lines at most,
no bare headings on the Appendix sheet, and Definitions fitted to the page's width, not shrunk to one page."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from office import to_pdf
from openpyxl import load_workbook

from reporting.charts.export import Renderer
from reporting.packs.render import xlsx as X
from reporting.packs.render.xlsx.cells import PAGE_WIDTH_PX
from reporting.packs.tree import Pack

WORKBOOKS = [(name, org) for name in ("monthly-performance", "weekly-executive") for org in ("RJ1", "RXW")]
PORTRAIT_WIDTH_PX = 698  # A4 portrait at 96 dpi, half-inch margins
PX_PER_CHAR = 7  # Excel's column width unit at the default font, and the 5 px of padding each column has


@pytest.fixture(scope="module")
def books(assembled, renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("print")
    built = {}
    for name, org in WORKBOOKS:
        pack: Pack = assembled(name, org=org)
        specs = pack.chart_specs()
        images = renderer.render(specs)
        pack = pack.with_images({s.content_hash(): i.path for s, i in zip(specs, images, strict=True)})
        built[f"{name}-{org}"] = X.render(pack, out / f"{name}-{org}.xlsx")
    return built


def print_scale(ws, page_px: float) -> float:
    """The scale at which a sheet fitted to the page's width prints: the printed columns' width against the page."""
    width = sum((ws.column_dimensions[c].width or 8.43) * PX_PER_CHAR + 5 for c in _letters(ws.max_column))
    return min(1.0, page_px / width)


def _letters(n: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, n + 1)]


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in WORKBOOKS])
def test_contents_and_definitions_print_readable(books, key: str) -> None:
    wb = load_workbook(books[key])
    contents = wb["Contents"]
    assert contents.page_setup.orientation == "portrait" and print_scale(contents, PORTRAIT_WIDTH_PX) >= 0.9
    for ws in wb.worksheets:
        if ws.sheet_state == "hidden":
            continue
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)  # to the width, never one page
    if "Definitions" in wb.sheetnames:
        assert print_scale(wb["Definitions"], PAGE_WIDTH_PX) >= 0.85


def test_the_scale_check_catches_a_sheet_wider_than_its_tables(books) -> None:
    """Text merged across more columns than the sheet's tables (the old Contents: eight columns) shrinks the page."""
    wb = load_workbook(books["monthly-performance-RJ1"])
    ws = wb["Contents"]
    ws.cell(row=ws.max_row + 1, column=8, value="a footnote merged across eight columns")
    assert print_scale(ws, PORTRAIT_WIDTH_PX) < 0.9


def _chart_titles(path: Path) -> list[str]:
    titles = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                xml = z.read(name).decode()
                title = re.search(r"<(?:c:)?title>(.*?)</(?:c:)?title>", xml, re.S)
                if title:
                    titles.append("".join(re.findall(r"<a:t>(.*?)</a:t>", title.group(1))))
    return titles


@pytest.mark.parametrize("key", [f"{n}-{o}" for n, o in WORKBOOKS])
def test_chart_titles_are_plain_and_the_method_is_a_note(books, key: str) -> None:
    titles = _chart_titles(books[key])
    assert titles
    for title in titles:
        assert len(title) <= 70 and "σz" not in title and "Laney" not in title and "Break" not in title, title
    if key.startswith("monthly"):
        ws = load_workbook(books[key])["Urgent and emergency care"]
        notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert any("overdispersion (Laney p′)" in n for n in notes)  # said once, under its chart


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_league_rows_are_even_and_the_header_two_lines_at_most(books, org: str) -> None:
    ws = load_workbook(books[f"monthly-performance-{org}"])["League table"]
    table = next(iter(ws.tables.values()))
    first, last = (int(n) for n in re.findall(r"\d+", table.ref))
    heights = {ws.row_dimensions[r].height for r in range(first + 1, last + 1)}
    assert len(heights) == 1, heights  # no blank bands where a name was counted as two lines
    assert (ws.row_dimensions[first].height or 15) <= 2 * 13.5


@pytest.mark.parametrize("key", ["monthly-performance-RJ1", "monthly-performance-RXW"])
def test_no_heading_stands_alone_on_the_appendix_sheet(books, key: str) -> None:
    wb = load_workbook(books[key])
    ws = wb["Appendix"]
    headings = [c.value for c in ws["A"] if c.style and c.style.startswith("Headline")]
    assert "Definitions" not in headings and "Data" not in headings
    assert "Definitions" in [c.value for c in wb["Definitions"]["A"] if c.style and c.style.startswith("Headline")]


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.parametrize("org", ["RJ1", "RXW"])
def test_a_charts_sentence_prints_on_the_charts_page(books, org: str, tmp_path: Path) -> None:
    """LibreOffice's print of the weekly workbook: the discharges sentence and its chart (its legend) share a
    page, and no page that continues a sheet (a sheet's first page has the link back to Contents) is a sentence
    or two alone."""
    pages = _pdf_pages(to_pdf(books[f"weekly-executive-{org}"], tmp_path))
    (page,) = [p for p in pages if "Discharges per week were" in p]
    assert "Process limits" in page
    for p in pages:
        if "← Contents" in p:
            continue
        body = [line for line in p.splitlines() if line.strip() and "OFFICIAL" not in line]
        assert not (0 < len(body) <= 2), body
