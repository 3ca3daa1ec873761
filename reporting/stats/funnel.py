"""Funnel plots for comparing providers (Spiegelhalter 2005), computed exactly as FunnelPlotR 0.6.0 does.

Pipeline of small pure functions: aggregate by group -> z-scores on a transformed scale -> winsorise
(or SHMI-truncate) -> phi and tau² -> limits on the reference's lookup grid -> outliers. The result
carries its options so charts can draw it (`funnel_curve`) without recomputing anything.

Behaviour worth knowing (all inherited from the reference, pinned by tests/conformance/spc/f0*):
* rows sharing a group are summed, not rejected (FunnelPlotR aggregates record-level data);
* SR with the SHMI method rounds expected counts to 2 d.p. before the z-scores and limits (the plotted
  ratio O/E, `value`, is taken before rounding);
* adjusted ("od_") limits are used for outliers only when overdispersion is on and tau² > 0
  (tau² = 0 whenever n·phi < n − 1), otherwise the unadjusted ones are;
* with overdispersion off, phi and tau² are reported as 0, as the reference does;
* CQC adjusted limits are 1 ± z·√(s² + tau²) on the plotted scale, not squared back from √ scale.

One deliberate deviation: where the reference would go on to infinite phi and limits (SHMI, a group with
0 observed that trimming keeps), `funnel` raises StatsError instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, get_args

import numpy as np
import pandas as pd

from reporting.errors import StatsError
from reporting.stats.variation import (
    FUNNEL_GRID_POINTS,
    FUNNEL_GRID_START_OTHER,
    FUNNEL_GRID_START_SR,
    POISSON_TAILS,
    RC_CONTINUITY,
    SHMI_ROUND_DP,
    TRIM_BY,
    Z_BY_LIMIT,
    limit_key,
)

__all__ = ["FUNNEL_COLUMNS", "FunnelOptions", "FunnelResult", "funnel", "funnel_curve"]

DataType = Literal["PR", "SR", "RC"]
SRMethod = Literal["SHMI", "CQC"]

DATA_TYPES: tuple[DataType, ...] = get_args(DataType)
SR_METHODS: tuple[SRMethod, ...] = get_args(SRMethod)
LIMIT_COLUMNS: tuple[str, ...] = ("lcl95", "ucl95", "lcl998", "ucl998")
OD_LIMIT_COLUMNS: tuple[str, ...] = tuple(f"od_{c}" for c in LIMIT_COLUMNS)
FUNNEL_COLUMNS: tuple[str, ...] = (
    "group",
    "numerator",
    "denominator",
    "value",
    "zscore",
    "zscore_trimmed",
    *LIMIT_COLUMNS,
    *OD_LIMIT_COLUMNS,
    "outlier",
)


@dataclass(frozen=True)
class FunnelOptions:
    """Validated funnel options; names follow FunnelPlotR's arguments (and the cases' options.json)."""

    data_type: DataType = "SR"
    sr_method: SRMethod = "SHMI"
    limit: str = "99.8"
    overdispersion: bool = True
    trim_by: float = TRIM_BY
    multiplier: float = 1.0
    shmi_rounding: bool = True

    @property
    def shmi(self) -> bool:
        """True when the SHMI log-scale method applies (SR data only)."""
        return self.data_type == "SR" and self.sr_method == "SHMI"


@dataclass(frozen=True)
class FunnelResult:
    """One funnel: per-group points with both limit sets, plus phi, tau² and the options used."""

    points: pd.DataFrame
    phi: float
    tau2: float
    target: float
    limits_used: Literal["adjusted", "unadjusted"]
    options: FunnelOptions
    messages: tuple[str, ...] = field(default=())

    @property
    def outliers(self) -> list[str]:
        """Groups outside the chosen limit set (in group order)."""
        return [str(g) for g in self.points.loc[self.points["outlier"], "group"]]

    @property
    def limit(self) -> str:
        """The chosen limit set: "95" or "99.8"."""
        return self.options.limit

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary with the keys of the conformance cases' expected_summary.json."""
        return {
            "target": self.target * self.options.multiplier,
            "target_unscaled": self.target,
            "phi": self.phi,
            "tau2": self.tau2,
            "limit": self.options.limit,
            "limits_used": self.limits_used,
            "draw_adjusted_used": self.limits_used == "adjusted",
            "draw_unadjusted_used": self.limits_used == "unadjusted",
            "outliers": self.outliers,
            "n_groups": len(self.points),
            "messages": list(self.messages),
            "options": {
                "data_type": self.options.data_type,
                "sr_method": self.options.sr_method,
                "limit": self.options.limit,
                "overdispersion": self.options.overdispersion,
                "trim_by": self.options.trim_by,
                "multiplier": self.options.multiplier,
                "SHMI_rounding": self.options.shmi_rounding,
            },
        }

    def curve(self, n: int = 200) -> pd.DataFrame:
        """Limit lines over a grid of denominators; see `funnel_curve`."""
        return funnel_curve(self, n)


# --- options and input ------------------------------------------------------------------------------------


def _is_data_type(value: str) -> TypeGuard[DataType]:
    return value in DATA_TYPES


def _is_sr_method(value: str) -> TypeGuard[SRMethod]:
    return value in SR_METHODS


def _options(
    data_type: str,
    sr_method: str,
    limit: float | int | str,
    overdispersion: bool,
    trim_by: float,
    multiplier: float,
    shmi_rounding: bool,
) -> FunnelOptions:
    dt = str(data_type).upper()
    if not _is_data_type(dt):
        raise StatsError(f"field 'data_type': expected one of {', '.join(DATA_TYPES)}, got {data_type!r}")
    method = str(sr_method).upper()
    if not _is_sr_method(method):
        raise StatsError(f"field 'sr_method': expected one of {', '.join(SR_METHODS)}, got {sr_method!r}")
    if not 0 <= float(trim_by) < 0.5:
        raise StatsError(f"field 'trim_by': expected a proportion in [0, 0.5), got {trim_by!r}")
    if not float(multiplier) > 0:
        raise StatsError(f"field 'multiplier': expected a number > 0, got {multiplier!r}")
    return FunnelOptions(
        dt,
        method,
        limit_key(limit),
        bool(overdispersion),
        float(trim_by),
        float(multiplier),
        bool(shmi_rounding),
    )


def _numbers(data: pd.DataFrame, column: str) -> np.ndarray:
    raw = data[column]
    values: np.ndarray = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise StatsError(f"row {i + 1}, field '{column}': expected a number, got {raw.iloc[i]!r}")
    return values


def _aggregate(data: pd.DataFrame, group: str, numerator: str, denominator: str, dt: str) -> pd.DataFrame:
    """Validate rows, then sum by group; row numbers in messages count data rows from 1 (header excluded)."""
    missing = [c for c in (group, numerator, denominator) if c not in data.columns]
    if missing:
        raise StatsError(f"field '{missing[0]}': column not found (have: {', '.join(map(str, data.columns))})")
    groups = data[group]
    names = groups.astype(str)  # once: under pandas 3 each conversion builds an Arrow string array
    empty = groups.isna().to_numpy() | (names.str.strip() == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise StatsError(f"row {i + 1}, field '{group}': group is empty")
    num = _numbers(data, numerator)
    den = _numbers(data, denominator)
    checks = [
        (num < 0, numerator, "must be >= 0"),
        (den <= 0, denominator, "must be > 0"),
        (
            (num > den) if dt == "PR" else np.zeros(len(num), bool),
            numerator,
            "must not exceed the denominator for a proportion (PR)",
        ),
    ]
    for bad, column, why in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise StatsError(f"row {i + 1}, field '{column}': {why}, got {data[column].iloc[i]!r}")
    labels = names.to_numpy(dtype=object)
    if names.is_unique:  # one row per provider (the usual case): sorting is all the group-by would do
        order = np.argsort(labels, kind="stable")
        agg = pd.DataFrame({"group": labels[order], "numerator": num[order], "denominator": den[order]})
    else:
        agg = (
            pd.DataFrame({"group": labels, "numerator": num, "denominator": den})
            .groupby("group", sort=True, as_index=False)
            .sum()
        )
    if len(agg) < 2:
        raise StatsError(f"field '{group}': a funnel needs at least 2 groups, got {len(agg)}")
    return agg


def _round_like_r(values: np.ndarray, dp: int) -> np.ndarray:
    """Round to the decimal nearest the stored double, as R >= 4.0 round() does (np.round scales by 10^dp
    first and can land one ulp off)."""
    return np.array([round(float(v), dp) for v in values], dtype=float)


# --- statistics --------------------------------------------------------------------------------------------


def _zscores(num: np.ndarray, den: np.ndarray, opts: FunnelOptions) -> tuple[np.ndarray, np.ndarray, float]:
    """Unadjusted z-scores, their within-group SE s, and the (unscaled) target."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if opts.data_type == "SR":
            target = 1.0
            if opts.sr_method == "SHMI":
                s = 1 / np.sqrt(den)
                z = np.sqrt(den) * np.log(num / den)
            else:
                s = 1 / (2 * np.sqrt(den))
                z = (np.sqrt(num / den) - 1) / s
        elif opts.data_type == "PR":
            target = float(num.sum() / den.sum())
            s = 1 / (2 * np.sqrt(den))
            z = (np.arcsin(np.sqrt(num / den)) - np.arcsin(np.sqrt(target))) / s
        else:
            target = float(num.sum() / den.sum())
            c = RC_CONTINUITY
            s = np.sqrt((num / ((num + c) ** 2)) + (den / ((den + c) ** 2)))
            z = (np.log((num + c) / (den + c)) - np.log(target)) / s
    return z, s, target


def _quantile_type7(x: np.ndarray, p: float) -> float:
    """R's default quantile (type 7), written out so winsorisation bounds match the reference bit for bit."""
    xs = np.sort(x[~np.isnan(x)])
    index = 1 + max(len(xs) - 1, 0) * p
    lo, hi = math.floor(index), math.ceil(index)
    q = xs[lo - 1]
    if index > lo and xs[hi - 1] != q:
        h = index - lo
        q = (1 - h) * q + h * xs[hi - 1]
    return float(q)


def _winsorise(z: np.ndarray, trim_by: float) -> np.ndarray:
    """Pull the outer trim_by of z-scores in to the percentile, so a few extreme providers cannot inflate phi."""
    lz, uz = _quantile_type7(z, trim_by), _quantile_type7(z, 1 - trim_by)
    return np.where(z < lz, lz, np.where(z > uz, uz, z))


def _truncate(z: np.ndarray, trim_by: float) -> np.ndarray:
    """SHMI method: drop (NaN) the top and bottom trim_by by rank instead of winsorising."""
    k = 1 / trim_by
    rank = pd.Series(z).rank(method="average").to_numpy()
    sp = np.floor(rank * k / (len(rank) + 1))
    keep = (sp > 0) & (sp < k - 1)
    return np.where(keep, z, np.nan)


def _phi(z_trimmed: np.ndarray) -> float:
    kept = z_trimmed[~np.isnan(z_trimmed)]
    return float((1 / len(kept)) * np.sum(kept**2)) if len(kept) else float("nan")


def _tau2(z_trimmed: np.ndarray, phi: float, s: np.ndarray) -> float:
    """DerSimonian-Laird between-provider variance, from the groups that survived trimming."""
    keep = ~np.isnan(z_trimmed)
    n = float(keep.sum())
    if n == 0 or n * phi < n - 1:
        return 0.0
    w = 1 / (s[keep] ** 2)
    return float(max(0.0, (n * phi - (n - 1)) / (np.sum(w) - (np.sum(w**2) / np.sum(w)))))


# --- limits ------------------------------------------------------------------------------------------------


def _grid(denominators: np.ndarray, opts: FunnelOptions, points: int = FUNNEL_GRID_POINTS) -> np.ndarray:
    """The reference's lookup grid (start..ceiling(max), plus the data's own denominators), sorted, unique."""
    start = FUNNEL_GRID_START_SR if opts.data_type == "SR" else FUNNEL_GRID_START_OTHER
    base = np.linspace(start, float(math.ceil(float(np.max(denominators)))), points)
    return np.unique(np.concatenate([base, denominators]))


def _limits(ns: np.ndarray, opts: FunnelOptions, target: float, tau2: float, adjusted: bool) -> dict[str, np.ndarray]:
    """Four limits (lcl95, ucl95, lcl998, ucl998) on a sorted grid `ns`, scaled by the multiplier.

    Unadjusted SR limits are exact Poisson (chi-square); all other sets use the normal approximation on
    the transformed scale with variance s² + tau² (tau² = 0 when unadjusted).
    """
    m, t2 = opts.multiplier, (tau2 if adjusted else 0.0)
    out: dict[str, np.ndarray] = {}
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
        else:
            lo, hi = _pr_limits(ns, target, z, t2, m)
        out[f"lcl{suffix}"], out[f"ucl{suffix}"] = lo, hi
    return out


def _pr_limits(ns: np.ndarray, target: float, z: float, t2: float, m: float) -> tuple[np.ndarray, np.ndarray]:
    """Arcsine limits, clipped to [0, m]; where the arcsine folds back (small n) the reference's
    neighbour test on the sorted grid replaces the limit by 0 (lower) or m (upper)."""
    s = 1 / (2 * np.sqrt(ns))
    centre = np.arcsin(np.sqrt(target))
    lo = m * (np.sin(centre - z * np.sqrt((s**2) + t2)) ** 2)
    hi = m * (np.sin(centre + z * np.sqrt((s**2) + t2)) ** 2)
    lo = np.where(lo < 0, 0.0, lo)
    hi = np.where(hi > m, m, hi)
    lo_fixed, hi_fixed = lo.copy(), hi.copy()
    lo_fixed[:-1] = np.where(lo[:-1] > lo[1:], 0.0, lo[:-1])
    hi_fixed[:-1] = np.where(hi[:-1] < hi[1:], m, hi[:-1])
    return lo_fixed, hi_fixed


def _limits_at(denominators: np.ndarray, opts: FunnelOptions, target: float, tau2: float) -> dict[str, np.ndarray]:
    """Both limit sets at each denominator, looked up from the reference grid (exact float match)."""
    grid = _grid(denominators, opts)
    pos = np.searchsorted(grid, denominators)
    unadj = _limits(grid, opts, target, tau2, adjusted=False)
    adj = _limits(grid, opts, target, tau2, adjusted=True)
    cols = {c: unadj[c][pos] for c in LIMIT_COLUMNS}
    cols.update({f"od_{c}": adj[c][pos] for c in LIMIT_COLUMNS})
    return cols


# --- public API --------------------------------------------------------------------------------------------


def funnel(
    data: pd.DataFrame,
    *,
    group: str = "group",
    numerator: str = "numerator",
    denominator: str = "denominator",
    data_type: DataType = "SR",
    sr_method: SRMethod = "SHMI",
    limit: float | int | str = 99.8,
    overdispersion: bool = True,
    trim_by: float = TRIM_BY,
    multiplier: float = 1.0,
    shmi_rounding: bool = True,
) -> FunnelResult:
    """Funnel plot data as FunnelPlotR 0.6.0 computes it (defaults as in `funnel_plot()`).

    `data` holds one row per provider (or per record: rows are summed by `group`). For SR the
    denominator is the expected count. `limit` is 95 or 99.8 (99 is accepted as FunnelPlotR's name
    for 99.8). `overdispersion` is FunnelPlotR's `draw_adjusted`. Raises StatsError naming the row
    (1 = first data row) and field for unusable input.
    """
    opts = _options(data_type, sr_method, limit, overdispersion, trim_by, multiplier, shmi_rounding)
    agg = _aggregate(data, group, numerator, denominator, opts.data_type)
    num = agg["numerator"].to_numpy(dtype=float)
    den = agg["denominator"].to_numpy(dtype=float)
    ratio = num / den  # the reference takes the plotted ratio before rounding SHMI expected counts
    if opts.shmi and opts.shmi_rounding:
        den = _round_like_r(den, SHMI_ROUND_DP)
        if (den <= 0).any():
            i = int(np.flatnonzero(den <= 0)[0])
            raise StatsError(
                f"field '{denominator}': group {agg['group'].iloc[i]!r} has an expected count that "
                f"rounds to 0 at {SHMI_ROUND_DP} d.p."
            )
    z, s, target = _zscores(num, den, opts)
    z_trim = _truncate(z, opts.trim_by) if opts.shmi else _winsorise(z, opts.trim_by)
    if opts.overdispersion and not np.isfinite(z_trim[~np.isnan(z_trim)]).all():
        # the reference carries on and draws infinite limits; refuse instead (only SHMI with 0 observed
        # in a group that trimming keeps, i.e. fewer than 1/trim_by groups, gets here)
        i = int(np.flatnonzero(~np.isfinite(z_trim) & ~np.isnan(z_trim))[0])
        raise StatsError(
            f"field '{numerator}': group {agg['group'].iloc[i]!r} has 0 observed, so its SHMI "
            "log-scale z-score is infinite and trimming did not remove it; use sr_method='CQC', "
            "more groups, or overdispersion off"
        )
    phi = _phi(z_trim)
    tau2 = _tau2(z_trim, phi, s)
    messages: list[str] = []
    if not opts.overdispersion:
        phi, tau2 = 0.0, 0.0
        messages.append("overdispersion adjustment switched off: using unadjusted limits")
    adjusted = opts.overdispersion and tau2 != 0
    if opts.overdispersion and not adjusted:
        messages.append("no overdispersion detected (tau2 = 0): using unadjusted limits")
    columns: dict[str, Any] = {
        "group": agg["group"].to_numpy(),
        "numerator": num,
        "denominator": den,
        "value": ratio * opts.multiplier,
        "zscore": z,
        "zscore_trimmed": z_trim,
        **_limits_at(den, opts, target, tau2),
    }
    suffix = "95" if opts.limit == "95" else "998"
    prefix = "od_" if adjusted else ""
    lo, hi = columns[f"{prefix}lcl{suffix}"], columns[f"{prefix}ucl{suffix}"]
    columns["outlier"] = ~((columns["value"] <= hi) & (columns["value"] >= lo))
    points = pd.DataFrame({c: columns[c] for c in FUNNEL_COLUMNS})  # built once, in the published order
    return FunnelResult(
        points=points,
        phi=phi,
        tau2=tau2,
        target=target,
        limits_used="adjusted" if adjusted else "unadjusted",
        options=opts,
        messages=tuple(messages),
    )


def funnel_curve(result: FunnelResult, n: int = 200) -> pd.DataFrame:
    """Target and both limit sets over `n` denominators from the reference's grid start to the largest
    denominator, for drawing the funnel; a charting layer never has to recompute anything."""
    if n < 2:
        raise StatsError(f"field 'n': a funnel curve needs at least 2 points, got {n}")
    opts = result.options
    den = result.points["denominator"].to_numpy(dtype=float)
    start = FUNNEL_GRID_START_SR if opts.data_type == "SR" else FUNNEL_GRID_START_OTHER
    grid = np.linspace(start, float(math.ceil(float(den.max()))), n)
    unadj = _limits(grid, opts, result.target, result.tau2, adjusted=False)
    adj = _limits(grid, opts, result.target, result.tau2, adjusted=True)
    frame = pd.DataFrame({"denominator": grid, "target": result.target * opts.multiplier})
    for c in LIMIT_COLUMNS:
        frame[c] = unadj[c]
    for c in LIMIT_COLUMNS:
        frame[f"od_{c}"] = adj[c]
    return frame
