"""Funnel behaviour beyond the conformance cases, interval formulas, caterpillar data, real-data smoke."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from reporting.errors import StatsError
from reporting.stats import funnel as funnel_mod
from reporting.stats import league as league_mod
from reporting.stats import variation as variation_mod
from reporting.stats.funnel import FUNNEL_COLUMNS, funnel, funnel_curve
from reporting.stats.league import league_table
from reporting.stats.variation import (
    Z_95,
    Z_998,
    caterpillar,
    limit_key,
    poisson_exact_interval,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parents[2]
AE_2024 = ROOT / "tests" / "data_fixtures" / "ae_trust_calendar_2024.csv"
TRUSTS = ROOT / "reporting" / "demo_data" / "trusts_2022.csv"
F01 = pd.DataFrame(
    {
        "group": list("abcdefghij"),
        "numerator": [27, 23, 35, 26, 38, 22, 46, 26, 27, 35],
        "denominator": [170, 122, 178, 184, 161, 105, 190, 121, 137, 197],
    }
)


# --- constants -------------------------------------------------------------------------------------------


def test_rounded_z_values_match_normal_quantiles() -> None:
    assert round(float(st.norm.ppf(0.975)), 6) == Z_95
    assert round(float(st.norm.ppf(0.999)), 6) == Z_998


@pytest.mark.parametrize("module", [variation_mod, funnel_mod, league_mod])
def test_all_is_sorted_and_resolvable(module: object) -> None:
    names = list(module.__all__)  # type: ignore[attr-defined]
    assert names == sorted(names)
    assert all(hasattr(module, n) for n in names)


@pytest.mark.parametrize(("given", "key"), [(95, "95"), ("95", "95"), (99, "99.8"), (99.8, "99.8"), ("99.8", "99.8")])
def test_limit_key_accepts_reference_spelling(given: object, key: str) -> None:
    assert limit_key(given) == key  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [90, "x", None])
def test_limit_key_rejects_others(bad: object) -> None:
    with pytest.raises(StatsError, match="limit"):
        limit_key(bad)  # type: ignore[arg-type]


# --- Wilson and exact Poisson ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "lo", "hi"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998) Stat Med 17:857, example (method 3)
        (15, 148, 0.0624, 0.1605),  # Newcombe (1998)
        (0, 10, 0.0, 0.2775),  # Newcombe (1998)
        (1, 29, 0.0061, 0.1718),  # Newcombe (1998)
    ],
)
def test_wilson_published_values(x: int, n: int, lo: float, hi: float) -> None:
    got_lo, got_hi = wilson_interval(x, n, 0.95)
    assert round(float(got_lo), 4) == lo and round(float(got_hi), 4) == hi


def test_wilson_equals_roots_of_score_quadratic() -> None:
    """Wilson = the p solving (p̂ − p)² = z² p(1 − p)/n, solved here with the quadratic formula."""
    z = float(st.norm.ppf(0.975))
    for x, n in [(3, 7), (50, 60), (1, 1000), (999, 1000)]:
        p_hat = x / n
        a, b, c = 1 + z * z / n, -(2 * p_hat + z * z / n), p_hat * p_hat
        disc = math.sqrt(b * b - 4 * a * c)
        lo, hi = wilson_interval(x, n)
        assert float(lo) == pytest.approx((-b - disc) / (2 * a), abs=1e-12)
        assert float(hi) == pytest.approx((-b + disc) / (2 * a), abs=1e-12)


def test_wilson_closed_forms_at_the_edges() -> None:
    z2 = float(st.norm.ppf(0.975)) ** 2
    lo, hi = wilson_interval([0, 20], [20, 20])
    assert lo[0] == 0 and hi[0] == pytest.approx(z2 / (20 + z2), rel=1e-12)
    assert hi[1] == 1 and lo[1] == pytest.approx(20 / (20 + z2), rel=1e-12)


def _poisson_cdf(k: int, mu: float) -> float:
    return sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1))


def test_exact_poisson_closed_forms_and_definition() -> None:
    lo, hi = poisson_exact_interval([0, 1], 1.0, 0.95)
    assert lo[0] == 0 and hi[0] == pytest.approx(-math.log(0.025), rel=1e-12)
    assert lo[1] == pytest.approx(-math.log(0.975), rel=1e-12)
    for o in (1, 4, 17):
        lo, hi = poisson_exact_interval(o, 1.0, 0.95)
        assert 1 - _poisson_cdf(o - 1, float(lo)) == pytest.approx(0.025, abs=1e-10)  # P(X >= o | lower)
        assert _poisson_cdf(o, float(hi)) == pytest.approx(0.025, abs=1e-10)  # P(X <= o | upper)


@pytest.mark.parametrize(("o", "lo", "hi"), [(10, 4.795, 18.390), (5, 1.623, 11.668), (2, 0.242, 7.225)])
def test_exact_poisson_published_values(o: int, lo: float, hi: float) -> None:
    """Garwood (1936) limits as tabulated e.g. in Ulm (1990) Am J Epidemiol 131:373."""
    got_lo, got_hi = poisson_exact_interval(o, 1.0, 0.95)
    assert round(float(got_lo), 3) == lo and round(float(got_hi), 3) == hi


def test_exact_poisson_rate_divides_by_exposure() -> None:
    lo, hi = poisson_exact_interval(10, 1000.0)
    assert float(lo) == pytest.approx(4.7954 / 1000, rel=1e-4) and float(hi) == pytest.approx(18.390 / 1000, rel=1e-4)


# --- funnel: behaviour and errors ------------------------------------------------------------------------


def test_duplicate_groups_are_summed_like_the_reference() -> None:
    split = pd.concat([F01, pd.DataFrame({"group": ["a"], "numerator": [0], "denominator": [0.0]})])
    split.loc[split.index[-1], ["numerator", "denominator"]] = [7, 70]
    first = split.copy()
    first.iloc[0, 1:] = [20, 100]  # a = 20/100 + 7/70 = 27/170
    whole = funnel(F01, data_type="PR").points
    parts = funnel(first, data_type="PR").points
    pd.testing.assert_frame_equal(whole, parts)


def test_result_columns_and_curve() -> None:
    result = funnel(F01, data_type="PR", limit=95, multiplier=100)
    assert tuple(result.points.columns) == FUNNEL_COLUMNS
    curve = funnel_curve(result, n=50)
    assert len(curve) == 50 and curve["denominator"].is_monotonic_increasing
    assert (curve["lcl95"] <= curve["target"]).all() and (curve["ucl95"] >= curve["target"]).all()
    assert (curve["lcl998"] <= curve["lcl95"]).all() and (curve["ucl998"] >= curve["ucl95"]).all()
    assert curve["ucl95"].iloc[-1] < curve["ucl95"].iloc[0]  # it is a funnel
    assert result.curve(10).shape[0] == 10


def test_overdispersion_off_reports_zero_phi_tau2_like_the_reference() -> None:
    data = pd.read_csv(ROOT / "tests" / "conformance" / "spc" / "f02_funnel_pr_overdispersed" / "input.csv")
    on = funnel(data, data_type="PR", limit=95, multiplier=100)
    off = funnel(data, data_type="PR", limit=95, multiplier=100, overdispersion=False)
    assert on.limits_used == "adjusted" and off.limits_used == "unadjusted"
    assert off.phi == 0 and off.tau2 == 0
    assert len(off.outliers) > len(on.outliers)
    assert off.summary()["draw_unadjusted_used"] is True


def test_sr_cqc_and_rc_run_and_are_centred() -> None:
    sr = pd.DataFrame(
        {
            "group": list("abcdef"),
            "numerator": [10, 25, 40, 12, 60, 33],
            "denominator": [12.0, 20.0, 41.0, 15.0, 50.0, 30.0],
        }
    )
    cqc = funnel(sr, data_type="SR", sr_method="CQC", limit=95)
    assert cqc.target == 1 and cqc.options.sr_method == "CQC"
    # unadjusted SR limits are exact Poisson whichever method is chosen
    shmi = funnel(sr, data_type="SR", sr_method="SHMI", limit=95)
    np.testing.assert_allclose(cqc.points["lcl95"], shmi.points["lcl95"])
    e = 12.0
    assert cqc.points.loc[0, "lcl95"] == pytest.approx(st.chi2.ppf(0.025, 2 * e) / 2 / e, rel=1e-12)
    assert cqc.points.loc[0, "zscore"] == pytest.approx((math.sqrt(10 / 12) - 1) * 2 * math.sqrt(12), rel=1e-12)
    rc = funnel(sr, data_type="RC", limit=95)
    assert rc.target == pytest.approx(sr["numerator"].sum() / sr["denominator"].sum())
    assert (rc.points["lcl95"] < rc.target).all() and (rc.points["ucl95"] > rc.target).all()


def test_exact_poisson_sr_limits_match_funnelplotr_own_test() -> None:
    """FunnelPlotR tests/testthat/test-poisson_limits.R: expected counts 15, 20, 30, target 1."""
    data = pd.DataFrame({"group": ["a", "b", "c"], "numerator": [14, 22, 29], "denominator": [15.0, 20.0, 30.0]})
    pts = funnel(data, data_type="SR").points
    assert pts["lcl95"].round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert pts["ucl95"].round(6).tolist() == [1.649348, 1.544419, 1.427562]
    assert pts["lcl998"].round(7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert pts["ucl998"].round(6).tolist() == [2.082907, 1.902094, 1.702771]


def test_shmi_zero_observed_is_refused_only_when_it_would_break_phi() -> None:
    data = pd.DataFrame(
        {
            "group": list("abcdefghijkl"),
            "numerator": [0, 5, 7, 9, 10, 12, 8, 11, 6, 9, 10, 13],
            "denominator": [5.0, 6, 7, 8, 9, 10, 11, 12, 8, 9, 10, 11],
        }
    )
    result = funnel(data, data_type="SR")  # 12 groups: the -inf z-score is truncated away, as in the reference
    assert np.isneginf(result.points["zscore"].iloc[0]) and np.isfinite(result.phi) and result.outliers == ["a"]
    with pytest.raises(StatsError, match=r"field 'numerator': group 'a' has 0 observed"):
        funnel(data.head(4), data_type="SR")
    assert funnel(data.head(4), data_type="SR", overdispersion=False).limits_used == "unadjusted"


def test_pr_limits_are_clipped_to_zero_and_one_at_small_n() -> None:
    data = pd.DataFrame({"group": list("abcd"), "numerator": [1, 2, 0, 5], "denominator": [3, 4, 5, 6]})
    result = funnel(data, data_type="PR", limit=99.8)
    angle = math.asin(math.sqrt(result.target))
    # where the arcsine limit would fold back past 0 (lower) or pi/2 (upper) it is pinned at 0 / 1 ...
    assert angle - Z_998 / (2 * math.sqrt(4)) < 0 and result.points["lcl998"].tolist()[:2] == [0.0, 0.0]
    assert angle + Z_998 / (2 * math.sqrt(3)) > math.pi / 2 and result.points["ucl998"].iloc[0] == 1.0
    # ... elsewhere it is the plain sin² formula
    assert result.points["lcl998"].iloc[2] == pytest.approx(math.sin(angle - Z_998 / (2 * math.sqrt(5))) ** 2)
    assert result.points["lcl998"].is_monotonic_increasing and result.points["ucl998"].is_monotonic_decreasing


def test_shmi_rounding_applies_to_expected_counts() -> None:
    data = pd.DataFrame({"group": ["a", "b", "c"], "numerator": [10, 20, 30], "denominator": [10.004, 19.996, 30.0]})
    rounded = funnel(data, data_type="SR").points
    assert rounded["denominator"].tolist() == [10.0, 20.0, 30.0]
    assert rounded["value"].tolist() == [10 / 10.004, 20 / 19.996, 1.0]  # ratio taken before rounding
    assert rounded["zscore"].iloc[0] == 0.0  # z-scores use the rounded expected count
    assert funnel(data, data_type="SR", shmi_rounding=False).points["denominator"].tolist() == [10.004, 19.996, 30.0]


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            F01.assign(numerator=F01["numerator"].astype(object).where(F01.index != 2, "x")),
            {},
            r"row 3, field 'numerator': expected a number, got 'x'",
        ),
        (
            F01.assign(denominator=F01["denominator"].where(F01.index != 4, 0)),
            {},
            r"row 5, field 'denominator': must be > 0",
        ),
        (
            F01.assign(numerator=F01["numerator"].where(F01.index != 1, 500)),
            {},
            r"row 2, field 'numerator': must not exceed",
        ),
        (
            F01.assign(numerator=F01["numerator"].where(F01.index != 0, -1)),
            {},
            r"row 1, field 'numerator': must be >= 0",
        ),
        (F01.head(1), {}, r"at least 2 groups, got 1"),
        (F01.assign(group="same"), {}, r"at least 2 groups, got 1"),
        (F01.drop(columns="denominator"), {}, r"field 'denominator': column not found"),
        (F01, {"data_type": "XX"}, r"field 'data_type'"),
        (F01, {"sr_method": "ABC"}, r"field 'sr_method'"),
        (F01, {"limit": 90}, r"field 'limit'"),
    ],
)
def test_bad_input_names_row_and_field(frame: pd.DataFrame, kwargs: dict, message: str) -> None:
    options = {"data_type": "PR", **kwargs}
    with pytest.raises(StatsError, match=message):
        funnel(frame, **options)


# --- caterpillar -----------------------------------------------------------------------------------------


def test_caterpillar_small_hand_checked() -> None:
    data = pd.DataFrame(
        {
            "org_code": ["A", "B", "C", "D", "A"],
            "num": [40, 30, 20, 10, 10],
            "den": [100, 100, 100, 100, 100],
            "pg": ["x", "x", "y", "y", "x"],
        }
    )
    out = caterpillar(data, numerator="num", denominator="den", peer_group="pg", benchmark=0.2).set_index("org_code")
    assert out.loc["A", "value"] == pytest.approx(0.25)  # rows summed: 50/200
    assert out["rank"].to_dict() == {"B": 1, "A": 2, "C": 1, "D": 2}
    assert out.loc["A", "national_median"] == pytest.approx(np.median([0.25, 0.3, 0.2, 0.1]))
    assert out.loc["C", "peer_median"] == pytest.approx(0.15)
    assert out.loc["D", "benchmark_gap"] == pytest.approx(-0.1)
    lo, hi = wilson_interval(50, 200)
    assert out.loc["A", "lower"] == pytest.approx(float(lo)) and out.loc["A", "upper"] == pytest.approx(float(hi))
    worse = caterpillar(data, numerator="num", denominator="den", higher_is_better=False).set_index("org_code")
    assert worse.loc["D", "rank"] == 1 and worse.loc["D", "quartile"] == 1 and worse.loc["B", "quartile"] == 4


def test_caterpillar_rate_uses_exact_poisson_and_top_quartile_benchmark() -> None:
    data = pd.DataFrame({"org_code": list("ABCDE"), "events": [0, 3, 10, 20, 40], "days": [1000.0] * 5})
    out = caterpillar(
        data,
        numerator="events",
        denominator="days",
        kind="rate",
        higher_is_better=False,
        benchmark="top_quartile",
        multiplier=1000,
    ).set_index("org_code")
    assert out.loc["A", "lower"] == 0 and out.loc["A", "upper"] == pytest.approx(-math.log(0.025), rel=1e-9)
    assert out.loc["A", "benchmark"] == pytest.approx(np.quantile([0, 3, 10, 20, 40], 0.25))
    with pytest.raises(StatsError, match="kind"):
        caterpillar(data, numerator="events", denominator="days", kind="odds")  # type: ignore[arg-type]
    with pytest.raises(StatsError, match=r"row 3, field 'pg': provider 'A' is in more than one peer group"):
        caterpillar(
            data.assign(org_code=["A", "B", "A", "D", "E"], pg=list("xyzyx")),
            numerator="events",
            denominator="days",
            peer_group="pg",
        )
    with pytest.raises(StatsError, match=r"row 2, field 'events': numerator 3 exceeds"):
        caterpillar(data.assign(days=[1000.0, 2, 3, 4, 5]), numerator="events", denominator="days")


# --- real data: 141 trusts, calendar 2024 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ae_2024() -> pd.DataFrame:
    ae = pd.read_csv(AE_2024)
    trusts = pd.read_csv(TRUSTS, usecols=["org_code", "reports_ga_beds_2022_2025"])
    return ae.merge(trusts, on="org_code", how="left", validate="one_to_one")


def test_real_data_funnel(ae_2024: pd.DataFrame) -> None:
    result = funnel(
        ae_2024,
        group="org_code",
        numerator="attendances_within_4hours",
        denominator="total_attendances",
        data_type="PR",
        limit=99.8,
        multiplier=100,
    )
    assert len(result.points) == 141
    assert result.target == pytest.approx(
        ae_2024["attendances_within_4hours"].sum() / ae_2024["total_attendances"].sum()
    )
    assert 0.6 < result.target < 0.8
    assert result.phi > 100 and result.tau2 > 0 and result.limits_used == "adjusted"  # huge between-trust spread
    # community trusts with only minor injury units sit far above the acute trusts
    assert "R1D" in result.outliers
    low = result.points.set_index("group").loc["RXW"]  # worst performer: below target, inside the wide OD limits
    assert low["value"] < result.target * 100 and low["zscore"] < -3
    assert 5 <= len(result.outliers) <= 40


def test_real_data_caterpillar_and_league(ae_2024: pd.DataFrame) -> None:
    assert ae_2024["reports_ga_beds_2022_2025"].notna().all()
    cat = caterpillar(
        ae_2024,
        numerator="attendances_within_4hours",
        denominator="total_attendances",
        peer_group="reports_ga_beds_2022_2025",
        benchmark="top_quartile",
        multiplier=100,
    )
    acute = cat[cat["peer_group"] == True]  # noqa: E712
    assert len(cat) == 141 and len(acute) == 125
    assert (cat["lower"] <= cat["value"]).all() and (cat["value"] <= cat["upper"]).all()
    assert acute.iloc[0]["value"] > acute.iloc[-1]["value"] and acute.iloc[-1]["org_code"] == "RXW"
    assert 60 < acute["peer_median"].iloc[0] < 80
    wide = ae_2024.assign(
        pct=ae_2024["attendances_within_4hours"] / ae_2024["total_attendances"],
        trolley=ae_2024["emergency_admissions_over_4hours"]
        / ae_2024["total_emergency_admissions"].where(ae_2024["total_emergency_admissions"] > 0),
    )
    table = league_table(wide, metrics={"pct": True, "trolley": False}, peer_group="reports_ga_beds_2022_2025")
    assert len(table) == 141
    assert table["average_score"].between(1, 4).all()
    assert set(table["segment"].dropna().unique()) <= {1, 2, 3, 4}
    assert (table["metrics_scored"] >= 1).all()
