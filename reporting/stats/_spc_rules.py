"""Limits and the Making Data Count special-cause rules over many series at once.

Every function takes flat numpy arrays holding many groups back to back (``first`` marks the first point of
each group, a group being one series x rebase group, points sorted by x, gaps already removed) and works
with run-length arithmetic, so there is no Python loop per point or per series. Each rule mirrors one helper
of NHSRplotthedots 0.2.2 ``R/ptd_calculate_point_type.R``; the docstrings say where the reference's
behaviour is subtle.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
    "group_sizes",
    "in_long_run",
    "group_median",
    "outside_limits",
    "point_type_codes",
    "run_lengths_to",
    "screened_amr",
    "shift_flags",
    "special_cause_codes",
    "steps",
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


def run_lengths_to(values: npt.NDArray[np.generic], first: BoolArray, positions: IntArray) -> IntArray:
    """How many elements of its run lead up to each position, that one included (for a position that ends its
    run, the run's length), from the run starts alone."""
    starts = _run_starts(values, first)
    out: IntArray = positions - starts[np.searchsorted(starts, positions, side="right") - 1] + 1
    return out


def outside_limits(y: FloatArray, lpl: FloatArray, upl: FloatArray) -> BoolArray:
    """Strictly beyond a process limit; a missing limit (one-point group, run chart) never counts."""
    with np.errstate(invalid="ignore"):
        return (y > upl) | (y < lpl)


def close_to_limits(y: FloatArray, lower2: FloatArray, upper2: FloatArray, outside: BoolArray) -> BoolArray:
    """Beyond a 2-sigma line but not beyond the process limit (an outside point is never 'close')."""
    with np.errstate(invalid="ignore"):
        return ~outside & ((y < lower2) | (y > upper2))


def in_long_run(values: npt.NDArray[np.generic], first: BoolArray, length: int) -> BoolArray:
    """Whether each element is in a run of >= length equal values that crosses no group start.

    Such a run holds a window of `length` equal values around every one of its points, so the test is a few
    shifted boolean ANDs and ORs: no run labels, no cumulative sums, no np.repeat over many short runs."""
    n = len(values)
    out = np.zeros(n, bool)
    if n < length or length < 1:
        return out if length >= 1 else np.ones(n, bool)
    same = values[1:] == values[:-1]  # element i + 1 continues the run of element i
    same &= ~first[1:]
    k = n - length + 1
    window = np.ones(k, bool)
    for j in range(length - 1):
        window &= same[j : j + k]
    for j in range(length):
        out[j : j + k] |= window
    return out


def shift_flags(rtm: IntArray, first: BoolArray, run_length: int = SHIFT_RUN_LENGTH) -> BoolArray:
    """Every point of a run of >= run_length points on one side of the centre line.

    Same result as ptd_part_of_seven_trend(ptd_seven_point_one_side_mean(.)): a point on the line (0) breaks
    the run and belongs to none.
    """
    flags: BoolArray = (rtm != 0) & in_long_run(rtm, first, run_length)
    return flags


def steps(y: FloatArray, first: BoolArray) -> IntArray:
    """sign(y[i] - y[i-1]) within a group, 0 at each group start (y has no gaps, so no NaN)."""
    s = np.zeros(len(y), np.int64)
    if len(y) > 1:
        up, down = y[1:] > y[:-1], y[1:] < y[:-1]
        s[1:] = up
        s[1:] -= down
    s[first] = 0
    return s


def trend_flags(
    y: FloatArray, first: BoolArray, run_length: int = TREND_RUN_LENGTH, *, step: IntArray | None = None
) -> BoolArray:
    """Every point of a run of >= run_length points each strictly above (or below) the previous one.

    Runs of run_length - 1 equal non-zero step signs, plus the point the run starts from. Equal
    neighbours (step 0) break a trend; trends may cross the mean. ``step``: steps(y, first), if already made.
    """
    s = steps(y, first) if step is None else step
    step_in_trend = (s != 0) & in_long_run(s, first, run_length - 1)
    part: BoolArray = step_in_trend.copy()
    part[:-1] |= step_in_trend[1:]  # the point a trend starts from; step_in_trend is False at group starts
    return part


def trend_signs(y: FloatArray, first: BoolArray, trend: BoolArray, *, step: IntArray | None = None) -> IntArray:
    """Direction used to label a trend point, exactly as the reference picks it.

    The step to the next point when the next point is in a trend too, else the step from the previous point.
    A zero step (possible only where two trends meet at a tie) gives 0, which the reference labels
    "Decreasing"; we keep that for parity.
    """
    s = steps(y, first) if step is None else step
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
    c = close.view(np.int8)  # small sums in one byte each
    r = rtm.astype(np.int8)
    k = n - w + 1
    same_group = np.ones(k, bool)  # windows that straddle a group start are discarded
    for j in range(1, w):
        same_group &= ~first[j : j + k]
    csum = c[:k].copy()
    rsum = r[:k].copy()
    for j in range(1, w):
        csum += c[j : j + k]
        rsum += r[j : j + k]
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

    Arithmetic on one-byte masks (a rule's high-side code, plus 1 on the low side, where that rule wins):
    np.select, or np.where with scalar choices, costs more than all the rules together."""
    u8 = np.uint8
    low = (rtm <= 0).view(u8)
    o = outside
    t = trend & ~o
    rest = ~(o | trend)
    w = two_in_three & rest
    h = shift & rest & ~two_in_three
    codes8 = o.view(u8) * (u8(CODE_ABOVE_UCL) + (rtm != 1).view(u8))
    codes8 += t.view(u8) * (u8(CODE_TREND_UP) + (trend_sign != 1).view(u8))
    codes8 += w.view(u8) * (u8(CODE_ABOVE_2IN3) + low)
    codes8 += h.view(u8) * (u8(CODE_ABOVE_SHIFT) + low)
    codes: IntArray = codes8.astype(np.int64)
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


@dataclass(frozen=True, eq=False)
class Lines:
    """Centre line and the 3- and 2-sigma lines for every row (NaN where a chart has none), which the rules
    read; the 1-sigma lines only the points frame shows, so they are computed from ``sigma`` when first read."""

    kind: str
    mean: FloatArray
    lpl: FloatArray
    upl: FloatArray
    lower2: FloatArray
    upper2: FloatArray
    sigma: FloatArray  # per row: the screened AMR (xmr), sigma (p, pp, u, up, c); NaN for a run chart

    @cached_property
    def _one_sigma(self) -> tuple[FloatArray, FloatArray]:
        if self.kind == "xmr":
            w1 = (XMR_LIMIT_MULTIPLIER / 3) * self.sigma
            return self.mean - w1, self.mean + w1
        if self.kind == "run":
            return np.full(len(self.mean), np.nan), np.full(len(self.mean), np.nan)
        return _clipped(self.kind, self.mean, self.sigma, RATIO_SIGMA_MULTIPLIER / 3)

    @property
    def lower1(self) -> FloatArray:
        return self._one_sigma[0]

    @property
    def upper1(self) -> FloatArray:
        return self._one_sigma[1]


def group_sizes(g: IntArray, n_groups: int) -> IntArray:
    """Rows per group of a sorted group-id array (0 for an id that does not occur): what np.repeat needs to
    spread one value per group over its rows, at a tenth of the cost of indexing by the ids."""
    sizes: IntArray = np.diff(np.searchsorted(g, np.arange(n_groups + 1)))
    return sizes


def group_mean(values: FloatArray, g: IntArray, n_groups: int) -> FloatArray:
    """Mean per group id (g sorted); NaN for a group with no values."""
    counts = group_sizes(g, n_groups)
    sums = np.bincount(g, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def accurate_group_mean(values: FloatArray, g: IntArray, n_groups: int) -> FloatArray:
    """Mean with R's refinement pass (mean(x) adds mean(x - m) to m), so a constant series has mean == value
    exactly; otherwise rounding puts every point a hair above or below its own mean and fakes a shift."""
    m = group_mean(values, g, n_groups)
    if len(values) == 0:
        return m
    return m + group_mean(values - np.repeat(m, group_sizes(g, n_groups)), g, n_groups)


def screened_amr(
    values: FloatArray, g: IntArray, first: BoolArray, used: BoolArray, n_groups: int, screen: bool
) -> FloatArray:
    """AMR per group (g sorted) of consecutive baseline values, optionally screened once at 3.267 x AMR.

    A group whose AMR is 0 is left unscreened (the reference would screen out every range and end with NaN limits).
    """
    ok = ~first & used
    ok[:1] = False
    mr = np.zeros(len(values))
    mr[1:] = np.abs(values[1:] - values[:-1])
    amr = group_mean(mr[ok], g[ok], n_groups)
    if screen:
        amr_row = np.repeat(amr, group_sizes(g, n_groups))
        with np.errstate(invalid="ignore"):
            keep = ok & ((mr < MR_SCREEN_MULTIPLIER * amr_row) | (amr_row == 0))
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
    *,
    every: bool = False,
    all_used: bool = False,
) -> Lines:
    """Centre line and limits for every row of one chart kind.

    y, num, den and gid cover every row (gaps included, so a gap still gets its group's lines; gid sorted);
    vidx picks the rows with a value (``every``: all rows have one), and first_v / used_v mark group starts and
    baseline points among those (``all_used``: every point is in the baseline). Group statistics come from the
    baseline points only; a line that is constant within a group is computed per group and then spread.
    """
    G = n_groups
    g_v = gid if every else gid[vidx]
    y_v = y if every else y[vidx]
    gu, yu = (g_v, y_v) if all_used else (g_v[used_v], y_v[used_v])
    sizes = group_sizes(gid, G)

    def spread(per_group: FloatArray) -> FloatArray:
        out: FloatArray = np.repeat(per_group, sizes)
        return out

    if kind == "xmr":
        mean_g = accurate_group_mean(yu, gu, G)
        amr_g = screened_amr(y_v, g_v, first_v, used_v, G, screen)
        w3, w2 = XMR_LIMIT_MULTIPLIER * amr_g, CLOSE_TO_LIMITS_MULTIPLIER * amr_g
        return Lines(
            kind,
            spread(mean_g),
            spread(mean_g - w3),
            spread(mean_g + w3),
            spread(mean_g - w2),
            spread(mean_g + w2),
            spread(amr_g),
        )
    if kind == "run":
        nan = np.full(len(y), np.nan)
        return Lines(kind, spread(group_median(yu, gu, G)), nan, nan.copy(), nan.copy(), nan.copy(), nan.copy())
    if kind == "c":
        cl = spread(accurate_group_mean(yu, gu, G))
        return clip_lines(kind, cl, np.sqrt(cl))
    # p, pp, u, up: PowerBI-SPC centre line sum(num) / sum(den) over the baseline
    num_v, den_v = (num, den) if every else (num[vidx], den[vidx])
    num_u, den_u = (num_v, den_v) if all_used else (num_v[used_v], den_v[used_v])
    with np.errstate(invalid="ignore", divide="ignore"):
        cl_g = np.bincount(gu, weights=num_u, minlength=G) / np.bincount(gu, weights=den_u, minlength=G)
    cl = spread(cl_g)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(cl * (1 - cl) / den) if kind in PROPORTION_CHARTS else np.sqrt(cl / den)
    if kind in ("pp", "up"):
        z_v = (y_v - (cl if every else cl[vidx])) / (sd if every else sd[vidx])
        amr_g = screened_amr(z_v, g_v, first_v, used_v, G, screen)
        sd = sd * (spread(amr_g) / D2)
    return clip_lines(kind, cl, sd)


def _clipped(kind: str, cl: FloatArray, sigma: FloatArray, k: float) -> tuple[FloatArray, FloatArray]:
    """The k-sigma lines, clipped at 0 (and at 1 for proportions) as PowerBI-SPC does."""
    hi = cl + k * sigma
    return np.maximum(0.0, cl - k * sigma), np.minimum(1.0, hi) if kind in PROPORTION_CHARTS else hi


def clip_lines(kind: str, cl: FloatArray, sigma: FloatArray) -> Lines:
    """Limits at 3 and 2 sigma (1 sigma when read), clipped at 0 (and at 1 for proportions) as PowerBI-SPC does."""
    lpl, upl = _clipped(kind, cl, sigma, RATIO_SIGMA_MULTIPLIER)
    lower2, upper2 = _clipped(kind, cl, sigma, 2 * RATIO_SIGMA_MULTIPLIER / 3)
    return Lines(kind, cl, lpl, upl, lower2, upper2, sigma)
