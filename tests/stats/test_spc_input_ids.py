"""The SPC input's series ids and sort, done without a pandas group-by, must be what the group-by gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.stats.spc import SPCOptions, spc
from reporting.stats.spc_input import _series_ids


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "org": rng.choice(np.array(["RJ1", "R0B", "RXW", None], dtype=object), n),
            "metric": rng.integers(0, 5, n),
            "wide": rng.integers(0, 10**6, n),  # many distinct keys: the sorting path
            "score": rng.choice([1.5, np.nan, -2.0], n),
        }
    )


@pytest.mark.parametrize("by", [("org",), ("metric",), ("org", "metric"), ("wide", "org", "score"), ("score", "org")])
def test_series_ids_are_the_group_by_numbers(by: tuple[str, ...]) -> None:
    frame = _frame(400, seed=len(by))
    want = frame.groupby(list(by), sort=True, dropna=False).ngroup().to_numpy()
    assert (_series_ids(frame, by) == want).all()


@pytest.mark.parametrize("column", ["metric", "score", "wide"])
def test_series_ids_of_one_sorted_key(column: str) -> None:
    """One sorted numeric key takes a shortcut (ids where the key changes); missing keys still go last."""
    frame = _frame(300, seed=9).sort_values(column, kind="stable").reset_index(drop=True)
    want = frame.groupby([column], sort=True, dropna=False).ngroup().to_numpy()
    assert (_series_ids(frame, (column,)) == want).all()


def test_input_order_does_not_matter() -> None:
    """Sorted input skips the sort; shuffled input is sorted: both give the same frames."""
    rng = np.random.default_rng(5)
    data = pd.DataFrame(
        {
            "org": np.repeat(["RJ1", "R0B", "RXW"], 30),
            "x": np.tile(np.arange(1, 31), 3),
            "y": rng.normal(50, 5, 90),
        }
    )
    ordered = spc(data, SPCOptions(), by=["org"])
    shuffled = spc(data.sample(frac=1, random_state=3), SPCOptions(), by=["org"])
    assert ordered.points.drop(columns="row").equals(shuffled.points.drop(columns="row"))
    assert ordered.summary.equals(shuffled.summary)
    assert ordered.groups.equals(shuffled.groups)
    assert ordered.points["org"].tolist()[:31] == ["R0B"] * 30 + ["RJ1"]
