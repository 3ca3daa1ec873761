"""Funnel plots for comparing providers (Spiegelhalter 2005), computed exactly as FunnelPlotR 0.6.0 does.

Pipeline of small pure functions: aggregate by group -> z-scores on a transformed scale -> winsorise
(or SHMI-truncate) -> phi and tau² -> limits on the reference's lookup grid -> outliers. The arithmetic
(stats/_funnel_math.py) runs on (funnels, groups) arrays: `funnels` computes many funnels in one pass, and
`funnel` is its one-row case. The result carries its options so charts can draw it (`funnel_curve`) without
recomputing anything.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, get_args

import numpy as np
import pandas as pd

from reporting.errors import StatsError
from reporting.stats import _funnel_math as fm
from reporting.stats.variation import SHMI_ROUND_DP, TRIM_BY, limit_key

__all__ = ["FUNNEL_COLUMNS", "FunnelOptions", "FunnelResult", "FunnelSet", "funnel", "funnel_curve", "funnels"]

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


# --- public API --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelSet:
    """Many funnels over one list of groups, as (funnels, groups) arrays: NaN (False for `outlier`) where a
    group has no data in a funnel. Row i is exactly what `funnel()` gives for that funnel's groups;
    `result(i)` builds that FunnelResult only when a caller wants one."""

    keys: tuple[str, ...]
    groups: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    zscore: np.ndarray
    zscore_trimmed: np.ndarray
    limits: dict[str, np.ndarray]
    outlier: np.ndarray
    phi: np.ndarray
    tau2: np.ndarray
    target: np.ndarray
    adjusted: np.ndarray
    options: FunnelOptions

    def __len__(self) -> int:
        return len(self.keys)

    def messages(self, i: int) -> tuple[str, ...]:
        if not self.options.overdispersion:
            return ("overdispersion adjustment switched off: using unadjusted limits",)
        if not self.adjusted[i]:
            return ("no overdispersion detected (tau2 = 0): using unadjusted limits",)
        return ()

    def result(self, i: int) -> FunnelResult:
        """Funnel i as a FunnelResult over the groups that have data in it (in group order)."""
        here = ~np.isnan(self.denominator[i])
        columns: dict[str, np.ndarray] = {
            "group": self.groups[here],
            "numerator": self.numerator[i, here],
            "denominator": self.denominator[i, here],
            "value": self.value[i, here],
            "zscore": self.zscore[i, here],
            "zscore_trimmed": self.zscore_trimmed[i, here],
            **{c: v[i, here] for c, v in self.limits.items()},
            "outlier": self.outlier[i, here],
        }
        return FunnelResult(
            points=pd.DataFrame({c: columns[c] for c in FUNNEL_COLUMNS}),  # built once, in the published order
            phi=float(self.phi[i]),
            tau2=float(self.tau2[i]),
            target=float(self.target[i]),
            limits_used="adjusted" if self.adjusted[i] else "unadjusted",
            options=self.options,
            messages=self.messages(i),
        )


def funnels(
    groups: Sequence[str] | np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    keys: Sequence[str] | None = None,
    data_type: DataType = "SR",
    sr_method: SRMethod = "SHMI",
    limit: float | int | str = 99.8,
    overdispersion: bool = True,
    trim_by: float = TRIM_BY,
    multiplier: float = 1.0,
    shmi_rounding: bool = True,
    fields: tuple[str, str] = ("numerator", "denominator"),
) -> FunnelSet:
    """Many funnels (for example every metric x period) in one vectorised pass, each as `funnel()` computes it.

    `numerator` and `denominator` are (funnels, groups) arrays over the same `groups` (unique names, in the
    order the results keep; `funnel()` sorts them); NaN in either marks a group with no data in that funnel.
    `keys` name the funnels in messages (default: their row numbers from 1); `fields` name the two values.
    Options are `funnel()`'s. Raises StatsError naming the funnel, group and field for unusable input.
    """
    opts = _options(data_type, sr_method, limit, overdispersion, trim_by, multiplier, shmi_rounding)
    names = np.asarray(groups, dtype=object)
    num = np.atleast_2d(np.asarray(numerator, dtype=float))
    den = np.atleast_2d(np.asarray(denominator, dtype=float))
    labels = tuple(str(k) for k in keys) if keys is not None else tuple(str(i + 1) for i in range(len(num)))
    if num.shape != den.shape or num.shape[1:] != names.shape or len(labels) != len(num):
        raise StatsError(
            f"field '{fields[0]}': expected ({len(labels)} funnels, {len(names)} groups) arrays, "
            f"got {num.shape} and {den.shape}"
        )
    present = ~(np.isnan(num) | np.isnan(den))

    def fail(bad: np.ndarray, field_name: str, why: str) -> None:
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise StatsError(f"funnel {labels[i]!r}: field '{field_name}': group {names[j]!r} {why}")

    fail(present & ~(np.isfinite(num) & np.isfinite(den)), fields[0], "is not a finite number")
    fail(present & (num < 0), fields[0], "has a negative value")
    fail(present & (den <= 0), fields[1], "has a value <= 0")
    if opts.data_type == "PR":
        fail(present & (num > den), fields[0], "has a numerator above its denominator (not a proportion, PR)")
    counts = present.sum(axis=1, keepdims=True)
    if (counts < 2).any():
        i = int(np.flatnonzero(counts < 2)[0])
        raise StatsError(f"funnel {labels[i]!r}: a funnel needs at least 2 groups, got {int(counts[i, 0])}")
    num, den = np.where(present, num, np.nan), np.where(present, den, np.nan)
    ratio = num / den  # the reference takes the plotted ratio before rounding SHMI expected counts
    if opts.shmi and opts.shmi_rounding:
        den = np.where(present, fm.round_like_r(np.where(present, den, 1.0), SHMI_ROUND_DP), np.nan)
        fail(present & (den <= 0), fields[1], f"has an expected count that rounds to 0 at {SHMI_ROUND_DP} d.p.")
    safe_num, safe_den = np.where(present, num, 0.0), np.where(present, den, 1.0)  # absent cells: harmless
    z, s, target = fm.zscores(safe_num, safe_den, present, opts)
    z_trim = fm.truncate(z, counts, opts.trim_by) if opts.shmi else fm.winsorise(z, counts, opts.trim_by)
    if opts.overdispersion:
        # the reference carries on and draws infinite limits; refuse instead (only SHMI with 0 observed
        # in a group that trimming keeps, i.e. fewer than 1/trim_by groups, gets here)
        fail(
            np.isinf(z_trim),
            fields[0],
            "has 0 observed, so its SHMI log-scale z-score is infinite and trimming did not remove it; use "
            "sr_method='CQC', more groups, or overdispersion off",
        )
        phi, tau2 = fm.phi(z_trim), fm.tau2(z_trim, fm.phi(z_trim), s)
    else:
        phi, tau2 = np.zeros_like(target), np.zeros_like(target)
    adjusted = opts.overdispersion & (tau2 != 0)
    following = fm.following(safe_den, present, opts) if opts.data_type == "PR" else None
    unadj = fm.limits(safe_den, opts, target, tau2, adjusted=False, following=following)
    adj = fm.limits(safe_den, opts, target, tau2, adjusted=True, following=following)
    limits = {c: np.where(present, unadj[c], np.nan) for c in LIMIT_COLUMNS}
    limits.update({f"od_{c}": np.where(present, adj[c], np.nan) for c in LIMIT_COLUMNS})
    value = ratio * opts.multiplier
    suffix = "95" if opts.limit == "95" else "998"
    lo = np.where(adjusted, limits[f"od_lcl{suffix}"], limits[f"lcl{suffix}"])
    hi = np.where(adjusted, limits[f"od_ucl{suffix}"], limits[f"ucl{suffix}"])
    return FunnelSet(
        keys=labels,
        groups=names,
        numerator=num,
        denominator=den,
        value=value,
        zscore=z,
        zscore_trimmed=z_trim,
        limits=limits,
        outlier=present & ~((value <= hi) & (value >= lo)),
        phi=phi[:, 0],
        tau2=tau2[:, 0],
        target=target[:, 0],
        adjusted=adjusted[:, 0],
        options=opts,
    )


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
    (1 = first data row) and field for unusable input. One funnel of `funnels`, which does the work.
    """
    opts = _options(data_type, sr_method, limit, overdispersion, trim_by, multiplier, shmi_rounding)
    agg = _aggregate(data, group, numerator, denominator, opts.data_type)
    try:
        batch = funnels(
            agg["group"].to_numpy(),
            agg["numerator"].to_numpy(dtype=float)[None, :],
            agg["denominator"].to_numpy(dtype=float)[None, :],
            data_type=opts.data_type,
            sr_method=opts.sr_method,
            limit=opts.limit,
            overdispersion=opts.overdispersion,
            trim_by=opts.trim_by,
            multiplier=opts.multiplier,
            shmi_rounding=opts.shmi_rounding,
            fields=(numerator, denominator),
        )
    except StatsError as err:  # one funnel: name the group and field, not the funnel
        raise StatsError(str(err).removeprefix("funnel '1': ")) from None
    return batch.result(0)


def funnel_curve(result: FunnelResult, n: int = 200) -> pd.DataFrame:
    """Target and both limit sets over `n` denominators from the reference's grid start to the largest
    denominator, for drawing the funnel; a charting layer never has to recompute anything."""
    if n < 2:
        raise StatsError(f"field 'n': a funnel curve needs at least 2 points, got {n}")
    opts = result.options
    den = result.points["denominator"].to_numpy(dtype=float)
    grid = np.linspace(fm.grid_start(opts), float(math.ceil(float(den.max()))), n)
    unadj = fm.limits(grid, opts, result.target, result.tau2, adjusted=False)
    adj = fm.limits(grid, opts, result.target, result.tau2, adjusted=True)
    frame = pd.DataFrame({"denominator": grid, "target": result.target * opts.multiplier})
    for c in LIMIT_COLUMNS:
        frame[c] = unadj[c]
    for c in LIMIT_COLUMNS:
        frame[f"od_{c}"] = adj[c]
    return frame
