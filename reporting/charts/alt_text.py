"""Alt text and labels generated from the data, so every chart can be understood without seeing it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from reporting.formatting import format_period, format_value
from reporting.mdc import ASSURANCE, VARIATION

__all__ = ["spc_alt_text"]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def spc_alt_text(
    title: str,
    org: str | None,
    points: pd.DataFrame,
    summary: Mapping[str, Any],
    *,
    unit: str,
    decimals: int,
    frequency: str,
) -> str:
    """'SPC chart of A&E 4-hour performance, Trust X, April 2023 to July 2025. Latest 74.2% (July 2025).
    Special cause improvement (high) since March 2025. Target 78.0% met inconsistently.'"""
    who = f", {org}" if org else ""
    valid = points[points["y"].notna()]
    if valid.empty:
        return f"SPC chart of {title}{who}: no data for this period."
    first, last = valid["x"].iloc[0], valid["x"].iloc[-1]
    span = (
        f"{format_period(first, frequency)} to {format_period(last, frequency)}"
        if isinstance(first, pd.Timestamp)
        else f"points {first} to {last}"
    )
    latest = format_value(float(valid["y"].iloc[-1]), unit, decimals)
    parts = [
        f"SPC chart of {title}{who}, {span}, {len(valid)} point{'s' if len(valid) != 1 else ''}.",
        f"Latest {latest}" + (f" ({format_period(last, frequency)})." if isinstance(last, pd.Timestamp) else "."),
    ]
    mean = summary.get("mean")
    if not _missing(mean):
        parts.append(
            f"Mean {format_value(float(summary['mean']), unit, decimals)}, process limits "
            f"{format_value(float(summary['lpl']), unit, decimals)} to "
            f"{format_value(float(summary['upl']), unit, decimals)}."
        )
    icon = summary.get("variation_icon")
    if icon in VARIATION:
        sentence = VARIATION[icon][2]
        start = summary.get("run_start_x") if icon != "common_cause" else None
        if not _missing(start) and isinstance(start, pd.Timestamp):
            sentence += f" since {format_period(start, frequency)}"
        parts.append(sentence + ".")
    target, assurance = summary.get("target"), summary.get("assurance")
    if not _missing(target):
        shown = format_value(float(summary["target"]), unit, decimals)
        parts.append(
            f"Target {shown}: {ASSURANCE[assurance][2].lower()}." if assurance in ASSURANCE else f"Target {shown}."
        )
    n_imp, n_con = summary.get("n_improvement"), summary.get("n_concern")
    if not _missing(n_imp) and not _missing(n_con) and (n_imp or n_con):
        parts.append(
            f"{int(summary['n_improvement'])} special cause improvement and "
            f"{int(summary['n_concern'])} concern points in all."
        )
    return " ".join(parts)
