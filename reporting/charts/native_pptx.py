# python-pptx ships no type hints, so every call into its chart data classes is an untyped call:
# mypy: disable-error-code="no-untyped-call"
"""ChartSpec -> native, editable PowerPoint chart (python-pptx).

Analysts can open the chart's data in PowerPoint and edit it. An SPC chart's points are coloured and shaped
by their type through one marker-only series per point type (`native_kinds.line_chart_series`), not per point;
where a point still needs its own style (a c:dPt), both the marker's fill/line AND the point's own fill/line are
set, or LibreOffice ignores the colour.
Kinds that a native chart cannot express (caterpillar intervals, icons) raise NativeChartUnsupported so the
caller uses the static image instead; nothing is dropped silently.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pptx.chart.data import CategoryChartData, XyChartData
from pptx.chart.xlsx import CategoryWorkbookWriter, XyWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.util import Emu, Pt

from reporting.charts.native_kinds import (
    NATIVE,
    DateAxis,
    Shape,
    category_labels,
    date_axis,
    line_chart_series,
    marker_size,
    number_format,
    styled_points,
    value_axis_range,
)
from reporting.charts.native_workbook import sheet_blob
from reporting.charts.spec import ChartSpec, Series, leader_above, leader_end

__all__ = ["BUILDERS", "NativeChartUnsupported", "add_native_chart", "supports_native"]

_MARKERS = {
    "circle": XL_MARKER_STYLE.CIRCLE,
    "square": XL_MARKER_STYLE.SQUARE,
    "diamond": XL_MARKER_STYLE.DIAMOND,
    "triangle-up": XL_MARKER_STYLE.TRIANGLE,
    "triangle-down": XL_MARKER_STYLE.TRIANGLE,
    "star": XL_MARKER_STYLE.STAR,
    "asterisk-open": XL_MARKER_STYLE.STAR,  # DrawingML's "star" symbol is an asterisk: the suppressed mark
}
_DASH = {"solid": MSO_LINE_DASH_STYLE.SOLID, "dash": MSO_LINE_DASH_STYLE.DASH, "dot": MSO_LINE_DASH_STYLE.ROUND_DOT}


class _SafeWorkbook:
    """python-pptx writes each chart's data workbook with XlsxWriter, whose default stores a label starting
    with "=" as a live formula ("Edit Data" would run an organisation called =HYPERLINK(...)); here every
    label stays a string (reporting.cells): charts.native_workbook writes it, each distinct sheet once per process."""

    @property
    def xlsx_blob(self) -> bytes:
        return sheet_blob(self._populate_worksheet)  # type: ignore[attr-defined]  # defined by python-pptx's writers


class _SafeCategoryWriter(_SafeWorkbook, CategoryWorkbookWriter):
    pass


class _SafeXyWriter(_SafeWorkbook, XyWorkbookWriter):
    pass


class SafeCategoryChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> Any:
        return _SafeCategoryWriter(self)


class SafeXyChartData(XyChartData):
    @property
    def _workbook_writer(self) -> Any:
        return _SafeXyWriter(self)


class NativeChartUnsupported(ValueError):
    """This chart kind has no faithful native form; render it as an image instead."""


def supports_native(spec: ChartSpec) -> bool:
    return spec.kind in NATIVE and not spec.message


def _rgb(colour: str) -> RGBColor:
    rgb: RGBColor = RGBColor.from_string(colour.lstrip("#").upper())
    return rgb


def _style_line(series: Any, s: Series, theme_width: float) -> None:
    line = series.format.line
    if s.mode in {"markers", "intervals"}:
        line.fill.background()
    else:
        line.color.rgb = _rgb(s.colour)
        line.width = Pt(s.width * 0.75)
        line.dash_style = _DASH[s.dash]
    series.smooth = False
    marker = series.marker
    if s.mode == "lines":
        marker.style = XL_MARKER_STYLE.NONE
        return
    marker.style = _MARKERS.get((s.point_symbols or ("circle",))[0], XL_MARKER_STYLE.CIRCLE)
    marker.size = marker_size(s.role)
    marker.format.fill.solid()
    marker.format.fill.fore_color.rgb = _rgb(s.colour)
    marker.format.line.color.rgb = _rgb("#231F20")
    if s.point_colours:
        _point_styles(series._element, s)


_SER_AFTER_DPT = ("c:dLbls", "c:trendline", "c:errBars", "c:cat", "c:val", "c:smooth", "c:extLst")


def _point_styles(ser: Any, s: Series) -> None:
    """The marker shape and colour of each point that needs its own (`native_kinds.styled_points`), written as
    c:dPt elements in one go (python-pptx's per-point property API took most of a pack's PowerPoint time). The
    point's own spPr is set as well as its marker's, because LibreOffice reads that one."""
    from lxml import etree
    from pptx.oxml.ns import nsdecls, qn

    size = marker_size(s.role)
    parts = []
    for i, colour, shape in styled_points(s):
        symbol = _MARKERS.get(shape, XL_MARKER_STYLE.CIRCLE)
        rgb = colour.lstrip("#").upper()
        parts.append(
            f'<c:dPt><c:idx val="{i}"/><c:marker><c:symbol val="{symbol.xml_value}"/><c:size val="{size}"/>'
            f'<c:spPr><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill><a:ln><a:solidFill>'
            f'<a:srgbClr val="231F20"/></a:solidFill></a:ln></c:spPr></c:marker><c:spPr><a:solidFill>'
            f'<a:srgbClr val="{rgb}"/></a:solidFill><a:ln><a:solidFill><a:srgbClr val="{rgb}"/>'
            f"</a:solidFill></a:ln></c:spPr></c:dPt>"
        )
    if not parts:
        return
    wrapper = etree.fromstring(f"<c:w {nsdecls('c', 'a')}>{''.join(parts)}</c:w>")
    follower = next((child for child in ser if child.tag in {qn(t) for t in _SER_AFTER_DPT}), None)
    for dpt in list(wrapper):
        if follower is not None:
            follower.addprevious(dpt)
        else:
            ser.append(dpt)


def _set_alt_text(frame: Any, spec: ChartSpec) -> None:
    c_nv_pr = frame._element.nvGraphicFramePr.cNvPr
    c_nv_pr.set("descr", spec.alt_text)
    c_nv_pr.set("title", spec.title)


#: spec content hash -> the chart part's final XML (without its c:externalData) and its data workbook, for the
#: last charts drawn: a Board paper draws each chart for Word (on a scratch slide) and for PowerPoint, and the
#: second copy is the first one's bytes rather than a second drawing (the chart XML does not depend on the
#: frame's position or size)
_DRAWN: OrderedDict[str, tuple[bytes, bytes | None]] = OrderedDict()
_DRAWN_KEPT = 32
_DRAWN_LOCK = threading.Lock()  # builds may share a process (threads)


def add_native_chart(shapes: Any, spec: ChartSpec, left: int, top: int, width: int, height: int) -> Any:
    """Add `spec` as a native chart to a slide's shapes; returns the graphic frame (alt text set)."""
    if not supports_native(spec):
        raise NativeChartUnsupported(
            f"{spec.kind} chart '{spec.title}' has no native form" + (" (no data)" if spec.message else "")
        )
    key = spec.content_hash()
    with _DRAWN_LOCK:
        drawn = _DRAWN.get(key)
        if drawn is not None:
            _DRAWN.move_to_end(key)
    if drawn is not None:
        frame = _add_drawn(shapes, *drawn, left, top, width, height)
    else:
        frame = _draw(shapes, spec, left, top, width, height)
        with _DRAWN_LOCK:
            _DRAWN[key] = _drawn_bytes(frame)
            while len(_DRAWN) > _DRAWN_KEPT:
                _DRAWN.popitem(last=False)
    _set_alt_text(frame, spec)
    return frame


def _drawn_bytes(frame: Any) -> tuple[bytes, bytes | None]:
    from lxml import etree
    from pptx.oxml.ns import qn

    part = frame.chart.part
    element = copy.deepcopy(part._element)
    for external in element.findall(qn("c:externalData")):  # the copy relates to its own workbook part
        element.remove(external)
    workbook = part.chart_workbook.xlsx_part
    return etree.tostring(element), (workbook.blob if workbook is not None else None)


def _add_drawn(shapes: Any, xml: bytes, xlsx: bytes | None, left: int, top: int, width: int, height: int) -> Any:
    """`shapes.add_chart` with the chart part made from a drawn chart's bytes (python-pptx's own steps: the part,
    its workbook, the relationship, the graphic frame)."""
    from pptx.opc.constants import CONTENT_TYPE as CT
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.parts.chart import ChartPart

    package = shapes.part.package
    chart_part = ChartPart.load(package.next_partname(ChartPart.partname_template), CT.DML_CHART, package, xml)
    if xlsx is not None:
        chart_part.chart_workbook.update_from_xlsx_blob(xlsx)
    r_id = shapes.part.relate_to(chart_part, RT.CHART)
    graphic_frame = shapes._add_chart_graphicFrame(r_id, Emu(left), Emu(top), Emu(width), Emu(height))
    shapes._recalculate_extents()
    return shapes._shape_factory(graphic_frame)


def _draw(shapes: Any, spec: ChartSpec, left: int, top: int, width: int, height: int) -> Any:
    kind = NATIVE[spec.kind]
    frame = BUILDERS[kind.shape](shapes, spec, left, top, width, height)
    if kind.intervals:
        _intervals(frame.chart, spec)
    _leader_labels(frame.chart, spec)
    chart = frame.chart
    chart.font.size = Pt(10)
    chart.font.name = spec.theme.document_font
    if not kind.compact:
        chart.has_title = True
        chart.chart_title.text_frame.text = spec.title + (f" – {spec.subtitle}" if spec.subtitle else "")
        chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
        chart.chart_title.text_frame.paragraphs[0].runs[0].font.bold = True
    return frame


def _lines(shapes: Any, spec: ChartSpec, left: int, top: int, width: int, height: int) -> Any:
    data = SafeCategoryChartData(number_format=number_format(spec))
    time_axis = date_axis(spec)
    if time_axis is not None:  # python-pptx writes a c:dateAx for date categories
        data.categories = list(time_axis.dates)
        data.categories.number_format = time_axis.cell_format
    else:
        data.categories = category_labels(spec)
    drawn = line_chart_series(spec)  # each point type a marker series: no c:dPt per point
    for s in drawn:
        data.add_series(s.name, [None if v is None else v for v in s.y])
    frame = shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, Emu(left), Emu(top), Emu(width), Emu(height), data)
    chart = frame.chart
    for plot_series, s in zip(chart.plots[0].series, drawn, strict=True):
        _style_line(plot_series, s, spec.theme.line_width)
    small = NATIVE[spec.kind].compact
    chart.has_legend = not small
    if not small:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        _hide_legend_entries(chart, [i for i, s in enumerate(drawn) if not s.show_in_legend])
        if time_axis is not None:
            _date_axis_units(chart, time_axis)
        else:
            _skip_tick_labels(chart, len(spec.series[0].x))
        value_axis = chart.value_axis
        bounds = value_axis_range(spec)
        if bounds is not None:
            value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = bounds
        value_axis.tick_labels.number_format = number_format(spec)
        value_axis.tick_labels.number_format_is_linked = False
        value_axis.has_major_gridlines = True
        value_axis.major_gridlines.format.line.color.rgb = _rgb(spec.theme.palette.band)
    else:
        chart.value_axis.visible = False
        chart.category_axis.visible = False
        chart.value_axis.has_major_gridlines = False
    return frame


def _intervals(chart: Any, spec: ChartSpec) -> None:
    """A caterpillar's 95% intervals as custom error bars on its provider series: python-pptx has no API for
    them."""
    from lxml import etree
    from pptx.oxml.ns import nsdecls, qn

    for ser, s in zip(chart._chartSpace.xpath(".//c:ser"), spec.series, strict=False):
        if s.low is None or s.high is None:
            continue

        def lit(values: list[float]) -> str:
            points = "".join(f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>' for i, v in enumerate(values))
            return f'<c:numLit><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{points}</c:numLit>'

        plus = [0.0 if h is None or y is None else h - y for y, h in zip(s.y, s.high, strict=True)]
        minus = [0.0 if lo is None or y is None else y - lo for y, lo in zip(s.y, s.low, strict=True)]
        bars = etree.fromstring(
            f'<c:errBars {nsdecls("c", "a")}><c:errDir val="y"/><c:errBarType val="both"/>'
            f'<c:errValType val="cust"/><c:noEndCap val="1"/><c:plus>{lit(plus)}</c:plus>'
            f'<c:minus>{lit(minus)}</c:minus><c:spPr><a:ln w="9525"><a:solidFill>'
            f'<a:srgbClr val="{s.colour.lstrip("#").upper()}"/></a:solidFill></a:ln></c:spPr></c:errBars>'
        )
        follower = next(child for child in ser if child.tag in {qn("c:cat"), qn("c:val")})
        follower.addprevious(bars)
    if len(spec.series[0].x) > 40:  # too many providers to name on the axis (as in the picture)
        axis = chart._chartSpace.find(".//" + qn("c:catAx"))
        position = axis.find(qn("c:tickLblPos"))
        if position is not None:
            position.set("val", "none")


def leader_label_xml(s: Series, colour: str) -> str:
    """The c:dLbls of a leader line: the series' name (the organisation and its value) at the line's far end,
    above or below it as the line runs (the Excel writer says the same with openpyxl's DataLabel)."""
    off = "".join(
        f'<c:{tag} val="0"/>' for tag in ("showLegendKey", "showVal", "showCatName", "showSerName", "showPercent")
    )
    on = off.replace('<c:showSerName val="0"/>', '<c:showSerName val="1"/>')
    return (
        f'<c:dLbls><c:dLbl><c:idx val="{leader_end(s)}"/><c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>'
        f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr b="1"><a:solidFill><a:srgbClr val="{colour}"/>'
        f'</a:solidFill></a:defRPr></a:pPr><a:endParaRPr lang="en-GB"/></a:p></c:txPr>'
        f'<c:dLblPos val="{"t" if leader_above(s) else "b"}"/>{on}<c:showBubbleSize val="0"/></c:dLbl>'
        f'{off}<c:showBubbleSize val="0"/></c:dLbls>'
    )


_SER_AFTER_DLBLS = ("c:trendline", "c:errBars", "c:cat", "c:val", "c:xVal", "c:yVal", "c:smooth", "c:extLst")


def _leader_labels(chart: Any, spec: ChartSpec) -> None:
    """The selected organisation's name at the end of its leader line (python-pptx has no per-point label API)."""
    from lxml import etree
    from pptx.oxml.ns import nsdecls, qn

    for ser, s in zip(chart._chartSpace.xpath(".//c:ser"), spec.series, strict=False):
        if s.role != "leader":
            continue
        xml = leader_label_xml(s, s.colour.lstrip("#").upper())
        d_lbls = etree.fromstring(xml.replace("<c:dLbls>", f"<c:dLbls {nsdecls('c', 'a')}>", 1))
        follower = next((child for child in ser if child.tag in {qn(t) for t in _SER_AFTER_DLBLS}), None)
        if follower is not None:
            follower.addprevious(d_lbls)
        else:
            ser.append(d_lbls)


def _hide_legend_entries(chart: Any, indexes: list[int]) -> None:
    """python-pptx has no API for c:legendEntry; a rebased limit's second segment stays out of the legend."""
    from lxml import etree
    from pptx.oxml.ns import qn

    legend = chart._chartSpace.chart.legend
    if legend is None:
        return
    anchor = legend.find(qn("c:legendPos"))
    position = list(legend).index(anchor) + 1 if anchor is not None else 0
    for offset, idx in enumerate(indexes):  # schema order: legendPos, legendEntry*, layout, overlay, ...
        entry = etree.Element(qn("c:legendEntry"))
        etree.SubElement(entry, qn("c:idx")).set("val", str(idx))
        etree.SubElement(entry, qn("c:delete")).set("val", "1")
        legend.insert(position + offset, entry)


def _date_axis_units(chart: Any, axis: DateAxis) -> None:
    """The date axis' base and major units and its labels' format (python-pptx writes days and the cells'
    format)."""
    from lxml import etree
    from pptx.oxml.ns import qn

    date_ax = chart._chartSpace.find(".//" + qn("c:dateAx"))
    date_ax.find(qn("c:numFmt")).attrib.update({"formatCode": axis.label_format, "sourceLinked": "0"})
    base = date_ax.find(qn("c:baseTimeUnit"))
    base.set("val", axis.base_unit)
    # schema order: ... c:lblOffset, c:baseTimeUnit, c:majorUnit, c:majorTimeUnit, c:minorUnit, ...
    unit = etree.Element(qn("c:majorUnit"), val=str(axis.major_months))
    time_unit = etree.Element(qn("c:majorTimeUnit"), val="months")
    base.addnext(unit)
    unit.addnext(time_unit)


def _skip_tick_labels(chart: Any, n: int) -> None:
    """About 12 category labels at most, so weekly series stay legible."""
    from lxml import etree
    from pptx.oxml.ns import qn

    if n <= 24:
        return
    axis = chart._chartSpace.find(".//" + qn("c:catAx"))
    if axis is None or axis.find(qn("c:tickLblSkip")) is not None:
        return
    skip = etree.SubElement(axis, qn("c:tickLblSkip"))
    skip.set("val", str(-(-n // 12)))
    axis.remove(skip)
    # schema order: ... c:lblOffset, c:tickLblSkip, c:tickMarkSkip, c:noMultiLvlLbl
    follower = next(
        (axis.find(qn(t)) for t in ("c:tickMarkSkip", "c:noMultiLvlLbl") if axis.find(qn(t)) is not None), None
    )
    if follower is not None:
        follower.addprevious(skip)
    else:
        axis.append(skip)


def _funnel(shapes: Any, spec: ChartSpec, left: int, top: int, width: int, height: int) -> Any:
    data = SafeXyChartData()
    for s in spec.series:
        series = data.add_series(s.name, number_format=number_format(spec))
        for x, y in zip(s.x, s.y, strict=True):
            if x is not None and y is not None:
                series.add_data_point(float(x), float(y))  # type: ignore[arg-type]
    frame = shapes.add_chart(
        XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS, Emu(left), Emu(top), Emu(width), Emu(height), data
    )
    chart = frame.chart
    for plot_series, s in zip(chart.plots[0].series, spec.series, strict=True):
        _style_line(plot_series, s, spec.theme.line_width)
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    _hide_legend_entries(chart, [i for i, s in enumerate(spec.series) if not s.show_in_legend])
    bounds = value_axis_range(spec)
    if bounds is not None:
        chart.value_axis.minimum_scale, chart.value_axis.maximum_scale, chart.value_axis.major_unit = bounds
    chart.value_axis.tick_labels.number_format = number_format(spec)
    chart.value_axis.tick_labels.number_format_is_linked = False
    x_axis = chart.category_axis  # an XY chart's first value axis: the denominators
    x_axis.tick_labels.number_format = "#,##0"
    x_axis.tick_labels.number_format_is_linked = False
    x_axis.minimum_scale = 0
    if spec.x_title:
        x_axis.has_title = True
        x_axis.axis_title.text_frame.text = spec.x_title
        x_axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(10)
        x_axis.axis_title.text_frame.paragraphs[0].runs[0].font.bold = False
    return frame


def _league(shapes: Any, spec: ChartSpec, left: int, top: int, width: int, height: int) -> Any:
    s = spec.series[0]
    data = SafeCategoryChartData(number_format=number_format(spec))
    data.categories = list(reversed([str(x) for x in s.x]))  # bar charts draw bottom-up
    data.add_series(s.name, list(reversed(list(s.y))))
    frame = shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, Emu(left), Emu(top), Emu(width), Emu(height), data)
    chart = frame.chart
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format = number_format(spec)
    plot.data_labels.number_format_is_linked = False
    series = plot.series[0]
    for i, colour in enumerate(reversed(s.point_colours or (s.colour,) * len(s.x))):
        point = series.points[i]
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = _rgb(colour)
        point.format.line.color.rgb = _rgb("#231F20")
    chart.has_legend = False
    bounds = value_axis_range(spec)
    if bounds is not None and bounds[0] >= 0:  # bars start at zero; the axis ends just past the longest
        chart.value_axis.minimum_scale, chart.value_axis.maximum_scale, chart.value_axis.major_unit = 0, *bounds[1:]
    chart.value_axis.tick_labels.number_format = number_format(spec)
    chart.value_axis.tick_labels.number_format_is_linked = False
    return frame


#: the PowerPoint builder of each native shape (charts.native_kinds.NATIVE says each kind's shape)
BUILDERS: dict[Shape, Callable[[Any, ChartSpec, int, int, int, int], Any]] = {
    "lines": _lines,
    "scatter": _funnel,
    "bars": _league,
}
