"""The funnel engine's statistics (z-scores, winsorising or SHMI truncation, phi and tau², limits on the
reference's grid) for many funnels at once: every function works on (funnels, groups) arrays, with absent
cells masked out, so `reporting.stats.funnel.funnels` is one pass however many funnels it is given.

Each computes, per funnel, the same floats as FunnelPlotR's one-funnel arithmetic written out in numpy (sums
over a funnel's kept cells only, the reference's quantiles, grid and neighbour test), which is what lets
`funnel()` be the one-row case with unchanged results.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from reporting.stats.variation import (
    FUNNEL_GRID_POINTS,
    FUNNEL_GRID_START_OTHER,
    FUNNEL_GRID_START_SR,
    POISSON_TAILS,
    RC_CONTINUITY,
    Z_BY_LIMIT,
)

__all__ = [
    "FunnelMethod",
    "following",
    "grid_start",
    "limits",
    "phi",
    "round_like_r",
    "tau2",
    "truncate",
    "winsorise",
    "zscores",
]


class FunnelMethod(Protocol):
    """What the statistics read of the options (reporting.stats.funnel.FunnelOptions, which sits above)."""

    @property
    def data_type(self) -> str: ...

    @property
    def sr_method(self) -> str: ...

    @property
    def multiplier(self) -> float: ...


def round_like_r(values: np.ndarray, dp: int) -> np.ndarray:
    """Round to the decimal nearest the stored double, as R >= 4.0 round() does (np.round scales by 10^dp
    first and can land one ulp off)."""
    flat = [round(float(v), dp) for v in values.ravel()]
    return np.array(flat, dtype=float).reshape(values.shape)


# --- statistics ---------------------------------------------------------------------------------------------


def row_sum(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Sum of each row's kept cells, as a (funnels, 1) column. Rows with cells left out are summed one by one
    over their kept cells only: numpy's pairwise summation groups a longer row differently, and one funnel's
    sums must be the same floats however many funnels are computed with it."""
    if keep.all():
        whole: np.ndarray = values.sum(axis=1, keepdims=True)
        return whole
    return np.array([[row[k].sum()] for row, k in zip(values, keep, strict=True)], dtype=float).reshape(-1, 1)


def zscores(
    num: np.ndarray, den: np.ndarray, present: np.ndarray, opts: FunnelMethod
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unadjusted z-scores, their within-group SE s, and each funnel's (unscaled) target as a column."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if opts.data_type == "SR":
            target = np.ones((num.shape[0], 1))
            if opts.sr_method == "SHMI":
                s = 1 / np.sqrt(den)
                z = np.sqrt(den) * np.log(num / den)
            else:
                s = 1 / (2 * np.sqrt(den))
                z = (np.sqrt(num / den) - 1) / s
        elif opts.data_type == "PR":
            target = row_sum(num, present) / row_sum(den, present)
            s = 1 / (2 * np.sqrt(den))
            z = (np.arcsin(np.sqrt(num / den)) - np.arcsin(np.sqrt(target))) / s
        else:
            target = row_sum(num, present) / row_sum(den, present)
            c = RC_CONTINUITY
            s = np.sqrt((num / ((num + c) ** 2)) + (den / ((den + c) ** 2)))
            z = (np.log((num + c) / (den + c)) - np.log(target)) / s
    return np.where(present, z, np.nan), s, target


def quantile_type7(ordered: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """R's default quantile (type 7) of each row's first n[row] sorted values, written out so winsorisation
    bounds match the reference bit for bit; a (funnels, 1) column."""
    index = 1 + np.maximum(n - 1, 0) * p
    lo, hi = np.floor(index).astype(np.intp), np.ceil(index).astype(np.intp)
    q = np.take_along_axis(ordered, lo - 1, axis=1)
    upper = np.take_along_axis(ordered, hi - 1, axis=1)
    h = index - lo
    return np.where((index > lo) & (upper != q), (1 - h) * q + h * upper, q)


def winsorise(z: np.ndarray, n: np.ndarray, trim_by: float) -> np.ndarray:
    """Pull the outer trim_by of z-scores in to the percentile, so a few extreme providers cannot inflate phi."""
    ordered = np.sort(z, axis=1)  # absent (NaN) cells sort last, past each row's n values
    lz, uz = quantile_type7(ordered, n, trim_by), quantile_type7(ordered, n, 1 - trim_by)
    return np.where(z < lz, lz, np.where(z > uz, uz, z))


def truncate(z: np.ndarray, n: np.ndarray, trim_by: float) -> np.ndarray:
    """SHMI method: drop (NaN) the top and bottom trim_by by rank instead of winsorising (ranks of ties are
    averaged, as pandas' and R's rank do)."""
    k = 1 / trim_by
    order = np.argsort(z, axis=1, kind="stable")  # absent (NaN) cells last
    ordered = np.take_along_axis(z, order, axis=1)
    cols = ordered.shape[1]
    starts = np.ones(ordered.shape, bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    position = np.broadcast_to(np.arange(cols), ordered.shape)
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)  # where each run of ties starts
    start_at = np.where(starts, position, cols)
    following = np.concatenate([start_at[:, 1:], np.full((len(z), 1), cols)], axis=1)
    next_start = np.minimum.accumulate(following[:, ::-1], axis=1)[:, ::-1]
    rank_sorted = (first + next_start + 1) / 2  # mean of the 1-based ranks first+1 .. next_start
    rank = np.empty(ordered.shape)
    np.put_along_axis(rank, order, rank_sorted, axis=1)
    sp = np.floor(rank * k / (n + 1))
    keep = (sp > 0) & (sp < k - 1) & ~np.isnan(z)
    return np.where(keep, z, np.nan)


def phi(z_trimmed: np.ndarray) -> np.ndarray:
    kept = ~np.isnan(z_trimmed)
    n = kept.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (1 / n) * row_sum(z_trimmed**2, kept), np.nan)


def tau2(z_trimmed: np.ndarray, phi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """DerSimonian-Laird between-provider variance, from the groups that survived trimming."""
    keep = ~np.isnan(z_trimmed)
    n = keep.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 1 / (s**2)
        sw = row_sum(w, keep)
        tau2 = np.maximum(0.0, (n * phi - (n - 1)) / (sw - (row_sum(w**2, keep) / sw)))
    return np.where((n == 0) | (n * phi < n - 1), 0.0, tau2)


# --- limits ------------------------------------------------------------------------------------------------


def grid_start(opts: FunnelMethod) -> float:
    return FUNNEL_GRID_START_SR if opts.data_type == "SR" else FUNNEL_GRID_START_OTHER


def limits(
    ns: np.ndarray,
    opts: FunnelMethod,
    target: float | np.ndarray,
    tau2: float | np.ndarray,
    adjusted: bool,
    following: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Four limits (lcl95, ucl95, lcl998, ucl998) at denominators `ns`, scaled by the multiplier; `target`
    and `tau2` are scalars or one value per row of `ns`.

    Unadjusted SR limits are exact Poisson (chi-square); all other sets use the normal approximation on
    the transformed scale with variance s² + tau² (tau² = 0 when unadjusted). PR limits need each point's
    neighbour on the reference's grid: `following` (the next grid denominator, NaN for none), or, when it is
    None, `ns` is that sorted grid itself.
    """
    m, t2 = opts.multiplier, (tau2 if adjusted else 0.0)
    out: dict[str, np.ndarray] = {}
    if opts.data_type == "PR":  # s² and the arcsine centre are the same for both levels: computed once
        pr_at = pr_terms(ns, target)
        pr_next = pr_terms(following, target) if following is not None else pr_at
    for key, suffix in (("95", "95"), ("99.8", "998")):
        z = Z_BY_LIMIT[key]
        if opts.data_type == "SR" and not adjusted:
            q_low, q_high = POISSON_TAILS[key]
            # chi2.isf(q, df) is scipy.special.chdtri(df, q), which scipy.stats itself calls: the same numbers
            # without importing scipy.stats (over a second of a cold build) for one quantile
            from scipy.special import chdtri

            lo = m * target * (chdtri(2 * ns, q_low) / 2) / ns
            hi = m * target * (chdtri(2 * (ns + 1), q_high) / 2) / ns
        elif opts.data_type == "SR" and opts.sr_method == "SHMI":
            lo = m * np.exp(-z * np.sqrt((1 / ns) + t2))
            hi = m * np.exp(z * np.sqrt((1 / ns) + t2))
        elif opts.data_type == "SR":
            s = 1 / (2 * np.sqrt(ns))
            lo = m * (1 - (z * np.sqrt(s**2 + t2)))
            hi = m * (1 + (z * np.sqrt(s**2 + t2)))
        elif opts.data_type == "RC":
            s = 1 / (2 * np.sqrt(ns))
            lo = m * np.exp(np.log(target) - (z * np.sqrt(s**2 + t2)))
            hi = m * np.exp(np.log(target) + (z * np.sqrt(s**2 + t2)))
        elif following is None:
            lo, hi = pr_raw(pr_at, z, t2, m)
            lo, hi = pr_fold(lo[..., :-1], hi[..., :-1], lo[..., 1:], hi[..., 1:], m, lo[..., -1:], hi[..., -1:])
        else:
            lo, hi = pr_raw(pr_at, z, t2, m)
            with np.errstate(invalid="ignore"):
                lo_next, hi_next = pr_raw(pr_next, z, t2, m)
            fixed_lo, fixed_hi = pr_fold(lo, hi, lo_next, hi_next, m)
            last = np.isnan(following)  # the grid's last point has no neighbour and is kept
            lo, hi = np.where(last, lo, fixed_lo), np.where(last, hi, fixed_hi)
        out[f"lcl{suffix}"], out[f"ucl{suffix}"] = lo, hi
    return out


def pr_terms(ns: np.ndarray, target: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s² at each denominator (NaN stays NaN) and the centre on the arcsine scale."""
    with np.errstate(invalid="ignore"):
        return (1 / (2 * np.sqrt(ns))) ** 2, np.asarray(np.arcsin(np.sqrt(target)))


def pr_raw(
    terms: tuple[np.ndarray, np.ndarray], z: float, t2: float | np.ndarray, m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arcsine limits, clipped to [0, m], from `pr_terms` (s², centre)."""
    s2, centre = terms
    half_width = z * np.sqrt(s2 + t2)
    lo = m * (np.sin(centre - half_width) ** 2)
    hi = m * (np.sin(centre + half_width) ** 2)
    return np.where(lo < 0, 0.0, lo), np.where(hi > m, m, hi)


def pr_fold(
    lo: np.ndarray,
    hi: np.ndarray,
    lo_next: np.ndarray,
    hi_next: np.ndarray,
    m: float,
    lo_tail: np.ndarray | None = None,
    hi_tail: np.ndarray | None = None,
) -> np.ndarray:
    """Where the arcsine folds back (small n), the reference's neighbour test on the sorted grid replaces the
    limit by 0 (lower) or m (upper): a point's limit is compared with the next grid point's. The grid's last
    point (`*_tail`, when given) has no neighbour and is kept."""
    fixed_lo = np.where(lo > lo_next, 0.0, lo)
    fixed_hi = np.where(hi < hi_next, m, hi)
    if lo_tail is not None and hi_tail is not None:
        fixed_lo = np.concatenate([fixed_lo, lo_tail], axis=-1)
        fixed_hi = np.concatenate([fixed_hi, hi_tail], axis=-1)
    return np.stack([fixed_lo, fixed_hi])


def following(den: np.ndarray, present: np.ndarray, opts: FunnelMethod) -> np.ndarray:
    """Each denominator's successor on its funnel's reference grid (NaN where it is the grid's last point).

    The grid is FUNNEL_GRID_POINTS evenly spaced denominators from the start to the ceiling of the largest,
    plus the funnel's own denominators, sorted and unique; so the successor is the nearer of the next grid
    point above and the next larger denominator of the same funnel. Found for all funnels at once, with no
    grid built."""
    start = grid_start(opts)
    filled = np.where(present, den, -np.inf)
    stop = np.ceil(filled.max(axis=1))
    last = FUNNEL_GRID_POINTS - 1
    step = ((stop - start) / last)[:, None]  # np.linspace(start, stop, FUNNEL_GRID_POINTS) is k * step + start
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = np.floor((den - start) / step)
    guess = np.nan_to_num(guess, nan=0.0, posinf=0.0, neginf=0.0).clip(0, last)
    above = np.full(den.shape, np.inf)
    for offset in (-1, 0, 1, 2):  # the guess is at most one place out: the first point above is among these
        k = np.clip(guess + offset, 0, last)
        # point k of the funnel's own np.linspace, the same float: its last point is `stop` exactly, and a
        # zero step (stop == start) gives start everywhere
        at = np.where(k == last, stop[:, None], np.where(step == 0, start, k * step + start))
        above = np.where((at > den) & (at < above), at, above)
    order = np.argsort(np.where(present, den, np.inf), axis=1, kind="stable")
    ordered = np.take_along_axis(np.where(present, den, np.inf), order, axis=1)
    # the next larger denominator: the value after each run of equal ones in sorted order
    change = np.empty(ordered.shape)
    change[:, :-1] = np.where(ordered[:, 1:] != ordered[:, :-1], ordered[:, 1:], np.nan)
    change[:, -1] = np.inf
    change = np.where(np.isnan(change), np.inf, change)
    reverse_min = np.minimum.accumulate(change[:, ::-1], axis=1)[:, ::-1]
    larger = np.empty(ordered.shape)
    np.put_along_axis(larger, order, reverse_min, axis=1)
    nearest = np.minimum(above, larger)
    return np.where(np.isfinite(nearest) & present, nearest, np.nan)
