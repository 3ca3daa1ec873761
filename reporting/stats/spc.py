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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.errors import StatsError
from reporting.stats import _spc_rules as rules
from reporting.stats._spc_rules import IntArray
from reporting.stats.constants import (
    CHART_KINDS,
    IMPROVEMENT_DIRECTIONS,
    MIN_FIX_AFTER_N_POINTS,
    RATIO_CHARTS,
    SHORT_GROUP_THRESHOLD,
    SHORT_GROUP_WARNING,
)
from reporting.stats.spc_input import check_frame, prepare
from reporting.stats.spc_summary import SPCArrays, groups_frame, points_frame, summary_frame

__all__ = ["SPCOptions", "SPCResult", "spc", "spc_metrics"]

ChartKind = Literal["xmr", "p", "pp", "u", "up", "c", "run"]
Improvement = Literal["increase", "decrease", "neutral"]
_DIRECTION_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}


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


@dataclass(frozen=True, eq=False)
class SPCResult:
    """Every point's classification and lines as arrays (``parts``: one SPCArrays per engine pass, one per
    metric for spc_metrics), with the frames built from them on first use and then kept.

    ``point_codes`` / ``special_codes`` (and each part's ``lines``) answer "what type is each point" without a
    frame; the frames, in the same row order:

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

    parts: tuple[SPCArrays, ...]
    options: SPCOptions
    warnings: tuple[str, ...] = ()
    options_by_metric: Mapping[str, SPCOptions] = field(default_factory=dict)

    @property
    def point_codes(self) -> IntArray:
        """Each point's index into constants.POINT_TYPES (-1 for a gap), in the points frame's order."""
        return _joined([a.point_code for a in self.parts])

    @property
    def special_codes(self) -> IntArray:
        """Each point's index into constants.SPECIAL_CAUSE_LABELS (-1 for a gap), in the points frame's order."""
        return _joined([a.special_code for a in self.parts])

    @cached_property
    def points(self) -> pd.DataFrame:
        return self._frame(points_frame)

    @cached_property
    def summary(self) -> pd.DataFrame:
        return self._frame(summary_frame)

    @cached_property
    def groups(self) -> pd.DataFrame:
        return self._frame(groups_frame)

    def _frame(self, build: Callable[[SPCArrays], pd.DataFrame]) -> pd.DataFrame:
        """One pass's frame as built; a MetricFrame's passes (one per metric) concatenated in metric order."""
        if not self.options_by_metric:
            return build(self.parts[0])
        return pd.concat([build(a) for a in self.parts], ignore_index=True)


def _joined(arrays: list[IntArray]) -> IntArray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


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
    ``by`` then ``x``; errors name the 1-based data row in the input order and the field. The result holds
    arrays; its points, summary and groups frames are built when first read.
    """
    if not isinstance(options, SPCOptions):
        raise StatsError(f"options: expected SPCOptions, got {type(options).__name__}")
    if isinstance(by, str):
        by = (by,)
    check_frame(
        data, options.chart, x=x, y=y, numerator=numerator, denominator=denominator, target=target, phase=phase, by=by
    )
    rows = np.arange(1, len(data) + 1, dtype=np.int64)
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
    p = prepare(
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
    every = bool(p.valid.all())  # no gaps (the usual case): the rows with a value are the rows
    vidx = np.arange(n) if every else np.flatnonzero(p.valid)

    def valued(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if every else values[vidx]

    g_v = valued(p.gid)
    first_v = np.ones(len(vidx), bool)
    first_v[1:] = g_v[1:] != g_v[:-1]
    fix = options.fix_after_n_points
    if fix is not None:
        starts = np.maximum.accumulate(np.where(first_v, np.arange(len(vidx)), 0))
        used_v = np.arange(len(vidx)) - starts < fix
    else:
        used_v = np.ones(len(vidx), bool)

    num_all = p.num if p.num is not None else np.full(n, np.nan)
    lines = rules.chart_lines(
        options.chart,
        p.y,
        num_all,
        p.den,
        p.gid,
        p.n_groups,
        vidx,
        first_v,
        used_v,
        options.screen_outliers,
        every=every,
        all_used=fix is None,
    )

    # rules on the points with a value, group by group
    y_v = valued(p.y)
    with np.errstate(invalid="ignore"):
        above_mean = y_v - valued(lines.mean)
        rtm_v = (above_mean > 0).astype(np.int64) - (above_mean < 0)  # a missing centre line: 0
    out_v = rules.outside_limits(y_v, valued(lines.lpl), valued(lines.upl))
    close_v = rules.close_to_limits(y_v, valued(lines.lower2), valued(lines.upper2), out_v)
    shift_v = rules.shift_flags(rtm_v, first_v)
    step_v = rules.steps(y_v, first_v)
    trend_v = rules.trend_flags(y_v, first_v, step=step_v)
    tsign_v = rules.trend_signs(y_v, first_v, trend_v, step=step_v)
    two_v = rules.two_in_three_flags(close_v, rtm_v, first_v)
    codes_v = rules.special_cause_codes(out_v, trend_v, tsign_v, two_v, shift_v, rtm_v)
    direction = _DIRECTION_SIGN[options.improvement]
    ptype_v = rules.point_type_codes(codes_v, direction)

    if every:
        special_code, point_code = codes_v, ptype_v
    else:
        special_code = np.full(n, -1, np.int64)  # -1: a gap, which has no type
        special_code[vidx] = codes_v
        point_code = np.full(n, -1, np.int64)
        point_code[vidx] = ptype_v
    group_n = rules.group_sizes(g_v, p.n_groups)  # points with a value per group
    short = np.repeat(group_n < SHORT_GROUP_THRESHOLD, rules.group_sizes(p.gid, p.n_groups))

    warn = list(p.warnings)
    if short[p.valid].any():
        warn.append(SHORT_GROUP_WARNING)
    arrays = SPCArrays(
        prepared=p,
        by=by,
        chart=options.chart,
        improvement=options.improvement,
        lines=lines,
        vidx=vidx,
        first_v=first_v,
        used_v=used_v,
        outside_v=out_v,
        rtm_v=rtm_v,
        close_v=close_v,
        trend_v=trend_v,
        special_code=special_code,
        point_code=point_code,
        short_group=short,
    )
    return SPCResult(parts=(arrays,), options=options, warnings=tuple(warn))


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
    parts: list[SPCArrays] = []
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
        parts.extend(res.parts)
        warn.extend(f"metric {metric_id}: {w}" for w in res.warnings)
    if not parts:
        raise StatsError("field 'value': the metric frame has no rows")
    return SPCResult(
        parts=tuple(parts),
        options=SPCOptions(),
        warnings=tuple(dict.fromkeys(warn)),
        options_by_metric=dict(options_by_metric),
    )
