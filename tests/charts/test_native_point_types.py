"""A native SPC chart draws its data as a plain line and each point type as a marker-only series of its points'
values (charts.native_kinds.line_chart_series), so no point needs a c:dPt (each one cost LibreOffice time): in
PowerPoint, in Word (the same chart part, moved) and in Excel. Every point keeps its MDC colour and shape, a
point type missing from the legend included, and the suppressed points keep their asterisks."""

from __future__ import annotations

import copy
import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.shared import Inches as DocxInches
from lxml import etree
from openpyxl import Workbook, load_workbook
from pptx import Presentation
from pptx.util import Inches
from spc_cases import case_result

from reporting.charts import spc_chart
from reporting.charts.native_docx import WordCharts
from reporting.charts.native_kinds import line_chart_series
from reporting.charts.native_pptx import add_native_chart
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.spc_charts import SUPPRESSED_LEGEND
from reporting.charts.spec import ChartSpec

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
#: the DrawingML marker each spec symbol is drawn with (both triangles are DrawingML's one triangle)
DRAWN = {
    "circle": "circle",
    "square": "square",
    "diamond": "diamond",
    "triangle-up": "triangle",
    "triangle-down": "triangle",
    "asterisk-open": "star",
}


def _spec() -> ChartSpec:
    """A real case with special-cause improvement AND concern points, and one point withheld."""
    points, summary = case_result("11_two_in_three_both_sides")
    points = points.sort_values("x").reset_index(drop=True)
    withheld = points["x"].iloc[3]
    points.loc[points["x"] == withheld, "y"] = np.nan
    spec = spc_chart(points, summary, title="Both sides", suppressed=[withheld])
    types = {label for label, _, _ in spec.legend_markers}
    assert {"Special cause improvement", "Special cause concern"} <= types  # not vacuous
    return spec


def _series(chart: etree._Element, values_of: dict[str, list[float | None]] | None = None) -> list[tuple]:
    """(name, values, marker symbol, marker fill, legend-hidden, c:dPt count) of each line-chart series."""
    hidden = {int(e.find(f"{C}idx").get("val")) for e in chart.iter(f"{C}legendEntry")}
    out = []
    for ser in chart.iter(f"{C}ser"):
        tx = ser.find(f"{C}tx")
        name = tx.find(f".//{C}v").text if values_of is None else tx.find(f".//{C}f").text
        if values_of is None:
            cache = ser.find(f"{C}val//{C}numCache")
            n = int(cache.find(f"{C}ptCount").get("val"))
            values: list[float | None] = [None] * n
            for pt in cache.iterfind(f"{C}pt"):
                values[int(pt.get("idx"))] = float(pt.find(f"{C}v").text)
        else:
            values = values_of[ser.find(f"{C}val//{C}f").text]
            name = str(values_of[name][0])
            values = values[1:]
        symbol = ser.find(f"{C}marker/{C}symbol")
        fill = ser.find(f"{C}marker/{C}spPr/{A}solidFill/{A}srgbClr")
        idx = int(ser.find(f"{C}idx").get("val"))
        out.append(
            (
                name,
                values,
                None if symbol is None else symbol.get("val"),
                None if fill is None else fill.get("val"),
                idx in hidden,
                len(ser.findall(f"{C}dPt")),
            )
        )
    return out


def point_type_problems(spec: ChartSpec, drawn: list[tuple]) -> list[str]:
    """What is wrong with how a native chart draws the spec's points: a c:dPt, a point that is in no marker
    series or in more than one, a marker series of the wrong colour or shape, a data line with markers, a
    legend point type that is hidden."""
    problems = [f"{name}: {n} c:dPt" for name, _, _, _, _, n in drawn if n]
    markers = [d for d in drawn if d[2] not in (None, "none")]
    for s in spec.series:
        if not s.point_colours:
            continue
        line = next(d for d in drawn if d[0] == s.name)
        if line[2] not in (None, "none"):
            problems.append(f"{s.name}: the line has markers ({line[2]})")
        for i, value in enumerate(s.y):
            if value is None:
                continue
            holders = [d for d in markers if i < len(d[1]) and d[1][i] is not None]
            if len(holders) != 1:
                problems.append(f"{s.name} point {i}: in {len(holders)} marker series")
                continue
            name, values, symbol, fill, _, _ = holders[0]
            want = (s.point_colours[i].lstrip("#").upper(), DRAWN[(s.point_symbols or ())[i]])
            if (fill, symbol) != want or values[i] != pytest.approx(value):
                problems.append(f"{s.name} point {i}: drawn {fill} {symbol} {values[i]} in {name!r}, not {want}")
    legend = {label for label, _, _ in spec.legend_markers}
    problems += [f"{d[0]}: a legend point type kept out of the legend" for d in drawn if d[0] in legend and d[4]]
    return problems


def _pptx(spec: ChartSpec) -> etree._Element:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    frame = add_native_chart(slide.shapes, spec, Inches(0.5), Inches(0.5), Inches(9), Inches(6))
    return etree.fromstring(frame.chart.part.blob)


def _docx(spec: ChartSpec, tmp_path: Path) -> etree._Element:
    document = Document()
    run = document.add_paragraph().add_run()
    WordCharts(document).add(run, spec, DocxInches(6), DocxInches(3.5), title=spec.title, description=spec.alt_text)
    document.save(tmp_path / "chart.docx")
    with zipfile.ZipFile(tmp_path / "chart.docx") as z:
        (name,) = [n for n in z.namelist() if n.startswith("word/charts/chart") and "_rels" not in n]
        return etree.fromstring(z.read(name))


def _xlsx(spec: ChartSpec, tmp_path: Path) -> tuple[etree._Element, dict[str, list[float | None]]]:
    """The Excel chart and each column it refers to (header first), read back from the saved sheet."""
    wb = Workbook()
    add_excel_chart(wb.active, spec, "H2", 1, 1)
    wb.save(tmp_path / "chart.xlsx")
    with zipfile.ZipFile(tmp_path / "chart.xlsx") as z:
        chart = etree.fromstring(z.read("xl/charts/chart1.xml"))
    ws = load_workbook(tmp_path / "chart.xlsx").active
    cells: dict[str, list[float | None]] = {}
    for f in chart.iter(f"{C}f"):
        ref = f.text.split("!")[1].replace("$", "")
        first = ref.split(":")[0]
        column = "".join(ch for ch in first if ch.isalpha())
        rows = [ws[f"{column}{r}"].value for r in range(1, ws.max_row + 1)]
        cells[f.text] = rows if ":" in ref else [rows[int(first[len(column) :]) - 1]]
    return chart, cells


@pytest.fixture(scope="module")
def spec() -> ChartSpec:
    return _spec()


def test_pptx_spc_chart_has_no_dpt_and_every_point_in_its_type_series(spec: ChartSpec) -> None:
    drawn = _series(_pptx(spec))
    assert point_type_problems(spec, drawn) == []
    names = [d[0] for d in drawn]
    assert SUPPRESSED_LEGEND.format(threshold=5) in names  # the asterisk is its own series, as before
    (marks,) = [d for d in drawn if d[0] == SUPPRESSED_LEGEND.format(threshold=5)]
    assert marks[2] == "star" and sum(v is not None for v in marks[1]) == 1


def test_docx_spc_chart_has_no_dpt_and_every_point_in_its_type_series(spec: ChartSpec, tmp_path: Path) -> None:
    assert point_type_problems(spec, _series(_docx(spec, tmp_path))) == []


def test_xlsx_spc_chart_has_no_dpt_and_every_point_in_its_type_series(spec: ChartSpec, tmp_path: Path) -> None:
    chart, cells = _xlsx(spec, tmp_path)
    drawn = [(n, [None if v is None else float(v) for v in vs], *rest) for n, vs, *rest in _series(chart, cells)]
    assert point_type_problems(spec, drawn) == []
    # the data sheet names each point-type column as the legend does, beside the data it repeats
    headers = [d[0] for d in drawn]
    assert headers[0] == "Data" and {label for label, _, _ in spec.legend_markers} <= set(headers)


def test_a_point_type_not_in_the_legend_is_drawn_by_a_series_kept_out_of_it(spec: ChartSpec) -> None:
    concern = next(m for m in spec.legend_markers if m[0] == "Special cause concern")
    unkeyed = dataclasses.replace(spec, legend_markers=tuple(m for m in spec.legend_markers if m != concern))
    drawn = _series(_pptx(unkeyed))
    assert point_type_problems(unkeyed, drawn) == []
    (extra,) = [d for d in drawn if d[0] not in {s.name for s in spec.series} | {m[0] for m in spec.legend_markers}]
    assert extra[4] and extra[3] == concern[1].lstrip("#").upper()  # hidden from the legend, drawn in orange


def test_only_lines_with_per_point_styles_change() -> None:
    """A line without per-point styles (a benchmark trend) and a sparkline's one marked point draw as before."""
    points, _ = case_result("11_two_in_three_both_sides")
    from reporting.charts import sparkline_chart

    spark = sparkline_chart(points, title="spark")
    assert line_chart_series(spark) == spark.series


def test_the_check_fails_on_the_old_drawing(spec: ChartSpec) -> None:
    """The old chart: a c:dPt per point on the data line, and the point-type series empty (a legend key only)."""
    chart = _pptx(spec)
    old = copy.deepcopy(chart)
    sers = list(old.iter(f"{C}ser"))
    data = sers[0]
    etree.SubElement(data, f"{C}dPt")
    for ser in sers:
        if ser.find(f"{C}tx//{C}v").text in {label for label, _, _ in spec.legend_markers}:
            for pt in ser.findall(f"{C}val//{C}numCache/{C}pt"):
                pt.getparent().remove(pt)
    problems = point_type_problems(spec, _series(old))
    assert "Data: 1 c:dPt" in problems
    assert any(p.endswith("in 0 marker series") for p in problems)
    # a point-type series in the wrong colour fails too
    wrong = copy.deepcopy(chart)
    for ser in wrong.iter(f"{C}ser"):
        if ser.find(f"{C}tx//{C}v").text == "Special cause concern":
            ser.find(f"{C}marker/{C}spPr/{A}solidFill/{A}srgbClr").set("val", "289DE0")
    assert any("not ('FAB428', 'diamond')" in p for p in point_type_problems(spec, _series(wrong)))
    assert point_type_problems(spec, _series(chart)) == []


def test_the_workbook_behind_a_word_chart_holds_the_point_type_columns(spec: ChartSpec, tmp_path: Path) -> None:
    document = Document()
    run = document.add_paragraph().add_run()
    WordCharts(document).add(run, spec, DocxInches(6), DocxInches(3.5), title="t", description="d")
    document.save(tmp_path / "chart.docx")
    with zipfile.ZipFile(tmp_path / "chart.docx") as z:
        (name,) = [n for n in z.namelist() if n.startswith("word/embeddings/")]
        sheet = load_workbook(io.BytesIO(z.read(name))).active
    headers = [c.value for c in sheet[1]]
    frame = pd.DataFrame(list(sheet.iter_rows(min_row=2, values_only=True)), columns=headers)
    data = frame["Data"]
    keyed = frame[[label for label, _, _ in spec.legend_markers]]
    # each point's value is in the data column and in exactly one point-type column
    assert (keyed.notna().sum(axis=1) == data.notna().astype(int)).all()
    assert (keyed.bfill(axis=1).iloc[:, 0].dropna() == data.dropna()).all()
