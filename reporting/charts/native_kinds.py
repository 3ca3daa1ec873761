"""Which ChartSpec kinds have a native (editable) Office chart, and how each is drawn: ONE table that the
PowerPoint (charts.native_pptx) and Excel (charts.native_xlsx) writers both dispatch on.

A kind's `shape` picks each writer's builder (`BUILDERS` in both modules); the flags say what differs within a
shape. A new chart kind is one row here (or one name in PICTURE_ONLY), and a builder per writer only for a
new shape; tests/charts/test_native_kinds.py checks that the writers and this table agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from reporting.charts.spec import ChartSpec, Series

__all__ = ["NATIVE", "PICTURE_ONLY", "NativeKind", "Shape", "line_chart_series", "marker_size", "styled_points"]

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
