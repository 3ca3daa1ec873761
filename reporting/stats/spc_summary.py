"""What the SPC engine hands back: every point as flat arrays (``SPCArrays``), and the frames built from them
on demand: the points frame, one summary row per series (the latest point, its MDC variation icon and target
assurance, counts, the run behind its flag) and one row per series x rebase group.

Why arrays first: classifying 1,000 series costs a few milliseconds, building their ~21-column points frame
and two summaries costs more than that again, and many callers need only the classification or the limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.errors import StatsError
from reporting.stats import _spc_rules as rules
from reporting.stats._spc_rules import BoolArray, FloatArray, IntArray, Lines
from reporting.stats.constants import ASSURANCE_TYPES, POINT_TYPES, SHORT_GROUP_WARNING, SPECIAL_CAUSE_LABELS
from reporting.stats.spc_input import Prepared

__all__ = [
    "SPCArrays",
    "assurance_type",
    "groups_frame",
    "points_frame",
    "summary_frame",
    "text_column",
    "variation_icon",
]


@dataclass(frozen=True, eq=False)
class SPCArrays:
    """One engine pass over many series as flat arrays, rows sorted by the by-columns then x (the points
    frame's order). ``*_v`` arrays hold the rows with a value only (``vidx`` picks them); the others every row.

    ``point_code`` indexes constants.POINT_TYPES and ``special_code`` constants.SPECIAL_CAUSE_LABELS (-1: a
    gap, which has no type)."""

    prepared: Prepared
    by: tuple[str, ...]
    chart: str
    improvement: str
    lines: Lines
    vidx: IntArray
    first_v: BoolArray  # first point with a value of each series x rebase group
    used_v: BoolArray  # feeds the limits (fix_after_n_points)
    outside_v: BoolArray
    rtm_v: IntArray  # side of the centre line: -1, 0, +1
    close_v: BoolArray
    trend_v: BoolArray
    special_code: IntArray
    point_code: IntArray
    short_group: BoolArray  # the row's rebase group has fewer points than the reference trusts

    def spread(self, values: npt.NDArray[Any], fill: Any, dtype: Any) -> npt.NDArray[Any]:
        """A ``*_v`` array over every row, ``fill`` at the gaps."""
        full = np.full(len(self.prepared.y), fill, dtype=dtype)
        full[self.vidx] = values
        return full


def points_frame(a: SPCArrays) -> pd.DataFrame:
    """The points frame (columns as SPCResult documents), in one construction from arrays: inserting columns
    one by one re-checks the frame each time."""
    p, lines = a.prepared, a.lines
    columns: dict[str, Any] = dict(p.columns)
    columns.update(
        {
            "rebase_group": p.rebase_group,
            "used_for_limits": a.spread(a.used_v, False, bool),
            "mean": lines.mean,
            "lpl": lines.lpl,
            "upl": lines.upl,
            "lower_2sigma": lines.lower2,
            "upper_2sigma": lines.upper2,
            "lower_1sigma": lines.lower1,
            "upper_1sigma": lines.upper1,
            "outside_limits": a.spread(a.outside_v, False, bool),
            "relative_to_mean": a.spread(a.rtm_v, 0, np.int64),
            "close_to_limits": a.spread(a.close_v, False, bool),
            "special_cause_type": text_column(a.special_code, SPECIAL_CAUSE_LABELS),
            "special_cause_flag": a.special_code > rules.CODE_COMMON,
            "point_type": text_column(a.point_code, POINT_TYPES),
            "short_group_warning": a.short_group,
            "target": p.target,
            "row": p.rows,
        }
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(len(p.y)), copy=False)


_TEXT_DTYPE = pd.Series(["text"]).dtype  # what pandas makes of a column of str: Arrow-backed "str" on pandas 3


def text_column(codes: IntArray, labels: Sequence[str]) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Labels by code (-1: missing), as the column pandas would infer from Python strings and None, built
    without one Python object per row (on pandas 3 that inference costs more than all the SPC rules)."""
    if isinstance(_TEXT_DTYPE, pd.StringDtype) and _TEXT_DTYPE.storage == "pyarrow":
        import pyarrow as pa

        taken = pa.array(list(labels), type=pa.large_string()).take(pa.array(codes, mask=codes < 0))
        arrow: pd.api.extensions.ExtensionArray = pd.array(taken, dtype=_TEXT_DTYPE)
        return arrow
    out = np.full(len(codes), None, dtype=object)
    known = codes >= 0
    out[known] = np.asarray(labels, dtype=object)[codes[known]]
    return out


IMPROVEMENT, CONCERN, NEUTRAL_HIGH, NEUTRAL_LOW = (
    POINT_TYPES.index(f"special_cause_{t}") for t in ("improvement", "concern", "neutral_high", "neutral_low")
)


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
    one = np.array([np.nan if target is None else target], dtype=float)
    kind = _assurance(one, np.array([lpl], dtype=float), np.array([upl], dtype=float), improvement)[0]
    return None if kind is None or (isinstance(kind, float) and np.isnan(kind)) else str(kind)


def _assurance(target: FloatArray, lpl: FloatArray, upl: FloatArray, improvement: str) -> Any:
    """Assurance for every series at once (a target beyond the process limits is consistently met or missed,
    one between them may or may not be): text, or a column of None when no series has one."""
    ok = np.isfinite(target) & np.isfinite(lpl) & np.isfinite(upl) & (improvement != "neutral")
    increasing = improvement == "increase"
    above, below = target > upl, target < lpl
    kind = np.select(
        [above, below],
        [
            ASSURANCE_TYPES.index("consistent_fail" if increasing else "consistent_pass"),
            ASSURANCE_TYPES.index("consistent_pass" if increasing else "consistent_fail"),
        ],
        ASSURANCE_TYPES.index("inconsistent"),
    )
    codes = np.where(ok, kind, -1)
    if not ok.any():
        return np.full(len(codes), None, dtype=object)
    return text_column(codes, ASSURANCE_TYPES)


def groups_frame(a: SPCArrays) -> pd.DataFrame:
    """One row per series x rebase group, as in the reference's summary(): limits of the group's first point."""
    p, by, vidx, used_v = a.prepared, a.by, a.vidx, a.used_v
    G = p.n_groups
    g_v = p.gid[vidx]
    gfirst = np.full(G, -1, np.int64)
    gfirst[g_v[::-1]] = vidx[::-1]  # first valid row of each group
    has = gfirst >= 0
    rowsel = np.where(has, gfirst, np.searchsorted(p.gid, np.arange(G)))
    ptv = a.point_code[vidx]
    limits = {"mean": a.lines.mean, "lpl": a.lines.lpl, "upl": a.lines.upl}

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(g_v[mask], minlength=G).astype(np.int64)  # counting, not summing float weights

    columns: dict[str, Any] = {b: p.columns[b][rowsel] for b in by}
    columns.update(
        {
            "rebase_group": p.rebase_group[rowsel],
            "first_x": p.x[np.searchsorted(p.gid, np.arange(G))],
            "n": np.bincount(g_v, minlength=G),
            "n_used_for_limits": np.bincount(g_v[used_v], minlength=G).astype(np.int64),
            **{col: np.where(has, np.asarray(values, dtype=float)[rowsel], np.nan) for col, values in limits.items()},
            "special_cause_improvement": count(ptv == IMPROVEMENT),
            "special_cause_concern": count(ptv == CONCERN),
            "special_cause_neutral": count((ptv == NEUTRAL_HIGH) | (ptv == NEUTRAL_LOW)),
        }
    )
    return pd.DataFrame(columns, index=pd.RangeIndex(G))


def summary_frame(a: SPCArrays) -> pd.DataFrame:
    """One row per series: the latest point, its icon and assurance, counts, and the run behind its flag."""
    p, by, chart, improvement, vidx = a.prepared, a.by, a.chart, a.improvement, a.vidx
    rtm_v, trend_v, first_v = a.rtm_v, a.trend_v, a.first_v
    S = p.n_series
    sid_v = p.sid[vidx]
    n_valid = rules.group_sizes(sid_v, S)
    has = n_valid > 0  # series with no charted point get None / NaN below
    last_row = np.searchsorted(p.sid, np.arange(S), side="right") - 1
    # a sentinel point at the end stands in for the last point of a series that has none
    nv = len(vidx)
    last_v_pos = np.where(has, np.searchsorted(sid_v, np.arange(S), side="right") - 1, nv)
    vidx_s = np.r_[vidx, 0]
    rtm_s, trend_s, first_s = np.r_[rtm_v, 0], np.r_[trend_v, False], np.r_[first_v, True]
    last_valid = vidx_s[last_v_pos]

    # length of the same-side run and of the trend that end at the last valid point (each ends its run: the next
    # point starts another group, or is the sentinel)
    run_len = np.where(rtm_s[last_v_pos] != 0, rules.run_lengths_to(rtm_s, first_s, last_v_pos), 0)
    run_start = vidx_s[last_v_pos - np.maximum(run_len - 1, 0)]
    steps = rules.steps(np.r_[p.y[vidx], 0.0], first_s)
    trend_len = np.where(
        trend_s[last_v_pos] & (steps[last_v_pos] != 0), rules.run_lengths_to(steps, first_s, last_v_pos) + 1, 0
    )
    trend_start = vidx_s[last_v_pos - np.maximum(trend_len - 1, 0)]

    xcol = p.x
    pcode, scode = a.point_code[last_valid], a.special_code[last_valid]
    icons = [variation_icon(t, improvement) or "" for t in POINT_TYPES]  # the icon of each point type
    mean, lpl, upl, tgt = (np.asarray(v, dtype=float) for v in (a.lines.mean, a.lines.lpl, a.lines.upl, p.target))
    ptv = a.point_code[vidx]

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(sid_v[mask], minlength=S).astype(np.int64)

    short_series = np.zeros(S, bool)
    sg = a.short_group
    short_series[p.sid[vidx][sg[vidx]]] = True
    first_row = np.searchsorted(p.sid, np.arange(S))
    columns: dict[str, Any] = {b: p.columns[b][first_row] for b in by}
    columns.update(
        {
            "chart": chart,
            "improvement": improvement,
            "n": n_valid,
            "n_groups": np.bincount(p.sid[np.r_[True, p.gid[1:] != p.gid[:-1]]], minlength=S).astype(np.int64),
            "latest_x": xcol[last_row],
            "latest_y": p.y[last_row],
            "last_valid_x": xcol[last_valid],
            "last_valid_y": p.y[last_valid],
            "last_point_type": text_column(pcode, POINT_TYPES),
            "last_special_cause_type": text_column(scode, SPECIAL_CAUSE_LABELS),
            "variation_icon": text_column(pcode, icons),
            "mean": mean[last_valid],
            "lpl": lpl[last_valid],
            "upl": upl[last_valid],
            "target": tgt[last_valid],
            "assurance": _assurance(tgt[last_valid], lpl[last_valid], upl[last_valid], improvement),
            "n_improvement": count(ptv == IMPROVEMENT),
            "n_concern": count(ptv == CONCERN),
            "n_neutral": count((ptv == NEUTRAL_HIGH) | (ptv == NEUTRAL_LOW)),
            "run_length": run_len,
            "run_start_x": xcol[run_start],
            "trend_length": trend_len,
            "trend_start_x": xcol[trend_start],
            "warnings": [
                tuple(p.series_warnings.get(s, [])) + ((SHORT_GROUP_WARNING,) if short_series[s] else ())
                for s in range(S)
            ]
            if p.series_warnings or short_series.any()
            else [()] * S,
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
