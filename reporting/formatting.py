"""How values read in British English: one place, so tables, narrative and charts agree."""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np

# What pandas reads as one point in time (a Timestamp is a date); numpy and pandas are imported late here.
PeriodLike: TypeAlias = "date | np.datetime64 | str"

__all__ = ["format_period", "format_value"]


def format_value(value: float | None, unit: str, decimals: int = 1, per: int | None = None) -> str:
    """74.2%, 12,345, 3.4 per 1,000, 95 minutes; a missing value is an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "percent":
        return f"{value * 100:,.{decimals}f}%"
    if unit == "count":
        return f"{value:,.{decimals}f}"
    if unit == "rate":
        return f"{value:,.{decimals}f} per {per or 1:,}"
    if unit == "pounds":
        return f"£{value:,.{decimals}f}"
    if unit in {"minutes", "hours", "days"}:
        return f"{value:,.{decimals}f} {unit}"
    return f"{value:,.{decimals}f}"


def format_period(period: PeriodLike, frequency: str) -> str:
    """'September 2025', 'week of 4 April 2022', '1 April 2022', 'Q2 2024/25'."""
    import pandas as pd

    ts = pd.Timestamp(period)
    if frequency == "monthly":
        return ts.strftime("%B %Y")
    if frequency == "weekly":
        return f"week of {ts.day} {ts:%B %Y}"
    if frequency == "quarterly":
        fy = ts.year if ts.month >= 4 else ts.year - 1
        quarter = ((ts.month - 4) % 12) // 3 + 1
        return f"Q{quarter} {fy}/{str(fy + 1)[-2:]}"
    return f"{ts.day} {ts:%B %Y}"
