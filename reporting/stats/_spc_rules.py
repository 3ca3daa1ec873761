"""Limits and the Making Data Count special-cause rules over many series at once.

Every function takes flat numpy arrays holding many groups back to back (``first`` marks the first point of
each group, a group being one series x rebase group, points sorted by x, gaps already removed) and works
with run-length arithmetic, so there is no Python loop per point or per series. Each rule mirrors one helper
of NHSRplotthedots 0.2.2 ``R/ptd_calculate_point_type.R``; the docstrings say where the reference's
behaviour is subtle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reporting.stats.constants import (
    CLOSE_TO_LIMITS_MULTIPLIER,
    D2,
    MR_SCREEN_MULTIPLIER,
    RATIO_SIGMA_MULTIPLIER,
    SHIFT_RUN_LENGTH,
    TREND_RUN_LENGTH,
    TWO_IN_THREE_MIN_CLOSE,
    TWO_IN_THREE_WINDOW,
    XMR_LIMIT_MULTIPLIER,
)

__all__ = [
    "CODE_ABOVE_2IN3",
    "CODE_ABOVE_SHIFT",
    "CODE_ABOVE_UCL",
    "CODE_BELOW_2IN3",
    "CODE_BELOW_LCL",
    "CODE_BELOW_SHIFT",
    "CODE_COMMON",
    "CODE_TREND_DOWN",
    "CODE_TREND_UP",
    "PROPORTION_CHARTS",
    "Lines",
    "accurate_group_mean",
    "chart_lines",
    "clip_lines",
    "close_to_limits",
    "code_side",
    "group_mean",
    "group_median",
    "outside_limits",
    "point_type_codes",
    "run_ids",
    "run_lengths",
    "screened_amr",
    "shift_flags",
    "special_cause_codes",
    "trend_flags",
    "trend_signs",
    "two_in_three_flags",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Rule codes index constants.SPECIAL_CAUSE_LABELS: odd = high side, even non-zero = low side.
CODE_COMMON, CODE_ABOVE_UCL, CODE_BELOW_LCL = 0, 1, 2
CODE_TREND_UP, CODE_TREND_DOWN = 3, 4
CODE_ABOVE_2IN3, CODE_BELOW_2IN3 = 5, 6
CODE_ABOVE_SHIFT, CODE_BELOW_SHIFT = 7, 8

#: Charts of proportions: limits are clipped at 1 as well as at 0.
PROPORTION_CHARTS: tuple[str, ...] = ("p", "pp")


def group_median(values: FloatArray, g: IntArray, n_groups: int) -> FloatArray:
    """Median per group id (sorted once by group then value); NaN for a group with no values."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    order = np.lexsort((values, g))
    v, gg = values[order], g[order]
    counts = np.bincount(gg, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (v[lo] + v[hi]) / 2
    return out


def _run_starts(values: npt.NDArray[np.generic], first: BoolArray) -> IntArray:
    """Where each maximal run of equal values starts; a group start always starts a run."""
    new = first.copy()
    new[1:] |= values[1:] != values[:-1]
    return np.flatnonzero(new)


def run_ids(values: npt.NDArray[np.generic], first: BoolArray) -> tuple[IntArray, IntArray]:
    """Label maximal runs of equal values that never cross a group start; return (run id, run length).

    From the run starts and np.repeat: a cumulative sum over a boolean array costs several times as much."""
    n = len(values)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lengths = np.diff(np.append(_run_starts(values, first), n))
    return np.repeat(np.arange(len(lengths)), lengths), lengths


def run_lengths(values: npt.NDArray[np.generic], first: BoolArray) -> IntArray:
    """The length of the run (as run_ids labels them) that each element belongs to."""
    lengths = np.diff(np.append(_run_starts(values, first), len(values)))
    out: IntArray = np.repeat(lengths, lengths)
    return out


def outside_limits(y: FloatArray, lpl: FloatArray, upl: FloatArray) -> BoolArray:
    """Strictly beyond a process limit; a missing limit (one-point group, run chart) never counts."""
    with np.errstate(invalid="ignore"):
        return (y > upl) | (y < lpl)


def close_to_limits(y: FloatArray, lower2: FloatArray, upper2: FloatArray, outside: BoolArray) -> BoolArray:
    """Beyond a 2-sigma line but not beyond the process limit (an outside point is never 'close')."""
    with np.errstate(invalid="ignore"):
        return ~outside & ((y < lower2) | (y > upper2))


def shift_flags(rtm: IntArray, first: BoolArray, run_length: int = SHIFT_RUN_LENGTH) -> BoolArray:
    """Every point of a run of >= run_length points on one side of the centre line.

    Same result as ptd_part_of_seven_trend(ptd_seven_point_one_side_mean(.)): a point on the line (0) breaks
    the run and belongs to none.
    """
    flags: BoolArray = (rtm != 0) & (run_lengths(rtm, first) >= run_length)
    return flags


def _steps(y: FloatArray, first: BoolArray) -> IntArray:
    """sign(y[i] - y[i-1]) within a group, 0 at each group start."""
    s = np.zeros(len(y), np.int64)
    if len(y) > 1:
        s[1:] = np.sign(y[1:] - y[:-1]).astype(np.int64)
    s[first] = 0
    return s


def trend_flags(y: FloatArray, first: BoolArray, run_length: int = TREND_RUN_LENGTH) -> BoolArray:
    """Every point of a run of >= run_length points each strictly above (or below) the previous one.

    Runs of run_length - 1 equal non-zero step signs, plus the point the run starts from. Equal
    neighbours (step 0) break a trend; trends may cross the mean.
    """
    s = _steps(y, first)
    step_in_trend = (s != 0) & (run_lengths(s, first) >= run_length - 1)
    part: BoolArray = step_in_trend.copy()
    part[:-1] |= step_in_trend[1:]  # the point a trend starts from; step_in_trend is False at group starts
    return part


def trend_signs(y: FloatArray, first: BoolArray, trend: BoolArray) -> IntArray:
    """Direction used to label a trend point, exactly as the reference picks it.

    The step to the next point when the next point is in a trend too, else the step from the previous point.
    A zero step (possible only where two trends meet at a tie) gives 0, which the reference labels
    "Decreasing"; we keep that for parity.
    """
    s = _steps(y, first)
    nxt = np.zeros_like(s)
    nxt[:-1] = s[1:]
    right = trend.copy()
    right[:-1] &= trend[1:] & ~first[1:]
    right[-1:] = False
    return np.where(right, nxt, s)


def two_in_three_flags(close: BoolArray, rtm: IntArray, first: BoolArray) -> BoolArray:
    """Close points in some window of 3 (within a group) all on one side of the mean with >= 2 close.

    Only the close points are flagged, not the third point of the window (ptd_part_of_two_in_three).
    """
    n = len(close)
    w = TWO_IN_THREE_WINDOW
    hit = np.zeros(n, bool)
    if n < w:
        return hit
    c = close.astype(np.int64)
    k = n - w + 1
    same_group = np.ones(k, bool)  # windows that straddle a group start are discarded
    for j in range(1, w):
        same_group &= ~first[j : j + k]
    csum = sum(c[j : j + k] for j in range(w))
    rsum = sum(rtm[j : j + k] for j in range(w))
    window = same_group & (csum >= TWO_IN_THREE_MIN_CLOSE) & (np.abs(rsum) == w)
    for j in range(w):  # a point is hit by any window that contains it
        hit[j : j + k] |= window
    return hit & close


def special_cause_codes(
    outside: BoolArray,
    trend: BoolArray,
    trend_sign: IntArray,
    two_in_three: BoolArray,
    shift: BoolArray,
    rtm: IntArray,
) -> IntArray:
    """One rule code per point with the reference's precedence: outside > trend > two-in-three > shift.

    Nested np.where on the codes' arithmetic (high side odd, low side the next even code): np.select with its
    per-choice arrays costs more than all the rules."""
    low = rtm <= 0
    codes: IntArray = np.where(
        outside,
        CODE_ABOVE_UCL + (rtm != 1),
        np.where(
            trend,
            CODE_TREND_UP + (trend_sign != 1),
            np.where(two_in_three, CODE_ABOVE_2IN3 + low, np.where(shift, CODE_ABOVE_SHIFT + low, CODE_COMMON)),
        ),
    ).astype(np.int64, copy=False)
    return codes


def code_side(codes: IntArray) -> IntArray:
    """+1 for a high-side label (Above/Increasing), -1 for low (Below/Decreasing), 0 for common cause."""
    return np.where(codes == CODE_COMMON, 0, np.where(codes % 2 == 1, 1, -1)).astype(np.int64)


_ALL_CODES = np.arange(CODE_BELOW_SHIFT + 1, dtype=np.int64)


def point_type_codes(codes: IntArray, direction: int) -> IntArray:
    """Index into constants.POINT_TYPES: side x improvement direction (+1 increase, -1 decrease, 0 neutral),
    looked up per rule code."""
    side = code_side(_ALL_CODES)
    if direction == 0:
        table = np.select([side > 0, side < 0], [3, 4], 0).astype(np.int64)
    else:
        oriented = side * direction
        table = np.select([oriented > 0, oriented < 0], [1, 2], 0).astype(np.int64)
    out: IntArray = table[codes]
    return out


# --- Limits: group statistics from the baseline, then lines for every row ------------------------------


@dataclass
class Lines:
    """Centre line and the 3-, 2- and 1-sigma lines for every row (NaN where a chart has none)."""

    mean: FloatArray
    lpl: FloatArray
    upl: FloatArray
    lower2: FloatArray
    upper2: FloatArray
    lower1: FloatArray
    upper1: FloatArray


def group_mean(values: FloatArray, g: IntArray, n_groups: int) -> FloatArray:
    """Mean per group id; NaN for a group with no values."""
    counts = np.bincount(g, minlength=n_groups)
    sums = np.bincount(g, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def accurate_group_mean(values: FloatArray, g: IntArray, n_groups: int) -> FloatArray:
    """Mean with R's refinement pass (mean(x) adds mean(x - m) to m), so a constant series has mean == value
    exactly; otherwise rounding puts every point a hair above or below its own mean and fakes a shift."""
    m = group_mean(values, g, n_groups)
    if len(values) == 0:
        return m
    return m + group_mean(values - m[g], g, n_groups)


def screened_amr(
    values: FloatArray, g: IntArray, first: BoolArray, used: BoolArray, n_groups: int, screen: bool
) -> FloatArray:
    """AMR per group of consecutive baseline values, optionally screened once at 3.267 x AMR.

    A group whose AMR is 0 is left unscreened (the reference would screen out every range and end with NaN limits).
    """
    ok = ~first & used
    ok[:1] = False
    mr = np.zeros(len(values))
    mr[1:] = np.abs(values[1:] - values[:-1])
    amr = group_mean(mr[ok], g[ok], n_groups)
    if screen:
        with np.errstate(invalid="ignore"):
            limit = MR_SCREEN_MULTIPLIER * amr[g]
            keep = ok & ((mr < limit) | (amr[g] == 0))
        amr = group_mean(mr[keep], g[keep], n_groups)
    return amr


def chart_lines(
    kind: str,
    y: FloatArray,
    num: FloatArray,
    den: FloatArray,
    gid: IntArray,
    n_groups: int,
    vidx: IntArray,
    first_v: BoolArray,
    used_v: BoolArray,
    screen: bool,
) -> Lines:
    """Centre line and limits for every row of one chart kind.

    y, num, den and gid cover every row (gaps included, so a gap still gets its group's lines); vidx picks
    the rows with a value, and first_v / used_v mark group starts and baseline points among those.
    Group statistics come from the baseline points only.
    """
    G = n_groups
    g_v = gid[vidx]
    y_v = y[vidx]
    gu, yu = g_v[used_v], y_v[used_v]
    nan = np.full(len(y), np.nan)
    if kind == "xmr":
        mean_g = accurate_group_mean(yu, gu, G)
        amr_g = screened_amr(y_v, g_v, first_v, used_v, G, screen)
        mean, amr = mean_g[gid], amr_g[gid]
        w3, w2, w1 = XMR_LIMIT_MULTIPLIER * amr, CLOSE_TO_LIMITS_MULTIPLIER * amr, (XMR_LIMIT_MULTIPLIER / 3) * amr
        return Lines(mean, mean - w3, mean + w3, mean - w2, mean + w2, mean - w1, mean + w1)
    if kind == "run":
        centre_g = group_median(yu, gu, G)
        return Lines(centre_g[gid], nan, nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy())
    if kind == "c":
        cl = accurate_group_mean(yu, gu, G)[gid]
        sigma = np.sqrt(cl)
        return clip_lines(kind, cl, sigma)
    # p, pp, u, up: PowerBI-SPC centre line sum(num) / sum(den) over the baseline
    num_u, den_u = num[vidx][used_v], den[vidx][used_v]
    with np.errstate(invalid="ignore", divide="ignore"):
        cl_g = np.bincount(gu, weights=num_u, minlength=G) / np.bincount(gu, weights=den_u, minlength=G)
    cl = cl_g[gid]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(cl * (1 - cl) / den) if kind in PROPORTION_CHARTS else np.sqrt(cl / den)
    if kind in ("pp", "up"):
        z_v = (y_v - cl[vidx]) / sd[vidx]
        amr_g = screened_amr(z_v, g_v, first_v, used_v, G, screen)
        sd = sd * (amr_g[gid] / D2)
    return clip_lines(kind, cl, sd)


def clip_lines(kind: str, cl: FloatArray, sigma: FloatArray) -> Lines:
    """Limits at 1, 2, 3 sigma, clipped at 0 (and at 1 for proportions) as PowerBI-SPC does."""

    def lo(k: float) -> FloatArray:
        return np.maximum(0.0, cl - k * sigma)

    def hi(k: float) -> FloatArray:
        v = cl + k * sigma
        return np.minimum(1.0, v) if kind in PROPORTION_CHARTS else v

    k3 = RATIO_SIGMA_MULTIPLIER
    k2 = 2 * RATIO_SIGMA_MULTIPLIER / 3
    k1 = RATIO_SIGMA_MULTIPLIER / 3
    return Lines(cl, lo(k3), hi(k3), lo(k2), hi(k2), lo(k1), hi(k1))
