"""One plain-English (British) sentence per metric and organisation from its SPC summary row.

Why: Board members read the sentence before the chart, so it must say exactly what the icons say, in the
same words every month (deterministic: no randomness, no dates of "today"). Numbers and periods are
formatted by ``reporting.formatting`` so tables, charts and narrative agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from reporting.formatting import format_period, format_value
from reporting.mdc import ASSURANCE_PHRASES, POINT_TYPE_PHRASES
from reporting.stats.constants import TWO_IN_THREE_MIN_CLOSE, TWO_IN_THREE_WINDOW

__all__ = ["amount", "assurance_phrase", "difference", "period_noun", "sentence", "variation_phrase"]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _get(row: Mapping[str, Any] | pd.Series, key: str) -> Any:
    value = row.get(key) if hasattr(row, "get") else None
    return None if _missing(value) else value


def _value(value: float, unit: str, decimals: int, per: int | None) -> str:
    """Whole numbers lose their decimals (78%, 12,345); others keep ``decimals``."""
    shown = value * 100 if unit == "percent" else value
    places = 0 if math.isclose(shown, round(shown), abs_tol=1e-9) else decimals
    return format_value(float(value), unit, decimals=places, per=per)


def _period(x: Any, frequency: str) -> str:
    """A noun phrase: 'September 2025', 'the week of 4 April 2022', '1 April 2022', 'point 24'."""
    if isinstance(x, pd.Timestamp) or hasattr(x, "year"):
        text = format_period(x, frequency)
        return f"the {text}" if text.startswith("week of") else text
    return f"point {x}"


def _when(x: Any, frequency: str) -> str:
    """The period with its preposition: 'in September 2025', 'on 1 April 2022', 'at point 24'."""
    if not (isinstance(x, pd.Timestamp) or hasattr(x, "year")):
        return f"at {_period(x, frequency)}"
    if frequency in ("monthly", "weekly", "quarterly"):
        return f"in {_period(x, frequency)}"
    return f"on {_period(x, frequency)}"


def amount(value: float, unit: str, decimals: int = 1, per: int | None = None) -> str:
    """A value as the narratives write it: whole numbers lose their decimals (78%, 12,345)."""
    return _value(value, unit, decimals, per)


def period_noun(x: Any, frequency: str) -> str:
    """A period as a noun phrase: 'September 2025', 'the week of 4 April 2022'."""
    return _period(x, frequency)


def difference(value: float, reference: float, unit: str, decimals: int = 1, per: int | None = None) -> str:
    """How far apart two values are, in the metric's own units: '3.8 percentage points', '640', '1.2 days'.

    Percentages differ by percentage points, never by a percentage of a percentage (which a lay reader
    cannot tell apart from it)."""
    gap = abs(float(value) - float(reference))
    if unit == "percent":
        points = round(gap * 100, decimals)
        places = 0 if math.isclose(points, round(points), abs_tol=1e-9) else decimals
        return f"{points:,.{places}f} percentage point{'' if math.isclose(points, 1) else 's'}"
    return _value(round(gap, decimals), unit, decimals, per)


def variation_phrase(row: Mapping[str, Any] | pd.Series, frequency: str = "monthly") -> str:
    """'common cause variation' or 'special cause improvement (7 points above the mean since March 2025)'."""
    point_type = _get(row, "last_point_type")
    if point_type is None:
        return "too few values to judge variation"
    if point_type == "common_cause":
        return "common cause variation"
    words = POINT_TYPE_PHRASES[point_type]
    rule = str(_get(row, "last_special_cause_type") or "")
    centre = "median" if _get(row, "chart") == "run" else "mean"
    if rule == "Above UCL":
        detail = "above the upper process limit"
    elif rule == "Below LCL":
        detail = "below the lower process limit"
    elif "Trend" in rule:
        length = int(_get(row, "trend_length") or 0)
        way = "rising" if "Increasing" in rule else "falling"
        detail = f"{length} points {way} since {_period(_get(row, 'trend_start_x'), frequency)}"
    elif rule.startswith(f"{TWO_IN_THREE_MIN_CLOSE} in {TWO_IN_THREE_WINDOW}"):
        side = "upper" if "Above" in rule else "lower"
        detail = f"{TWO_IN_THREE_MIN_CLOSE} of the last {TWO_IN_THREE_WINDOW} points close to the {side} limit"
    else:
        length = int(_get(row, "run_length") or 0)
        side = "above" if "Above" in rule else "below"
        detail = f"{length} points {side} the {centre} since {_period(_get(row, 'run_start_x'), frequency)}"
    if words.endswith(")"):  # neutral: fold the detail into the existing bracket
        return f"{words[:-1]}, {detail})"
    return f"{words} ({detail})"


def assurance_phrase(
    row: Mapping[str, Any] | pd.Series, unit: str, decimals: int = 1, per: int | None = None
) -> str | None:
    """'the 78% target is not reliably met (inconsistent)', or None without a target or assurance."""
    assurance = _get(row, "assurance")
    target = _get(row, "target")
    if assurance is None or target is None:
        return None
    return f"the {_value(float(target), unit, decimals, per)} target {ASSURANCE_PHRASES[assurance]}"


def sentence(
    metric_title: str,
    unit: str,
    summary_row: Mapping[str, Any] | pd.Series,
    *,
    frequency: str = "monthly",
    decimals: int = 1,
    per: int | None = None,
    org_name: str | None = None,
    plural: bool = False,
    withheld: str | None = None,
) -> str:
    """One deterministic sentence, e.g. "A&E 4-hour performance was 74.2% in September 2025: special cause
    improvement (7 points above the mean since March 2025); the 78% target is not reliably met (inconsistent)."

    ``unit`` is as in ``reporting.formatting.format_value`` (percent values are fractions 0-1; count; rate
    with ``per``). A missing latest value is said plainly and the sentence falls back to the last value.
    ``plural`` is for titles that name a plural ("A&E attendances were ..."). ``withheld`` says why a missing
    latest value is missing when disclosure control withheld it ("fewer than 5"), so it is not read as no data.
    """
    was, has, had_it = ("were", "have", "they were") if plural else ("was", "has", "it was")
    subject = f"{metric_title} at {org_name}" if org_name else metric_title
    latest_x = _get(summary_row, "latest_x")
    latest_y = _get(summary_row, "latest_y")
    last_x = _get(summary_row, "last_valid_x")
    last_y = _get(summary_row, "last_valid_y")
    if last_y is None:
        when = f" for {_period(latest_x, frequency)}" if latest_x is not None else ""
        return f"{subject} {has} too few values{when} to chart."
    if latest_y is None and withheld:
        opening = (
            f"{subject}: the figure for {_period(latest_x, frequency)} is withheld to protect small numbers "
            f"({withheld}, marked *); {had_it} {_value(float(last_y), unit, decimals, per)} {_when(last_x, frequency)}"
        )
    elif latest_y is None:
        opening = (
            f"{subject} had no value for {_period(latest_x, frequency)}; {had_it} "
            f"{_value(float(last_y), unit, decimals, per)} {_when(last_x, frequency)}"
        )
    else:
        opening = f"{subject} {was} {_value(float(latest_y), unit, decimals, per)} {_when(latest_x, frequency)}"
    text = f"{opening}: {variation_phrase(summary_row, frequency)}"
    assurance = assurance_phrase(summary_row, unit, decimals, per)
    if assurance:
        text += f"; {assurance}"
    return text + "."
