"""League tables by the NOF 2025/26 method: a small worked example done by hand, and the rules it rests on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.errors import StatsError
from reporting.stats.league import adjusted_segment, league_table, min_rank, quartile_of


def _eight() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_code": list("ABCDEFGH"),
            "ae": [0.90, 0.85, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60],  # higher is better; B and C tie
            "wait": [10.0, 30.0, 20.0, 40.0, 50.0, 60.0, 80.0, 70.0],  # lower is better
            "deficit": ["no", "yes", "", "no", "no", "no", "no", "no"],
            "pip": ["no", "no", "no", "no", "yes", "no", "no", "no"],
        }
    )


def test_worked_example_by_hand() -> None:
    """Eight providers, two metrics, n = 8, so a metric score is 1 + 3 (r - 1) / 7 = (4 + 3r) / 7.

    ae (higher is better): A .90, B .85, C .85, D .80, E .75, F .70, G .65, H .60
        ranks (ties "min"): A 1, B 2, C 2, D 4, E 5, F 6, G 7, H 8
        scores in sevenths:  A 7, B 10, C 10, D 16, E 19, F 22, G 25, H 28
    wait (lower is better): A 10, B 30, C 20, D 40, E 50, F 60, G 80, H 70
        ranks: A 1, C 2, B 3, D 4, E 5, F 6, H 7, G 8
        scores in sevenths:  A 7, C 10, B 13, D 16, E 19, F 22, H 25, G 28
    average score in fourteenths: A 14, B 23, C 20, D 32, E 38, F 44, G 53, H 53
        i.e. 1.000, 1.643, 1.429, 2.286, 2.714, 3.143, 3.786, 3.786 (G and H tie)
    rank of the average: A 1, C 2, B 3, D 4, E 5, F 6, G 7, H 7
    quartile = 1 + floor(4 (r - 1) / 8): A 1, C 1, B 2, D 2, E 3, F 3, G 4, H 4
    adjustments: B is in deficit, so no higher than segment 3 (2 -> 3); E is in intensive support (-> 5)
    segments: A 1, C 1, D 2, B 3, F 3, G 4, H 4, E 5
    AMR, by segment then average: A 1, C 2, D 3, B 4 (3, 1.643), F 5 (3, 3.143), G 6, H 6 (tied), E 8
    change to the next segment (fall in average score to equal the worst provider in a better quartile):
        A, C: none (segment 1); B: none (the override holds it at 3); E: none (segment 5);
        D: 32/14 - 20/14 (C, worst of quartile 1) = 12/14 = 0.857
        F: 44/14 - 32/14 (D, worst of quartiles 1-2) = 12/14 = 0.857
        G, H: 53/14 - 44/14 (F, worst of quartiles 1-3; E counts by its scores) = 9/14 = 0.643
    """
    out = league_table(
        _eight(), metrics={"ae": True, "wait": False}, in_deficit="deficit", intensive_support="pip"
    ).set_index("org_code")
    assert out["ae_rank"].to_dict() == {"A": 1, "B": 2, "C": 2, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8}
    assert out["wait_rank"].to_dict() == {"A": 1, "C": 2, "B": 3, "D": 4, "E": 5, "F": 6, "H": 7, "G": 8}
    sevenths = {"A": 7, "B": 10, "C": 10, "D": 16, "E": 19, "F": 22, "G": 25, "H": 28}
    assert out["ae_score"].to_dict() == pytest.approx({k: v / 7 for k, v in sevenths.items()})
    fourteenths = {"A": 14, "B": 23, "C": 20, "D": 32, "E": 38, "F": 44, "G": 53, "H": 53}
    assert out["average_score"].to_dict() == pytest.approx({k: v / 14 for k, v in fourteenths.items()})
    assert out["score_rank"].to_dict() == {"A": 1, "C": 2, "B": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 7}
    assert out["quartile"].to_dict() == {"A": 1, "C": 1, "B": 2, "D": 2, "E": 3, "F": 3, "G": 4, "H": 4}
    assert out["segment"].to_dict() == {"A": 1, "C": 1, "D": 2, "B": 3, "F": 3, "G": 4, "H": 4, "E": 5}
    assert out["amr"].to_dict() == {"A": 1, "C": 2, "D": 3, "B": 4, "F": 5, "G": 6, "H": 6, "E": 8}
    assert list(out.index) == list("ACDBFGHE")  # the table is in league order
    step = out["to_next_segment"]
    assert step[["A", "C", "B", "E"]].isna().all()
    assert step[["D", "F", "G", "H"]].tolist() == pytest.approx([12 / 14, 12 / 14, 9 / 14, 9 / 14])
    assert (out["n_ranked"] == 8).all()


def test_reaching_the_stated_change_does_reach_the_next_segment() -> None:
    # D improves its average by exactly its stated change: scores are recomputed from a new value that ties C
    # on both metrics, and D then shares C's rank and quartile
    data = _eight()
    data.loc[data["org_code"] == "D", ["ae", "wait"]] = [0.85, 20.0]
    out = league_table(data, metrics={"ae": True, "wait": False}).set_index("org_code")
    assert out.loc["D", "average_score"] == pytest.approx(20 / 14)
    assert out.loc["D", "quartile"] == 1


def test_without_adjustment_columns_the_segment_is_the_quartile() -> None:
    out = league_table(_eight(), metrics={"ae": True, "wait": False})
    assert (out["segment"] == out["quartile"]).all()
    assert (out["amr"] == out["score_rank"]).all()
    assert not out["in_deficit"].any() and not out["intensive_support"].any()


def test_every_rank_is_out_of_the_providers_ranked() -> None:
    # S has one metric of two, so it is not ranked; the others' metric ranks stop at n = 8
    data = pd.concat([_eight(), pd.DataFrame({"org_code": ["S"], "ae": [0.99], "wait": [np.nan]})])
    out = league_table(data, metrics={"ae": True, "wait": False}, min_metrics=2).set_index("org_code")
    assert out.loc[["S"], ["ae_rank", "amr", "segment"]].isna().all(axis=None)
    assert out["ae_rank"].max() == 8 and out["wait_rank"].max() == 8 and out["amr"].max() == 7  # G, H tie at 7
    assert (out["n_ranked"] == 8).all()
    assert out.loc["A", "ae_rank"] == 1 and out.loc["S", "ae"] == 0.99  # the value is kept for display


def test_helpers() -> None:
    assert min_rank([3.0, 1.0, 1.0, np.nan, 2.0]).tolist()[:3] == [4.0, 1.0, 1.0]
    assert np.isnan(min_rank([np.nan])).all()
    assert min_rank([[2.0, 1.0], [1.0, 1.0]]).tolist() == [[2.0, 1.0], [1.0, 1.0]]
    assert quartile_of([1, 2, 3, 4, 5], 5).tolist() == [1, 1, 2, 3, 4]
    assert adjusted_segment([1, 2, 4, 1], [True, True, True, False], [False, False, False, True]).tolist() == [
        3,
        3,
        4,
        5,
    ]


def test_bad_adjustment_column_names_row_and_field() -> None:
    data = _eight().assign(deficit=["no", "maybe", "", "no", "no", "no", "no", "no"])
    with pytest.raises(StatsError, match=r"row 2, field 'in_deficit' \(column 'deficit'\): expected yes or no"):
        league_table(data, metrics={"ae": True}, in_deficit="deficit")
    with pytest.raises(StatsError, match="field 'nope': column not found"):
        league_table(_eight(), metrics={"ae": True}, intensive_support="nope")
