"""Disclosure control on tiny hand-checkable MetricFrames, plus a proof that hidden cells stay hidden."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from reporting.errors import StatsError
from reporting.stats.disclosure import DisclosureRule, apply_disclosure, recoverable_cells

PERIODS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])


def counts(table: dict[str, list[float]], metric: str = "m") -> pd.DataFrame:
    """MetricFrame for a count metric: one row per org x period, value = the count."""
    width = len(next(iter(table.values())))
    periods = PERIODS if width == 3 else pd.date_range("2024-01-01", periods=width, freq="MS")
    rows = [
        {
            "metric_id": metric,
            "org_code": org,
            "period": p,
            "value": float(v),
            "numerator": np.nan,
            "denominator": np.nan,
            "flag": None,
        }
        for org, values in table.items()
        for p, v in zip(periods, values, strict=True)
    ]
    return pd.DataFrame(rows)


def grid(frame: pd.DataFrame, column: str) -> list[list[object]]:
    return frame.pivot(index="org_code", columns="period", values=column).to_numpy().tolist()


def test_rule_is_frozen_and_validated() -> None:
    rule = DisclosureRule()
    assert (rule.suppress_below, rule.round_to, rule.secondary) == (5, None, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.suppress_below = 3  # type: ignore[misc]
    with pytest.raises(StatsError, match="suppress_below"):
        DisclosureRule(suppress_below=-1)
    with pytest.raises(StatsError, match="round_to"):
        DisclosureRule(round_to=0)


def test_primary_only_marks_without_dropping() -> None:
    frame = counts({"A": [3, 20, 30], "B": [12, 40, 50]})
    out = apply_disclosure(frame, DisclosureRule(secondary=False))
    assert len(out) == len(frame) and out["flag"].isna().all()
    assert grid(out, "suppressed") == [[True, False, False], [False, False, False]]
    assert out.loc[0, "suppression_reason"] == "primary" and pd.isna(out.loc[1, "suppression_reason"])
    assert np.isnan(out.loc[0, "value"]) and out.loc[1, "value"] == 20
    assert frame.loc[0, "value"] == 3  # input untouched


def test_secondary_hand_checked_rectangle() -> None:
    #          Jan Feb Mar
    #   A       3  20  30     A-Jan primary; row A -> smallest other (Feb 20)
    #   B      12  40  50     col Jan -> B 12, col Feb -> B 40 (B now has two)
    #   C      15  60  70
    out = apply_disclosure(counts({"A": [3, 20, 30], "B": [12, 40, 50], "C": [15, 60, 70]}))
    assert grid(out, "suppression_reason") == [
        ["primary", "secondary", pd.NA],
        ["secondary", "secondary", pd.NA],
        [pd.NA, pd.NA, pd.NA],
    ]


def test_zero_counts_and_threshold_edge() -> None:
    out = apply_disclosure(counts({"A": [0, 5, 4]}), DisclosureRule(secondary=False))
    assert out["suppressed"].tolist() == [True, False, True]  # 0 and 4 are below 5; 5 is not


def test_rates_are_suppressed_when_numerator_or_denominator_is_small() -> None:
    frame = pd.DataFrame(
        {
            "metric_id": "rate",
            "org_code": ["A", "B", "C"],
            "period": PERIODS[0],
            "value": [30.0, 75.0, 40.0],
            "numerator": [3.0, 3000.0, 40.0],
            "denominator": [10.0, 4000.0, 100.0],
            "flag": None,
        }
    )
    frame.loc[1, ["numerator", "denominator"]] = [3.0, 4.0]
    out = apply_disclosure(frame, DisclosureRule(secondary=False))
    assert out["suppression_reason"].tolist()[:2] == ["derived", "derived"]
    assert out.loc[:1, ["value", "numerator", "denominator"]].isna().all().all()
    assert out.loc[2, "value"] == 40 and not out.loc[2, "suppressed"]


def test_rounding_to_nearest_five_keeps_rate_units() -> None:
    frame = pd.DataFrame(
        {
            "metric_id": ["c", "c", "r"],
            "org_code": ["A", "B", "A"],
            "period": PERIODS[0],
            "value": [12.0, 13.0, 50.0],
            "numerator": [np.nan, np.nan, 52.0],
            "denominator": [np.nan, np.nan, 104.0],
            "flag": None,
        }
    )
    out = apply_disclosure(frame, DisclosureRule(round_to=5, secondary=False))
    assert out["value"].tolist()[:2] == [10.0, 15.0]
    assert out.loc[2, "numerator"] == 50 and out.loc[2, "denominator"] == 105
    assert out.loc[2, "value"] == pytest.approx(100 * 50 / 105)  # still a percentage


def test_count_metrics_limits_primary_checks_and_missing_values_are_not_cells() -> None:
    frame = pd.concat(
        [counts({"A": [3, 20, 30]}, "count"), counts({"A": [1.5, 2.0, 2.5]}, "mean_los")], ignore_index=True
    )
    out = apply_disclosure(frame, DisclosureRule(secondary=False), count_metrics={"count"})
    assert out["suppressed"].tolist() == [True, False, False, False, False, False]
    gap = counts({"A": [3, 20, 30], "B": [12, 40, 50]})
    gap.loc[1, "value"] = np.nan  # A-Feb not reported: it cannot serve as the complementary cell
    out = apply_disclosure(gap)
    assert grid(out, "suppression_reason") == [["primary", pd.NA, "secondary"], ["secondary", pd.NA, "secondary"]]


def test_each_metric_is_its_own_table() -> None:
    frame = pd.concat(
        [counts({"A": [3, 20, 30], "B": [12, 40, 50]}, "m1"), counts({"A": [30, 20, 30], "B": [12, 40, 50]}, "m2")],
        ignore_index=True,
    )
    out = apply_disclosure(frame)
    assert not out.loc[out["metric_id"] == "m2", "suppressed"].any()


def test_duplicate_cells_are_rejected() -> None:
    frame = counts({"A": [30, 20, 30]})
    with pytest.raises(StatsError, match=r"row 4, field 'period': duplicate table cell"):
        apply_disclosure(pd.concat([frame, frame.head(1)], ignore_index=True))


def test_single_cell_line_cannot_be_protected_and_is_reported() -> None:
    frame = counts({"A": [3, 20, 30]}).head(1)  # a one-cell table: any total reveals it
    out = apply_disclosure(frame)
    assert out.attrs["disclosure_unprotected"] == [{"metric_id": "m", "org_code": "A", "period": PERIODS[0]}]


def _determined_by_totals(frame: pd.DataFrame, hidden: np.ndarray) -> list[int]:
    """Independent check: a hidden cell is recoverable iff its unit vector lies in the row space of the
    row/column-total equations restricted to hidden cells (rank test, no SVD null space)."""
    cells = np.flatnonzero(hidden)
    orgs = {o: i for i, o in enumerate(frame["org_code"].unique())}
    pers = {p: i for i, p in enumerate(frame["period"].unique())}
    eq = np.zeros((len(orgs) + len(pers), len(cells)))
    for j, k in enumerate(cells):
        eq[orgs[frame["org_code"].iloc[k]], j] = 1
        eq[len(orgs) + pers[frame["period"].iloc[k]], j] = 1
    base = np.linalg.matrix_rank(eq)
    out = []
    for j, k in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([eq, unit])) == base:
            out.append(int(k))
    return out


def test_no_hidden_cell_can_be_recovered_from_totals_random_tables() -> None:
    """Proof by exhaustion over random tables: after suppression no hidden cell is pinned down by the
    true row and column totals (the published totals are assumed exact)."""
    rng = np.random.default_rng(20240501)
    for _ in range(60):
        n_orgs = int(rng.integers(2, 7))
        table = {f"O{i}": rng.choice([1, 2, 3, 4, 6, 9, 15, 30, 80], size=3).tolist() for i in range(n_orgs)}
        frame = counts(table)
        out = apply_disclosure(frame)
        hidden = out["suppressed"].to_numpy()
        assert (hidden >= (frame["value"] < 5).to_numpy()).all()
        assert _determined_by_totals(frame, hidden) == []
        assert not recoverable_cells(frame["org_code"], frame["period"], hidden).any()
        assert out.attrs["disclosure_unprotected"] == []


def test_line_rule_alone_can_leave_a_bridge_which_is_then_closed() -> None:
    """Every line below holds 0 or >= 2 small cells, yet cell B-Mar (a bridge joining two 2x2 blocks) is
    pinned down by the totals; the audit finds it and extends the pattern."""
    frame = counts(
        {"A": [1, 2, 90, 80], "B": [3, 4, 2, 70], "C": [60, 50, 1, 2], "D": [40, 30, 3, 4], "E": [20, 25, 35, 45]}
    )
    primary = (frame["value"] < 5).to_numpy()
    exposed = _determined_by_totals(frame, primary)
    assert [(frame["org_code"].iloc[k], frame["period"].iloc[k].month) for k in exposed] == [("B", 3)]
    assert recoverable_cells(frame["org_code"], frame["period"], primary).nonzero()[0].tolist() == exposed
    out = apply_disclosure(frame)
    assert _determined_by_totals(frame, out["suppressed"].to_numpy()) == []
    # cheapest closing rectangle re-uses hidden corners: B-Jan, D-Mar are hidden, only D-Jan (40) is added
    assert out.loc[out["suppression_reason"] == "secondary", ["org_code", "value"]].isna().sum().tolist() == [0, 1]
    assert frame.loc[out["suppression_reason"].eq("secondary").fillna(False).to_numpy(), "org_code"].tolist() == ["D"]


def test_recovery_is_real_without_secondary() -> None:
    frame = counts({"A": [3, 20, 30], "B": [12, 40, 50]})
    out = apply_disclosure(frame, DisclosureRule(secondary=False))
    row_total_a = frame.loc[frame["org_code"] == "A", "value"].sum()
    visible = out.loc[(out["org_code"] == "A") & ~out["suppressed"], "value"].sum()
    assert row_total_a - visible == 3  # exactly what secondary suppression prevents


def test_public_names_sorted() -> None:
    from reporting.stats import disclosure

    assert list(disclosure.__all__) == sorted(disclosure.__all__)
    assert all(hasattr(disclosure, name) for name in disclosure.__all__)
