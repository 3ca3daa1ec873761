"""`funnels()`, the many-funnel pass: each row must be exactly what `funnel()` gives for that funnel alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.errors import StatsError
from reporting.stats.funnel import funnel, funnels

GROUPS = np.array([f"g{i:02d}" for i in range(40)], dtype=object)


def _rows(data_type: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """12 funnels over 40 groups with some groups absent (NaN) in some funnels, small denominators included
    so the PR limits fold back and the grid neighbour test matters."""
    rng = np.random.default_rng(seed)
    shape = (12, len(GROUPS))
    if data_type == "PR":
        den = rng.integers(1, 2500, shape).astype(float)
        den[:, :6] = rng.integers(1, 8, (12, 6))
        den[3] = den[3, 0]  # every denominator equal: ties on the grid
        num = rng.binomial(den.astype(int), rng.uniform(0.1, 0.9, (12, 1))).astype(float)
    else:
        den = np.round(np.exp(rng.uniform(np.log(2), np.log(800), shape)), 3)
        num = np.maximum(rng.poisson(den * np.exp(rng.normal(0, 0.25, shape))), 1).astype(float)
        num[5, :3] = num[5, 3]  # tied z-scores for the SHMI ranks
        den[5, :3] = den[5, 3]
    absent = rng.uniform(size=shape) < 0.2
    absent[0] = False  # one complete funnel
    num[absent] = np.nan
    den[np.roll(absent, 1, axis=1) & absent] = np.nan  # NaN in either marks the cell absent
    return num, den


@pytest.mark.parametrize(
    ("data_type", "sr_method"), [("PR", "SHMI"), ("RC", "SHMI"), ("SR", "SHMI"), ("SR", "CQC")], ids=str
)
@pytest.mark.parametrize("overdispersion", [True, False])
def test_each_row_is_funnel_of_its_groups(data_type: str, sr_method: str, overdispersion: bool) -> None:
    num, den = _rows(data_type, seed=len(data_type) + len(sr_method))
    options = {"data_type": data_type, "sr_method": sr_method, "overdispersion": overdispersion, "limit": 95}
    batch = funnels(GROUPS, num, den, multiplier=100.0, **options)  # type: ignore[arg-type]
    assert len(batch) == len(num)
    for i in range(len(num)):
        here = ~(np.isnan(num[i]) | np.isnan(den[i]))
        alone = funnel(
            pd.DataFrame({"group": GROUPS[here], "numerator": num[i, here], "denominator": den[i, here]}),
            multiplier=100.0,
            **options,  # type: ignore[arg-type]
        )
        got = batch.result(i)
        assert got.points.equals(alone.points), f"row {i}"  # the same floats, not merely close ones
        assert (got.phi, got.tau2, got.target, got.limits_used, got.messages) == (
            alone.phi,
            alone.tau2,
            alone.target,
            alone.limits_used,
            alone.messages,
        )
        assert not batch.outlier[i, ~here].any()


def test_pr_fold_back_is_applied() -> None:
    """Small denominators: the arcsine lower limit folds back, and the grid neighbour test sets it to 0."""
    num, den = _rows("PR", seed=3)
    batch = funnels(GROUPS, num, den, data_type="PR", overdispersion=False)
    assert (batch.limits["lcl998"][:, :6][~np.isnan(den[:, :6])] == 0).any()


@pytest.mark.parametrize(
    ("num", "den", "data_type", "message"),
    [
        ([[1.0, -2.0]], [[5.0, 5.0]], "PR", r"funnel 'ae/2025-06': field 'numerator': group 'b' has a negative value"),
        ([[1.0, 2.0]], [[5.0, 0.0]], "PR", r"funnel 'ae/2025-06': field 'denominator': group 'b' has a value <= 0"),
        ([[6.0, 2.0]], [[5.0, 5.0]], "PR", r"group 'a' has a numerator above its denominator"),
        ([[1.0, np.nan]], [[5.0, 5.0]], "PR", r"funnel 'ae/2025-06': a funnel needs at least 2 groups, got 1"),
        ([[1.0, 2.0]], [[0.001, 5.0]], "SR", r"group 'a' has an expected count that rounds to 0 at 2 d.p."),
        ([[1.0, 2.0, 3.0]], [[5.0, 5.0]], "PR", r"expected \(1 funnels, 2 groups\) arrays"),
    ],
)
def test_bad_input_names_funnel_group_and_field(num: list, den: list, data_type: str, message: str) -> None:
    with pytest.raises(StatsError, match=message):
        funnels(["a", "b"], np.array(num), np.array(den), keys=["ae/2025-06"], data_type=data_type)  # type: ignore[arg-type]


def test_grid_with_no_span_beside_ordinary_funnels() -> None:
    """A PR funnel whose largest denominator is the grid's start (3) has a zero grid step; computed beside
    ordinary funnels it must still be the funnel computed alone (np.linspace treats that row specially)."""
    groups = np.array(["a", "b", "c", "d"], dtype=object)
    num = np.array([[1.0, 2.0, 0.0, 3.0], [10.0, 40.0, 25.0, 70.0]])
    den = np.array([[3.0, 3.0, 1.0, 3.0], [50.0, 90.0, 60.0, 100.0]])
    batch = funnels(groups, num, den, data_type="PR", overdispersion=False)
    for i in range(2):
        frame = pd.DataFrame({"group": groups, "numerator": num[i], "denominator": den[i]})
        assert batch.result(i).points.equals(funnel(frame, data_type="PR", overdispersion=False).points)
