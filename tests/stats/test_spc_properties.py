"""Properties any correct MDC engine has, checked on random series (hypothesis, kept small and fast).

Values are multiples of 1/8 so sums and differences are exact in floating point; where a property involves
rounding (translation, scaling by 10) we skip the rare draws with a point within a rounding error of a line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reporting.stats.spc import SPCOptions, spc

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.lists(st.integers(-400, 400).map(lambda v: v / 8), min_size=2, max_size=40)
directions = st.sampled_from(["increase", "decrease", "neutral"])
charts = st.sampled_from(["xmr", "run"])
SWAP = {
    "special_cause_improvement": "special_cause_concern",
    "special_cause_concern": "special_cause_improvement",
    "special_cause_neutral_high": "special_cause_neutral_low",
    "special_cause_neutral_low": "special_cause_neutral_high",
    "common_cause": "common_cause",
}
OPPOSITE = {"increase": "decrease", "decrease": "increase", "neutral": "neutral"}


def frame(ys: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"x": pd.date_range("2020-01-01", periods=len(ys), freq="MS"), "y": ys})


def types(ys: list[float], **options: object) -> list[str]:
    return spc(frame(ys), SPCOptions(**options)).points["point_type"].tolist()  # type: ignore[arg-type]


def clear_of_lines(ys: list[float], **options: object) -> bool:
    """No point within a rounding error of a limit or 2-sigma line (exact ties with the mean are safe)."""
    pts = spc(frame(ys), SPCOptions(**options)).points  # type: ignore[arg-type]
    y = pts["y"].to_numpy()
    scale = 1e-9 * (1 + np.abs(y).max())
    for col in ("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma"):
        d = np.abs(y - pts[col].to_numpy())
        near = (d < scale) if col != "mean" else ((d > 0) & (d < scale))
        if np.nan_to_num(near).any():
            return False
    return True


@FAST
@given(ys=values, c=st.integers(-1000, 1000), direction=directions, chart=charts, screen=st.booleans())
def test_adding_a_constant_keeps_point_types(ys: list[float], c: int, direction: str, chart: str, screen: bool) -> None:
    opts = {"improvement": direction, "chart": chart, "screen_outliers": screen}
    assume(clear_of_lines(ys, **opts) and clear_of_lines([v + c for v in ys], **opts))
    assert types([v + c for v in ys], **opts) == types(ys, **opts)


@FAST
@given(ys=values, k=st.sampled_from([0.25, 0.5, 2.0, 4.0, 1024.0]), direction=directions, chart=charts)
def test_scaling_by_a_power_of_two_keeps_point_types_exactly(
    ys: list[float], k: float, direction: str, chart: str
) -> None:
    assert types([v * k for v in ys], improvement=direction, chart=chart) == types(
        ys, improvement=direction, chart=chart
    )


@FAST
@given(ys=values, direction=directions)
def test_scaling_by_ten_keeps_point_types(ys: list[float], direction: str) -> None:
    scaled = [v * 10 for v in ys]
    assume(clear_of_lines(ys, improvement=direction) and clear_of_lines(scaled, improvement=direction))
    assert types(scaled, improvement=direction) == types(ys, improvement=direction)


@FAST
@given(ys=values, direction=directions, chart=charts)
def test_mirror_symmetry(ys: list[float], direction: str, chart: str) -> None:
    # equal neighbours can make the reference label a trend point "Decreasing" whatever its direction
    assume(all(a != b for a, b in zip(ys, ys[1:])))
    mirrored = [-v for v in ys]
    original = types(ys, improvement=direction, chart=chart)
    # negating y alone turns improvement into concern and high into low ...
    assert types(mirrored, improvement=direction, chart=chart) == [SWAP[t] for t in original]
    # ... and negating y while swapping the direction changes nothing but the neutral side
    expected = original if direction != "neutral" else [SWAP[t] for t in original]
    assert types(mirrored, improvement=OPPOSITE[direction], chart=chart) == expected


@FAST
@given(
    value=st.floats(-1e6, 1e6, allow_nan=False),
    n=st.integers(2, 40),
    direction=directions,
    chart=st.sampled_from(["xmr", "run", "c"]),
    screen=st.booleans(),
)
def test_constant_series_has_no_special_cause(value: float, n: int, direction: str, chart: str, screen: bool) -> None:
    if chart == "c":
        value = abs(value)
    options = SPCOptions(chart=chart, improvement=direction, screen_outliers=screen)  # type: ignore[arg-type]
    res = spc(frame([value] * n), options)
    assert (res.points["point_type"] == "common_cause").all()
    assert res.summary["variation_icon"].iloc[0] == "common_cause"


@FAST
@given(
    series=st.lists(values, min_size=1, max_size=5), direction=directions, chart=charts, fix=st.sampled_from([None, 12])
)
def test_many_series_at_once_equal_one_at_a_time(
    series: list[list[float]], direction: str, chart: str, fix: int | None
) -> None:
    options = SPCOptions(chart=chart, improvement=direction, fix_after_n_points=fix)  # type: ignore[arg-type]
    together = spc(pd.concat([frame(ys).assign(org=i) for i, ys in enumerate(series)]), options, by=["org"])
    for i, ys in enumerate(series):
        alone = spc(frame(ys), options)
        mine = together.points[together.points["org"] == i].drop(columns=["org", "row"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.points.drop(columns="row"))
        summary = together.summary[together.summary["org"] == i].drop(columns="org").reset_index(drop=True)
        pd.testing.assert_frame_equal(summary, alone.summary)
