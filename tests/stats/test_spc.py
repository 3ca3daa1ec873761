"""Unit tests of the SPC engine: each rule on tiny vectors, each chart's limits, every error message."""

from __future__ import annotations

import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting.errors import StatsError
from reporting.stats import _spc_rules as rules
from reporting.stats.constants import (
    D2,
    MR_SCREEN_MULTIPLIER,
    SHORT_GROUP_WARNING,
    XMR_LIMIT_MULTIPLIER,
)
from reporting.stats.spc import SPCOptions, spc, spc_metrics
from reporting.stats.spc_input import SPCWarning
from reporting.stats.spc_summary import assurance_type, variation_icon

DEMO = Path(__file__).resolve().parents[2] / "reporting" / "demo_data" / "ae_trust_monthly_2021_2025.csv"


def frame(ys: list[float], start: str = "2024-01-01", freq: str = "MS") -> pd.DataFrame:
    return pd.DataFrame({"x": pd.date_range(start, periods=len(ys), freq=freq), "y": ys})


def first(n: int) -> np.ndarray:
    f = np.zeros(n, bool)
    f[0] = True
    return f


# --- rules on tiny vectors ---------------------------------------------------------------------------


def test_shift_needs_seven_and_a_point_on_the_mean_breaks_it() -> None:
    rtm = np.array([1] * 6 + [-1] + [1] * 3 + [0] + [1] * 4 + [-1] * 7, dtype=np.int64)
    got = rules.shift_flags(rtm, first(len(rtm)))
    assert got.tolist() == [False] * 15 + [True] * 7


def test_shift_never_crosses_a_group_start() -> None:
    rtm = np.ones(10, np.int64)
    f = first(10)
    f[5] = True
    assert not rules.shift_flags(rtm, f).any()


def test_trend_of_seven_flags_all_seven_and_ties_break_it() -> None:
    y = np.array([5, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12], dtype=float)
    got = rules.trend_flags(y, first(len(y)))
    assert got.tolist() == [False] + [True] * 7 + [False] * 6
    six = np.array([1, 2, 3, 4, 5, 6, 0], dtype=float)
    assert not rules.trend_flags(six, first(7)).any()


def test_trend_sign_takes_the_step_to_the_next_trend_point() -> None:
    y = np.array([1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    trend = rules.trend_flags(y, first(len(y)))
    assert trend.all()
    signs = rules.trend_signs(y, first(len(y)), trend)
    # the peak (index 6) belongs to both trends; it takes the step to the next point (down)
    assert signs.tolist() == [1] * 6 + [-1] * 7


def test_two_in_three_flags_only_the_close_points_on_one_side() -> None:
    close = np.array([0, 1, 0, 1, 0, 0, 1, 0, 1], dtype=bool)
    rtm = np.array([1, 1, 1, 1, -1, 1, 1, -1, 1], dtype=np.int64)
    got = rules.two_in_three_flags(close, rtm, first(9))
    # window 1..3 is all above with two close points; 6..8 has a point below, so no flag
    assert got.tolist() == [False, True, False, True, False, False, False, False, False]


def test_precedence_outside_then_trend_then_two_in_three_then_shift() -> None:
    t = np.array([True, True, True, False, False])
    codes = rules.special_cause_codes(
        outside=np.array([True, False, False, False, False]),
        trend=np.array([True, True, False, False, False]),
        trend_sign=np.array([1, -1, 1, 1, 1]),
        two_in_three=t & np.array([True, True, True, True, False]),
        shift=np.array([True, True, True, True, True]),
        rtm=np.array([1, 1, 1, -1, 1]),
    )
    assert codes.tolist() == [
        rules.CODE_ABOVE_UCL,
        rules.CODE_TREND_DOWN,
        rules.CODE_ABOVE_2IN3,
        rules.CODE_BELOW_SHIFT,
        rules.CODE_ABOVE_SHIFT,
    ]


def test_point_type_follows_improvement_direction() -> None:
    codes = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    assert rules.point_type_codes(codes, 1).tolist() == [0, 1, 2, 1, 2]
    assert rules.point_type_codes(codes, -1).tolist() == [0, 2, 1, 2, 1]
    assert rules.point_type_codes(codes, 0).tolist() == [0, 3, 4, 3, 4]


# --- XmR limits --------------------------------------------------------------------------------------


def test_xmr_limits_by_hand_with_and_without_screening() -> None:
    ys = [10, 12, 11, 13, 12, 40, 12, 11, 13, 12, 11, 12, 13, 12]
    mean = float(np.mean(ys))
    mr = np.abs(np.diff(ys))
    amr = mr.mean()
    kept = mr[mr < MR_SCREEN_MULTIPLIER * amr]
    screened = spc(frame(ys)).points
    assert screened["mean"].iloc[0] == pytest.approx(mean, rel=1e-12)
    assert screened["upl"].iloc[0] == pytest.approx(mean + XMR_LIMIT_MULTIPLIER * kept.mean(), rel=1e-12)
    unscreened = spc(frame(ys), SPCOptions(screen_outliers=False)).points
    assert unscreened["upl"].iloc[0] == pytest.approx(mean + XMR_LIMIT_MULTIPLIER * amr, rel=1e-12)
    assert screened["special_cause_type"].iloc[5] == "Above UCL"


def test_constant_series_has_zero_width_limits_and_no_special_cause() -> None:
    res = spc(frame([5.0] * 20))
    pts = res.points
    assert (pts["lpl"] == 5.0).all() and (pts["upl"] == 5.0).all()
    assert (pts["point_type"] == "common_cause").all()
    assert res.summary["variation_icon"].iloc[0] == "common_cause"


def test_fix_after_n_points_uses_only_the_baseline() -> None:
    ys = [10, 11, 9, 10, 11, 10, 9, 10, 11, 9, 10, 11] + [20, 21, 22]
    pts = spc(frame(ys), SPCOptions(fix_after_n_points=12)).points
    assert pts["used_for_limits"].tolist() == [True] * 12 + [False] * 3
    assert pts["mean"].iloc[-1] == pytest.approx(np.mean(ys[:12]))
    assert (pts["point_type"].iloc[12:] == "special_cause_improvement").all()


def test_rebase_starts_new_limits_and_runs_do_not_cross_it() -> None:
    ys = [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 30, 31, 30, 31, 30, 31, 30, 31, 30, 31, 30, 31, 30]
    df = frame(ys)
    res = spc(df, SPCOptions(rebase=(df["x"].iloc[13].date(),)))
    pts = res.points
    assert pts["rebase_group"].tolist() == [0] * 13 + [1] * 13
    assert pts["mean"].iloc[0] == pytest.approx(np.mean(ys[:13]))
    assert pts["mean"].iloc[-1] == pytest.approx(np.mean(ys[13:]))
    assert len(res.groups) == 2 and res.groups["n"].tolist() == [13, 13]


def test_rebase_date_not_in_data_warns_and_is_ignored() -> None:
    with pytest.warns(SPCWarning, match="rebase date 2030-01-01"):
        res = spc(frame([1, 2, 3, 4, 5] * 3), SPCOptions(rebase=(date(2030, 1, 1),)))
    assert (res.points["rebase_group"] == 0).all()
    assert any("2030-01-01" in w for w in res.warnings)
    assert any("2030-01-01" in w for w in res.summary["warnings"].iloc[0])


def test_short_group_warning_below_thirteen_points() -> None:
    short = spc(frame([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]))
    assert short.points["short_group_warning"].all()
    assert short.warnings == (SHORT_GROUP_WARNING,)
    full = spc(frame([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1]))
    assert not full.points["short_group_warning"].any() and full.warnings == ()


def test_target_assurance_from_latest_group() -> None:
    ys = [50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50, 52, 48]
    assert spc(frame(ys), SPCOptions(target=40)).summary["assurance"].iloc[0] == "consistent_pass"
    assert spc(frame(ys), SPCOptions(target=60)).summary["assurance"].iloc[0] == "consistent_fail"
    assert spc(frame(ys), SPCOptions(target=50)).summary["assurance"].iloc[0] == "inconsistent"
    decrease = SPCOptions(target=60, improvement="decrease")
    assert spc(frame(ys), decrease).summary["assurance"].iloc[0] == "consistent_pass"
    assert spc(frame(ys), SPCOptions(target=50, improvement="neutral")).summary["assurance"].iloc[0] is None
    assert spc(frame(ys)).summary["assurance"].iloc[0] is None


def test_target_column_per_point_uses_the_last_point() -> None:
    df = frame([50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 50, 52, 48])
    df["goal"] = [60.0] * 13 + [40.0]
    res = spc(df, target="goal")
    assert res.points["target"].tolist() == df["goal"].tolist()
    assert res.summary["assurance"].iloc[0] == "consistent_pass"


def test_variation_icon_and_assurance_tables() -> None:
    assert variation_icon("special_cause_improvement", "increase") == "improvement_high"
    assert variation_icon("special_cause_improvement", "decrease") == "improvement_low"
    assert variation_icon("special_cause_concern", "increase") == "concern_low"
    assert variation_icon("special_cause_concern", "decrease") == "concern_high"
    assert variation_icon("special_cause_neutral_high", "neutral") == "neutral_high"
    assert variation_icon("special_cause_neutral_low", "neutral") == "neutral_low"
    assert variation_icon("common_cause", "increase") == "common_cause"
    assert variation_icon(None, "increase") is None
    assert assurance_type(10.0, 5.0, 10.0, "increase") == "inconsistent"  # a target on a limit
    assert assurance_type(10.0, float("nan"), float("nan"), "increase") is None


def test_summary_reports_the_run_behind_the_last_flag() -> None:
    ys = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 12, 12.5, 12, 12.5, 12, 12.5, 12]
    row = spc(frame(ys)).summary.iloc[0]
    assert row["last_special_cause_type"] == "7 Points Above CL"
    assert row["run_length"] == 7
    assert row["run_start_x"] == pd.Timestamp("2025-01-01")


# --- gaps, sorting, many series ----------------------------------------------------------------------


def test_gaps_are_kept_and_skipped() -> None:
    ys = [10.0, 11, np.nan, 9, 10, 11, 10, 9, 10, 11, 10, np.nan, 9, 10, 11]
    res = spc(frame(ys))
    pts = res.points
    assert len(pts) == len(ys)
    assert pts["point_type"].isna().tolist() == [bool(np.isnan(v)) for v in ys]
    assert pts["mean"].iloc[0] == pytest.approx(np.nanmean(ys))
    assert res.summary["n"].iloc[0] == 13


def test_missing_latest_value_is_reported_in_summary() -> None:
    ys = [10.0, 11, 9, 10, 11, 10, 9, 10, 11, 10, 9, 10, 11, np.nan]
    row = spc(frame(ys)).summary.iloc[0]
    assert np.isnan(row["latest_y"])
    assert row["last_valid_x"] == pd.Timestamp("2025-01-01")
    assert row["last_point_type"] == "common_cause"


def test_series_with_only_gaps_is_kept_with_a_warning() -> None:
    df = pd.concat(
        [frame([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1]).assign(org="A"), frame([np.nan, np.nan, 4.0]).assign(org="B")]
    )
    res = spc(df, by=["org"])
    b = res.summary.set_index("org").loc["B"]
    assert b["variation_icon"] is None and np.isnan(b["mean"])
    assert b["warnings"] == ("fewer than 2 points with a value; no limits computed",)
    assert res.points.loc[res.points["org"] == "B", "point_type"].isna().all()


def test_unsorted_input_is_sorted_not_rejected() -> None:
    df = frame([3, 1, 2, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6])
    shuffled = df.sample(frac=1, random_state=3)
    a = spc(df).points
    b = spc(shuffled).points
    pd.testing.assert_frame_equal(a.drop(columns="row"), b.drop(columns="row"))


def test_many_series_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    parts = [frame(list(rng.normal(i, 1 + i, 30))).assign(org=f"T{i}") for i in range(6)]
    together = spc(pd.concat(parts), SPCOptions(target=2.0), by=["org"])
    for i, part in enumerate(parts):
        alone = spc(part.drop(columns="org"), SPCOptions(target=2.0)).points
        mine = together.points[together.points["org"] == f"T{i}"].drop(columns=["org", "row"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.drop(columns="row"))


# --- ratio charts (PowerBI-SPC limits) -----------------------------------------------------------------


def _ratio_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    den = rng.integers(20, 400, 24).astype(float)
    num = rng.binomial(den.astype(int), 0.2).astype(float)
    return pd.DataFrame({"x": pd.date_range("2023-01-01", periods=24, freq="MS"), "num": num, "den": den})


def _laney_by_hand(num: np.ndarray, den: np.ndarray, proportion: bool) -> tuple[np.ndarray, np.ndarray]:
    """A straight transcription of PowerBI-SPC pprime.ts / uprime.ts, loop by loop."""
    cl = num.sum() / den.sum()
    sd = np.sqrt(cl * (1 - cl) / den) if proportion else np.sqrt(cl / den)
    z = (num / den - cl) / sd
    mr = np.abs(np.diff(z))
    amr = mr.mean()
    amr = mr[mr < 3.267 * amr].mean()
    sigma = sd * amr / D2
    upper = cl + 3 * sigma
    return np.maximum(0, cl - 3 * sigma), np.minimum(1, upper) if proportion else upper


@pytest.mark.parametrize("chart", ["pp", "up"])
def test_laney_limits_match_a_transcription_of_powerbi(chart: str) -> None:
    df = _ratio_frame()
    pts = spc(df, SPCOptions(chart=chart), numerator="num", denominator="den").points  # type: ignore[arg-type]
    lo, hi = _laney_by_hand(df["num"].to_numpy(), df["den"].to_numpy(), chart == "pp")
    np.testing.assert_allclose(pts["lpl"], lo, rtol=1e-12)
    np.testing.assert_allclose(pts["upl"], hi, rtol=1e-12)


def test_p_limits_are_clipped_to_zero_and_one() -> None:
    df = pd.DataFrame(
        {
            "x": range(1, 15),
            "num": [1, 0, 2, 1, 0, 1, 1, 2, 0, 1, 1, 0, 1, 2],
            "den": [3, 2, 4, 3, 2, 3, 3, 4, 2, 3, 3, 2, 3, 4],
        }
    )
    pts = spc(df, SPCOptions(chart="p"), numerator="num", denominator="den").points
    assert (pts["lpl"] >= 0).all() and (pts["upl"] <= 1).all()
    assert (pts["lpl"] == 0).any() and (pts["upl"] == 1).any()


def test_u_and_c_limits() -> None:
    df = _ratio_frame()
    pts = spc(df, SPCOptions(chart="u"), numerator="num", denominator="den").points
    cl = df["num"].sum() / df["den"].sum()
    np.testing.assert_allclose(pts["upl"], cl + 3 * np.sqrt(cl / df["den"]), rtol=1e-12)
    c = spc(pd.DataFrame({"x": range(1, 21), "y": [4, 6, 5, 3, 7] * 4}), SPCOptions(chart="c")).points
    assert c["upl"].iloc[0] == pytest.approx(5 + 3 * np.sqrt(5))
    assert c["lpl"].iloc[0] == 0.0


def test_pbi_two_in_three_disagreement() -> None:
    """PowerBI-SPC would flag index 13 and 14 (two of three beyond the upper 2-sigma line, one of them
    beyond 3 sigma). MDC does not count a point outside the limits as 'close', so only the astronomical
    point is special cause and the close point stays common cause."""
    ys = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 14.5, 20, 9, 10, 11, 9]
    pts = spc(frame(ys), SPCOptions(screen_outliers=True)).points
    assert pts["close_to_limits"].iloc[13] and pts["outside_limits"].iloc[14]
    assert pts["point_type"].iloc[13] == "common_cause"
    assert pts["special_cause_type"].iloc[14] == "Above UCL"


# --- run chart -----------------------------------------------------------------------------------------


def test_run_chart_median_shift_and_trend_only() -> None:
    ys = [5, 3, 4, 6, 2, 5, 4, 3, 5, 4, 9, 8, 9, 8, 9, 8, 9, 1, 2, 3, 4, 5, 6, 7]
    res = spc(frame(ys), SPCOptions(chart="run", target=4))
    pts = res.points
    assert (pts["mean"] == np.median(ys)).all()
    assert pts["lpl"].isna().all() and not pts["outside_limits"].any()
    assert pts["special_cause_type"].iloc[10:17].eq("7 Points Above CL").all()
    assert pts["special_cause_type"].iloc[17:].eq("7 Point Trend (Increasing)").all()
    assert res.summary["assurance"].iloc[0] is None


# --- errors name the row and the field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chart": "xbar"}, "option 'chart': expected one of xmr, p, pp, u, up, c, run, got 'xbar'"),
        ({"improvement": "up"}, "option 'improvement': expected one of increase, decrease, neutral, got 'up'"),
        ({"fix_after_n_points": 11}, "option 'fix_after_n_points': expected a whole number >= 12, got 11"),
        ({"target": "high"}, "option 'target': expected a number, got 'high'"),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StatsError) as err:
        SPCOptions(**kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_non_numeric_y_names_row_and_field() -> None:
    df = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6], "y": ["1", "2", "3", "4", "abc", "6"]})
    with pytest.raises(StatsError, match=r"^row 5, field 'y': expected a number, got 'abc'$"):
        spc(df)


def test_fewer_than_two_points() -> None:
    with pytest.raises(StatsError, match=r"^row 1, field 'x': the series has 1 row; SPC needs at least 2 points$"):
        spc(frame([1.0]))


def test_duplicate_x_within_a_series() -> None:
    df = pd.DataFrame({"x": [1, 2, 3, 2], "y": [1.0, 2, 3, 4], "org": "A"})
    with pytest.raises(StatsError, match=r"^row 4, field 'x': duplicate x 2 in series org='A' \(also row 2\)"):
        spc(df, by=["org"])


def test_duplicate_x_in_different_series_is_fine() -> None:
    df = pd.DataFrame({"x": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "org": ["A", "A", "B", "B"]})
    assert len(spc(df, by=["org"]).summary) == 2


@pytest.mark.parametrize(
    ("num", "den", "message"),
    [
        ([1, 2, 3], [10, 0, 10], r"^row 2, field 'den': expected a denominator > 0, got 0$"),
        ([1, 12, 3], [10, 10, 10], r"^row 2, field 'den': denominator 10 is below numerator 12; a p chart"),
        ([1, -1, 3], [10, 10, 10], r"^row 2, field 'num': expected a numerator >= 0, got -1$"),
    ],
)
def test_bad_denominators(num: list[int], den: list[int], message: str) -> None:
    df = pd.DataFrame({"x": [1, 2, 3], "num": num, "den": den})
    with pytest.raises(StatsError, match=message):
        spc(df, SPCOptions(chart="p"), numerator="num", denominator="den")


def test_ratio_chart_without_denominator_column() -> None:
    with pytest.raises(StatsError, match="chart 'p' needs numerator and denominator columns"):
        spc(frame([1, 2, 3]), SPCOptions(chart="p"))


def test_missing_column_and_bad_x() -> None:
    with pytest.raises(StatsError, match=r"^field 'value': column not found"):
        spc(frame([1, 2, 3]), y="value")
    df = pd.DataFrame({"x": ["2024-01-01", "soon", "2024-03-01"], "y": [1, 2, 3]})
    expected = r"^row 2, field 'x': expected an ISO date \(YYYY-MM-DD\) or a number, got 'soon'$"
    with pytest.raises(StatsError, match=expected):
        spc(df)


# --- metric frames and real data ---------------------------------------------------------------------


def test_spc_metrics_runs_each_metric_with_its_options() -> None:
    periods = pd.date_range("2023-01-01", periods=15, freq="MS")
    rows = []
    for org in ("A", "B"):
        for i, p in enumerate(periods):
            rows.append(
                {
                    "metric_id": "ae4h",
                    "org_code": org,
                    "period": p,
                    "value": np.nan if i == 3 else 0.7,
                    "numerator": 70 + i,
                    "denominator": 100,
                    "flag": None,
                }
            )
            rows.append(
                {
                    "metric_id": "beds",
                    "org_code": org,
                    "period": p,
                    "value": 300 + (i % 3),
                    "numerator": np.nan,
                    "denominator": np.nan,
                    "flag": None,
                }
            )
    mf = pd.DataFrame(rows)
    res = spc_metrics(mf, {"ae4h": SPCOptions(chart="p", target=0.78), "beds": SPCOptions(improvement="neutral")})
    assert res.summary[["metric_id", "org_code"]].values.tolist() == [
        ["ae4h", "A"],
        ["ae4h", "B"],
        ["beds", "A"],
        ["beds", "B"],
    ]
    ae = res.points[res.points["metric_id"] == "ae4h"]
    assert ae["point_type"].isna().sum() == 2  # the two gaps
    assert res.summary["chart"].tolist() == ["p", "p", "xmr", "xmr"]
    with pytest.raises(StatsError, match="field 'metric_id': no SPC options for metric 'beds'"):
        spc_metrics(mf, {"ae4h": SPCOptions(chart="p")})


def test_real_data_all_trusts_in_one_call() -> None:
    ae = pd.read_csv(DEMO, parse_dates=["period"])
    num = ae["total_attendances"] - ae["attendances_over_4hours"]
    den = ae["total_attendances"].astype(float)
    # no attendances at all: nothing measured, so a gap (as the data layer flags zero denominators)
    ae["num"] = num.where(den > 0)
    ae["den"] = den.where(den > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = spc(
            ae, SPCOptions(chart="p", target=0.78), x="period", numerator="num", denominator="den", by=["org_code"]
        )
    assert len(res.summary) == ae["org_code"].nunique()
    assert len(res.points) == len(ae)
    charted = res.summary[res.summary["n"] >= 2]
    assert charted["variation_icon"].notna().all()
    assert set(charted["assurance"]) <= {"consistent_pass", "consistent_fail", "inconsistent"}
    valid = res.points["y"].notna()
    assert res.points.loc[valid, "lpl"].between(0, 1).all()


def test_thousand_series_are_vectorised() -> None:
    rng = np.random.default_rng(0)
    s, n = 1000, 60
    df = pd.DataFrame({"sid": np.repeat(np.arange(s), n), "x": np.tile(np.arange(n), s), "y": rng.normal(size=s * n)})
    start = time.perf_counter()
    res = spc(df, by=["sid"])
    assert time.perf_counter() - start < 3.0
    assert len(res.summary) == s


def test_phase_column_starts_groups_where_it_changes() -> None:
    df = frame([1, 2, 3, 2, 1, 2, 3, 2, 1, 2])
    df["phase"] = ["a", "a", "a", "b", "b", "b", None, None, "c", "c"]
    pts = spc(df, phase="phase").points
    assert pts["rebase_group"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]


def test_group_median_odd_and_even() -> None:
    values = np.array([5.0, 1.0, 3.0, 4.0, 2.0, 9.0, 7.0])
    groups = np.array([0, 0, 0, 1, 1, 1, 1])
    assert rules.group_median(values, groups, 3)[:2].tolist() == [3.0, 5.5]
    assert np.isnan(rules.group_median(values, groups, 3)[2])
