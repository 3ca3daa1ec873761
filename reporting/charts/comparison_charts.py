"""Chart builders comparing organisations: funnel plots, caterpillar (variation) charts and league tables.
Engine results in, ChartSpec out; they never recompute a statistic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from reporting.charts.labels import caterpillar_leader, place_label, samples, span
from reporting.charts.spec import ChartSpec, Series, floats
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.formatting import format_value

__all__ = [
    "caterpillar_chart",
    "funnel_chart",
    "funnel_sides",
    "hidden_intervals",
    "league_chart",
]

Direction = Literal["higher_is_better", "lower_is_better", "neutral"]


def _ordered(curve: pd.DataFrame, prefix: str, points: pd.DataFrame) -> pd.DataFrame:
    """The stretch of the curve a funnel draws: from just below the smallest provider's denominator, where the
    limits are in order (95% inside 99.8%; the arcsine limits fold back at tiny denominators and a coarse grid
    keeps the fold), so every limit drawn is a limit and the y-axis can fit them all."""
    sets = ("", prefix) if prefix else ("",)
    ok = np.ones(len(curve), dtype=bool)
    for p in sets:
        ok &= (curve[f"{p}ucl95"] <= curve[f"{p}ucl998"]).to_numpy() & (
            curve[f"{p}lcl95"] >= curve[f"{p}lcl998"]
        ).to_numpy()
    den = curve["denominator"].to_numpy(dtype=float)
    smallest = float(points["denominator"].min())
    below = np.flatnonzero(ok & (den <= smallest))
    start = den[below[-1]] if len(below) else smallest * 0.5
    drawn: pd.DataFrame = curve[ok & (den >= start)].reset_index(drop=True)
    return drawn


def funnel_sides(points: pd.DataFrame, adjusted: bool) -> pd.DataFrame:
    """Each provider's place against the limits the engine used: `side` ('above'/'below'/''), and `crossed`,
    the outermost limit crossed ('99.8%', '95%' or '')."""
    prefix = "od_" if adjusted else ""
    value = points["value"].to_numpy(dtype=float)
    crossed = np.full(len(points), "", dtype=object)
    side = np.full(len(points), "", dtype=object)
    for level, suffix in (("95%", "95"), ("99.8%", "998")):
        up = value > points[f"{prefix}ucl{suffix}"].to_numpy(dtype=float)
        down = value < points[f"{prefix}lcl{suffix}"].to_numpy(dtype=float)
        crossed[up | down] = level
        side[up] = "above"
        side[down] = "below"
    return points.assign(side=side, crossed=crossed)


def _judged(side: str, direction: Direction) -> str:
    """'better', 'worse' or '' for a provider above or below the limits."""
    if direction == "neutral" or not side:
        return ""
    return "better" if (side == "above") == (direction == "higher_is_better") else "worse"


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
    direction: Direction = "neutral",
    target: float | None = None,
    centre: str = "Peer average",
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Funnel plot: each provider against its denominator, the centre line named for what it is (the peers'
    pooled average), the catalogue target drawn apart from it when there is one, 95% and 99.8% limits
    (overdispersion-adjusted ones when the engine used them), outliers in a series per side (colour says
    better or worse, the triangle's direction says above or below: never colour alone, and each series keeps
    its colour in LibreOffice, which ignores per-point colours) and the selected organisation as a diamond with
    its code and value on a leader line, placed where it covers no point (the alt text and the pack's caption
    give its full name)."""
    palette = theme.palette
    names = labels or {}
    prefix = "od_" if adjusted else ""
    drawn = _ordered(curve, prefix, points)
    gx = floats(drawn["denominator"])
    width = theme.line_width * 0.75
    centre_value = float(drawn["target"].iloc[0])
    series = [
        Series(
            f"{centre}: {format_value(centre_value, unit, decimals)}",
            "mean",
            gx,
            floats(drawn["target"]),
            "lines",
            palette.mean,
            "solid",
            width,
        ),
        Series("95% limits", "limit95", gx, floats(drawn[f"{prefix}ucl95"]), "lines", palette.limits, "dash", width),
        Series(
            "95% lower",
            "limit95",
            gx,
            floats(drawn[f"{prefix}lcl95"]),
            "lines",
            palette.limits,
            "dash",
            width,
            show_in_legend=False,
        ),
        Series(
            "99.8% limits", "limit998", gx, floats(drawn[f"{prefix}ucl998"]), "lines", palette.limits, "solid", width
        ),
        Series(
            "99.8% lower",
            "limit998",
            gx,
            floats(drawn[f"{prefix}lcl998"]),
            "lines",
            palette.limits,
            "solid",
            width,
            show_in_legend=False,
        ),
    ]
    if target is not None:
        series.append(
            Series(
                f"Target: {format_value(target, unit, decimals)}",
                "target",
                (gx[0], gx[-1]),
                (target, target),
                "lines",
                palette.target,
                "dot",
                theme.line_width,
            )
        )
    codes = points["group"].astype(str)
    outlier = points["outlier"].to_numpy(dtype=bool)
    above = points["value"].to_numpy(dtype=float) > points["target"].to_numpy(dtype=float)

    def text(rows: pd.DataFrame) -> tuple[str, ...]:
        return tuple(
            f"{names.get(str(g), str(g))}: {format_value(v, unit, decimals)}"
            for g, v in zip(rows["group"], floats(rows["value"]), strict=True)
        )

    inside = points[~outlier]
    series.append(
        Series(
            "Providers",
            "points",
            floats(inside["denominator"]),
            floats(inside["value"]),
            "markers",
            palette.peers,
            point_symbols=("circle",) * len(inside),  # one per point: plotly reads the tuple point by point
            labels=text(inside),
        )
    )
    limit = "99.8%"
    for side, symbol, mask in (("above", "triangle-up", outlier & above), ("below", "triangle-down", outlier & ~above)):
        if not mask.any():
            continue
        judged = _judged(side, direction)
        colour = {"better": palette.improvement, "worse": palette.concern}.get(judged, palette.neutral)
        rows = points[mask]
        series.append(
            Series(
                f"{side.capitalize()} the {limit} limits" + (f" ({judged})" if judged else ""),
                "points",
                floats(rows["denominator"]),
                floats(rows["value"]),
                "markers",
                colour,
                point_symbols=(symbol,) * len(rows),
                labels=text(rows),
            )
        )
    chosen = codes == highlight if highlight is not None else pd.Series(False, index=points.index)
    if highlight is not None and chosen.any():
        row = points[chosen.to_numpy()].iloc[0]
        sx, sy = float(row["denominator"]), float(row["value"])
        series.append(
            Series(
                highlight,  # the code, as on the chart: a trust's full name in the legend squeezes a Word or
                "highlight",  # Excel chart's legend to one column and its plot to a strip; the caption names it
                (sx,),
                (sy,),
                "markers",
                palette.highlight,
                point_symbols=("diamond",),  # named by its leader line (a label here would overprint)
            )
        )
        ys = [v for s in series for v in s.y if v is not None]
        x_lo, x_hi = 0.0, max(v for s in series for v in s.x if isinstance(v, float)) * 1.02
        y_lo, y_hi = span(ys)

        def norm(x: float, y: float) -> tuple[float, float]:
            return (x - x_lo) / (x_hi - x_lo), (y - y_lo) / (y_hi - y_lo)

        obstacles = [norm(x, y) for s in series if s.role != "highlight" for x, y in samples(s)]
        # the code and value on the chart (a funnel's cloud leaves no room for a trust's full name in a Word or
        # Excel chart, where the plot is small)
        label = f"{highlight} {format_value(sy, unit, decimals)}"
        ax, ay, _ = place_label(norm(sx, sy), obstacles, len(label))
        series.append(
            Series(
                label,
                "leader",
                (sx, x_lo + ax * (x_hi - x_lo)),
                (sy, y_lo + ay * (y_hi - y_lo)),
                "lines",
                palette.highlight,
                "solid",
                1.0,
                labels=("", label),
                show_in_legend=False,
            )
        )
    n_out = int(outlier.sum())
    who = ""
    if highlight and chosen.any():
        mine = bool(points.loc[chosen.to_numpy(), "outlier"].any())
        who = f" {names.get(highlight, highlight)} is {'an outlier' if mine else 'within the limits'}."
    alt = (
        f"Funnel plot of {title} for {len(points)} providers against {x_title[:1].lower() + x_title[1:] if x_title[1:2].islower() else x_title}, with "
        f"the {centre.lower()} of {format_value(centre_value, unit, decimals)}"
        + (f", the target of {format_value(target, unit, decimals)}" if target is not None else "")
        + f" and 95% and 99.8% limits{' adjusted for overdispersion' if adjusted else ''}. {n_out} providers lie "
        f"outside the 99.8% limits.{who}"
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
    peers: str | None = None,
    england_median: float | None = None,
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Model Health System style: providers sorted by value with their 95% intervals drawn, each median named
    for the group it is taken over (`peers`: the providers shown; `england_median`: all organisations, when the
    caller has it), the benchmark line, and the selected organisation as a diamond with its name on a leader line
    into the empty corner the sorted values leave (above-left of a low value, below-right of a high one)."""
    palette = theme.palette
    names = labels or {}
    data = frame.sort_values("value", kind="stable").reset_index(drop=True)
    x = tuple(names.get(str(o), str(o)) for o in data["org_code"])
    n = len(x)
    chosen = (data["org_code"].astype(str) == highlight).to_numpy() if highlight else np.zeros(n, bool)
    values = data["value"].to_numpy(dtype=float)
    series = [
        Series(
            "Providers, with 95% intervals",
            "interval",
            x,
            floats(data["value"]),
            "intervals",
            palette.limits,
            low=floats(data["lower"]),
            high=floats(data["upper"]),
            point_symbols=("circle",) * n,
            labels=tuple(format_value(v, unit, decimals) for v in floats(data["value"])),
        )
    ]
    one_group = "peer_median" in data and data["peer_group"].nunique() == 1
    shown = float(data["peer_median"].iloc[0]) if one_group else float(data["national_median"].iloc[0])
    # the group is in the title: a legend entry short enough that Word and LibreOffice lay the legend in columns
    peer_label = "Peer median" if peers else "Median of the providers shown"
    series.append(
        Series(
            f"{peer_label}: {format_value(shown, unit, decimals)}",
            "peer_median",
            x,
            (shown,) * n,
            "lines",
            palette.median,
            "dash",
            theme.line_width * 0.75,
        )
    )
    if england_median is not None:
        series.append(
            Series(
                f"England median, all organisations: {format_value(england_median, unit, decimals)}",
                "median",
                x,
                (england_median,) * n,
                "lines",
                palette.median,
                "solid",
                theme.line_width * 0.75,
            )
        )
    if "benchmark" in data and data["benchmark"].notna().any():
        bench = float(data["benchmark"].dropna().iloc[0])
        series.append(
            Series(
                f"Benchmark: {format_value(bench, unit, decimals)}",
                "benchmark",
                x,
                floats(data["benchmark"]),
                "lines",
                palette.benchmark,
                "dot",
                theme.line_width,
            )
        )
    who = ""
    if highlight and chosen.any():
        i = int(np.flatnonzero(chosen)[0])
        row = data.iloc[i]
        name = names.get(highlight, highlight)
        who = f" {name}: {format_value(float(row['value']), unit, decimals)}, rank {row['rank']} of {row['n_ranked']}."
        series.append(
            Series(
                name,
                "highlight",
                x,
                tuple(float(values[k]) if k == i else None for k in range(n)),
                "markers",
                palette.highlight,
                point_symbols=("diamond",) * n,
                show_in_legend=False,  # named on the chart
            )
        )
        series.append(
            caterpillar_leader(
                series, data, i, f"{name} {format_value(float(row['value']), unit, decimals)}", palette.highlight
            )
        )
    medians = f"{peer_label.lower()} {format_value(shown, unit, decimals)}" + (
        f", England median {format_value(england_median, unit, decimals)}" if england_median is not None else ""
    )
    alt = f"Variation chart of {title} across {n} providers, lowest to highest, with 95% intervals; {medians}.{who}"
    return ChartSpec(
        "caterpillar",
        title,
        alt,
        tuple(series),
        x_kind="category",
        y_format="percent" if unit == "percent" else "number",
        y_decimals=decimals,
        theme=theme,
    )


def hidden_intervals(frame: pd.DataFrame) -> int:
    """How many of a caterpillar's 95% intervals are shorter than its dots are tall (about 2% of the value axis
    on a 400-pixel plot), so a caption can say why the intervals the legend names are hard to see."""
    widths = (frame["upper"] - frame["lower"]).to_numpy(dtype=float)
    spread = float(np.nanmax(frame["upper"]) - np.nanmin(frame["lower"])) or 1.0
    return int((widths < spread * 0.02).sum())


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
            floats(rows[value]),
            "bars",
            palette.peers,
            point_colours=tuple(palette.highlight if c else palette.peers for c in chosen),
            labels=tuple(format_value(v, unit, decimals) for v in floats(rows[value])),
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
