"""ChartSpec: renderer-neutral chart data, like python-pptx's ChartData.

Builders turn engine results into a ChartSpec; plotly, static export, PowerPoint and Excel writers read it
and never recompute statistics. Everything here is plain data (tuples, strings, floats), so a spec hashes
stably and can cross a process boundary.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from reporting.charts.theme import DEFAULT_THEME, Theme

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Badge", "ChartSpec", "Dash", "Role", "Series", "floats", "leader_above", "leader_end"]

Role = Literal[
    "data",
    "mean",
    "limit",
    "sigma",
    "target",
    "limit95",
    "limit998",
    "od_limit95",
    "od_limit998",
    "points",
    "highlight",
    "median",
    "peer_median",
    "benchmark",
    "bar",
    "interval",
    "leader",  # a line from the selected organisation to its name, placed clear of the data
    "suppressed",  # where disclosure control withheld a point (charts.spc_charts.SUPPRESSED_LEGEND)
]
Mode = Literal["lines", "markers", "lines+markers", "bars", "intervals"]
Dash = Literal["solid", "dash", "dot"]


@dataclass(frozen=True)
class Series:
    name: str
    role: Role
    x: tuple[object, ...]
    y: tuple[float | None, ...]
    mode: Mode = "lines"
    colour: str = "#000000"
    dash: Dash = "solid"
    width: float = 2.0
    point_colours: tuple[str, ...] | None = None
    point_symbols: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None  # hover/data labels per point
    low: tuple[float | None, ...] | None = None  # intervals (caterpillar)
    high: tuple[float | None, ...] | None = None
    show_in_legend: bool = True


@dataclass(frozen=True)
class Badge:
    """An MDC icon drawn on the chart: a circle with a letter/arrow and a text label (never colour alone)."""

    kind: Literal["variation", "assurance"]
    code: str  # e.g. improvement_high, consistent_pass
    letter: str  # H, L, P, F, ?, ~
    colour: str
    label: str  # "Special cause improvement (high)"


@dataclass(frozen=True)
class ChartSpec:
    kind: Literal["spc", "funnel", "caterpillar", "league", "sparkline", "icon", "benchmark"]
    title: str
    alt_text: str
    series: tuple[Series, ...] = ()
    subtitle: str = ""
    x_title: str = ""
    y_title: str = ""
    x_kind: Literal["date", "category", "number"] = "date"
    y_format: Literal["percent", "number"] = "number"
    y_decimals: int = 1
    x_date_format: str = "%b %Y"
    badges: tuple[Badge, ...] = ()
    message: str | None = None  # shown instead of an empty plot, e.g. "No data for this period"
    legend_markers: tuple[tuple[str, str, str], ...] = ()  # (label, colour, symbol) of point types shown
    notes: tuple[tuple[object, float, str], ...] = ()  # (x, y, text) call-outs, e.g. the selected org
    horizontal: bool = False  # bars/intervals drawn left to right (league, caterpillar)
    theme: Theme = field(default_factory=lambda: DEFAULT_THEME)
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        return (self.width or self.theme.width, self.height or self.theme.height)

    def content_hash(self) -> str:
        """Stable hash of everything that affects the picture: the static-image cache key.

        Kept on the (frozen) spec once computed: a build asks for it several times a chart, and each time it
        would walk the whole spec (`dataclasses.replace` makes a new spec, with no hash kept)."""
        kept = self.__dict__.get("_content_hash")
        if kept is None:
            payload = json.dumps(asdict(self), sort_keys=True, default=str, separators=(",", ":"))
            kept = hashlib.sha256(payload.encode()).hexdigest()[:20]
            self.__dict__["_content_hash"] = kept  # not a field: equality and asdict ignore it (a pickle keeps it)
        return str(kept)


def floats(values: pd.Series) -> tuple[float | None, ...]:
    """Engine values as a Series' plain floats: a missing value (None, NaN, NA, NaT) is None, a gap."""
    import pandas as pd  # only when a builder runs: the spec itself stays plain data

    return tuple(
        None if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else float(v) for v in values
    )


def leader_end(s: Series) -> int:
    """The index of a leader line's labelled point (its far end: the one point with text)."""
    return next((i for i, text in enumerate(s.labels or ()) if text), len(s.y) - 1)


def leader_above(s: Series) -> bool:
    """Whether a leader's label sits above its end (the line rises from the organisation to it) or below."""
    end = leader_end(s)
    start = next(i for i, v in enumerate(s.y) if v is not None and i != end)
    return (s.y[end] or 0.0) >= (s.y[start] or 0.0)
