"""Chart builders for one series over time: the SPC chart, its sparkline and the MDC icons. Engine results in,
ChartSpec out; they never recompute a statistic (the charts comparing organisations are in comparison_charts.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from reporting.charts.alt_text import spc_alt_text
from reporting.charts.spec import Badge, ChartSpec, Dash, Role, Series, floats
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.formatting import format_value
from reporting.mdc import ASSURANCE, POINT_SYMBOLS, POINT_TYPE_LABELS, VARIATION

__all__ = ["NO_DATA", "SUPPRESSED_LEGEND", "SUPPRESSED_SYMBOL", "icon_chart", "sparkline_chart", "spc_chart"]

NO_DATA = "No data for this period"
#: the legend entry of the marker drawn where disclosure control withheld a point: the "*" tables print
SUPPRESSED_LEGEND = "* Suppressed: fewer than {threshold}"
#: an asterisk in every renderer (plotly's "asterisk-open"; DrawingML's "star" symbol is drawn as one)
SUPPRESSED_SYMBOL = "asterisk-open"


def _x(values: pd.Series) -> tuple[object, ...]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return tuple(pd.Timestamp(v).strftime("%Y-%m-%d") for v in values)
    return tuple(v.item() if hasattr(v, "item") else v for v in values)


def _badges(summary: Mapping[str, Any], theme: Theme) -> tuple[Badge, ...]:
    badges = []
    icon = summary.get("variation_icon")
    if icon in VARIATION:
        letter, colour, label = VARIATION[icon]
        badges.append(Badge("variation", icon, letter, getattr(theme.palette, colour), label))
    assurance = summary.get("assurance")
    if assurance in ASSURANCE:
        letter, colour, label = ASSURANCE[assurance]
        badges.append(Badge("assurance", assurance, letter, getattr(theme.palette, colour), label))
    return tuple(badges)


def _by_group(
    frame: pd.DataFrame,
    column: str,
    x: tuple[object, ...],
    name: str,
    role: Role,
    colour: str,
    dash: Dash,
    width: float,
) -> list[Series]:
    """One series per rebase group, None elsewhere: limits break at a rebase in every renderer."""
    out = []
    groups = frame["rebase_group"]
    values = floats(frame[column])
    for i, group in enumerate(sorted(groups.dropna().unique())):  # the groups in order, as a groupby gives them
        mask = (groups == group).to_numpy()
        y = tuple(v if m else None for v, m in zip(values, mask, strict=True))
        if all(v is None for v in y):
            continue
        label = name if i == 0 else f"{name} (from {x[int(np.flatnonzero(mask)[0])]})"
        out.append(Series(label, role, x, y, "lines", colour, dash, width, show_in_legend=i == 0))
    return out


def spc_chart(
    points: pd.DataFrame,
    summary: Mapping[str, Any],
    *,
    title: str,
    unit: str = "count",
    decimals: int = 1,
    frequency: str = "monthly",
    org: str | None = None,
    periods: int | None = None,
    theme: Theme = DEFAULT_THEME,
    y_title: str = "",
    message: str | None = None,
    marks: tuple[str, tuple[tuple[Any, str, str], ...]] = ("", ()),
    suppressed: Collection[pd.Timestamp] = (),
    threshold: int = 5,
) -> ChartSpec:
    """An MDC SPC chart of ONE series (one metric x organisation) from SPCResult.points and its summary row.

    The points are the ones the engine ran on (packs.views): every line on the chart comes from them.
    `periods` (for callers that pass a longer series) shows only the latest N points. `marks` is (text added
    to the subtitle, (period, kind, label) of each rebase / break / note): breaks also split the data line.
    `message` replaces the plot (e.g. "No current data (latest: ...)"). `suppressed` are the periods that
    disclosure control withheld: each is marked with an asterisk on the centre line (a position that says
    nothing about the hidden value: the mean comes from the points shown) and the legend says
    "* Suppressed: fewer than `threshold`", so a withheld point is not read as a plain gap.
    """
    frame = points.sort_values("x").reset_index(drop=True)
    if periods is not None:
        frame = frame.tail(periods).reset_index(drop=True)
    said, entries = marks
    subtitle = " · ".join(p for p in (org or "", said) if p)
    alt = spc_alt_text(title, org, frame, summary, unit=unit, decimals=decimals, frequency=frequency)
    if said and said not in alt:  # the alt text already names the periods a subtitle may add
        alt += f" {said}."
    y_format: Literal["percent", "number"] = "percent" if unit == "percent" else "number"
    if message is not None:
        return ChartSpec(
            "spc",
            title,
            f"SPC chart of {title}{', ' + org if org else ''}: {message}.",
            subtitle=org or "",
            message=message,
            theme=theme,
            y_format=y_format,
        )
    if frame.empty or frame["y"].notna().sum() == 0:
        return ChartSpec("spc", title, alt, subtitle=subtitle, message=NO_DATA, theme=theme, y_format=y_format)
    palette = theme.palette
    x = _x(frame["x"])
    types = [str(t) if isinstance(t, str) else "common_cause" for t in frame["point_type"]]
    data = Series(
        "Data",
        "data",
        x,
        floats(frame["y"]),
        "lines+markers",
        palette.data_line,
        "solid",
        theme.line_width,
        point_colours=tuple(palette.point(t) for t in types),
        point_symbols=tuple(POINT_SYMBOLS.get(t, "circle") for t in types),
        labels=tuple(format_value(v, unit, decimals) for v in floats(frame["y"])),
    )
    series: list[Series] = _split_at_breaks(data, frame, [e[0] for e in entries if e[1] == "break"])
    series += _by_group(frame, "mean", x, "Mean", "mean", palette.mean, "solid", theme.line_width * 0.75)
    if "lpl" in frame and frame["lpl"].notna().any():
        series += _by_group(frame, "upl", x, "Process limits", "limit", palette.limits, "dash", theme.line_width * 0.75)
        series += [
            replace(s, show_in_legend=False)
            for s in _by_group(
                frame, "lpl", x, "Lower process limit", "limit", palette.limits, "dash", theme.line_width * 0.75
            )
        ]
    if "target" in frame and frame["target"].notna().any():
        series.append(
            Series("Target", "target", x, floats(frame["target"]), "lines", palette.target, "dot", theme.line_width)
        )
    hidden = _suppressed_marks(frame, suppressed, x, threshold, theme)
    if hidden is not None:
        series.append(hidden)
        count = sum(v is not None for v in hidden.y)
        alt += f" {count} {'point is' if count == 1 else 'points are'} suppressed (fewer than {threshold}), marked *."
    x_kind: Literal["date", "number"] = "date" if pd.api.types.is_datetime64_any_dtype(frame["x"]) else "number"
    notes = []
    for when, _kind, label in entries:
        at = frame.index[frame["x"] == pd.Timestamp(when)]
        if len(at) and not pd.isna(frame["y"].iloc[at[0]]):
            notes.append((x[at[0]], float(frame["y"].iloc[at[0]]), textwrap.shorten(label, 60, placeholder="…")))
    shown = [t for t in POINT_TYPE_LABELS if t in set(types)]
    legend = tuple((POINT_TYPE_LABELS[t], palette.point(t), POINT_SYMBOLS[t]) for t in shown)
    return ChartSpec(
        "spc",
        title,
        alt,
        tuple(series),
        subtitle=subtitle,
        y_title=y_title,
        x_kind=x_kind,
        legend_markers=legend,
        y_format=y_format,
        y_decimals=decimals,
        x_date_format="%b %Y" if frequency != "weekly" else "%d %b %Y",
        badges=_badges(summary, theme),
        theme=theme,
        notes=tuple(notes),
    )


def _suppressed_marks(
    frame: pd.DataFrame, suppressed: Collection[pd.Timestamp], x: tuple[object, ...], threshold: int, theme: Theme
) -> Series | None:
    """The asterisks at the withheld periods, on the centre line (carried across a gap in the mean)."""
    if not suppressed:
        return None
    wanted = {pd.Timestamp(p) for p in suppressed}
    at = frame["x"].isin(wanted).to_numpy() & frame["y"].isna().to_numpy()
    if not at.any():
        return None
    mean = frame["mean"].ffill().bfill() if "mean" in frame else pd.Series(np.nan, index=frame.index)
    y = tuple(float(m) if hit and pd.notna(m) else None for hit, m in zip(at, mean, strict=True))
    if all(v is None for v in y):
        return None
    n = len(x)
    return Series(
        SUPPRESSED_LEGEND.format(threshold=threshold),
        "suppressed",
        x,
        y,
        "markers",
        theme.palette.text,
        point_symbols=(SUPPRESSED_SYMBOL,) * n,
        labels=("*",) * n,
    )


def _split_at_breaks(data: Series, frame: pd.DataFrame, breaks: list[Any]) -> list[Series]:
    """A break in the data (a definition or recording change) is a visible discontinuity: the line stops
    before it and starts again, as separate series (same look), in every renderer."""
    cuts = sorted(pd.Timestamp(b) for b in breaks if (frame["x"] == pd.Timestamp(b)).any())
    if not cuts:
        return [data]
    xs = frame["x"]
    edges = [xs.iloc[0], *cuts, None]
    out = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        mask = ((xs >= lo) & (True if hi is None else xs < hi)).to_numpy()
        y = tuple(v if m else None for v, m in zip(data.y, mask, strict=True))
        name = data.name if i == 0 else f"{data.name} (from {pd.Timestamp(lo):%b %Y})"
        out.append(replace(data, name=name, y=y, show_in_legend=i == 0))
    return out


def sparkline_chart(
    points: pd.DataFrame, *, title: str, unit: str = "count", decimals: int = 0, theme: Theme = DEFAULT_THEME
) -> ChartSpec:
    """A small trend line with the last point marked by its point type (for summary tables)."""
    frame = points.sort_values("x")
    valid = frame[frame["y"].notna()]
    if valid.empty:
        return ChartSpec(
            "sparkline", title, f"Trend of {title}: no data.", message=NO_DATA, theme=theme, width=240, height=60
        )
    last_type = str(valid["point_type"].iloc[-1]) if "point_type" in valid else "common_cause"
    x = _x(frame["x"])
    last = int(np.flatnonzero(frame["y"].notna().to_numpy())[-1])
    series = (
        Series(title, "data", x, floats(frame["y"]), "lines", theme.palette.data_line, width=2.5),
        Series(
            "Latest",
            "points",
            x,
            tuple(float(v) if i == last else None for i, v in enumerate(frame["y"])),
            "markers",
            theme.palette.point(last_type),
            point_colours=(theme.palette.point(last_type),) * len(x),
            point_symbols=(POINT_SYMBOLS.get(last_type, "circle"),) * len(x),
        ),
    )
    alt = (
        f"Trend of {title}: {len(valid)} points from {format_value(float(valid['y'].iloc[0]), unit, decimals)} "
        f"to {format_value(float(valid['y'].iloc[-1]), unit, decimals)}."
    )
    return ChartSpec(
        "sparkline",
        title,
        alt,
        series,
        theme=theme,
        width=240,
        height=60,
        y_format="percent" if unit == "percent" else "number",
    )


def icon_chart(code: str, theme: Theme = DEFAULT_THEME) -> ChartSpec:
    """One MDC variation or assurance icon as a small image for summary tables."""
    if code in VARIATION:
        letter, colour, label = VARIATION[code]
        badge = Badge("variation", code, letter, getattr(theme.palette, colour), label)
    elif code in ASSURANCE:
        letter, colour, label = ASSURANCE[code]
        badge = Badge("assurance", code, letter, getattr(theme.palette, colour), label)
    else:
        raise ValueError(f"unknown icon {code!r}; expected one of {sorted(VARIATION) + sorted(ASSURANCE)}")
    return ChartSpec("icon", label, f"{label} icon", badges=(badge,), theme=theme, width=64, height=64)
