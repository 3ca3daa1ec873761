"""Numpy floor sketches: the least work that gives the same answers as our engines, for the benchmarks' ratios.

Each sketch assumes the benchmark's tidy input (sorted, every series the same length, no gaps, no rebase,
no validation, no output frame) and uses only numpy on 2-D arrays, so "ours / floor" says what the engine's
checks, generality and pandas shell cost. `bench_spc.py` and `bench_funnel.py` check that a sketch gives
exactly our answers before they time it; a sketch that disagrees is a failed benchmark, not a floor.

    spc_floor(y, num, den, n_series, chart) -> point-type index per point (constants.POINT_TYPES)
    funnel_floor(num, den, target, multiplier) -> (z, lcl95, ucl95, lcl998, ucl998, outlier code) per provider
"""

from __future__ import annotations

import numpy as np

from reporting.stats.constants import (
    CLOSE_TO_LIMITS_MULTIPLIER,
    MR_SCREEN_MULTIPLIER,
    RATIO_SIGMA_MULTIPLIER,
    SHIFT_RUN_LENGTH,
    TREND_RUN_LENGTH,
    XMR_LIMIT_MULTIPLIER,
)

__all__ = ["funnel_floor", "spc_floor"]


def _run_lengths(values: np.ndarray) -> np.ndarray:
    """Length of the run of equal values (along each row) that each element belongs to."""
    s, t = values.shape
    new = np.ones((s, t), bool)
    new[:, 1:] = values[:, 1:] != values[:, :-1]
    flat = new.ravel()
    rid = np.cumsum(flat) - 1
    return np.bincount(rid)[rid].reshape(s, t)


def spc_floor(
    y: np.ndarray, num: np.ndarray | None, den: np.ndarray | None, n_series: int, chart: str, direction: int = 1
) -> np.ndarray:
    """MDC point types (increase = improvement) for `n_series` equal-length series of an xmr or p chart."""
    Y = y.reshape(n_series, -1)
    if chart == "xmr":
        m = Y.mean(axis=1, keepdims=True)
        mean = m + (Y - m).mean(axis=1, keepdims=True)  # R's refined mean, as the engine takes it
        mr = np.abs(np.diff(Y, axis=1))
        amr = mr.mean(axis=1, keepdims=True)
        keep = (mr < MR_SCREEN_MULTIPLIER * amr) | (amr == 0)
        amr = (mr * keep).sum(axis=1, keepdims=True) / keep.sum(axis=1, keepdims=True)
        upl, lpl = mean + XMR_LIMIT_MULTIPLIER * amr, mean - XMR_LIMIT_MULTIPLIER * amr
        up2, lo2 = mean + CLOSE_TO_LIMITS_MULTIPLIER * amr, mean - CLOSE_TO_LIMITS_MULTIPLIER * amr
    else:
        N, D = num.reshape(n_series, -1), den.reshape(n_series, -1)  # type: ignore[union-attr]
        mean = N.sum(axis=1, keepdims=True) / D.sum(axis=1, keepdims=True)
        sd = np.sqrt(mean * (1 - mean) / D)
        k2 = 2 * RATIO_SIGMA_MULTIPLIER / 3
        upl, lpl = (
            np.minimum(1.0, mean + RATIO_SIGMA_MULTIPLIER * sd),
            np.maximum(0.0, mean - RATIO_SIGMA_MULTIPLIER * sd),
        )
        up2, lo2 = np.minimum(1.0, mean + k2 * sd), np.maximum(0.0, mean - k2 * sd)
    outside = (Y > upl) | (Y < lpl)
    rtm = np.sign(Y - mean).astype(np.int64)
    shift = (rtm != 0) & (_run_lengths(rtm) >= SHIFT_RUN_LENGTH)
    steps = np.zeros(Y.shape, np.int64)
    steps[:, 1:] = np.sign(np.diff(Y, axis=1))
    in_trend = (steps != 0) & (_run_lengths(steps) >= TREND_RUN_LENGTH - 1)
    trend = in_trend.copy()
    trend[:, :-1] |= in_trend[:, 1:]
    nxt = np.zeros_like(steps)
    nxt[:, :-1] = steps[:, 1:]
    right = np.zeros_like(trend)
    right[:, :-1] = trend[:, :-1] & trend[:, 1:]
    trend_up = np.where(right, nxt, steps) == 1
    close = ~outside & ((Y < lo2) | (Y > up2))
    c = close.astype(np.int64)
    window = ((c[:, :-2] + c[:, 1:-1] + c[:, 2:]) >= 2) & (np.abs(rtm[:, :-2] + rtm[:, 1:-1] + rtm[:, 2:]) == 3)
    hit = np.zeros(Y.shape, bool)
    for j in range(3):
        hit[:, j : Y.shape[1] - 2 + j] |= window
    two = hit & close
    side = np.select([outside, trend, two, shift], [rtm, np.where(trend_up, 1, -1), rtm, rtm], 0) * direction
    return np.select([side > 0, side < 0], [1, 2], 0).ravel()


def _type7(sorted_rows: np.ndarray, p: float) -> np.ndarray:
    """R's type-7 quantile of each (sorted) row, written as the engine writes it, so bounds match exactly."""
    n = sorted_rows.shape[1]
    index = 1 + (n - 1) * p
    lo, hi = int(np.floor(index)), int(np.ceil(index))
    q = sorted_rows[:, lo - 1]
    h = index - lo
    if index > lo:
        q = np.where(sorted_rows[:, hi - 1] != q, (1 - h) * q + h * sorted_rows[:, hi - 1], q)
    return q


def funnel_floor(num: np.ndarray, den: np.ndarray, z_limit: float, trim_by: float = 0.1) -> np.ndarray:
    """Outliers (overdispersion-adjusted PR limits at each provider's own denominator) of many funnels at
    once: rows are funnels, columns providers (one row per provider, no grid, no validation)."""
    target = num.sum(axis=1, keepdims=True) / den.sum(axis=1, keepdims=True)
    s = 1 / (2 * np.sqrt(den))
    centre = np.arcsin(np.sqrt(target))
    z = (np.arcsin(np.sqrt(num / den)) - centre) / s
    ordered = np.sort(z, axis=1)
    lz, uz = _type7(ordered, trim_by)[:, None], _type7(ordered, 1 - trim_by)[:, None]
    zw = np.where(z < lz, lz, np.where(z > uz, uz, z))
    n = z.shape[1]
    phi = (1 / n) * np.sum(zw**2, axis=1, keepdims=True)
    w = 1 / s**2
    tau2 = np.where(
        n * phi < n - 1,
        0.0,
        np.maximum(
            0.0,
            (n * phi - (n - 1))
            / (w.sum(axis=1, keepdims=True) - (w**2).sum(axis=1, keepdims=True) / w.sum(axis=1, keepdims=True)),
        ),
    )
    t2 = np.where(tau2 != 0, tau2, 0.0)
    spread = z_limit * np.sqrt(s**2 + t2)
    lo = np.maximum(np.sin(centre - spread) ** 2, 0.0)
    hi = np.minimum(np.sin(centre + spread) ** 2, 1.0)
    value = num / den
    return ~((value <= hi) & (value >= lo))
