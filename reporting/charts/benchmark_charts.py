"""The benchmark trend chart (the Model Health System view): one organisation over time against its peers'
median, the England median and a benchmark or target line. Engine results in, ChartSpec out."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from reporting.charts.spec import ChartSpec, Series, floats
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.formatting import format_value

__all__ = ["benchmark_chart"]


def benchmark_chart(
    frame: pd.DataFrame,
    *,
    title: str,
    name: str,
    peers: str,
    unit: str = "percent",
    decimals: int = 1,
    benchmark_name: str = "Target",
    period_label: Callable[[pd.Timestamp], str] = lambda p: p.strftime("%b %Y"),
    theme: Theme = DEFAULT_THEME,
) -> ChartSpec:
    """Benchmark trend (the Model Health System view): one organisation's series over time against its peers'
    median, the England median (all organisations) and a benchmark or target line, each named for what it is.

    `frame`: one row per period, columns period, value (the organisation's; NaN is a gap), peer_median,
    england_median and benchmark (NaN where there is none)."""
    palette = theme.palette
    data = frame.sort_values("period", kind="stable").reset_index(drop=True)
    x = tuple(pd.Timestamp(p).strftime("%Y-%m-%d") for p in data["period"])
    series = [
        Series(name, "data", x, floats(data["value"]), "lines+markers", palette.highlight, "solid", theme.line_width),
        Series(
            "Peer median",  # the group is in the title and the caption
            "peer_median",
            x,
            floats(data["peer_median"]),
            "lines",
            palette.median,
            "dash",
            theme.line_width * 0.75,
        ),
        Series(
            "England median, all organisations",
            "median",
            x,
            floats(data["england_median"]),
            "lines",
            palette.limits,
            "solid",
            theme.line_width * 0.75,
        ),
    ]
    if data["benchmark"].notna().any():
        series.append(
            Series(
                benchmark_name, "target", x, floats(data["benchmark"]), "lines", palette.target, "dot", theme.line_width
            )
        )
    first, last = data["period"].iloc[0], data["period"].iloc[-1]
    latest = data.iloc[-1]

    def said(v: float) -> str:
        return "no figure" if math.isnan(v) else format_value(v, unit, decimals)

    alt = (
        f"Line chart of {title}: {name} from {period_label(first)} to {period_label(last)} against the median of "
        f"{peers} and the England median of all organisations"
        + (f", with the {benchmark_name.lower()}" if data["benchmark"].notna().any() else "")
        + f". In {period_label(last)}: {name} {said(float(latest['value']))}, peer median {said(float(latest['peer_median']))}, "
        f"England median {said(float(latest['england_median']))}."
    )
    return ChartSpec(
        "benchmark",
        title,
        alt,
        tuple(series),
        x_kind="date",
        y_format="percent" if unit == "percent" else "number",
        y_decimals=decimals,
        theme=theme,
    )
