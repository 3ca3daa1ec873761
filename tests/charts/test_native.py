"""Native Office charts: re-opened with python-pptx / openpyxl / raw XML, and read by LibreOffice."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from office import pdf_pages, to_pdf
from openpyxl import Workbook, load_workbook
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches
from spc_cases import case_result

from reporting.charts import Theme, caterpillar_chart, icon_chart, league_chart, sparkline_chart, spc_chart
from reporting.charts._xlsx_xml import apply_alt_text, read_alt_text
from reporting.charts.native_kinds import value_axis_range
from reporting.charts.native_pptx import NativeChartUnsupported, add_native_chart
from reporting.charts.native_xlsx import add_excel_chart
from reporting.charts.theme import DEFAULT_THEME
from reporting.stats.variation import caterpillar

WELSH = 'Betsi Cadwaladr & <Gwynedd> "Ysbyty" – Bòrd'


def _specs(calendar_2024: pd.DataFrame, theme: Theme = DEFAULT_THEME) -> list:
    points, summary = case_result("28_sample_kpi309_rebase_target")
    spc = spc_chart(points, summary, title=f"KPI 309 {WELSH}", unit="count", decimals=0, org=WELSH, theme=theme)
    cat = caterpillar(
        calendar_2024, org="org_code", numerator="attendances_within_4hours", denominator="total_attendances"
    )
    league = league_chart(
        cat, value="value", title="4-hour league", highlight="RJ1", labels={"RJ1": '=HYPERLINK("x")'}, theme=theme
    )
    return [spc, league, sparkline_chart(points, title="spark", theme=theme)]


def _deck(specs: list, path: Path) -> None:
    deck = Presentation()
    for spec in specs:
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        add_native_chart(slide.shapes, spec, Inches(0.5), Inches(0.5), Inches(9), Inches(6.5))
    deck.save(path)


def test_pptx_native_charts_reopen_with_series_colours_and_alt_text(
    tmp_path: Path, calendar_2024: pd.DataFrame
) -> None:
    specs = _specs(calendar_2024)
    _deck(specs, tmp_path / "deck.pptx")
    deck = Presentation(tmp_path / "deck.pptx")
    frame = deck.slides[0].shapes[0]
    assert frame.has_chart
    chart = frame.chart
    names = [s.name for s in chart.plots[0].series]
    assert names[:3] == ["Data", "Mean", "Mean (from 2022-02-28)"] and "Target" in names
    assert "Special cause concern" in names  # the point-type key
    values = list(chart.plots[0].series[0].values)
    assert values[0] == pytest.approx(specs[0].series[0].y[0])
    c_nv_pr = frame._element.nvGraphicFramePr.cNvPr
    assert c_nv_pr.get("descr") == specs[0].alt_text and WELSH in c_nv_pr.get("title")
    xml = frame.chart.part.blob.decode()
    concern = specs[0].series[0].point_colours.index("#FAB428")
    key = chart.plots[0].series[names.index("Special cause concern")]  # the concern points, as a marker series
    assert list(key.values)[concern] == pytest.approx(specs[0].series[0].y[concern])
    assert key.marker.format.fill.fore_color.rgb == RGBColor.from_string("FAB428") and "<c:dPt>" not in xml
    assert '<c:smooth val="0"/>' in xml
    league = deck.slides[1].shapes[0].chart

    assert any(c.endswith('=HYPERLINK("x") ◀') for c in league.plots[0].categories)


def test_unsupported_kinds_say_so() -> None:
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    with pytest.raises(NativeChartUnsupported, match="no native form"):
        add_native_chart(slide.shapes, icon_chart("improvement_high"), 0, 0, Inches(4), Inches(3))


def test_caterpillar_intervals_are_error_bars_and_the_selected_provider_is_named(
    tmp_path: Path, calendar_2024: pd.DataFrame
) -> None:
    cat = caterpillar(
        calendar_2024, org="org_code", numerator="attendances_within_4hours", denominator="total_attendances"
    )
    chosen = str(cat["org_code"].iloc[3])
    spec = caterpillar_chart(cat, title="4-hour variation", highlight=chosen, labels={chosen: WELSH})
    providers = spec.series[0]
    i = providers.x.index(WELSH)
    _deck([spec], tmp_path / "cat.pptx")
    xml = Presentation(tmp_path / "cat.pptx").slides[0].shapes[0].chart.part.blob.decode()
    bars = re.search(r"<c:errBars>.*?</c:errBars>", xml, re.S).group(0)
    assert '<c:errValType val="cust"/>' in bars and '<c:errBarType val="both"/>' in bars
    plus = re.search(r"<c:plus>.*?</c:plus>", bars, re.S).group(0)
    above = float(re.search(rf'<c:pt idx="{i}"><c:v>([^<]+)</c:v>', plus).group(1))
    assert above == pytest.approx(providers.high[i] - providers.y[i])
    assert "Betsi Cadwaladr &amp; &lt;Gwynedd&gt;" in xml  # its name beside its star, escaped
    assert pdf_pages(to_pdf(tmp_path / "cat.pptx", tmp_path / "pdf")) == 1
    wb = Workbook()
    add_excel_chart(wb.active, spec, "A1", 1, 20)
    wb.save(tmp_path / "cat.xlsx")
    with zipfile.ZipFile(tmp_path / "cat.xlsx") as zf:
        chart_xml = zf.read("xl/charts/chart1.xml").decode()
    assert '<errValType val="cust"/>' in chart_xml and "<plus><numRef>" in chart_xml
    sheet = load_workbook(tmp_path / "cat.xlsx").active
    header = [c.value for c in sheet[1]]
    column = header.index(f"{providers.name}: above") + 1
    assert sheet.cell(row=2 + i, column=column).value == pytest.approx(providers.high[i] - providers.y[i])


def test_libreoffice_reads_the_deck(tmp_path: Path, calendar_2024: pd.DataFrame) -> None:
    _deck(_specs(calendar_2024), tmp_path / "deck.pptx")
    assert pdf_pages(to_pdf(tmp_path / "deck.pptx", tmp_path / "pdf")) == 3


def _book(specs: list, path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "Charts"
    for i, spec in enumerate(specs):
        add_excel_chart(ws, spec, f"A{1 + i * 25}", data_row=1, data_col=20 + i * 12)
    book.save(path)
    apply_alt_text(path, {"Charts": [(s.title, s.alt_text) for s in specs]})


def test_xlsx_native_charts(tmp_path: Path, calendar_2024: pd.DataFrame) -> None:
    points, _ = case_result("01_xmr_seed123_basic")
    specs = [*_specs(calendar_2024), sparkline_chart(points, title="=cmd|' /C calc'!A0")]
    _book(specs, tmp_path / "charts.xlsx")
    assert read_alt_text(tmp_path / "charts.xlsx") == {"Charts": [(s.title, s.alt_text) for s in specs]}
    ws = load_workbook(tmp_path / "charts.xlsx")["Charts"]
    assert ws.cell(row=1, column=21).value == "Data"
    header = ws.cell(row=1, column=20 + 3 * 12 + 1)
    assert header.value == "=cmd|' /C calc'!A0" and header.data_type == "s"  # text, not a formula
    with zipfile.ZipFile(tmp_path / "charts.xlsx") as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<(c:)?smooth val="0"/>', chart) and 'val="FAB428"' in chart
    assert not re.search(r'<(c:)?smooth val="1"/>', chart)
    assert "<f>" not in sheet  # no text ever became a formula
    assert pdf_pages(to_pdf(tmp_path / "charts.xlsx", tmp_path / "pdf")) >= 1


def test_custom_palette_reaches_every_output(tmp_path: Path, calendar_2024: pd.DataFrame, renderer: object) -> None:
    theme = Theme().with_overrides({"palette": {"concern": "#E66100", "highlight": "#1A85FF"}})
    specs = _specs(calendar_2024, theme)
    _deck(specs, tmp_path / "deck.pptx")
    _book(specs, tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "deck.pptx") as zf:
        pptx_xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("ppt/charts/chart"))
    with zipfile.ZipFile(tmp_path / "book.xlsx") as zf:
        xlsx_xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart"))
    for xml in (pptx_xml, xlsx_xml):
        assert "E66100" in xml and "1A85FF" in xml and "FAB428" not in xml
    from reporting.charts.figure import to_figure

    figure = to_figure(specs[0])
    assert "#E66100" in figure.data[0].marker.color


def test_value_axis_follows_the_data_not_zero(tmp_path: Path) -> None:
    """A 4-hour performance series between 70% and 80% gets an axis around it (Office and LibreOffice would
    start at 0% and flatten it); bars still start at zero and end just past the longest."""
    rows = pd.DataFrame(
        {
            "x": pd.date_range("2022-01-01", periods=30, freq="MS"),
            "y": [0.72 + 0.002 * i + (0.01 if i % 3 else -0.01) for i in range(30)],
        }
    )
    from reporting.stats.spc import SPCOptions, spc

    result = spc(rows, SPCOptions())
    spec = spc_chart(result.points, result.summary.iloc[0].to_dict(), title="4-hour", unit="percent", decimals=1)
    lo, hi, step = value_axis_range(spec)
    values = [v for s in spec.series for v in s.y if v is not None]
    assert 0.5 < lo <= min(values) and max(values) <= hi <= 1.0 and step in {0.01, 0.02, 0.025, 0.05}
    _deck([spec], tmp_path / "axis.pptx")
    axis = Presentation(tmp_path / "axis.pptx").slides[0].shapes[0].chart.value_axis
    assert (axis.minimum_scale, axis.maximum_scale) == (lo, hi)
    wb = Workbook()
    add_excel_chart(wb.active, spec, "A1", 1, 20)
    wb.save(tmp_path / "axis.xlsx")
    with zipfile.ZipFile(tmp_path / "axis.xlsx") as zf:
        chart_xml = zf.read("xl/charts/chart1.xml").decode()
    assert f'<min val="{lo}"' in chart_xml and f'<max val="{hi}"' in chart_xml
    bars = league_chart(
        pd.DataFrame({"org_code": list("ABCD"), "value": [0.61, 0.7, 0.74, 0.93]}),
        value="value",
        title="league",
        unit="percent",
    )
    assert value_axis_range(bars)[1] == 1.0  # a share never needs an axis past 100%


def test_funnel_outliers_are_series_of_their_own_with_no_point_overrides(calendar_2024: pd.DataFrame) -> None:
    """Outliers are a series per side, each with its own colour and triangle, so no point needs a c:dPt:
    LibreOffice ignores per-point colours in Excel charts, and a c:dPt per point cost it time."""
    from reporting.charts import funnel_chart
    from reporting.stats.funnel import funnel, funnel_curve

    frame = calendar_2024.rename(
        columns={"org_code": "group", "attendances_within_4hours": "numerator", "total_attendances": "denominator"}
    )
    result = funnel(frame, data_type="PR")
    spec = funnel_chart(
        result.points.assign(target=result.target),
        funnel_curve(result),
        title="A&E 4-hour",
        adjusted=result.limits_used == "adjusted",
        highlight="RJ1",
        direction="higher_is_better",
    )
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    xml = add_native_chart(slide.shapes, spec, 0, 0, Inches(9), Inches(6)).chart.part.blob.decode()
    assert "<c:dPt>" not in xml
    outliers = [s for s in spec.series if s.role == "points" and s.name != "Providers"]
    assert outliers and len({s.colour for s in outliers}) == len(outliers)
