"""The SPC engine's input side: check every column and option against the data, then sort the rows into the
flat working arrays (series ids, rebase groups, values with gaps) that the engine and the rules run on.

Every error names the 1-based data row (header excluded) and the field, so an analyst can find it in the CSV.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeAlias

import numpy as np
import pandas as pd

from reporting.errors import StatsError
from reporting.stats._spc_rules import PROPORTION_CHARTS, BoolArray, FloatArray, IntArray, group_sizes
from reporting.stats.constants import MIN_POINTS, RATIO_CHARTS

ArrayLike: TypeAlias = "np.ndarray | pd.api.extensions.ExtensionArray"

__all__ = ["Prepared", "PrepareOptions", "SPCWarning", "check_frame", "prepare"]


class SPCWarning(UserWarning):
    """Input the reference silently ignores (e.g. a rebase date not in the data)."""


class PrepareOptions(Protocol):
    """What prepare() reads of the options (reporting.stats.spc.SPCOptions, which sits above this module)."""

    @property
    def chart(self) -> str: ...

    @property
    def target(self) -> float | None: ...

    @property
    def rebase(self) -> tuple[date | int, ...]: ...


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _numeric(values: pd.Series, field_name: str, rows: IntArray) -> FloatArray:
    """Coerce to float (a new array, never a view of the caller's frame); missing stays NaN (a gap), anything
    else non-numeric is an error naming the row."""
    raw = values
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf":  # plain numbers: only infinities are bad
        out = raw.to_numpy(dtype=float, copy=True)
        bad = np.flatnonzero(np.isinf(out)) if raw.dtype.kind == "f" else np.zeros(0, np.int64)
        if len(bad):
            i = bad[0]
            raise StatsError(f"row {rows[i]}, field '{field_name}': expected a number, got {_fmt(raw.iloc[i])}")
        return out
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
class Prepared:
    """Sorted working arrays for every row of every series."""

    columns: dict[str, ArrayLike]  # the points frame's first columns, sorted: by-columns, x, y, [num, den]
    x: np.ndarray  # x as stored (datetime64[ns] or numbers), sorted
    num: FloatArray | None
    target: FloatArray
    rows: IntArray  # 1-based input row of each sorted row
    sid: IntArray  # series id per row
    gid: IntArray  # series x rebase-group id per row
    rebase_group: IntArray
    y: FloatArray
    den: FloatArray
    valid: BoolArray
    is_date: bool
    n_series: int
    n_groups: int
    warnings: list[str]
    series_warnings: dict[int, list[str]]


def check_frame(
    data: object,
    chart: str,
    *,
    x: str,
    y: str,
    numerator: str | None,
    denominator: str | None,
    target: str | None,
    phase: str | None,
    by: Sequence[str],
) -> None:
    """What the public entry points check once: a DataFrame with rows and every column the options name."""
    if not isinstance(data, pd.DataFrame):
        raise StatsError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
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


def prepare(
    data: pd.DataFrame,
    options: PrepareOptions,
    *,
    x: str,
    y: str,
    numerator: str | None,
    denominator: str | None,
    target: str | None,
    phase: str | None,
    by: Sequence[str],
    rows: IntArray,
) -> Prepared:
    """Check every value and sort the rows; all errors name the 1-based data row (header excluded) and the field.

    The frame itself (its type, columns and length) is checked once at the public entry point (check_frame),
    not again for each pass of spc_metrics."""
    chart = options.chart
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
        yv = num.copy()  # its own array: the points frame holds both columns
    if chart == "c":
        neg = np.flatnonzero(yv < 0)
        if len(neg):
            i = neg[0]
            raise StatsError(f"row {rows[i]}, field '{y}': expected a count >= 0 for a c chart, got {yv[i]:g}")

    # series ids (by-keys in sorted order, missing keys last, as a sorted group-by numbers them) and sort order
    sid0 = _series_ids(df, by)
    step_sid, step_x = np.diff(sid0), np.diff(xkey)
    in_order = bool(((step_sid > 0) | ((step_sid == 0) & (step_x >= 0))).all())  # the usual case: no sort
    order = None if in_order else np.lexsort((xkey, sid0))

    def sort(values: np.ndarray) -> np.ndarray:
        """Rows in (series, x) order; arrays made here are used as they are (every input was copied once)."""
        return values if order is None else values[order]

    sid = sort(sid0)
    xk = sort(xkey)
    n = len(sid)
    # the sorted output columns, taken once from the arrays (no intermediate frame), copies of the caller's data
    columns: dict[str, ArrayLike] = {b: df[b].array.copy() if order is None else df[b].array.take(order) for b in by}
    x_sorted = xs.array.copy() if order is None else xs.array.take(order)
    columns["x"] = x_sorted
    y_sorted = sort(yv)
    columns["y"] = y_sorted
    num_sorted = sort(num) if num is not None else None
    if num_sorted is not None:
        columns["numerator"] = num_sorted
    den_sorted = sort(den) if den is not None else None
    if den_sorted is not None:
        columns["denominator"] = den_sorted
    if target is not None:
        target_v = sort(_numeric(df[target], target, rows))
    else:
        target_v = np.full(n, float(options.target) if options.target is not None else np.nan)
    rows_sorted = sort(np.asarray(rows))
    series_first = np.ones(n, bool)
    series_first[1:] = sid[1:] != sid[:-1]
    dup = np.flatnonzero(~series_first[1:] & (xk[1:] == xk[:-1])) + 1
    first_rows = np.flatnonzero(series_first)

    def series_name(s: int) -> str:
        """The by-key of series s for a message, read only when there is one to write."""
        i = first_rows[s]
        return _series_name(by, [pd.Series(columns[b][i : i + 1]).tolist()[0] for b in by])

    if len(dup):
        i = dup[0]
        name = _series_name(by, [columns[b][i] for b in by])
        raise StatsError(
            f"row {rows_sorted[i]}, field '{x}': duplicate x {x_sorted[i]} in {name} "
            f"(also row {rows_sorted[i - 1]}); each x may appear once per series"
        )
    n_series = int(sid.max()) + 1

    n_rows = group_sizes(sid, n_series)
    short = np.flatnonzero(n_rows < MIN_POINTS)
    if len(short):
        s = short[0]
        first_row = rows_sorted[first_rows[s]]
        raise StatsError(
            f"row {first_row}, field '{x}': {series_name(s)} has {int(n_rows[s])} row; "
            f"SPC needs at least {MIN_POINTS} points"
        )
    # A series whose rows are (nearly) all gaps is kept but not charted: gaps must never crash a batch.
    warn: list[str] = []
    series_warn: dict[int, list[str]] = {}
    valid = np.isfinite(y_sorted)
    counts = n_rows if valid.all() else np.bincount(sid, weights=valid, minlength=n_series)
    empty = np.flatnonzero(counts < MIN_POINTS)
    if len(empty):
        valid &= ~np.isin(sid, empty)
        msg = f"fewer than {MIN_POINTS} points with a value; no limits computed"
        for s in empty:
            series_warn.setdefault(int(s), []).append(msg)
        warn.append(
            f"{series_name(empty[0])}: {msg}"
            if n_series == 1 or len(empty) == 1
            else f"{len(empty)} of {n_series} series have {msg}"
        )

    # rebase groups: a rebase date, or a change of phase, starts a new group at that point
    if not options.rebase and phase is None:  # one group per series (the usual case)
        rebase_group = np.zeros(n, np.int64)
        gid = sid
    else:
        rebase_group, gid = _rebase_groups(
            df, options.rebase, phase, order, xk, sid, series_first, is_date, n_series, warn, series_warn
        )
    return Prepared(
        columns=columns,
        x=np.asarray(x_sorted),
        num=num_sorted,
        target=target_v,
        rows=rows_sorted,
        sid=sid,
        gid=gid,
        rebase_group=rebase_group,
        y=y_sorted,
        den=den_sorted if den_sorted is not None else np.full(n, np.nan),
        valid=valid,
        is_date=is_date,
        n_series=n_series,
        n_groups=int(gid[-1]) + 1,
        warnings=warn,
        series_warnings=series_warn,
    )


def _rebase_groups(
    df: pd.DataFrame,
    rebase: Sequence[date | int],
    phase: str | None,
    order: IntArray | None,
    xk: IntArray | FloatArray,
    sid: IntArray,
    series_first: BoolArray,
    is_date: bool,
    n_series: int,
    warn: list[str],
    series_warn: dict[int, list[str]],
) -> tuple[IntArray, IntArray]:
    """(rebase group within its series, series x rebase-group id) per sorted row; warns about unmatched dates."""
    n = len(sid)
    hit = np.zeros(n, bool)
    keys = _rebase_keys(rebase, is_date)
    for d, k in zip(rebase, keys):
        match = (xk == k) if k is not None else np.zeros(n, bool)
        hit |= match
        missing = np.setdiff1d(np.arange(n_series), sid[match])
        if len(missing):
            msg = f"rebase date {d} is not an x of the data and was ignored"
            for s in missing:
                series_warn.setdefault(int(s), []).append(msg)
            suffix = "" if n_series == 1 else f" ({len(missing)} of {n_series} series)"
            warn.append(msg + suffix)
            warnings.warn(msg + suffix, SPCWarning, stacklevel=5)
    if phase is not None:
        ph = pd.Series(df[phase].array if order is None else df[phase].array.take(order))
        change = ~(ph.eq(ph.shift()) | (ph.isna() & ph.shift().isna())).to_numpy(dtype=bool)
        hit |= change & ~series_first
    hit_int = hit.astype(np.int64)
    cum = np.cumsum(hit_int)
    series_start_cum = np.maximum.accumulate(np.where(series_first, cum - hit_int, 0))
    rebase_group: IntArray = (cum - series_start_cum).astype(np.int64)
    gid: IntArray = (np.cumsum(series_first | hit) - 1).astype(np.int64)
    return rebase_group, gid


def _series_ids(df: pd.DataFrame, by: Sequence[str]) -> IntArray:
    """Series id per input row: the rank of its by-key, keys sorted column by column with missing keys last
    (what ``groupby(by, sort=True, dropna=False).ngroup()`` gives, without building the group-by)."""
    if not by:
        return np.zeros(len(df), np.int64)
    combined = np.zeros(len(df), np.int64)
    span = 1
    for b in by:
        column = df[b]
        if len(by) == 1 and _sorted_numbers(column):
            keys = column.to_numpy()  # one sorted numeric key (the usual case): ids where the key changes
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            changes: IntArray = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(keys))))
            return changes
        codes, uniques = pd.factorize(column, use_na_sentinel=True)  # hashing; then sort the few keys only
        rank = np.empty(len(uniques) + 1, np.int64)
        rank[np.asarray(uniques.argsort())] = np.arange(len(uniques))
        rank[-1] = len(uniques)  # missing (code -1) sorts after every key
        combined = combined * (len(uniques) + 1) + rank[codes]
        span *= len(uniques) + 1
    if span > 8 * len(df) + 1024:  # sparse key combinations: number them by sorting
        ids: IntArray = np.unique(combined, return_inverse=True)[1].astype(np.int64)
        return ids
    seen = np.zeros(span, bool)  # else number the combinations that occur, in key order, without a sort
    seen[combined] = True
    dense: IntArray = (np.cumsum(seen) - 1)[combined]
    return dense


def _sorted_numbers(column: pd.Series) -> bool:
    """A numeric column in ascending order with no missing key (checked on the array for plain numbers)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and len(column) > 1:
        keys = column.to_numpy()
        return bool((keys[1:] >= keys[:-1]).all())  # a NaN fails its comparisons
    return pd.api.types.is_numeric_dtype(dtype) and bool(column.is_monotonic_increasing)


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
        if chart in PROPORTION_CHARTS:
            over = np.flatnonzero(den < num)
            if len(over):
                i = over[0]
                raise StatsError(
                    f"row {rows[i]}, field '{dfield}': denominator {den[i]:g} is below numerator {num[i]:g}; "
                    f"a {chart} chart needs numerator <= denominator"
                )
