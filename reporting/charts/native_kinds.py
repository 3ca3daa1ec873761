"""Which ChartSpec kinds have a native (editable) Office chart, and how each is drawn: ONE table that the
PowerPoint (charts.native_pptx) and Excel (charts.native_xlsx) writers both dispatch on.

A kind's `shape` picks each writer's builder (`BUILDERS` in both modules); the flags say what differs within a
shape. A new chart kind is one row here (or one name in PICTURE_ONLY), and a builder per writer only for a
new shape; tests/charts/test_native_kinds.py checks that the writers and this table agree. The facts both
writers draw from a spec live here too: the series of a line chart, which points need their own style, the
axis labels, the time axis and the value axis's range.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Literal

from reporting.charts.spec import ChartSpec, Series

__all__ = [
    "NATIVE",
    "PICTURE_ONLY",
    "DateAxis",
    "NativeKind",
    "Shape",
    "category_labels",
    "date_axis",
    "line_chart_series",
    "marker_size",
    "number_format",
    "styled_points",
    "value_axis_range",
]

#: the native chart types the writers build: category lines, an XY scatter, horizontal bars
Shape = Literal["lines", "scatter", "bars"]


@dataclass(frozen=True)
class NativeKind:
    shape: Shape
    #: each point has a 95% interval (custom error bars), and the axis names providers (hidden past 40)
    intervals: bool = False
    #: a small multiple (sparkline): no title, legend, axes or gridlines
    compact: bool = False


NATIVE: dict[str, NativeKind] = {
    "spc": NativeKind("lines"),
    "funnel": NativeKind("scatter"),
    "league": NativeKind("bars"),
    "sparkline": NativeKind("lines", compact=True),
    "caterpillar": NativeKind("lines", intervals=True),
    "benchmark": NativeKind("lines"),
}
#: kinds with no faithful native form: always a picture (an icon is a drawn glyph, not a chart)
PICTURE_ONLY = frozenset({"icon"})


#: marker sizes (points) by series role, the same in both writers: the selected organisation larger, a
#: caterpillar's dots smaller so its intervals show, an asterisk (all outline) larger to read as the tables' "*"
_MARKER_SIZES = {"highlight": 12, "interval": 5, "suppressed": 11}


def marker_size(role: str | None) -> int:
    """A series' marker size; every point's own (c:dPt) marker uses the same, so a point drawn by the series
    looks like one drawn by itself."""
    return _MARKER_SIZES.get(role or "", 7)


def styled_points(s: Series) -> list[tuple[int, str, str]]:
    """(index, colour, symbol) of the points of `s` that need a style of their own (a c:dPt). A point that the
    series' own marker already draws exactly so (same symbol and fill, a markers-only series: no line to
    colour) gets none: a c:dPt per point costs LibreOffice time (a funnel's 125 providers: 0.7 core-s of its
    PDF). A line chart's lines never get here: `line_chart_series` draws their points as series."""
    if not s.point_colours:
        return []
    symbols = s.point_symbols or ("circle",) * len(s.y)
    default = (s.colour.upper(), symbols[0] if symbols else "circle")
    out = []
    for i, (colour, value) in enumerate(zip(s.point_colours, s.y, strict=False)):
        symbol = symbols[i] if i < len(symbols) else "circle"
        if value is None or (s.mode in {"markers", "intervals"} and (colour.upper(), symbol) == default):
            continue
        out.append((i, colour, symbol))
    return out


def _marked_line(s: Series) -> bool:
    return bool(s.point_colours) and s.mode == "lines+markers"


def line_chart_series(spec: ChartSpec) -> tuple[Series, ...]:
    """The series a native line chart draws, the same in every Office writer (PowerPoint, Word, Excel).

    A line with per-point colours and shapes (an SPC chart's data: the MDC colour and marker of each point's
    type) is drawn as a plain line in its own colour, with no markers; each point type is then a marker-only
    series holding the values of its points (None elsewhere), after the spec's own series, in the legend's
    order, so no point needs a c:dPt. LibreOffice draws a line series' markers in the line's colour, so the
    per-point styles were about 22 c:dPt per chart and a quarter of a core-second per Board paper to draw.
    The legend's point types are the key to the colours and shapes (named as the legend names them, which is
    also their column in the chart's data sheet); a point whose colour and shape are not in the legend gets a
    series kept out of the legend, so every point is still drawn as the spec says. The line between points is
    the line's own colour (as NHSRplotthedots draws it: a grey line, coloured points)."""
    lined = [s for s in spec.series if _marked_line(s)]
    if not spec.series or (not lined and not spec.legend_markers):
        return spec.series
    n = len(spec.series[0].x)
    names = {(colour.upper(), symbol): label for label, colour, symbol in spec.legend_markers}
    values: dict[tuple[str, str], list[float | None]] = {key: [None] * n for key in names}
    colours: dict[tuple[str, str], str] = {(c.upper(), sym): c for _, c, sym in spec.legend_markers}
    unkeyed: dict[tuple[str, str], str] = {}
    for s in lined:
        symbols = s.point_symbols or ("circle",) * len(s.y)
        for i, (colour, value) in enumerate(zip(s.point_colours or (), s.y, strict=False)):
            if value is None:
                continue
            key = (colour.upper(), symbols[i] if i < len(symbols) else "circle")
            if key not in values:
                values[key] = [None] * n
                colours[key] = colour
                unkeyed[key] = f"{s.name}: {key[1]} {colour} points"
            values[key][i] = value
    drawn = [
        replace(s, mode="lines", point_colours=None, point_symbols=None) if _marked_line(s) else s for s in spec.series
    ]
    for key, y in values.items():
        drawn.append(
            Series(
                names.get(key) or unkeyed[key],
                "points",
                spec.series[0].x,
                tuple(y),
                "markers",
                colours[key],
                point_symbols=(key[1],),
                show_in_legend=key in names,
            )
        )
    return tuple(drawn)


def category_labels(spec: ChartSpec) -> list[str]:
    """x values as the text an axis shows ('Apr 2021'); shared by the PowerPoint and Excel writers."""
    import pandas as pd

    x = spec.series[0].x if spec.series else ()
    if spec.x_kind == "date":
        return [pd.Timestamp(str(v)).strftime(spec.x_date_format) for v in x]
    return [str(v) for v in x]


@dataclass(frozen=True)
class DateAxis:
    """A native line chart's time axis: the periods as dates (a number with a date format in the data sheet),
    placed by date, a label every `major_months` months. LibreOffice builds a shape for every category label,
    even the ones `c:tickLblSkip` hides (24 per SPC chart, about 0.16 core-s of a Board paper's PDF); a date axis
    builds only the labels it shows, and they fit level instead of slanted. Shared by the PowerPoint (and so
    Word) and Excel writers."""

    dates: tuple[datetime.date, ...]
    #: "months" for monthly (or sparser) periods, else "days" (weekly: each week at its own date)
    base_unit: Literal["days", "months"]
    major_months: int
    #: Excel's format of the periods in the data sheet ("mmm yyyy", "dd mmm yyyy"); the axis labels are months
    cell_format: str
    label_format: str = "mmm yyyy"


def date_axis(spec: ChartSpec) -> DateAxis | None:
    """The time axis of a line chart over periods: None for other axes, and for a small multiple (no axes)."""
    import pandas as pd

    if spec.x_kind != "date" or NATIVE[spec.kind].compact or NATIVE[spec.kind].shape != "lines" or not spec.series:
        return None
    dates = tuple(pd.Timestamp(str(v)).date() for v in spec.series[0].x)
    if not dates:
        return None
    monthly = all((b - a).days >= 28 for a, b in zip(dates, dates[1:], strict=False))
    span = (dates[-1].year - dates[0].year) * 12 + dates[-1].month - dates[0].month
    major = next((m for m in (1, 2, 3, 6, 12) if span / m <= 9), 12 * -(-span // 108))  # nine labels at most
    cell = "dd mmm yyyy" if "%d" in spec.x_date_format else "mmm yyyy"
    return DateAxis(dates, "months" if monthly else "days", major, cell)


def number_format(spec: ChartSpec) -> str:
    if spec.y_format == "percent":
        return "0" + ("." + "0" * spec.y_decimals if spec.y_decimals else "") + "%"
    return "#,##0" + ("." + "0" * spec.y_decimals if spec.y_decimals else "")


def value_axis_range(spec: ChartSpec) -> tuple[float, float, float] | None:
    """(minimum, maximum, major unit) of the value axis: the data and limits with a little room, on round
    numbers. Office and LibreOffice start an automatic axis at zero, which flattens an SPC chart of values
    between 70% and 80% into a line; shared by the PowerPoint and Excel writers. Every series counts, a funnel's
    limits too (its builder draws them only over the providers' denominators, so all of them fit), and a
    leader line's end, where the selected organisation's name sits."""
    import math

    values = [
        v for s in spec.series for v in (*s.y, *(s.low or ()), *(s.high or ())) if v is not None and math.isfinite(v)
    ]
    if not values:
        return None
    low, high = min(values), max(values)
    span = high - low or abs(high) or 1.0
    raw = span * 1.1 / 5  # about five intervals
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    lo = math.floor((low - span * 0.05) / step) * step
    hi = math.ceil((high + span * 0.05) / step) * step
    if low >= 0:
        lo = max(lo, 0.0)  # never below zero for counts and rates that cannot be negative
    if spec.y_format == "percent" and high <= 1:
        hi = min(hi, 1.0)
    return round(lo, 12), round(hi, 12), step
