"""ChartSpec -> native, editable Excel chart (openpyxl), with its data written to the sheet beside it.

openpyxl smooths line series by default; every series here sets `smooth = False`. An SPC chart's data is a
plain line and each point type a marker-only series of its points' values (`native_kinds.line_chart_series`,
as in PowerPoint and Word): the legend's key to the orange and blue, and the colour LibreOffice shows, as it
draws a line series' markers in the line's colour. Any other per-point colour uses DataPoint with both marker
and shape properties. A series the spec keeps
out of the legend (the lower process limit, beside "Process limits") has its legend entry deleted. openpyxl has no API for a chart's alt text, so the writer
records it and `reporting.charts._xlsx_xml.apply_alt_text` puts it into the saved file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart
from openpyxl.chart import Series as XlSeries
from openpyxl.chart.axis import DateAxis
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.label import DataLabel, DataLabelList
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.marker import DataPoint, Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText
from openpyxl.drawing.line import LineProperties
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties

from reporting.cells import text_cell
from reporting.charts.native_kinds import (
    NATIVE,
    Shape,
    category_labels,
    date_axis,
    line_chart_series,
    marker_size,
    number_format,
    styled_points,
    value_axis_range,
)
from reporting.charts.native_pptx import NativeChartUnsupported, supports_native
from reporting.charts.spec import ChartSpec, Series, leader_above, leader_end

__all__ = ["BUILDERS", "add_excel_chart"]

_SYMBOLS = {
    "circle": "circle",
    "square": "square",
    "diamond": "diamond",
    "triangle-up": "triangle",
    "triangle-down": "triangle",
    "star": "star",
    "asterisk-open": "star",  # DrawingML's "star" symbol is an asterisk: the suppressed mark
}
_DASH = {"solid": "solid", "dash": "dash", "dot": "sysDot"}


def _write_text(ws: Any, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        text_cell(cell, value)  # never a formula, even for text starting with = + - @ (labels come from data)
    else:
        cell.value = value


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _style(xl: XlSeries, s: Series) -> None:
    xl.smooth = False
    props = xl.graphicalProperties or GraphicalProperties()
    xl.graphicalProperties = props
    if s.mode in {"markers", "intervals"}:
        props.line = LineProperties(noFill=True)
    else:
        props.line = LineProperties(solidFill=_hex(s.colour), w=int(s.width * 9525), prstDash=_DASH[s.dash])
    if s.mode == "lines":
        xl.marker = Marker(symbol="none")
        if s.role == "leader":  # the selected organisation's name at the line's far end
            xl.dLbls = DataLabelList(
                dLbl=[
                    DataLabel(
                        idx=leader_end(s),
                        showSerName=True,
                        showVal=False,
                        showCatName=False,
                        showLegendKey=False,
                        showPercent=False,
                        dLblPos="t" if leader_above(s) else "b",
                        txPr=_bold(s.colour),
                    )
                ],
                showSerName=False,
                showVal=False,
                showCatName=False,
                showLegendKey=False,
                showPercent=False,
            )
        return
    xl.marker = Marker(symbol=_SYMBOLS.get((s.point_symbols or ("circle",))[0], "circle"), size=marker_size(s.role))
    xl.marker.graphicalProperties = GraphicalProperties(solidFill=_hex(s.colour))
    xl.marker.graphicalProperties.line.solidFill = "231F20"
    for i, colour, shape in styled_points(s):
        point = DataPoint(idx=i, marker=Marker(symbol=_SYMBOLS.get(shape, "circle"), size=marker_size(s.role)))
        point.marker.graphicalProperties = GraphicalProperties(solidFill=_hex(colour))
        point.marker.graphicalProperties.line.solidFill = "231F20"
        point.graphicalProperties = GraphicalProperties(solidFill=_hex(colour))
        if s.mode != "markers":
            point.graphicalProperties.line.solidFill = _hex(s.colour)
        xl.dPt.append(point)


def _bold(colour: str) -> RichText:
    """Bold text in `colour`: a data label's look."""
    return RichText(
        p=[
            Paragraph(
                pPr=ParagraphProperties(defRPr=CharacterProperties(b=True, solidFill=_hex(colour))),
                endParaRPr=CharacterProperties(),
            )
        ]
    )


def _error_bars(ws: Any, s: Series, data_row: int, col: int, fmt: str) -> ErrorBars:
    """Plus and minus distances written next to the chart data, referenced by custom error bars."""
    _write_text(ws, data_row, col, f"{s.name}: above")
    _write_text(ws, data_row, col + 1, f"{s.name}: below")
    for r, (y, lo, hi) in enumerate(zip(s.y, s.low or (), s.high or (), strict=True), start=1):
        ws.cell(row=data_row + r, column=col, value=None if y is None or hi is None else hi - y).number_format = fmt
        ws.cell(row=data_row + r, column=col + 1, value=None if y is None or lo is None else y - lo).number_format = fmt

    def ref(c: int) -> NumDataSource:
        return NumDataSource(
            numRef=NumRef(f=str(Reference(ws, min_col=c, min_row=data_row + 1, max_row=data_row + len(s.y))))
        )

    return ErrorBars(
        errDir="y",
        errBarType="both",
        errValType="cust",
        noEndCap=True,
        plus=ref(col),
        minus=ref(col + 1),
        spPr=GraphicalProperties(ln=LineProperties(solidFill=_hex(s.colour), w=9525)),
    )


def add_excel_chart(
    ws: Any, spec: ChartSpec, anchor: str, data_row: int, data_col: int, width_cm: float = 24, height_cm: float = 12
) -> Any:
    """Write the spec's data at (data_row, data_col) of `ws` and anchor a native chart at `anchor`.

    Returns the openpyxl chart; its alt text is in `chart.reporting_alt_text` for `_xlsx_xml.apply_alt_text`.
    """
    if not supports_native(spec):
        raise NativeChartUnsupported(f"{spec.kind} chart '{spec.title}' has no native form")
    fmt = number_format(spec)
    kind = NATIVE[spec.kind]
    bars = kind.shape == "bars"
    chart = BUILDERS[kind.shape](ws, spec, data_row, data_col, fmt)
    chart.title = spec.title + (f" – {spec.subtitle}" if spec.subtitle else "")
    chart.y_axis.number_format = fmt
    bounds = value_axis_range(spec)
    if bounds is not None and (not bars or bounds[0] >= 0):
        # Excel and LibreOffice would start at zero and flatten the series; bars still start at zero
        chart.y_axis.scaling.min = 0 if bars else bounds[0]
        chart.y_axis.scaling.max, chart.y_axis.majorUnit = bounds[1], bounds[2]
    if bars:
        chart.dataLabels = DataLabelList(
            showVal=True,
            showCatName=False,
            showSerName=False,
            showLegendKey=False,
            showPercent=False,
            showLeaderLines=False,
            numFmt=fmt,
            dLblPos="outEnd",
        )
    if kind.compact:
        chart.y_axis.majorGridlines = None
    # too many providers to name on a caterpillar's axis (as in the picture; openpyxl cannot write
    # tickLblPos "none", so the category axis is left out)
    chart.x_axis.delete = kind.intervals and len(spec.series[0].x) > 40
    chart.y_axis.delete = False
    if bars or kind.compact:
        chart.legend = None
    else:
        chart.legend.position = "b"
        drawn = line_chart_series(spec) if kind.shape == "lines" else spec.series
        hidden = [i for i, s in enumerate(drawn) if not s.show_in_legend]
        chart.legend.legendEntry = [LegendEntry(idx=i, delete=True) for i in hidden]
    chart.width, chart.height = width_cm, height_cm
    chart.reporting_alt_text = (spec.title, spec.alt_text)
    ws.add_chart(chart, anchor)
    return chart


def _scatter(ws: Any, spec: ChartSpec, data_row: int, data_col: int, fmt: str) -> Any:
    """An XY scatter (a funnel plot): each series' x and y in two columns."""
    chart = ScatterChart()
    chart.style = 13
    chart.x_axis.number_format = "#,##0"  # 450,000, not 450000
    chart.x_axis.scaling.min = 0
    if spec.x_title:
        chart.x_axis.title = spec.x_title
    col = data_col
    for s in spec.series:
        _write_text(ws, data_row, col, f"{s.name} (x)")
        _write_text(ws, data_row, col + 1, s.name)
        for r, (x, y) in enumerate(zip(s.x, s.y, strict=True), start=1):
            ws.cell(row=data_row + r, column=col, value=x)
            ws.cell(row=data_row + r, column=col + 1, value=y).number_format = fmt
        xs = Reference(ws, min_col=col, min_row=data_row + 1, max_row=data_row + len(s.x))
        ys = Reference(ws, min_col=col + 1, min_row=data_row, max_row=data_row + len(s.x))
        xl = XlSeries(ys, xs, title_from_data=True)
        _style(xl, s)
        chart.series.append(xl)
        col += 2
    return chart


def _category(ws: Any, spec: ChartSpec, data_row: int, data_col: int, fmt: str) -> Any:
    """Lines or bars over categories (periods, providers): one column of labels, one per series."""
    bars = NATIVE[spec.kind].shape == "bars"
    series = spec.series if bars else line_chart_series(spec)  # each point type a marker series: no c:dPt
    time_axis = None if bars else date_axis(spec)
    labels: list[Any] = category_labels(spec) if time_axis is None else list(time_axis.dates)
    _write_text(ws, data_row, data_col, "Period" if spec.x_kind == "date" else "Category")
    for r, label in enumerate(labels, start=1):
        _write_text(ws, data_row + r, data_col, label)
        if time_axis is not None:  # a date, shown as the period ("Aug 2023"), that a formula can use
            ws.cell(row=data_row + r, column=data_col).number_format = time_axis.cell_format
    for c, s in enumerate(series, start=1):
        _write_text(ws, data_row, data_col + c, s.name)
        for r, y in enumerate(s.y, start=1):
            ws.cell(row=data_row + r, column=data_col + c, value=y).number_format = fmt
    chart: Any = BarChart() if bars else LineChart()
    if time_axis is not None:  # as the PowerPoint writer's (native_kinds.date_axis): a label every few months
        chart.x_axis = DateAxis(
            crossAx=chart.y_axis.axId,
            baseTimeUnit=time_axis.base_unit,
            majorUnit=time_axis.major_months,
            majorTimeUnit="months",
            lblOffset=100,
        )
        chart.x_axis.number_format = time_axis.label_format
        chart.y_axis.crossAx = chart.x_axis.axId
    if bars:
        chart.type = "bar"
        chart.y_axis.scaling.orientation = "minMax"
        chart.x_axis.scaling.orientation = "maxMin"  # best at the top, as in the image
    refs = Reference(
        ws,
        min_col=data_col + 1,
        max_col=data_col + len(series),
        min_row=data_row,
        max_row=data_row + len(labels),
    )
    chart.add_data(refs, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=data_col, min_row=data_row + 1, max_row=data_row + len(labels)))
    extra = data_col + len(series) + 1
    for xl, s in zip(chart.series, series, strict=True):
        if s.low is not None and s.high is not None:  # a caterpillar's 95% intervals: custom error bars
            xl.errBars = _error_bars(ws, s, data_row, extra, fmt)
            extra += 2
        if bars:
            xl.graphicalProperties = GraphicalProperties(solidFill=_hex(s.colour))
            for i, colour in enumerate(s.point_colours or ()):
                xl.dPt.append(DataPoint(idx=i, spPr=GraphicalProperties(solidFill=_hex(colour))))
        else:
            _style(xl, s)
    return chart


#: the Excel builder of each native shape (charts.native_kinds.NATIVE says each kind's shape): (sheet, spec,
#: data row, data column, number format) -> the openpyxl chart, its data written to the sheet
BUILDERS: dict[Shape, Callable[[Any, ChartSpec, int, int, str], Any]] = {
    "lines": _category,
    "scatter": _scatter,
    "bars": _category,
}
