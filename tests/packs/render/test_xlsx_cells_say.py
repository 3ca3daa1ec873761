"""The shipped workbooks' formatting says what their cells say (issue 13, Excel).

Every shipped pack is rendered to .xlsx for RJ1 and for a trust with long names (RXW) and re-opened:
- each conditional-formatting rule is evaluated against the cells of its range, and the cells it fills are
  exactly the special-cause and pass/fail ones (the rules were case-sensitive FINDs of words the cells did
  not hold, so only common-cause rows were filled);
- number columns hold numbers or blanks (never "–"), no table repeats a header, and no column is empty
  (`narrative: false` leaves the Narrative column out);
- native SPC charts carry one marker series per point type with explicit colours (the legend's key, and
  what LibreOffice draws), and the lower process limit has no legend entry of its own.
Each check is a function that returns what is wrong, shown to fail on a workbook built broken.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, range_boundaries
from openpyxl.worksheet.table import Table

from reporting.charts.theme import DEFAULT_THEME
from reporting.mdc import ASSURANCE, POINT_TYPE_ICONS, POINT_TYPE_LABELS, VARIATION, icon_text
from reporting.packs.render.xlsx import render
from reporting.packs.tree import DataTable, Pack

PACKS = sorted(p.stem for p in (Path(__file__).resolve().parents[3] / "templates" / "packs").glob("*.yaml"))
ORGS = ("RJ1", "RXW")
#: the cell texts that must be filled: special cause (icons and point types) and pass/fail assurance
FILLED = {
    icon_text(code)
    for table in (VARIATION, ASSURANCE, POINT_TYPE_ICONS)
    for code, (_, colour, _) in table.items()
    if colour != "common_cause"
}
ICON_TEXTS = {icon_text(code) for table in (VARIATION, ASSURANCE, POINT_TYPE_ICONS) for code in table}
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


@pytest.fixture(scope="module")
def workbooks(assembled: Callable[..., Pack], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    out = {}
    folder = tmp_path_factory.mktemp("xlsx-cells-say")
    for name in PACKS:
        for org in ORGS:
            with warnings.catch_warnings():  # no chart images here: picture-only charts warn, as they should
                warnings.simplefilter("ignore", RuntimeWarning)
                out[(name, org)] = render(assembled(name, org=org), folder / f"{name}-{org}.xlsx")
    return out


# --- a small evaluator for the rules we write --------------------------------------------------------------------

_TERM = re.compile(
    r'(\$?)([A-Z]+)(\$?)(\d+)="((?:[^"]|"")*)"|ISNUMBER\(FIND\("((?:[^"]|"")*)",(\$?)([A-Z]+)(\$?)(\d+)\)\)'
)


def _rule_matches(formula: str, ws: Any, top: int, left: int, row: int, col: int) -> bool:
    """Evaluate OR(...) of `ref="text"` (Excel: case-insensitive) and ISNUMBER(FIND("text",ref)) (case-
    sensitive) at (row, col) of a range whose top-left is (top, left); anything else is an error."""
    body = formula[3:-1] if formula.startswith("OR(") and formula.endswith(")") else formula
    terms = list(_TERM.finditer(body))
    if not terms or ",".join(t.group(0) for t in terms) != body:
        raise AssertionError(f"a rule this test cannot read: {formula}")
    for t in terms:
        if t.group(2):
            col_abs, letters, row_abs, number, text = t.group(1, 2, 3, 4, 5)
        else:
            text, col_abs, letters, row_abs, number = t.group(6, 7, 8, 9, 10)
        r = int(number) + (0 if row_abs else row - top)
        c = column_index_from_string(letters) + (0 if col_abs else col - left)
        value = ws.cell(row=r, column=c).value
        value = "" if value is None else str(value)
        text = text.replace('""', '"')
        if (t.group(2) and value.lower() == text.lower()) or (not t.group(2) and text in value):
            return True
    return False


def shading_problems(ws: Any) -> list[str]:
    """Cells an icon rule fills that are not special cause or pass/fail, and such cells it leaves plain."""
    problems = []
    filled: dict[tuple[int, int], bool] = {}
    icon_ranges: list[tuple[int, int, int, int]] = []
    for cf in ws.conditional_formatting:
        for rng in cf.sqref.ranges:
            left, top, right, bottom = range_boundaries(rng.coord)
            for rule in cf.rules:
                if rule.dxf is None or rule.dxf.fill is None:
                    continue
                is_rag = right > left  # value + status columns, coloured from the status text
                if not is_rag:
                    icon_ranges.append((left, top, right, bottom))
                for row in range(top, bottom + 1):
                    for col in range(left, right + 1):
                        hit = _rule_matches(rule.formula[0], ws, top, left, row, col)
                        if is_rag:
                            status = ws.cell(row=row, column=right).value
                            if hit != (status in {"Red", "Amber", "Green", "Grey"}) and hit:
                                problems.append(f"{ws.title}!{ws.cell(row=row, column=col).coordinate}: RAG fill")
                        else:
                            filled[(row, col)] = filled.get((row, col), False) or hit
    for left, top, right, bottom in icon_ranges:
        for row in range(top, bottom + 1):
            for col in range(left, right + 1):
                text = ws.cell(row=row, column=col).value
                should = text in FILLED
                if filled.get((row, col), False) != should:
                    where = ws.cell(row=row, column=col).coordinate
                    problems.append(f"{ws.title}!{where} {text!r}: {'plain' if should else 'filled'}")
    # every icon cell of every table is under a rule (a table whose rules were dropped would pass above)
    covered = {(r, c) for left, top, right, bottom in icon_ranges for r in range(top, bottom + 1) for c in (left,)}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value in FILLED and (cell.row, cell.column) not in covered:
                problems.append(f"{ws.title}!{cell.coordinate} {cell.value!r}: no rule colours it")
    return problems


def table_problems(ws: Any) -> list[str]:
    """ "–" or other text in a number column, repeated headers, empty columns, in every Excel table."""
    problems = []
    for table in ws.tables.values():
        left, top, right, bottom = range_boundaries(table.ref)
        headers = [ws.cell(row=top, column=c).value for c in range(left, right + 1)]
        lowered = [str(h).lower() for h in headers]
        problems += [
            f"{ws.title} {table.displayName}: header {h!r} twice" for h in headers if lowered.count(str(h).lower()) > 1
        ]
        for c in range(left, right + 1):
            cells = [ws.cell(row=r, column=c) for r in range(top + 1, bottom + 1)]
            values = [x.value for x in cells]
            name = headers[c - left]
            if (
                bottom > top
                and all(v is None or v == "" for v in values)
                and ws.cell(row=top + 1, column=1).value != "No data for this period"
            ):
                problems.append(f"{ws.title} {table.displayName}: column {name!r} is empty")
            if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                bad = [x.coordinate for x in cells if x.value is not None and not isinstance(x.value, (int, float))]
                problems += [f"{ws.title}!{b}: text in number column {name!r}" for b in bad]
            problems += [
                f"{ws.title}!{x.coordinate}: '–'" for x in cells if isinstance(x.value, str) and x.value.strip() == "–"
            ]
    return problems


# --- the shipped workbooks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("name", PACKS)
def test_conditional_formats_fill_exactly_the_special_cause_cells(workbooks, name: str, org: str) -> None:
    book = load_workbook(workbooks[(name, org)])
    assert [p for ws in book.worksheets for p in shading_problems(ws)] == []
    assert any(cf.rules for ws in book.worksheets for cf in ws.conditional_formatting)  # not vacuous


def test_some_shipped_workbook_fills_a_special_cause_row(workbooks) -> None:
    book = load_workbook(workbooks[("monthly-performance", "RJ1")])
    filled = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value in FILLED]
    assert "■ Special cause improvement" in filled  # trolley waits: the RJ1 data have a run of improvement
    shown = [ws for ws in book.worksheets if ws.title != "Chart data"]  # there they are series names
    mixed = {c.value for ws in shown for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert not {v for v in mixed if v.lower().startswith("special cause")}  # point types always carry a glyph


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("name", PACKS)
def test_tables_hold_numbers_or_blanks_and_no_repeated_or_empty_column(workbooks, name: str, org: str) -> None:
    book = load_workbook(workbooks[(name, org)])
    assert [p for ws in book.worksheets for p in table_problems(ws)] == []
    headers = {c.value for ws in book.worksheets for t in ws.tables.values() for c in ws[t.ref][0]}
    if name == "weekly-executive":  # its summary_table says `narrative: false`
        assert "Narrative" not in headers
    if name == "monthly-performance":
        assert "A&E 4-hour performance rank" in headers and "Rank 2" not in headers
        notes = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.comment]
        assert notes.count(None) >= 1  # a blank number cell carries a cell note ("Value: no data")


def _chart_parts(path: Path) -> list[etree._Element]:
    with zipfile.ZipFile(path) as zf:
        return [etree.fromstring(zf.read(n)) for n in zf.namelist() if n.startswith("xl/charts/chart")]


def _namer(book: Any) -> Callable[[etree._Element], str]:
    """A series' name: its cached text, or the cell its strRef points at (openpyxl writes no cache)."""

    def name(ser: etree._Element) -> str:
        tx = ser.find(f"{C}tx")
        if tx is None:
            return ""
        if tx.find(f".//{C}v") is not None:
            return str(tx.find(f".//{C}v").text)
        sheet, ref = tx.find(f".//{C}f").text.rsplit("!", 1)
        return str(book[sheet.strip("'").replace("''", "'")][ref.replace("$", "")].value)

    return name


def chart_key_problems(chart: etree._Element, name: Callable[[etree._Element], str]) -> list[str]:
    """An SPC line chart (its points coloured per point) without a marker series per point type with an explicit colour."""
    problems = []
    for line in chart.iter(f"{C}lineChart"):
        series = line.findall(f"{C}ser")
        if "Data" not in {name(s) for s in series}:
            continue  # not an SPC chart (a caterpillar colours its outliers and keys them in its caption)
        keys = [(name(s), s) for s in series if name(s) in POINT_TYPE_LABELS.values()]
        if not keys:
            problems.append("per-point colours without a point-type series")
        for n, s in keys:
            if s.find(f"{C}marker/{C}spPr/{A}solidFill/{A}srgbClr") is None:
                problems.append(f"{n}: no explicit marker colour")
    return problems


def test_spc_charts_have_a_coloured_series_per_point_type_and_one_limits_entry(workbooks) -> None:
    path = workbooks[("monthly-performance", "RJ1")]
    name = _namer(load_workbook(path))
    charts = _chart_parts(path)
    assert charts and [p for c in charts for p in chart_key_problems(c, name)] == []
    colours = set()
    for chart in charts:
        for ser in chart.iter(f"{C}ser"):
            if name(ser) == POINT_TYPE_LABELS["special_cause_improvement"]:
                colours.add(ser.find(f"{C}marker/{C}spPr/{A}solidFill/{A}srgbClr").get("val"))
    assert colours == {DEFAULT_THEME.palette.improvement.lstrip("#").upper()}
    limits = 0
    for chart in charts:
        names = [name(s) for s in chart.iter(f"{C}ser")]
        deleted = {
            int(e.find(f"{C}idx").get("val")) for e in chart.iter(f"{C}legendEntry") if e.find(f"{C}delete") is not None
        }
        hidden = {i for i, n in enumerate(names) if n == "Lower process limit"}
        limits += len(hidden)
        assert hidden <= deleted and not {i for i in deleted if names[i] in POINT_TYPE_LABELS.values()}
    assert limits  # not vacuous


# --- each check fails on a workbook built broken -------------------------------------------------------------------


def _broken(tmp_path: Path) -> Any:
    wb = Workbook()
    ws = wb.active
    ws.append(["Metric", "Latest", "Rank", "Rank", "Variation", "Narrative"])
    ws.append(["A", 0.5, 1, 2, "◆ Special cause concern", None])
    ws.append(["B", "–", 3, 4, "~ Common cause variation", None])
    ws.add_table(Table(displayName="T", ref="A1:F3"))
    fill = PatternFill(fill_type="solid", start_color="FAB428", end_color="FAB428", bgColor="FAB428")
    # the old rules: case-sensitive FIND of words the cells do not hold, and common cause filled
    ws.conditional_formatting.add(
        "E2:E3", FormulaRule(formula=['OR(ISNUMBER(FIND("Special cause: concern",E2)))'], fill=fill)
    )
    ws.conditional_formatting.add("E2:E3", FormulaRule(formula=['ISNUMBER(FIND("Common cause",E2))'], fill=fill))
    wb.save(tmp_path / "broken.xlsx")
    return load_workbook(tmp_path / "broken.xlsx").active


def test_the_checks_fail_on_the_old_mistakes(tmp_path: Path) -> None:
    ws = _broken(tmp_path)
    shading = shading_problems(ws)
    assert any("E2" in p and "plain" in p for p in shading) and any("E3" in p and "filled" in p for p in shading)
    tables = " | ".join(table_problems(ws))
    assert "header 'Rank' twice" in tables and "'–'" in tables and "text in number column 'Latest'" in tables
    assert "column 'Narrative' is empty" in tables
    chart = etree.fromstring(
        f'<c:chartSpace xmlns:c="{C[1:-1]}"><c:chart><c:plotArea><c:lineChart><c:ser><c:tx><c:v>Data</c:v></c:tx>'
        '<c:dPt><c:idx val="0"/></c:dPt></c:ser></c:lineChart></c:plotArea></c:chart></c:chartSpace>'
    )
    assert chart_key_problems(chart, _namer(None)) == ["per-point colours without a point-type series"]


# --- the same words in the paper and the web page (no "?" on a point-type cell) ----------------------------------


def test_point_type_cells_in_word_and_html_carry_their_glyph_not_a_question_mark(
    assembled: Callable[..., Pack], tmp_path: Path
) -> None:
    from reporting.packs.render import html
    from reporting.packs.render.docx import render as render_docx

    full = assembled("monthly-performance", org="RJ1")
    # its data tables only: the point-type cells, and no chart that would need drawing first
    sections = tuple(
        dataclasses.replace(s, blocks=tuple(b for b in s.blocks if isinstance(b, DataTable))) for s in full.sections
    )
    pack = dataclasses.replace(full, sections=sections)
    page = html.render(pack, tmp_path / "pack.html", {}).read_text(encoding="utf-8")
    marks = re.findall(r'<span class="mark"[^>]*>([^<]*)</span><span>([^<]*)</span>', page)
    by_label = {label: mark for mark, label in marks}
    assert by_label["Special cause improvement"] == "■"  # trolley waits: a run of improvement
    assert {m for m, label in marks if label.startswith("Special cause")} & {"?"} == set()
    docx_path = render_docx(pack, tmp_path / "pack.docx")
    with zipfile.ZipFile(docx_path) as zf:
        text = "".join(etree.fromstring(zf.read("word/document.xml")).itertext())
    assert "■ Special cause improvement" in text and "?Special cause" not in text.replace(" ", "")
