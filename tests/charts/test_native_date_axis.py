"""A native line chart over periods has a date axis (charts.native_kinds.date_axis): the periods are dates, a label
every few months, so LibreOffice builds a shape only for the labels it shows (it builds one for every category
label of a c:catAx, even those c:tickLblSkip hides). The same axis in PowerPoint, Word and Excel; a chart over
providers, and a sparkline (no axes), keep their category axis."""

from __future__ import annotations

import dataclasses
import datetime
import zipfile
from pathlib import Path

import pandas as pd
from lxml import etree
from openpyxl import Workbook, load_workbook
from pptx import Presentation
from pptx.util import Inches
from spc_cases import case_result

from reporting.charts import sparkline_chart, spc_chart
from reporting.charts.native_kinds import date_axis
from reporting.charts.native_pptx import add_native_chart
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.spec import ChartSpec

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def _monthly(n: int = 24) -> ChartSpec:
    points, summary = case_result("11_two_in_three_both_sides")
    points = points.sort_values("x").tail(n).reset_index(drop=True)
    points["x"] = pd.date_range("2023-08-01", periods=len(points), freq="MS")
    return spc_chart(points, summary, title="Monthly")


def _weekly() -> ChartSpec:
    points, summary = case_result("11_two_in_three_both_sides")
    points = points.sort_values("x").reset_index(drop=True)
    points["x"] = pd.date_range("2024-08-05", periods=len(points), freq="7D")
    return spc_chart(points, summary, title="Weekly", frequency="weekly")


def _pptx_chart(spec: ChartSpec) -> etree._Element:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    frame = add_native_chart(slide.shapes, spec, Inches(0.5), Inches(0.5), Inches(9), Inches(6))
    return etree.fromstring(frame.chart.part.blob)


def _units(axis: etree._Element) -> dict[str, str]:
    return {t: axis.find(f"{C}{t}").get("val") for t in ("baseTimeUnit", "majorUnit", "majorTimeUnit")}


def test_monthly_and_weekly_periods_get_a_label_every_few_months() -> None:
    monthly, weekly = date_axis(_monthly()), date_axis(_weekly())
    assert monthly is not None and weekly is not None
    assert (monthly.base_unit, monthly.major_months, monthly.cell_format) == ("months", 3, "mmm yyyy")
    assert len(range(0, 24, monthly.major_months)) == 8  # labels, against 24 before
    assert (weekly.base_unit, weekly.cell_format) == ("days", "dd mmm yyyy") and weekly.major_months == 1
    year = tuple(str(d.date()) for d in pd.date_range("2024-08-05", periods=52, freq="7D"))
    weeks = _weekly()
    a_year = dataclasses.replace(weeks, series=(dataclasses.replace(weeks.series[0], x=year, y=(1.0,) * 52),))
    assert date_axis(a_year).major_months == 2  # a year of weeks: six labels
    assert date_axis(_monthly(6)).major_months == 1  # a short series labels every month
    spark = sparkline_chart(case_result("11_two_in_three_both_sides")[0], title="spark")
    assert date_axis(spark) is None  # no axes drawn


def test_pptx_chart_has_a_date_axis_with_the_periods_as_dates() -> None:
    spec = _monthly()
    chart = _pptx_chart(spec)
    assert chart.find(f".//{C}catAx") is None
    axis = chart.find(f".//{C}dateAx")
    assert _units(axis) == {"baseTimeUnit": "months", "majorUnit": "3", "majorTimeUnit": "months"}
    assert axis.find(f"{C}numFmt").get("formatCode") == "mmm yyyy"
    cache = chart.find(f".//{C}ser/{C}cat/{C}numRef/{C}numCache")
    serials = [int(float(pt.find(f"{C}v").text)) for pt in cache.iterfind(f"{C}pt")]
    epoch = datetime.date(1899, 12, 30)
    assert [epoch + datetime.timedelta(days=d) for d in serials] == list(date_axis(spec).dates)
    assert chart.find(f".//{C}tickLblSkip") is None  # not a c:dateAx element
    weekly = _pptx_chart(_weekly()).find(f".//{C}dateAx")
    assert _units(weekly) == {"baseTimeUnit": "days", "majorUnit": "1", "majorTimeUnit": "months"}


def test_xlsx_chart_has_the_same_date_axis_and_date_cells(tmp_path: Path) -> None:
    spec = _monthly()
    wb = Workbook()
    add_excel_chart(wb.active, spec, "J2", 1, 1)
    wb.save(tmp_path / "c.xlsx")
    with zipfile.ZipFile(tmp_path / "c.xlsx") as z:
        chart = etree.fromstring(z.read("xl/charts/chart1.xml"))
    axis = chart.find(f".//{C}dateAx")
    assert chart.find(f".//{C}catAx") is None and axis is not None
    assert _units(axis) == {"baseTimeUnit": "months", "majorUnit": "3", "majorTimeUnit": "months"}
    value_axis = chart.find(f".//{C}valAx")
    assert value_axis.find(f"{C}crossAx").get("val") == axis.find(f"{C}axId").get("val")
    assert axis.find(f"{C}crossAx").get("val") == value_axis.find(f"{C}axId").get("val")
    ws = load_workbook(tmp_path / "c.xlsx").active
    assert ws["A1"].value == "Period"
    first = ws["A2"]
    assert first.value.date() == date_axis(spec).dates[0] and first.number_format == "mmm yyyy"


def test_a_chart_over_providers_keeps_its_category_axis(calendar_2024: pd.DataFrame) -> None:
    from reporting.charts import caterpillar_chart
    from reporting.stats.variation import caterpillar

    frame = caterpillar(
        calendar_2024, org="org_code", numerator="attendances_within_4hours", denominator="total_attendances"
    )
    spec = caterpillar_chart(frame, title="Providers")
    assert date_axis(spec) is None
    chart = _pptx_chart(spec)
    assert chart.find(f".//{C}catAx") is not None and chart.find(f".//{C}dateAx") is None
