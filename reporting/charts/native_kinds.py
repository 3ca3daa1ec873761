"""Which ChartSpec kinds have a native (editable) Office chart, and how each is drawn: ONE table that the
PowerPoint (charts.native_pptx) and Excel (charts.native_xlsx) writers both dispatch on.

A kind's `shape` picks each writer's builder (`BUILDERS` in both modules); the flags say what differs within a
shape. A new chart kind is one row here (or one name in PICTURE_ONLY), and a builder per writer only for a
new shape; tests/charts/test_native_kinds.py checks that the writers and this table agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["NATIVE", "PICTURE_ONLY", "NativeKind", "Shape", "marker_size"]

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
