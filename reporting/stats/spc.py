"""Statistical process control the Making Data Count way, for many series in one vectorised pass.

Why this shape: a Board pack has one chart per metric x organisation, so the engine takes a long frame with
``by`` columns and computes every series at once (numpy run-length arithmetic, no loop per point or series).

Semantics (the conformance set in ``tests/conformance/spc`` pins them):

* ``xmr`` follows NHSRplotthedots 0.2.2 exactly: mean +/- 2.66 x AMR, moving-range screening at 3.267 x AMR
  (``screen_outliers``), astronomical / trend 7 / two-in-three / shift 7 with precedence
  outside > trend > two-in-three > shift, rules never cross a rebase, icons and assurance from the last point.
* ``p``, ``pp`` (p' Laney), ``u``, ``up`` (u' Laney) and ``c`` take their centre line and per-point limits
  exactly as PowerBI-SPC 1.7.4.28 computes them (3 sigma, clipped to [0, 1] or at 0); the MDC rules above are
  then applied on top, with the PowerBI 2-sigma line as the "close to limits" line. Where PowerBI-SPC's own
  flags differ it is because its rules differ, not its limits: its two-in-three also counts points beyond
  3 sigma and needs only 2 of 3 beyond the same 2-sigma line (the third may be anywhere), and its colour
  precedence is astronomical > two-in-three > trend > shift. ``tests/stats/test_spc_conformance.py`` lists
  the points affected.
* ``run`` is a run chart: centre line = median of the baseline, no process limits, and only the two runs
  rules: a shift of 7 points on one side of the median (points on the median break the run, as in MDC) and a
  trend of 7 points. Astronomical and two-in-three need limits and never fire; assurance is None.

Deliberate differences from NHSRplotthedots, each for a case the reference does not handle:

* gaps (missing y) are kept as rows but skipped: they feed no limits or rules, runs join across them,
  ``fix_after_n_points`` and the short-group count count points with a value;
* a group whose AMR is 0 (constant values) is not screened; the reference screens out every moving range
  (``mr < 3.267 x 0`` is never true) and ends with NaN limits;
* rebase dates that match no x are ignored like the reference does, but with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.errors import StatsError
from reporting.stats import _spc_rules as rules
from reporting.stats.constants import (
    CHART_KINDS,
    IMPROVEMENT_DIRECTIONS,
    MIN_FIX_AFTER_N_POINTS,
    MIN_POINTS,
    POINT_TYPES,
    SHORT_GROUP_THRESHOLD,
    SHORT_GROUP_WARNING,
    SPECIAL_CAUSE_LABELS,
)

__all__ = [
    "RATIO_CHARTS",
    "SPCOptions",
    "SPCResult",
    "SPCWarning",
    "assurance_type",
    "spc",
    "spc_metrics",
    "variation_icon",
]

ChartKind = Literal["xmr", "p", "pp", "u", "up", "c", "run"]
Improvement = Literal["increase", "decrease", "neutral"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Charts whose y is numerator / denominator and whose limits depend on each point's denominator.
RATIO_CHARTS: tuple[str, ...] = ("p", "pp", "u", "up")
_PROPORTION_CHARTS = rules.PROPORTION_CHARTS
_DIRECTION_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}


class SPCWarning(UserWarning):
    """Input the reference silently ignores (e.g. a rebase date not in the data)."""


@dataclass(frozen=True)
class SPCOptions:
    """What to compute; validated on construction so a bad option fails before any data is read."""

    chart: ChartKind = "xmr"
    improvement: Improvement = "increase"
    target: float | None = None
    rebase: tuple[date | int, ...] = ()
    fix_after_n_points: int | None = None
    screen_outliers: bool = True

    def __post_init__(self) -> None:
        if self.chart not in CHART_KINDS:
            raise StatsError(f"option 'chart': expected one of {', '.join(CHART_KINDS)}, got {self.chart!r}")
        if self.improvement not in IMPROVEMENT_DIRECTIONS:
            raise StatsError(
                f"option 'improvement': expected one of {', '.join(IMPROVEMENT_DIRECTIONS)}, got {self.improvement!r}"
            )
        n = self.fix_after_n_points
        whole = isinstance(n, (int, np.integer)) and not isinstance(n, bool)
        if n is not None and (not whole or n < MIN_FIX_AFTER_N_POINTS):
            raise StatsError(
                f"option 'fix_after_n_points': expected a whole number >= {MIN_FIX_AFTER_N_POINTS}, got {n!r}"
            )
        if self.target is not None:
            try:
                t = float(self.target)
            except (TypeError, ValueError):
                raise StatsError(f"option 'target': expected a number, got {self.target!r}") from None
            if not np.isfinite(t):
                raise StatsError(f"option 'target': expected a finite number, got {self.target!r}")
        object.__setattr__(self, "rebase", tuple(self.rebase))


@dataclass(frozen=True)
class SPCResult:
    """Points, one summary row per series, one row per series x rebase group, and the warnings raised.

    ``points`` (sorted by the by-columns, then x): by-columns, x, y, [numerator, denominator], rebase_group,
    used_for_limits, mean (the median for a run chart), lpl, upl, lower_2sigma, upper_2sigma, lower_1sigma,
    upper_1sigma, outside_limits, relative_to_mean, close_to_limits, special_cause_type (the reference's
    labels), special_cause_flag, point_type (None for a gap), short_group_warning, target, row (1-based input
    row). ``summary``: by-columns, chart, improvement, n (points with a value), n_groups, latest_x, latest_y
    (NaN when the last row is a gap), last_valid_x, last_valid_y, last_point_type, last_special_cause_type,
    variation_icon, mean, lpl, upl, target (all at the last point with a value, i.e. the latest group),
    assurance, n_improvement, n_concern, n_neutral, run_length / run_start_x (points on the same side of the
    centre line up to the last point), trend_length / trend_start_x (the trend ending at the last point, 0 if
    none), warnings (tuple of str). ``groups``: by-columns, rebase_group, first_x, n, n_used_for_limits,
    mean, lpl, upl (at the group's first point), special_cause_improvement / _concern / _neutral counts.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    options: SPCOptions
    warnings: tuple[str, ...] = ()
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    options_by_metric: Mapping[str, SPCOptions] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Input validation and preparation
# --------------------------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _numeric(values: pd.Series, field_name: str, rows: IntArray) -> FloatArray:
    """Coerce to float; missing stays NaN (a gap), anything else non-numeric is an error naming the row."""
    raw = values
    if pd.api.types.is_bool_dtype(raw.dtype):
        bad = np.flatnonzero(raw.notna().to_numpy())
        if len(bad):
            i = bad[0]
            raise StatsError(f"row {rows[i]}, field '{field_name}': expected a number, got {_fmt(raw.iloc[i])}")
    out = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = raw.notna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        blank = raw.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        present = present & ~blank
    bad = np.flatnonzero(present & ~np.isfinite(out))
    if len(bad):
        i = bad[0]
        raise StatsError(f"row {rows[i]}, field '{field_name}': expected a number, got {_fmt(raw.iloc[i])}")
    return out


def _x_values(values: pd.Series, field_name: str, rows: IntArray) -> tuple[pd.Series, IntArray | FloatArray, bool]:
    """Return (x as stored, sortable numbers, is_date). x is a date/datetime or a number (an index)."""
    missing = values.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise StatsError(f"row {rows[i]}, field '{field_name}': expected a date or a number, got nothing")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        xs = values.reset_index(drop=True)
        return xs, xs.to_numpy(dtype="datetime64[ns]").view(np.int64), True
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        xs = values.reset_index(drop=True)
        return xs, xs.to_numpy(dtype=float), False
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise StatsError(
            f"row {rows[i]}, field '{field_name}': expected an ISO date (YYYY-MM-DD) or a number, "
            f"got {_fmt(values.iloc[i])}"
        )
    xs = parsed.reset_index(drop=True).astype("datetime64[ns]")
    return xs, xs.to_numpy(dtype="datetime64[ns]").view(np.int64), True


def _rebase_keys(rebase: Sequence[date | int], is_date: bool) -> list[int | float | None]:
    """Rebase points as sortable x keys; None where one cannot match this kind of x (date vs index)."""
    keys: list[int | float | None] = []
    for d in rebase:
        if is_date and isinstance(d, (date, datetime, pd.Timestamp, np.datetime64, str)):
            keys.append(int(pd.Timestamp(d).to_datetime64().astype("datetime64[ns]").view(np.int64)))
        elif not is_date and isinstance(d, (int, float, np.number)) and not isinstance(d, bool):
            keys.append(float(d))
        else:
            keys.append(None)
    return keys


def _series_name(by: Sequence[str], key: Sequence[object]) -> str:
    if not by:
        return "the series"
    return "series " + ", ".join(f"{b}={_fmt(k)}" for b, k in zip(by, key))


@dataclass
class _Prepared:
    """Sorted working arrays for every row of every series."""

    frame: pd.DataFrame  # by-columns, x, y, [numerator, denominator], [phase], target, _row (sorted)
    sid: IntArray  # series id per row
    gid: IntArray  # series x rebase-group id per row
    rebase_group: IntArray
    y: FloatArray
    den: FloatArray
    valid: BoolArray
    is_date: bool
    n_series: int
    n_groups: int
    series_keys: list[tuple[object, ...]]
    warnings: list[str]
    series_warnings: dict[int, list[str]]


def _prepare(
    data: pd.DataFrame,
    options: SPCOptions,
    *,
    x: str,
    y: str,
    numerator: str | None,
    denominator: str | None,
    target: str | None,
    phase: str | None,
    by: Sequence[str],
    rows: IntArray,
) -> _Prepared:
    """Check and sort the input; all errors name the 1-based data row (header excluded) and the field."""
    if not isinstance(data, pd.DataFrame):
        raise StatsError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
    chart = options.chart
    if chart in RATIO_CHARTS and (numerator is None or denominator is None):
        raise StatsError(f"option 'chart': chart {chart!r} needs numerator and denominator columns")
    needed = [*by, x]
    needed += [c for c in (numerator, denominator, target, phase) if c is not None]
    if chart not in RATIO_CHARTS and not (chart in ("c", "xmr") and numerator is not None and y not in data):
        needed.append(y)
    for col in needed:
        if col not in data.columns:
            raise StatsError(f"field '{col}': column not found (columns are {', '.join(map(str, data.columns))})")
    if len(data) == 0:
        raise StatsError(f"field '{y}': no rows; SPC needs at least {MIN_POINTS} points")

    df = data.reset_index(drop=True)
    xs, xkey, is_date = _x_values(df[x], x, rows)
    num = _numeric(df[numerator], numerator, rows) if numerator is not None else None
    den = _numeric(df[denominator], denominator, rows) if denominator is not None else None
    if chart in RATIO_CHARTS:
        assert num is not None and den is not None
        _check_ratio(chart, num, den, rows, numerator or "numerator", denominator or "denominator")
        with np.errstate(divide="ignore", invalid="ignore"):
            yv = num / den
    elif num is not None and den is not None and chart == "xmr":
        with np.errstate(divide="ignore", invalid="ignore"):
            yv = num / den
        zero = np.flatnonzero(np.isfinite(num) & (den == 0))
        if len(zero):
            i = zero[0]
            raise StatsError(f"row {rows[i]}, field '{denominator}': expected a non-zero denominator, got 0")
    elif y in df.columns:
        yv = _numeric(df[y], y, rows)
    else:
        assert num is not None
        yv = num
    if chart == "c":
        neg = np.flatnonzero(yv < 0)
        if len(neg):
            i = neg[0]
            raise StatsError(f"row {rows[i]}, field '{y}': expected a count >= 0 for a c chart, got {yv[i]:g}")

    out = pd.DataFrame({b: df[b] for b in by})
    out["x"] = xs
    out["y"] = yv
    if num is not None:
        out["numerator"] = num
    if den is not None:
        out["denominator"] = den
    if target is not None:
        out["target"] = _numeric(df[target], target, rows)
    else:
        out["target"] = float(options.target) if options.target is not None else np.nan
    if phase is not None:
        out["_phase"] = df[phase].to_numpy()
    out["_row"] = rows

    # series ids and sort order
    sid0: IntArray
    if by:
        sid0 = np.asarray(out.groupby(list(by), sort=True, dropna=False).ngroup(), dtype=np.int64)
    else:
        sid0 = np.zeros(len(out), np.int64)
    order = np.lexsort((xkey, sid0))
    out = out.iloc[order].reset_index(drop=True)
    sid = sid0[order]
    xk = xkey[order]
    n = len(out)
    series_first = np.ones(n, bool)
    series_first[1:] = sid[1:] != sid[:-1]
    dup = np.flatnonzero(~series_first & (xk == np.roll(xk, 1)))
    if len(dup):
        i = dup[0]
        name = _series_name(by, [out[b].iloc[i] for b in by])
        raise StatsError(
            f"row {out['_row'].iloc[i]}, field '{x}': duplicate x {out['x'].iloc[i]} in {name} "
            f"(also row {out['_row'].iloc[i - 1]}); each x may appear once per series"
        )
    n_series = int(sid.max()) + 1
    first_rows = np.flatnonzero(series_first)  # one key per series, read column-wise (not per row)
    series_keys: list[tuple[object, ...]] = (
        list(zip(*(out[b].iloc[first_rows].tolist() for b in by))) if by else [()] * len(first_rows)
    )

    n_rows = np.bincount(sid, minlength=n_series)
    short = np.flatnonzero(n_rows < MIN_POINTS)
    if len(short):
        s = short[0]
        first_row = out["_row"].iloc[np.flatnonzero(sid == s)[0]]
        raise StatsError(
            f"row {first_row}, field '{x}': {_series_name(by, series_keys[s])} has {int(n_rows[s])} row; "
            f"SPC needs at least {MIN_POINTS} points"
        )
    # A series whose rows are (nearly) all gaps is kept but not charted: gaps must never crash a batch.
    warn: list[str] = []
    series_warn: dict[int, list[str]] = {}
    valid = np.isfinite(out["y"].to_numpy(dtype=float))
    counts = np.bincount(sid, weights=valid, minlength=n_series)
    empty = np.flatnonzero(counts < MIN_POINTS)
    if len(empty):
        valid &= ~np.isin(sid, empty)
        msg = f"fewer than {MIN_POINTS} points with a value; no limits computed"
        for s in empty:
            series_warn.setdefault(int(s), []).append(msg)
        warn.append(
            f"{_series_name(by, series_keys[empty[0]])}: {msg}"
            if n_series == 1 or len(empty) == 1
            else f"{len(empty)} of {n_series} series have {msg}"
        )

    # rebase groups: a rebase date, or a change of phase, starts a new group at that point
    hit = np.zeros(n, bool)
    keys = _rebase_keys(options.rebase, is_date)
    if len(options.rebase):
        for d, k in zip(options.rebase, keys):
            match = (xk == k) if k is not None else np.zeros(n, bool)
            hit |= match
            missing = np.setdiff1d(np.arange(n_series), sid[match])
            if len(missing):
                msg = f"rebase date {d} is not an x of the data and was ignored"
                for s in missing:
                    series_warn.setdefault(int(s), []).append(msg)
                suffix = "" if n_series == 1 else f" ({len(missing)} of {n_series} series)"
                warn.append(msg + suffix)
                warnings.warn(msg + suffix, SPCWarning, stacklevel=4)
    if phase is not None:
        ph = out["_phase"]
        change = ~(ph.eq(ph.shift()) | (ph.isna() & ph.shift().isna())).to_numpy(dtype=bool)
        hit |= change & ~series_first
    hit_int = hit.astype(np.int64)
    cum = np.cumsum(hit_int)
    series_start_cum = np.maximum.accumulate(np.where(series_first, cum - hit_int, 0))
    rebase_group = cum - series_start_cum
    gid = np.cumsum(series_first | hit) - 1
    return _Prepared(
        frame=out,
        sid=sid,
        gid=gid.astype(np.int64),
        rebase_group=rebase_group.astype(np.int64),
        y=out["y"].to_numpy(dtype=float),
        den=out["denominator"].to_numpy(dtype=float) if "denominator" in out else np.full(n, np.nan),
        valid=valid,
        is_date=is_date,
        n_series=n_series,
        n_groups=int(gid.max()) + 1,
        series_keys=series_keys,
        warnings=warn,
        series_warnings=series_warn,
    )


def _check_ratio(chart: str, num: FloatArray, den: FloatArray, rows: IntArray, nf: str, dfield: str) -> None:
    """Denominators must be positive, numerators non-negative, and proportions at most 1."""
    with np.errstate(invalid="ignore"):
        both = np.isfinite(num) & np.isfinite(den)  # a missing part makes the row a gap, not an error
        bad_den = np.flatnonzero(both & (den <= 0))
        if len(bad_den):
            i = bad_den[0]
            raise StatsError(f"row {rows[i]}, field '{dfield}': expected a denominator > 0, got {den[i]:g}")
        bad_num = np.flatnonzero(num < 0)
        if len(bad_num):
            i = bad_num[0]
            raise StatsError(f"row {rows[i]}, field '{nf}': expected a numerator >= 0, got {num[i]:g}")
        if chart in _PROPORTION_CHARTS:
            over = np.flatnonzero(den < num)
            if len(over):
                i = over[0]
                raise StatsError(
                    f"row {rows[i]}, field '{dfield}': denominator {den[i]:g} is below numerator {num[i]:g}; "
                    f"a {chart} chart needs numerator <= denominator"
                )


# --------------------------------------------------------------------------------------------------
# Icons and assurance
# --------------------------------------------------------------------------------------------------


def variation_icon(point_type: str | None, improvement: str) -> str | None:
    """The MDC variation icon for a series, read from the point type of its last point."""
    if point_type is None or (isinstance(point_type, float) and np.isnan(point_type)):
        return None
    if point_type == "common_cause":
        return "common_cause"
    if point_type == "special_cause_neutral_high":
        return "neutral_high"
    if point_type == "special_cause_neutral_low":
        return "neutral_low"
    high = improvement == "increase"
    if point_type == "special_cause_improvement":
        return "improvement_high" if high else "improvement_low"
    if point_type == "special_cause_concern":
        return "concern_low" if high else "concern_high"
    raise StatsError(f"field 'point_type': unknown point type {point_type!r}")


def assurance_type(target: float | None, lpl: float, upl: float, improvement: str) -> str | None:
    """Whether the process limits say the target will be met; None without target, limits or direction."""
    if target is None or improvement == "neutral":
        return None
    if not (np.isfinite(target) and np.isfinite(lpl) and np.isfinite(upl)):
        return None
    increasing = improvement == "increase"
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


# --------------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------------


def spc(
    data: pd.DataFrame,
    options: SPCOptions = SPCOptions(),
    *,
    x: str = "x",
    y: str = "y",
    numerator: str | None = None,
    denominator: str | None = None,
    target: str | None = None,
    phase: str | None = None,
    by: Sequence[str] = (),
) -> SPCResult:
    """Compute an SPC chart for every series (one per distinct ``by`` key) in one vectorised pass.

    ``target`` names an optional column of per-point targets (else ``options.target``); ``phase`` names an
    optional column whose change starts a new rebase group (PowerBI-SPC "groupings"). Rows are sorted by
    ``by`` then ``x``; errors name the 1-based data row in the input order and the field.
    """
    if not isinstance(options, SPCOptions):
        raise StatsError(f"options: expected SPCOptions, got {type(options).__name__}")
    if isinstance(by, str):
        by = (by,)
    rows = np.arange(1, len(data) + 1, dtype=np.int64) if isinstance(data, pd.DataFrame) else np.zeros(0, np.int64)
    return _spc(
        data,
        options,
        x=x,
        y=y,
        numerator=numerator,
        denominator=denominator,
        target=target,
        phase=phase,
        by=tuple(by),
        rows=rows,
    )


def _spc(
    data: pd.DataFrame,
    options: SPCOptions,
    *,
    x: str,
    y: str,
    numerator: str | None,
    denominator: str | None,
    target: str | None,
    phase: str | None,
    by: tuple[str, ...],
    rows: IntArray,
) -> SPCResult:
    p = _prepare(
        data,
        options,
        x=x,
        y=y,
        numerator=numerator,
        denominator=denominator,
        target=target,
        phase=phase,
        by=by,
        rows=rows,
    )
    n = len(p.y)
    vidx = np.flatnonzero(p.valid)
    g_v = p.gid[vidx]
    first_v = np.ones(len(vidx), bool)
    first_v[1:] = g_v[1:] != g_v[:-1]
    starts = np.maximum.accumulate(np.where(first_v, np.arange(len(vidx)), 0))
    pos_v = np.arange(len(vidx)) - starts
    fix = options.fix_after_n_points
    used_v = pos_v < fix if fix is not None else np.ones(len(vidx), bool)

    num_all = p.frame["numerator"].to_numpy(dtype=float) if "numerator" in p.frame else np.full(n, np.nan)
    lines = rules.chart_lines(
        options.chart, p.y, num_all, p.den, p.gid, p.n_groups, vidx, first_v, used_v, options.screen_outliers
    )

    # rules on the points with a value, group by group
    y_v = p.y[vidx]
    mean_v = lines.mean[vidx]
    out_v = rules.outside_limits(y_v, lines.lpl[vidx], lines.upl[vidx])
    rtm_v = np.sign(np.nan_to_num(y_v - mean_v)).astype(np.int64)
    close_v = rules.close_to_limits(y_v, lines.lower2[vidx], lines.upper2[vidx], out_v)
    shift_v = rules.shift_flags(rtm_v, first_v)
    trend_v = rules.trend_flags(y_v, first_v)
    tsign_v = rules.trend_signs(y_v, first_v, trend_v)
    two_v = rules.two_in_three_flags(close_v, rtm_v, first_v)
    codes_v = rules.special_cause_codes(out_v, trend_v, tsign_v, two_v, shift_v, rtm_v)
    direction = _DIRECTION_SIGN[options.improvement]
    ptype_v = rules.point_type_codes(codes_v, direction)

    labels = np.array(SPECIAL_CAUSE_LABELS, dtype=object)
    ptypes = np.array(POINT_TYPES, dtype=object)
    special_type = np.full(n, None, dtype=object)
    special_type[vidx] = labels[codes_v]
    point_type = np.full(n, None, dtype=object)
    point_type[vidx] = ptypes[ptype_v]

    def spread(values: npt.NDArray[Any], fill: Any, dtype: Any) -> npt.NDArray[Any]:
        full = np.full(n, fill, dtype=dtype)
        full[vidx] = values
        return full

    group_n = np.bincount(g_v, minlength=p.n_groups)
    short = group_n[p.gid] < SHORT_GROUP_THRESHOLD

    # the points frame in one construction (inserting columns one by one re-checks the frame each time),
    # and the summaries from these arrays rather than read back from it (pandas 3 holds text as Arrow)
    kept = [c for c in p.frame.columns if c not in ("_phase", "target", "_row")]
    columns: dict[str, Any] = {c: p.frame[c] for c in kept}
    columns.update(
        {
            "rebase_group": p.rebase_group,
            "used_for_limits": spread(used_v, False, bool),
            "mean": lines.mean,
            "lpl": lines.lpl,
            "upl": lines.upl,
            "lower_2sigma": lines.lower2,
            "upper_2sigma": lines.upper2,
            "lower_1sigma": lines.lower1,
            "upper_1sigma": lines.upper1,
            "outside_limits": spread(out_v, False, bool),
            "relative_to_mean": spread(rtm_v, 0, np.int64),
            "close_to_limits": spread(close_v, False, bool),
            "special_cause_type": special_type,
            "special_cause_flag": spread(codes_v != rules.CODE_COMMON, False, bool),
            "point_type": point_type,
            "short_group_warning": short,
            "target": p.frame["target"].to_numpy(dtype=float),
            "row": p.frame["_row"].to_numpy(),
        }
    )
    pts = pd.DataFrame(columns, index=p.frame.index)
    arrays = {
        "x": p.frame["x"].to_numpy(),
        "point_type": point_type,
        "special_cause_type": special_type,
        "mean": lines.mean,
        "lpl": lines.lpl,
        "upl": lines.upl,
        "target": columns["target"],
        "short_group_warning": short,
    }

    warn = list(p.warnings)
    if short[p.valid].any():
        warn.append(SHORT_GROUP_WARNING)
    groups = _groups_frame(pts, p, by, vidx, used_v, arrays)
    summary = _summary_frame(pts, p, by, options, vidx, rtm_v, trend_v, first_v, arrays)
    return SPCResult(points=pts, summary=summary, options=options, warnings=tuple(warn), groups=groups)


def _groups_frame(
    pts: pd.DataFrame, p: _Prepared, by: Sequence[str], vidx: IntArray, used_v: BoolArray, arrays: Mapping[str, Any]
) -> pd.DataFrame:
    """One row per series x rebase group, as in the reference's summary(): limits of the group's first point."""
    G = p.n_groups
    g_v = p.gid[vidx]
    gfirst = np.full(G, -1, np.int64)
    gfirst[g_v[::-1]] = vidx[::-1]  # first valid row of each group
    has = gfirst >= 0
    rowsel = np.where(has, gfirst, np.searchsorted(p.gid, np.arange(G)))
    ptv = arrays["point_type"][vidx]

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(g_v, weights=mask, minlength=G).astype(np.int64)

    columns: dict[str, Any] = {b: pts[b].to_numpy()[rowsel] for b in by}
    columns.update(
        {
            "rebase_group": p.rebase_group[rowsel],
            "first_x": arrays["x"][np.searchsorted(p.gid, np.arange(G))],
            "n": np.bincount(g_v, minlength=G),
            "n_used_for_limits": np.bincount(g_v, weights=used_v, minlength=G).astype(np.int64),
            **{
                col: np.where(has, np.asarray(arrays[col], dtype=float)[rowsel], np.nan)
                for col in ("mean", "lpl", "upl")
            },
            "special_cause_improvement": count(ptv == "special_cause_improvement"),
            "special_cause_concern": count(ptv == "special_cause_concern"),
            "special_cause_neutral": count(
                (ptv == "special_cause_neutral_high") | (ptv == "special_cause_neutral_low")
            ),
        }
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(G))


def _summary_frame(
    pts: pd.DataFrame,
    p: _Prepared,
    by: Sequence[str],
    options: SPCOptions,
    vidx: IntArray,
    rtm_v: IntArray,
    trend_v: BoolArray,
    first_v: BoolArray,
    arrays: Mapping[str, Any],
) -> pd.DataFrame:
    """One row per series: the latest point, its icon and assurance, counts, and the run behind its flag."""
    S = p.n_series
    sid_v = p.sid[vidx]
    has = np.bincount(sid_v, minlength=S) > 0  # series with no charted point get None / NaN below
    last_row = np.searchsorted(p.sid, np.arange(S), side="right") - 1
    # a sentinel point at the end stands in for the last point of a series that has none
    nv = len(vidx)
    last_v_pos = np.where(has, np.searchsorted(sid_v, np.arange(S), side="right") - 1, nv)
    vidx_s = np.r_[vidx, 0]
    rtm_s, trend_s, first_s = np.r_[rtm_v, 0], np.r_[trend_v, False], np.r_[first_v, True]
    last_valid = vidx_s[last_v_pos]

    # length of the same-side run and of the trend that end at the last valid point
    rid, lengths = rules.run_ids(rtm_s, first_s)
    run_len = np.where(rtm_s[last_v_pos] != 0, lengths[rid[last_v_pos]], 0)
    run_start = vidx_s[last_v_pos - np.maximum(run_len - 1, 0)]
    y_s = np.r_[p.y[vidx], 0.0]
    steps = np.zeros(nv + 1, np.int64)
    steps[1:] = np.sign(y_s[1:] - y_s[:-1])
    steps[first_s] = 0
    srid, slen = rules.run_ids(steps, first_s)
    trend_len = np.where(trend_s[last_v_pos] & (steps[last_v_pos] != 0), slen[srid[last_v_pos]] + 1, 0)
    trend_start = vidx_s[last_v_pos - np.maximum(trend_len - 1, 0)]

    xcol = arrays["x"]
    ptype, stype = arrays["point_type"], arrays["special_cause_type"]
    mean, lpl, upl, tgt = (np.asarray(arrays[c], dtype=float) for c in ("mean", "lpl", "upl", "target"))
    ptv = ptype[vidx]

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(sid_v, weights=mask, minlength=S).astype(np.int64)

    short_series = np.zeros(S, bool)
    sg = np.asarray(arrays["short_group_warning"], dtype=bool)
    short_series[p.sid[vidx][sg[vidx]]] = True
    columns: dict[str, Any] = {b: [k[i] for k in p.series_keys] for i, b in enumerate(by)}
    columns.update(
        {
            "chart": options.chart,
            "improvement": options.improvement,
            "n": np.bincount(sid_v, minlength=S),
            "n_groups": np.bincount(p.sid, weights=np.r_[True, p.gid[1:] != p.gid[:-1]], minlength=S).astype(np.int64),
            "latest_x": xcol[last_row],
            "latest_y": p.y[last_row],
            "last_valid_x": xcol[last_valid],
            "last_valid_y": p.y[last_valid],
            "last_point_type": ptype[last_valid],
            "last_special_cause_type": stype[last_valid],
            "variation_icon": [variation_icon(t, options.improvement) for t in ptype[last_valid]],
            "mean": mean[last_valid],
            "lpl": lpl[last_valid],
            "upl": upl[last_valid],
            "target": tgt[last_valid],
            "assurance": [
                assurance_type(None if np.isnan(t) else float(t), lo, hi, options.improvement)
                for t, lo, hi in zip(tgt[last_valid], lpl[last_valid], upl[last_valid])
            ],
            "n_improvement": count(ptv == "special_cause_improvement"),
            "n_concern": count(ptv == "special_cause_concern"),
            "n_neutral": count((ptv == "special_cause_neutral_high") | (ptv == "special_cause_neutral_low")),
            "run_length": run_len,
            "run_start_x": xcol[run_start],
            "trend_length": trend_len,
            "trend_start_x": xcol[trend_start],
            "warnings": [
                tuple(p.series_warnings.get(s, [])) + ((SHORT_GROUP_WARNING,) if short_series[s] else ())
                for s in range(S)
            ],
        }
    )
    out = pd.DataFrame(columns, index=pd.RangeIndex(S))
    if not has.all():
        none_cols = [
            "last_valid_x",
            "last_point_type",
            "last_special_cause_type",
            "variation_icon",
            "assurance",
            "run_start_x",
            "trend_start_x",
        ]
        nan_cols = ["last_valid_y", "mean", "lpl", "upl", "target"]
        out[none_cols] = out[none_cols].astype(object)
        out.loc[~has, none_cols] = None
        out.loc[~has, nan_cols] = np.nan
    return out


# --------------------------------------------------------------------------------------------------
# MetricFrame: many metrics x organisations
# --------------------------------------------------------------------------------------------------

_METRIC_COLUMNS = ("metric_id", "org_code", "period", "value")


def spc_metrics(frame: pd.DataFrame, options_by_metric: Mapping[str, SPCOptions]) -> SPCResult:
    """SPC for a MetricFrame (metric_id, org_code, period, value, numerator, denominator, flag).

    One vectorised call per metric with ``by=("metric_id", "org_code")``; ratio charts use numerator and
    denominator, other charts use value. A row whose value is missing is a gap. Error rows are the 1-based
    rows of ``frame``.
    """
    for col in _METRIC_COLUMNS:
        if col not in frame.columns:
            raise StatsError(f"field '{col}': column not found in the metric frame")
    df = frame.reset_index(drop=True)
    rows_all = np.arange(1, len(df) + 1, dtype=np.int64)
    points: list[pd.DataFrame] = []
    summaries: list[pd.DataFrame] = []
    groups: list[pd.DataFrame] = []
    warn: list[str] = []
    for metric_id, idx in df.groupby("metric_id", sort=True).indices.items():
        if not isinstance(metric_id, str) or metric_id not in options_by_metric:
            raise StatsError(f"row {rows_all[idx[0]]}, field 'metric_id': no SPC options for metric {metric_id!r}")
        opts = options_by_metric[metric_id]
        sub = df.iloc[idx]
        kw: dict[str, Any] = {
            "x": "period",
            "y": "value",
            "by": ("metric_id", "org_code"),
            "numerator": None,
            "denominator": None,
        }
        if opts.chart in RATIO_CHARTS:
            for col in ("numerator", "denominator"):
                if col not in sub.columns:
                    raise StatsError(f"field '{col}': column not found; metric {metric_id!r} uses a {opts.chart} chart")
            sub = sub.assign(
                numerator=sub["numerator"].where(sub["value"].notna()),
                denominator=sub["denominator"].where(sub["value"].notna()),
            )
            kw.update(numerator="numerator", denominator="denominator")
        # a `target` column (per period, e.g. from the catalogue's target table) wins over options.target
        target = "target" if "target" in sub.columns and sub["target"].notna().any() else None
        res = _spc(sub, opts, rows=rows_all[idx], target=target, phase=None, **kw)
        points.append(res.points)
        summaries.append(res.summary)
        groups.append(res.groups)
        warn.extend(f"metric {metric_id}: {w}" for w in res.warnings)
    if not points:
        raise StatsError("field 'value': the metric frame has no rows")
    return SPCResult(
        points=pd.concat(points, ignore_index=True),
        summary=pd.concat(summaries, ignore_index=True),
        options=SPCOptions(),
        warnings=tuple(dict.fromkeys(warn)),
        groups=pd.concat(groups, ignore_index=True),
        options_by_metric=dict(options_by_metric),
    )
