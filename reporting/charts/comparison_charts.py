"""Chart builders comparing organisations: funnel plots, caterpillar (variation) charts and league tables.
Engine results in, ChartSpec out; they never recompute a statistic."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from reporting.charts.spec import ChartSpec, Series, floats
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.formatting import format_value

__all__ = ["caterpillar_chart", "funnel_chart", "league_chart"]


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
    gx = floats(curve["denominator"])
    series = [
        Series(
            "Target", "target", gx, floats(curve["target"]), "lines", palette.mean, "solid", theme.line_width * 0.75
        ),
        Series(
            "95% limits",
            "limit95",
            gx,
            floats(curve[f"{prefix}ucl95"]),
            "lines",
            palette.limits,
            "dash",
            theme.line_width * 0.75,
        ),
        Series(
            "95% lower",
            "limit95",
            gx,
            floats(curve[f"{prefix}lcl95"]),
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
            floats(curve[f"{prefix}ucl998"]),
            "lines",
            palette.limits,
            "solid",
            theme.line_width * 0.75,
        ),
        Series(
            "99.8% lower",
            "limit998",
            gx,
            floats(curve[f"{prefix}lcl998"]),
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
                floats(curve["ucl998"]),
                "lines",
                palette.peers,
                "dot",
                theme.line_width * 0.5,
            ),
            Series(
                "99.8% lower (unadjusted)",
                "limit998",
                gx,
                floats(curve["lcl998"]),
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
        for g, v in zip(points["group"], floats(points["value"]), strict=True)
    )
    series.append(
        Series(
            "Providers (outliers ▲▼)",
            "points",
            floats(points["denominator"]),
            floats(points["value"]),
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
            floats(data["value"]),
            "intervals",
            palette.peers,
            low=floats(data["lower"]),
            high=floats(data["upper"]),
            point_colours=tuple(palette.highlight if c else palette.peers for c in chosen),
            point_symbols=tuple("star" if c else "circle" for c in chosen),
            labels=tuple(format_value(v, unit, decimals) for v in floats(data["value"])),
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
                floats(data["peer_median"]),
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
                floats(data["benchmark"]),
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
