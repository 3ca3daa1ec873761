"""League tables: scores 1.00-4.00 from rank, ties, missing values, AMR/IMR, segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.errors import StatsError
from reporting.stats.league import league_table, metric_score


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_code": ["A", "B", "C", "D", "E"],
            "waits": [90.0, 80.0, 80.0, 70.0, 60.0],  # higher is better; B and C tie
            "falls": [1.0, 2.0, 3.0, 4.0, np.nan],  # lower is better; E missing
        }
    )


def test_metric_score_is_linear_from_one_to_four() -> None:
    assert metric_score([1, 2, 3, 4, 5], [5] * 5).tolist() == [1.0, 1.75, 2.5, 3.25, 4.0]
    assert metric_score([1], [1]).tolist() == [1.0]


def test_ranks_scores_and_ties_hand_checked() -> None:
    out = league_table(_table(), metrics={"waits": True, "falls": False}).set_index("org_code")
    # waits: A=1, B=C=2 (min ties), D=4, E=5 of n=5 -> scores 1, 1.75, 1.75, 3.25, 4
    assert out["waits_rank"].tolist() == [1, 2, 2, 4, 5]
    assert out["waits_score"].tolist() == [1.0, 1.75, 1.75, 3.25, 4.0]
    # falls: n=4 (E missing) -> ranks 1..4, scores 1, 2, 3, 4; E has no falls score
    assert out.loc[["A", "B", "C", "D"], "falls_score"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(out.loc["E", "falls_score"]) and pd.isna(out.loc["E", "falls_rank"])
    # average over available metrics only, with the count shown
    assert out["average_score"].to_dict() == pytest.approx({"A": 1.0, "B": 1.875, "C": 2.375, "D": 3.625, "E": 4.0})
    assert out["metrics_scored"].to_dict() == {"A": 2, "B": 2, "C": 2, "D": 2, "E": 1}
    assert out["amr"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert out["segment"].to_dict() == {"A": 1, "B": 1, "C": 2, "D": 3, "E": 4}  # NOF 2025/26: the quartile
    assert out["quartile"].to_dict() == {"A": 1, "B": 1, "C": 2, "D": 3, "E": 4}


def test_sorted_by_amr_and_tied_average_shares_amr() -> None:
    data = pd.DataFrame({"org_code": ["Z", "Y", "X"], "m": [5.0, 5.0, 1.0]})
    out = league_table(data, metrics={"m": True})
    assert out["org_code"].tolist() == ["Y", "Z", "X"]
    assert out["amr"].tolist() == [1, 1, 3] and out["m_score"].tolist() == [1.0, 1.0, 4.0]


def test_peer_groups_rank_separately() -> None:
    data = _table().assign(pg=["acute", "acute", "acute", "community", "community"])
    out = league_table(data, metrics={"waits": True}, peer_group="pg").set_index("org_code")
    assert out.loc[["A", "B", "C"], "waits_rank"].tolist() == [1, 2, 2]
    assert out.loc[["D", "E"], "waits_score"].tolist() == [1.0, 4.0]
    assert out.loc["D", "amr"] == 1


def test_provider_with_no_values_is_kept_without_score() -> None:
    data = pd.DataFrame({"org_code": ["A", "B", "C"], "m": [1.0, 2.0, np.nan]})
    out = league_table(data, metrics={"m": True}).set_index("org_code")
    assert out.loc["C", "metrics_scored"] == 0
    assert pd.isna(out.loc["C", "average_score"]) and pd.isna(out.loc["C", "amr"]) and pd.isna(out.loc["C", "segment"])


def test_min_metrics_leaves_sparse_providers_unranked() -> None:
    # S has only the second metric, and the best value of it: with one metric required it would top the table
    data = pd.DataFrame({"org_code": ["A", "B", "C", "S"], "m1": [0.9, 0.8, 0.7, np.nan], "m2": [0.2, 0.3, 0.1, 0.0]})
    loose = league_table(data, metrics={"m1": True, "m2": False}).set_index("org_code")
    assert loose.loc["S", "amr"] == 1
    strict = league_table(data, metrics={"m1": True, "m2": False}, min_metrics=2).set_index("org_code")
    assert pd.isna(strict.loc["S", "amr"]) and pd.isna(strict.loc["S", "segment"])
    assert pd.isna(strict.loc["S", "m2_rank"])  # not ranked in the table, so on no metric either: ranks out of 3
    assert strict.loc[["A", "B", "C"], "m2_rank"].tolist() == [2, 3, 1]
    assert strict["amr"].dropna().astype(int).tolist() == [1, 2, 3] and strict.loc["A", "amr"] == 1


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (_table(), {"metrics": {"waits": True}, "min_metrics": 2}, "field 'min_metrics': expected 1 to 1"),
        (_table(), {"metrics": {}}, "field 'metrics'"),
        (_table(), {"metrics": {"nope": True}}, "field 'nope': column not found"),
        (_table(), {"metrics": {"waits": "up"}}, "field 'metrics.waits'"),
        (pd.concat([_table(), _table().head(1)]), {"metrics": {"waits": True}}, "row 6, field 'org_code'"),
        (
            _table().astype({"waits": object}).assign(waits=["1", "x", "2", "3", "4"]),
            {"metrics": {"waits": True}},
            "row 2, field 'waits': expected a number",
        ),
    ],
)
def test_bad_input(data: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(StatsError, match=message):
        league_table(data, **kwargs)
