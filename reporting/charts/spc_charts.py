"""Chart builders: engine results in, ChartSpec out. They never recompute a statistic."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from reporting.charts.alt_text import ASSURANCE, VARIATION, spc_alt_text
from reporting.charts.spec import Badge, ChartSpec, Series
from reporting.charts.theme import DEFAULT_THEME, POINT_SYMBOLS, POINT_TYPE_LABELS, Theme
from reporting.formatting import format_value

__all__ = ["caterpillar_chart", "funnel_chart", "icon_chart", "league_chart", "sparkline_chart", "spc_chart"]

NO_DATA = "No data for this period"


def _floats(values: Sequence[Any] | pd.Series | np.ndarray) -> tuple[float | None, ...]:
    return tuple(
        None if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else float(v) for v in values
    )


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
    frame: pd.DataFrame, column: str, x: tuple[object, ...], name: str, role: str, colour: str, dash: str, width: float
) -> list[Series]:
    """One series per rebase group, None elsewhere: limits break at a rebase in every renderer."""
    out = []
    for i, (group, _rows) in enumerate(frame.groupby("rebase_group", sort=True)):
        mask = (frame["rebase_group"] == group).to_numpy()
        y = tuple(v if m else None for v, m in zip(_floats(frame[column]), mask, strict=True))
        if all(v is None for v in y):
            continue
        label = name if i == 0 else f"{name} (from {x[int(np.flatnonzero(mask)[0])]})"
        out.append(Series(label, role, x, y, "lines", colour, dash, width, show_in_legend=i == 0))  # type: ignore[arg-type]
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
) -> ChartSpec:
    """An MDC SPC chart of ONE series (one metric x organisation) from SPCResult.points and its summary row.

    The points are the ones the engine ran on (packs.views): every line on the chart comes from them.
    `periods` (for callers that pass a longer series) shows only the latest N points. `marks` is (text added
    to the subtitle, (period, kind, label) of each rebase / break / note): breaks also split the data line.
    `message` replaces the plot (e.g. "No current data (latest: ...)").
    """
    frame = points.sort_values("x").reset_index(drop=True)
    if periods is not None:
        frame = frame.tail(periods).reset_index(drop=True)
    said, entries = marks
    subtitle = " · ".join(p for p in (org or "", said) if p)
    alt = spc_alt_text(title, org, frame, summary, unit=unit, decimals=decimals, frequency=frequency)
    if said:
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
        _floats(frame["y"]),
        "lines+markers",
        palette.data_line,
        "solid",
        theme.line_width,
        point_colours=tuple(palette.point(t) for t in types),
        point_symbols=tuple(POINT_SYMBOLS.get(t, "circle") for t in types),
        labels=tuple(format_value(v, unit, decimals) for v in _floats(frame["y"])),
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
            Series("Target", "target", x, _floats(frame["target"]), "lines", palette.target, "dot", theme.line_width)
        )
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


def funnel_chart(
    points: pd.DataFrame,
    curve: pd.DataFrame,
    *,
    title: str,
    adjusted: bool,
    unit: str = "percent",
    decimals: int = 1,
    highlight: str | None = None,
    labels: Mapping[str, str] | None = None,
    x_title: str = "Denominator",
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Funnel plot: each provider against its denominator, with 95% and 99.8% limits (overdispersion-adjusted
    ones when the engine used them) and the selected organisation highlighted and labelled."""
    palette = theme.palette
    names = labels or {}
    prefix = "od_" if adjusted else ""
    gx = _floats(curve["denominator"])
    series = [
        Series(
            "Target", "target", gx, _floats(curve["target"]), "lines", palette.mean, "solid", theme.line_width * 0.75
        ),
        Series(
            "95% limits",
            "limit95",
            gx,
            _floats(curve[f"{prefix}ucl95"]),
            "lines",
            palette.limits,
            "dash",
            theme.line_width * 0.75,
        ),
        Series(
            "95% lower",
            "limit95",
            gx,
            _floats(curve[f"{prefix}lcl95"]),
            "lines",
            palette.limits,
            "dash",
            theme.line_width * 0.75,
            show_in_legend=False,
        ),
        Series(
            "99.8% limits",
            "limit998",
            gx,
            _floats(curve[f"{prefix}ucl998"]),
            "lines",
            palette.limits,
            "solid",
            theme.line_width * 0.75,
        ),
        Series(
            "99.8% lower",
            "limit998",
            gx,
            _floats(curve[f"{prefix}lcl998"]),
            "lines",
            palette.limits,
            "solid",
            theme.line_width * 0.75,
            show_in_legend=False,
        ),
    ]
    if adjusted:  # show what the adjustment did: the unadjusted 99.8% funnel, faint and dotted
        series += [
            Series(
                "99.8% limits (unadjusted)",
                "limit998",
                gx,
                _floats(curve["ucl998"]),
                "lines",
                palette.peers,
                "dot",
                theme.line_width * 0.5,
            ),
            Series(
                "99.8% lower (unadjusted)",
                "limit998",
                gx,
                _floats(curve["lcl998"]),
                "lines",
                palette.peers,
                "dot",
                theme.line_width * 0.5,
                show_in_legend=False,
            ),
        ]
    outlier = points["outlier"].to_numpy(dtype=bool)
    high = (
        points["value"].to_numpy(dtype=float) > points["target"].to_numpy(dtype=float) if "target" in points else None
    )
    colours = tuple(palette.neutral if o else palette.peers for o in outlier)
    symbols = tuple(
        ("triangle-up" if (high is not None and h) else "triangle-down") if o else "circle"
        for o, h in zip(outlier, high if high is not None else outlier, strict=True)
    )
    text = tuple(
        f"{names.get(str(g), str(g))}: {format_value(v, unit, decimals)}"
        for g, v in zip(points["group"], _floats(points["value"]), strict=True)
    )
    series.append(
        Series(
            "Providers (outliers ▲▼)",
            "points",
            _floats(points["denominator"]),
            _floats(points["value"]),
            "markers",
            palette.peers,
            point_colours=colours,
            point_symbols=symbols,
            labels=text,
        )
    )
    if highlight is not None and (points["group"].astype(str) == highlight).any():
        row = points[points["group"].astype(str) == highlight].iloc[0]
        series.append(
            Series(
                names.get(highlight, highlight),
                "highlight",
                (float(row["denominator"]),),
                (float(row["value"]),),
                "markers",
                palette.highlight,
                point_symbols=("star",),
                labels=(names.get(highlight, highlight),),
            )
        )
    n_out = int(outlier.sum())
    who = (
        f" {names.get(highlight, highlight)} is {'an outlier' if highlight and bool(points.loc[points['group'].astype(str) == highlight, 'outlier'].any()) else 'within the limits'}."
        if highlight
        else ""
    )
    alt = (
        f"Funnel plot of {title} for {len(points)} providers against {x_title.lower()}, with 95% and 99.8% "
        f"limits{' adjusted for overdispersion' if adjusted else ''}. {n_out} providers lie outside the "
        f"limits.{who}"
    )
    return ChartSpec(
        "funnel",
        title,
        alt,
        tuple(series),
        x_title=x_title,
        x_kind="number",
        y_format="percent" if unit == "percent" else "number",
        y_decimals=decimals,
        theme=theme,
    )


def caterpillar_chart(
    frame: pd.DataFrame,
    *,
    title: str,
    unit: str = "percent",
    decimals: int = 1,
    highlight: str | None = None,
    labels: Mapping[str, str] | None = None,
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Model Health System style: providers sorted by value with intervals, national and peer medians,
    benchmark line, the selected organisation highlighted (star marker and label, not colour alone)."""
    palette = theme.palette
    names = labels or {}
    data = frame.sort_values("value", kind="stable").reset_index(drop=True)
    x = tuple(names.get(str(o), str(o)) for o in data["org_code"])
    chosen = (data["org_code"].astype(str) == highlight).to_numpy() if highlight else np.zeros(len(data), bool)
    series = [
        Series(
            "Providers (95% interval)",
            "interval",
            x,
            _floats(data["value"]),
            "intervals",
            palette.peers,
            low=_floats(data["lower"]),
            high=_floats(data["upper"]),
            point_colours=tuple(palette.highlight if c else palette.peers for c in chosen),
            point_symbols=tuple("star" if c else "circle" for c in chosen),
            labels=tuple(format_value(v, unit, decimals) for v in _floats(data["value"])),
        )
    ]
    series.append(
        Series(
            "National median",
            "median",
            x,
            (float(data["national_median"].iloc[0]),) * len(x),
            "lines",
            palette.median,
            "solid",
            theme.line_width * 0.75,
        )
    )
    if (
        "peer_median" in data
        and data["peer_group"].nunique() == 1
        and not np.allclose(data["peer_median"], data["national_median"])
    ):
        series.append(
            Series(
                "Peer median",
                "peer_median",
                x,
                _floats(data["peer_median"]),
                "lines",
                palette.median,
                "dash",
                theme.line_width * 0.75,
            )
        )
    if "benchmark" in data and data["benchmark"].notna().any():
        series.append(
            Series(
                "Benchmark",
                "benchmark",
                x,
                _floats(data["benchmark"]),
                "lines",
                palette.benchmark,
                "dot",
                theme.line_width,
            )
        )
    who = ""
    if highlight and chosen.any():
        row = data[chosen].iloc[0]
        who = (
            f" {names.get(highlight, highlight)}: {format_value(float(row['value']), unit, decimals)}, rank "
            f"{row['rank']} of {row['n_ranked']}."
        )
    alt = (
        f"Variation chart of {title} across {len(data)} providers, lowest to highest, with 95% intervals; "
        f"national median {format_value(float(data['national_median'].iloc[0]), unit, decimals)}.{who}"
    )
    notes: tuple[tuple[str, float, str], ...] = ()
    if highlight and chosen.any():
        i = int(np.flatnonzero(chosen)[0])
        notes = ((x[i], float(data["value"].iloc[i]), names.get(highlight, highlight)),)
    return ChartSpec(
        "caterpillar",
        title,
        alt,
        tuple(series),
        x_kind="category",
        notes=notes,
        y_format="percent" if unit == "percent" else "number",
        y_decimals=decimals,
        theme=theme,
    )


def league_chart(
    frame: pd.DataFrame,
    *,
    value: str,
    title: str,
    unit: str = "percent",
    decimals: int = 1,
    higher_is_better: bool = True,
    top_bottom: int = 5,
    highlight: str | None = None,
    labels: Mapping[str, str] | None = None,
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Horizontal bars for the top and bottom N (best first) plus the selected organisation wherever it ranks."""
    palette = theme.palette
    names = labels or {}
    data = frame[frame[value].notna()].sort_values(value, ascending=not higher_is_better, kind="stable")
    data = data.reset_index(drop=True)
    keep = set(range(min(top_bottom, len(data)))) | set(range(max(0, len(data) - top_bottom), len(data)))
    if highlight is not None:
        keep |= set(np.flatnonzero((data["org_code"].astype(str) == highlight).to_numpy()).tolist())
    rows = data.loc[sorted(keep)]
    ranks = [i + 1 for i in sorted(keep)]
    chosen = (rows["org_code"].astype(str) == highlight).to_numpy() if highlight else np.zeros(len(rows), bool)
    x = tuple(
        f"{r}. {names.get(str(o), str(o))}" + (" ◀" if c else "")
        for r, o, c in zip(ranks, rows["org_code"], chosen, strict=True)
    )
    series = (
        Series(
            title,
            "bar",
            x,
            _floats(rows[value]),
            "bars",
            palette.peers,
            point_colours=tuple(palette.highlight if c else palette.peers for c in chosen),
            labels=tuple(format_value(v, unit, decimals) for v in _floats(rows[value])),
        ),
    )
    best = rows.iloc[0]
    alt = (
        f"League table of {title}: top and bottom {top_bottom} of {len(data)} providers, best first. "
        f"Best {names.get(str(best['org_code']), best['org_code'])} "
        f"{format_value(float(best[value]), unit, decimals)}."
    )
    if highlight is not None and chosen.any():
        i = int(np.flatnonzero(chosen)[0])
        alt += f" {names.get(highlight, highlight)} ranks {ranks[i]} of {len(data)}."
    return ChartSpec(
        "league",
        title,
        alt,
        series,
        x_kind="category",
        horizontal=True,
        y_format="percent" if unit == "percent" else "number",
        y_decimals=decimals,
        theme=theme,
        height=max(320, 40 * len(rows) + 120),
    )


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
        Series(title, "data", x, _floats(frame["y"]), "lines", theme.palette.data_line, width=2.5),
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
