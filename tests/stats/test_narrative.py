"""The narrative sentence is pinned word for word: Board papers quote it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from reporting.stats.narrative import sentence
from reporting.stats.spc import SPCOptions, spc


def row(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "chart": "xmr",
        "latest_x": pd.Timestamp("2025-09-01"),
        "latest_y": 0.742,
        "last_valid_x": pd.Timestamp("2025-09-01"),
        "last_valid_y": 0.742,
        "last_point_type": "special_cause_improvement",
        "last_special_cause_type": "7 Points Above CL",
        "run_length": 7,
        "run_start_x": pd.Timestamp("2025-03-01"),
        "trend_length": 0,
        "trend_start_x": pd.Timestamp("2025-09-01"),
        "target": 0.78,
        "assurance": "inconsistent",
    }
    base.update(overrides)
    return base


def test_the_example_sentence() -> None:
    assert sentence("A&E 4-hour performance", "percent", row()) == (
        "A&E 4-hour performance was 74.2% in September 2025: special cause improvement (7 points above the mean "
        "since March 2025); the 78% target is not reliably met (inconsistent)."
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {
                "last_point_type": "common_cause",
                "last_special_cause_type": "Common Cause",
                "assurance": "consistent_pass",
                "target": 0.7,
            },
            "Beds was 74.2% in September 2025: common cause variation; the 70% target is consistently met "
            "(consistent pass).",
        ),
        (
            {
                "last_point_type": "special_cause_concern",
                "last_special_cause_type": "Below LCL",
                "assurance": "consistent_fail",
                "target": 0.955,
            },
            "Beds was 74.2% in September 2025: special cause concern (below the lower process limit); the 95.5% "
            "target is consistently missed (consistent fail).",
        ),
        (
            {"last_special_cause_type": "Above UCL", "assurance": None, "target": None},
            "Beds was 74.2% in September 2025: special cause improvement (above the upper process limit).",
        ),
        (
            {
                "last_special_cause_type": "7 Point Trend (Increasing)",
                "trend_length": 8,
                "trend_start_x": pd.Timestamp("2025-02-01"),
                "assurance": None,
                "target": None,
            },
            "Beds was 74.2% in September 2025: special cause improvement (8 points rising since February 2025).",
        ),
        (
            {
                "last_point_type": "special_cause_concern",
                "last_special_cause_type": "7 Point Trend (Decreasing)",
                "trend_length": 7,
                "trend_start_x": pd.Timestamp("2025-03-01"),
                "assurance": None,
                "target": None,
            },
            "Beds was 74.2% in September 2025: special cause concern (7 points falling since March 2025).",
        ),
        (
            {"last_special_cause_type": "2 in 3 Above CL", "assurance": None, "target": None},
            "Beds was 74.2% in September 2025: special cause improvement (2 of the last 3 points close to the upper "
            "limit).",
        ),
        (
            {
                "last_point_type": "special_cause_neutral_low",
                "last_special_cause_type": "7 Points Below CL",
                "run_length": 9,
                "assurance": None,
                "target": 0.8,
            },
            "Beds was 74.2% in September 2025: special cause variation (unusually low, 9 points below the mean "
            "since March 2025).",
        ),
        (
            {
                "last_point_type": "special_cause_neutral_high",
                "last_special_cause_type": "Above UCL",
                "assurance": None,
            },
            "Beds was 74.2% in September 2025: special cause variation (unusually high, above the upper process "
            "limit).",
        ),
        (
            {
                "chart": "run",
                "last_point_type": "special_cause_concern",
                "last_special_cause_type": "7 Points Below CL",
                "assurance": None,
            },
            "Beds was 74.2% in September 2025: special cause concern (7 points below the median since March 2025).",
        ),
    ],
)
def test_icons_and_assurance_outcomes(overrides: dict[str, Any], expected: str) -> None:
    assert sentence("Beds", "percent", row(**overrides)) == expected


def test_counts_get_thousands_separators() -> None:
    r = row(latest_y=12345.0, last_valid_y=12345.0, target=10000.0, assurance="consistent_pass")
    assert sentence("Attendances", "count", r, org_name="Leeds Teaching Hospitals") == (
        "Attendances at Leeds Teaching Hospitals was 12,345 in September 2025: special cause improvement "
        "(7 points above the mean since March 2025); the 10,000 target is consistently met (consistent pass)."
    )


def test_plural_titles_take_were() -> None:
    r = row(
        latest_y=12345.0,
        last_valid_y=12345.0,
        target=None,
        assurance=None,
        last_point_type="common_cause",
        last_special_cause_type="Common Cause",
    )
    assert sentence("A&E attendances", "count", r, plural=True) == (
        "A&E attendances were 12,345 in September 2025: common cause variation."
    )
    gap = row(latest_x=pd.Timestamp("2025-10-01"), latest_y=np.nan, target=None, assurance=None)
    assert sentence("Emergency admissions", "count", gap, plural=True).startswith(
        "Emergency admissions had no value for October 2025; they were "
    )
    assert sentence("Beds", "count", row(latest_y=np.nan, last_valid_y=None, last_point_type=None), plural=True) == (
        "Beds have too few values for September 2025 to chart."
    )


def test_rates() -> None:
    r = row(
        latest_y=3.4567,
        last_valid_y=3.4567,
        target=None,
        assurance=None,
        last_point_type="common_cause",
        last_special_cause_type="Common Cause",
    )
    expected = "Falls was 3.5 per 1,000 in September 2025: common cause variation."
    assert sentence("Falls", "rate", r, per=1000) == expected


def test_missing_latest_value() -> None:
    r = row(latest_x=pd.Timestamp("2025-10-01"), latest_y=np.nan)
    assert sentence("A&E 4-hour performance", "percent", r) == (
        "A&E 4-hour performance had no value for October 2025; it was 74.2% in September 2025: special cause "
        "improvement (7 points above the mean since March 2025); the 78% target is not reliably met "
        "(inconsistent)."
    )


def test_no_values_at_all() -> None:
    r = row(latest_y=np.nan, last_valid_y=None, last_point_type=None)
    assert sentence("Beds", "count", r) == "Beds has too few values for September 2025 to chart."


def test_weekly_and_index_periods() -> None:
    r = row(
        last_point_type="common_cause",
        last_special_cause_type="Common Cause",
        assurance=None,
        latest_x=pd.Timestamp("2022-04-04"),
    )
    assert sentence("Discharges", "percent", r, frequency="weekly") == (
        "Discharges was 74.2% in the week of 4 April 2022: common cause variation."
    )
    r = row(last_point_type="common_cause", last_special_cause_type="Common Cause", assurance=None, latest_x=24)
    assert sentence("Discharges", "percent", r) == "Discharges was 74.2% at point 24: common cause variation."
    r = row(
        last_point_type="common_cause",
        last_special_cause_type="Common Cause",
        assurance=None,
        latest_x=pd.Timestamp("2022-04-01"),
    )
    assert sentence("Discharges", "percent", r, frequency="daily") == (
        "Discharges was 74.2% on 1 April 2022: common cause variation."
    )


def test_sentence_from_a_real_summary_row() -> None:
    ys = [
        0.68,
        0.72,
        0.69,
        0.71,
        0.68,
        0.72,
        0.69,
        0.71,
        0.68,
        0.72,
        0.69,
        0.71,
        0.700,
        0.702,
        0.704,
        0.706,
        0.708,
        0.710,
        0.712,
    ]
    df = pd.DataFrame({"x": pd.date_range("2024-03-01", periods=len(ys), freq="MS"), "y": ys})
    summary = spc(df, SPCOptions(target=0.78)).summary.iloc[0]
    assert sentence("A&E 4-hour performance", "percent", summary) == (
        "A&E 4-hour performance was 71.2% in September 2025: special cause improvement (7 points rising since "
        "March 2025); the 78% target is consistently missed (consistent fail)."
    )
