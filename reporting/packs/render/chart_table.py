"""A chart's own numbers as a table: what the HTML edition's "Show the data" shows under every chart.

The primary series (data, bar, interval or points) gives the rows, with its x values and y values formatted as
the chart formats them; a funnel or league chart adds its providers, an interval its bounds, and every other
series with the same x values a column of its own.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from reporting.charts.spec import ChartSpec, Series

__all__ = ["chart_data", "clean"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    """Text as given, minus the control characters HTML and XML cannot hold (the HTML edition uses it too)."""
    return _CONTROL.sub("", "" if text is None else str(text))


_PRIMARY = ("data", "bar", "interval", "points")


def _fmt_y(value: float | None, spec: ChartSpec) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if spec.y_format == "percent":
        return f"{value * 100:,.{spec.y_decimals}f}%"
    return f"{value:,.{spec.y_decimals}f}"


def _fmt_x(value: object, spec: ChartSpec) -> str:
    if spec.x_kind == "date":
        try:
            return dt.date.fromisoformat(str(value)[:10]).strftime(spec.x_date_format)
        except ValueError:
            return clean(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return clean(value)


def _column_name(series: Series, taken: set[str]) -> str:
    name = {"Process limits": "Upper process limit"}.get(series.name, series.name)
    while name in taken:
        name += " (2)"
    taken.add(name)
    return clean(name)


def chart_data(spec: ChartSpec) -> tuple[list[str], list[list[str]]]:
    """The numbers the chart shows: one row per point of its main series, with every other series drawn at
    the same x (mean, limits, target, median) as further columns; labels (providers) first when the x axis
    is a number (funnels). Nothing is recomputed: these are the spec's own values."""
    shown = [s for s in spec.series if any(v is not None for v in s.y)]
    primary = next((s for role in _PRIMARY for s in shown if s.role == role), shown[0] if shown else None)
    if primary is None:
        return [], []
    taken: set[str] = set()
    header, columns = [], []
    labelled = bool(primary.labels) and spec.x_kind == "number"
    if labelled:
        header.append(_column_name(Series("Provider", "data", (), ()), taken))
        columns.append([clean(label).rsplit(": ", 1)[0] for label in primary.labels or ()])
    x_name = spec.x_title or {
        "date": "Period",
        "category": "Provider" if spec.horizontal or spec.kind in {"caterpillar", "league"} else "Category",
    }.get(spec.x_kind, "x")
    header.append(_column_name(Series(x_name, "data", (), ()), taken))
    columns.append([_fmt_x(x, spec) for x in primary.x])
    value_name = spec.y_title or ("Value" if primary.role in {"points", "bar", "interval"} else primary.name)
    header.append(_column_name(Series(value_name, "data", (), ()), taken))
    columns.append([_fmt_y(y, spec) for y in primary.y])
    if primary.low is not None and primary.high is not None:
        header += [
            _column_name(Series("Lower 95% interval", "data", (), ()), taken),
            _column_name(Series("Upper 95% interval", "data", (), ()), taken),
        ]
        columns += [[_fmt_y(v, spec) for v in primary.low], [_fmt_y(v, spec) for v in primary.high]]
    for series in shown:
        if series is primary or tuple(series.x) != tuple(primary.x) or series.role == "points":
            continue
        header.append(_column_name(series, taken))
        columns.append([_fmt_y(y, spec) for y in series.y])
    rows = [list(r) for r in zip(*columns, strict=True)]
    return header, rows
