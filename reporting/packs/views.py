"""What each chart shows, and the engine run on exactly those points.

Why: a Board member reads the centre line as "our average over the chart". Limits computed from 169 weeks
while the chart shows 52 put 48 of 52 points in purple while the text says "common cause". So every chart is a
*view* of its series: the latest `periods` periods up to the latest value (or a fixed `baseline`), with
missing periods put back as gaps, rebases and breaks from the annotations register inside the window, and
`chart: auto` resolved from the dispersion of the points the limits come from. The engine then runs on each
view's rows (one vectorised call for all of them), so its formulas are untouched and every mean, limit,
icon, assurance result and narrative comes from points the reader can see.

A series whose latest value lags the pack's period by more than the metric's `max_lag` is *stale*: it gets
no view at all, and the pack says "no current data (latest: ...)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from reporting.data.annotations import Annotation, Registered, period_start
from reporting.data.catalogue import Catalogue, Metric
from reporting.data.periods import Baseline
from reporting.errors import DataError
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.stats.constants import MIN_FIX_AFTER_N_POINTS
from reporting.stats.dispersion import OVERDISPERSED, auto_chart, sigma_z
from reporting.stats.spc import ChartKind, SPCOptions

__all__ = ["TRIAL_POINTS", "SeriesInfo", "View", "build_views", "template_views"]

#: limits from fewer points than this are "trial limits" (Making Data Count: at least 12 for a baseline)
TRIAL_POINTS = 12
_ALIAS = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q", "daily": "D"}
DEFAULT_PERIODS = 24  # a metric no chart shows (summary rows only): the sparkline's 24 points


@dataclass(frozen=True)
class View:
    """The latest `periods` periods, or from the baseline's first period when it gives one."""

    periods: int
    baseline: Baseline | None = None

    @property
    def key(self) -> str:
        if self.baseline is None:
            return f"{self.periods}"
        b = self.baseline
        return f"{self.periods}:b{b.points}" if b.points else f"{self.periods}:b{b.from_}:{b.to}"


@dataclass(frozen=True)
class SeriesInfo:
    """What a view of one series says about itself (the JSON data file and the chart's labels read it)."""

    metric_id: str
    org: str | None
    view: str
    latest: pd.Timestamp | None  # latest period with a value, up to the pack's period
    stale: bool = False
    latest_label: str = ""
    chart: str = ""  # after `auto`
    sigma_z: float = float("nan")
    overdispersed: bool = False
    first: pd.Timestamp | None = None  # first period shown
    baseline_first: pd.Timestamp | None = None
    baseline_last: pd.Timestamp | None = None
    baseline_n: int = 0  # points the latest limits come from
    fixed: bool = False  # a `baseline:` fixed them
    trial: bool = False
    missing: tuple[pd.Timestamp, ...] = ()  # periods inside the window with no row at all
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)  # those at or before the latest period

    def as_row(self) -> dict[str, Any]:
        return {
            "stale": self.stale,
            "latest_available": self.latest,
            "latest_label": self.latest_label,
            "chart_used": self.chart,
            "sigma_z": self.sigma_z,
            "overdispersed": self.overdispersed,
            "window_first": self.first,
            "baseline_first": self.baseline_first,
            "baseline_last": self.baseline_last,
            "baseline_n": self.baseline_n,
            "baseline_fixed": self.fixed,
            "trial_limits": self.trial,
            "missing_periods": self.missing,
            "annotations": self.annotations,
            "view": self.view,
        }


def template_views(
    template: t.PackTemplate, catalogue: Catalogue, used: Iterable[str], selected: Callable[[Any], list[str]]
) -> dict[str, tuple[View, ...]]:
    """Every view each metric is shown in, the first (in template order) being the one its summary rows,
    icons and narratives use outside a chart. A metric no chart shows gets the sparkline's 24 periods."""
    own: dict[str, list[View]] = {}  # charts that name the metric: its "home" chart comes first
    looped: dict[str, list[View]] = {}  # charts drawn for each metric of a for_each

    def add(into: dict[str, list[View]], metric_id: str, o: t.SpcOptions) -> None:
        if metric_id not in {m.id for m in catalogue.metrics}:
            return
        view = View(o.periods, o.baseline or catalogue.metric(metric_id).baseline)
        views = into.setdefault(metric_id, [])
        if view not in views:
            views.append(view)

    def walk(blocks: list[Any], loop: list[str] | None) -> None:
        for block in blocks:
            if isinstance(block, t.SpcBlock):
                o = block.spc
                if "{{" in o.metric:
                    for metric_id in loop or []:
                        add(looped, metric_id, o)
                else:
                    add(own, o.metric, o)
            elif isinstance(block, t.ForEachBlock):
                walk(block.for_each.blocks, selected(block.for_each))

    for section in template.sections:
        walk(section.blocks, None)
    out: dict[str, list[View]] = {}
    for metric_id in [*own, *looped]:
        out[metric_id] = list(dict.fromkeys([*own.get(metric_id, []), *looped.get(metric_id, [])]))
    for metric_id in used:
        if metric_id not in out:
            out[metric_id] = [View(DEFAULT_PERIODS, catalogue.metric(metric_id).baseline)]
    return {k: tuple(v) for k, v in out.items()}


def _lag(latest: pd.Timestamp, current: pd.Timestamp, frequency: str) -> int:
    alias = _ALIAS[frequency]
    return int((current.to_period(alias) - latest.to_period(alias)).n)


def _grid(start: pd.Timestamp, end: pd.Timestamp, frequency: str) -> pd.DatetimeIndex:
    alias = _ALIAS[frequency]
    return pd.period_range(start.to_period(alias), end.to_period(alias), freq=alias).start_time


def _limit_points(valid: pd.Series, rebases: list[pd.Timestamp], fix: int | None) -> pd.Series:
    """Periods (with a value) the latest group's limits come from."""
    since = valid[valid >= max(rebases)] if rebases else valid
    return since.head(fix) if fix is not None else since


def build_views(
    frame: pd.DataFrame,
    catalogue: Catalogue,
    views: Mapping[str, tuple[View, ...]],
    annotations: Registered,
    period_end: pd.Timestamp,
    key_column: str = "_pack",
) -> tuple[pd.DataFrame, dict[str, SPCOptions], dict[tuple[Any, str, str, str], SeriesInfo], dict[Any, DataError]]:
    """Each (pack, metric, organisation, view)'s rows for the engine, keyed by a synthetic metric id.

    Returns (rows with `metric_id` = key, `_metric`, `_view`), {key: SPCOptions}, {(pack, metric, org, view):
    SeriesInfo}, and {pack: error} for packs whose baseline cannot be honoured."""
    parts: list[pd.DataFrame] = []
    options: dict[str, SPCOptions] = {}
    keys: dict[tuple[str, str, SPCOptions], str] = {}
    infos: dict[tuple[Any, str, str, str], SeriesInfo] = {}
    errors: dict[Any, DataError] = {}
    wanted = frame[frame["metric_id"].isin(list(views))]
    for (pack, metric_id, org), rows in wanted.groupby([key_column, "metric_id", "org_code"], sort=True, observed=True):
        if pack in errors:
            continue
        metric = catalogue.metric(str(metric_id))
        rows = rows.sort_values("period")
        # a suppressed figure is current data that cannot be shown, not missing data: it counts for staleness
        hidden = rows["suppressed"].fillna(False).astype(bool) if "suppressed" in rows else False
        valued = rows.loc[rows["value"].notna() | hidden, "period"]
        if valued.empty:
            continue
        latest = pd.Timestamp(valued.iloc[-1])
        current = period_start(period_end, metric.frequency)
        label = format_period(latest, metric.frequency)
        notes = tuple(a for a in annotations.for_series(str(metric_id), str(org)) if a.period <= latest)
        for view in views[str(metric_id)]:
            base = SeriesInfo(str(metric_id), str(org), view.key, latest, latest_label=label, annotations=notes)
            if _lag(latest, current, metric.frequency) > metric.max_lag:
                infos[(pack, str(metric_id), str(org), view.key)] = _replace(base, stale=True)
                continue
            try:
                part, opts, info = _view(rows, metric, view, base, notes)
            except DataError as exc:
                errors[pack] = exc
                break
            if opts is None:
                infos[(pack, str(metric_id), str(org), view.key)] = info
                continue
            k = keys.setdefault((str(metric_id), view.key, opts), f"{metric_id}\x1f{len(keys)}")
            options[k] = opts
            parts.append(part.assign(metric_id=k, _metric=str(metric_id), _view=view.key))
            infos[(pack, str(metric_id), str(org), view.key)] = info
    rows_out = pd.concat(parts, ignore_index=True) if parts else frame.iloc[0:0].assign(_metric="", _view="")
    return rows_out, options, infos, errors


def _replace(info: SeriesInfo, **changes: Any) -> SeriesInfo:
    from dataclasses import replace

    return replace(info, **changes)


def _view(
    rows: pd.DataFrame, metric: Metric, view: View, base: SeriesInfo, notes: tuple[Annotation, ...]
) -> tuple[pd.DataFrame, SPCOptions | None, SeriesInfo]:
    freq = metric.frequency
    latest = base.latest
    assert latest is not None
    b = view.baseline
    first_data = pd.Timestamp(rows["period"].iloc[0])
    if b is not None and b.from_ is not None:
        start = period_start(b.from_, freq)
        if start < period_start(first_data, freq) or period_start(b.to, freq) > latest:  # type: ignore[arg-type]
            raise DataError(
                f"{metric.id}: baseline {b.from_} to {b.to} is longer than the series "
                f"({format_period(first_data, freq)} to {base.latest_label})",
                field="baseline",
            )
    else:
        start = pd.Timestamp((latest.to_period(_ALIAS[freq]) - (view.periods - 1)).start_time)
    grid = _grid(start, latest, freq)
    inside = rows[(rows["period"] >= grid[0]) & (rows["period"] <= latest)].set_index("period")
    missing = tuple(pd.Timestamp(p) for p in grid.difference(cast(pd.DatetimeIndex, inside.index)))
    part = inside.reindex(grid)
    part.index.name = "period"
    part = part.reset_index()
    for col in ("metric_id", "org_code", "_pack"):
        if col in part:
            part[col] = part[col].ffill().bfill()
    if "target" in part:
        part["target"] = part["target"].ffill().bfill()
    if "suppressed" in part:
        part["suppressed"] = part["suppressed"].astype("boolean").fillna(False).astype(bool)
    if "flag" in part:
        part["flag"] = part["flag"].astype("string").fillna("missing_period")
    valid = part.loc[part["value"].notna(), "period"]
    if len(valid) < 2:
        return part, None, _replace(base, first=grid[0], missing=missing)
    rebases = sorted({a.period for a in notes if a.rebases and grid[0] < a.period <= latest})
    if rebases and (valid < rebases[0]).sum() < 2:
        # one point before a rebase cannot have limits of its own: the chart starts at the rebase
        part = part[part["period"] >= rebases[0]].reset_index(drop=True)
        missing = tuple(m for m in missing if m >= rebases[0])
        valid = valid[valid >= rebases[0]]
        grid = grid[grid >= rebases[0]]
        rebases = rebases[1:]
    fix: int | None = None
    if b is not None:
        if b.points is not None:
            fix = b.points
            if fix > len(valid):
                raise DataError(
                    f"{metric.id}: baseline of {fix} points is longer than the {len(valid)} points "
                    f"shown (periods: {view.periods})",
                    field="baseline.points",
                )
        else:
            fix = int(((valid >= period_start(b.from_, freq)) & (valid <= period_start(b.to, freq))).sum())  # type: ignore[arg-type]
        if fix < MIN_FIX_AFTER_N_POINTS:
            raise DataError(
                f"{metric.id}: a fixed baseline needs at least {MIN_FIX_AFTER_N_POINTS} points with a "
                f"value; this one has {fix}",
                field="baseline",
            )
    limit = _limit_points(valid, rebases, fix)
    chart: str = metric.chart  # "auto" is resolved below: a ratio metric's p/u or Laney p'/u'
    sz, over = float("nan"), False
    if metric.is_ratio:
        sel = part[part["period"].isin(limit)]
        proportion = metric.unit == "percent"
        if chart == "auto":
            chart, sz = auto_chart(sel["numerator"], sel["denominator"], proportion=proportion)
        else:
            sz = sigma_z(sel["numerator"], sel["denominator"], proportion=proportion)
        over = bool(np.isfinite(sz) and sz > OVERDISPERSED)
    opts = SPCOptions(
        chart=cast(ChartKind, chart),
        improvement=metric.improvement,  # type: ignore[arg-type]
        rebase=tuple(p.date() for p in rebases),
        fix_after_n_points=fix,
    )
    info = _replace(
        base,
        chart=chart,
        sigma_z=sz,
        overdispersed=over,
        first=grid[0],
        baseline_first=pd.Timestamp(limit.iloc[0]),
        baseline_last=pd.Timestamp(limit.iloc[-1]),
        baseline_n=len(limit),
        fixed=fix is not None,
        trial=len(limit) < TRIAL_POINTS,
        missing=missing,
    )
    return part, opts, info
