"""Template + snapshot -> Pack tree. The only place where templates meet data.

Order: check the template against the catalogue (unknown metrics are template errors, with file and line);
resolve the period; apply each metric's disclosure rule; run SPC for every metric of the pack in one
vectorised pass; then build each block. Text is rendered by a *sandboxed* Jinja environment: analysts
edit templates, so `{{ ''.__class__ }}` and friends are refused, and an undefined name is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from reporting._yaml import Located
from reporting.charts import (
    caterpillar_chart,
    funnel_chart,
    league_chart,
    sparkline_chart,
    spc_chart,
)
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.data.annotations import EMPTY, Registered
from reporting.data.catalogue import Catalogue, Metric
from reporting.data.snapshot import Snapshot
from reporting.errors import ConfigError, DataError
from reporting.formatting import format_period, format_value
from reporting.mdc import VARIATION, fails_target, is_concern, is_exception
from reporting.packs import template as t
from reporting.packs.sandbox import pack_environment, render_text
from reporting.packs.tree import (
    SUPPRESSED_NOTE,
    Block,
    Cell,
    ChartBlock,
    Column,
    Commentary,
    Contents,
    Cover,
    DataTable,
    Heading,
    Pack,
    PageBreak,
    SummaryRow,
    SummaryTable,
    Text,
)
from reporting.packs.views import View
from reporting.stats.disclosure import withheld_from_comparison
from reporting.stats.funnel import funnel, funnel_curve
from reporting.stats.league import league_table
from reporting.stats.narrative import sentence
from reporting.stats.variation import caterpillar

__all__ = ["Assembly", "assemble", "pack_metrics", "resolve_period"]

_OFFSETS = {
    "weekly": pd.DateOffset(weeks=1),
    "monthly": pd.DateOffset(months=1),
    "quarterly": pd.DateOffset(months=3),
    "daily": pd.DateOffset(days=1),
}


def _parse_period(text: str) -> pd.Timestamp:
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return pd.Timestamp(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ConfigError(f"cannot read period {text!r}; expected YYYY-MM or YYYY-MM-DD", field="--period")


def resolve_period(cadence: str, frame: pd.DataFrame, requested: str | None) -> pd.Timestamp:
    """The pack's period start: the given one, or the latest period with any value (latest complete one)."""
    alias = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q"}[cadence]
    valued = frame[frame["value"].notna()]
    if valued.empty:
        raise DataError("no data for any metric of this pack (for this organisation)", field="period")
    starts = valued["period"].dt.to_period(alias).dt.start_time
    if requested is None:
        return _shared_latest(starts, valued["metric_id"] if "metric_id" in valued else None)
    start = pd.Timestamp(_parse_period(requested).to_period(alias).start_time)
    if not (starts == start).any():
        latest = pd.Timestamp(starts.max())
        raise DataError(f"no data for period {requested} (the latest with data is {latest:%Y-%m-%d})", field="--period")
    return start


def _shared_latest(starts: pd.Series, metric_ids: pd.Series | None) -> pd.Timestamp:
    """The latest period that at least half of the metrics have a value for: one metric that stopped
    (or one that is a period ahead) does not move the pack's period."""
    if metric_ids is None:
        return pd.Timestamp(starts.max())
    have = pd.DataFrame({"start": starts.to_numpy(), "metric": metric_ids.to_numpy()}).drop_duplicates()
    n = have["metric"].nunique()
    counts = have.groupby("start")["metric"].nunique().sort_index(ascending=False)
    shared = counts[counts * 2 >= n]
    return pd.Timestamp(shared.index[0] if len(shared) else starts.max())


# ----------------------------------------------------------------------------------------------- assembly
@dataclass
class Assembly:
    """Everything a block needs while the pack is put together."""

    catalogue: Catalogue
    template: t.PackTemplate
    doc: Located
    template_hash: str
    snapshot: Snapshot
    org: str | None
    org_name: str | None
    period: pd.Timestamp
    period_end: pd.Timestamp
    peer_group: str | None
    theme: Theme = DEFAULT_THEME
    commentary: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)  # this org, disclosure applied
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    jinja: SandboxedEnvironment = field(default_factory=pack_environment)  # bounded, text only (packs.sandbox)
    suppressed_any: bool = False
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # cross-organisation results, from the Batch
    views: Mapping[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (metric, view) -> summary row
    metric_views: Mapping[str, tuple[View, ...]] = field(default_factory=dict)
    annotations: Registered = EMPTY
    current_view: dict[str, str] = field(default_factory=dict)  # the view of the last chart of each metric

    def row(self, metric_id: str, view: str | None = None) -> dict[str, Any] | None:
        """The summary row of a view of the metric: the given one, else the last chart's, else the first."""
        key = view or self.current_view.get(metric_id)
        if key is None:
            views = self.metric_views.get(metric_id)
            if not views:
                return self.summary.get(metric_id)
            key = views[0].key
        return self.views.get((metric_id, key), self.summary.get(metric_id) if not self.views else None)

    def primary(self, metric_id: str) -> str | None:
        """The view summary rows and the email use: the metric's own chart, else the first that shows it."""
        views = self.metric_views.get(metric_id)
        return views[0].key if views else None

    def stale(self, metric_id: str) -> bool:
        return bool((self.row(metric_id) or {}).get("stale"))

    def not_current(self, metric_id: str) -> str:
        """'no current data (latest: week of 22 May 2023)'"""
        row = self.row(metric_id) or {}
        return f"{STALE_TEXT} (latest: {row.get('latest_label') or 'none'})"

    def annotation_notes(self) -> list[str]:
        """The register's entries for this pack's organisation and metrics, for the pack's notes."""
        out = []
        shown = set(self.metric_views)
        for a in self.annotations.entries:
            if a.metric_id in shown and (a.org is None or a.org == self.org):
                metric = self.metric(a.metric_id)
                out.append(
                    f"{a.kind.capitalize()}, {metric.title}, {format_period(a.period, metric.frequency)}"
                    f"{'' if a.org else ' (all organisations)'}: {a.reason}."
                )
        return out

    def once(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """A result shared by every organisation of the batch (funnels, league tables), computed once."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @property
    def period_label(self) -> str:
        return format_period(self.period, self.template.cadence)

    def metric(self, metric_id: str) -> Metric:
        return self.catalogue.metric(metric_id)

    def render(self, text: str, where: tuple[Any, ...], **extra: Any) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        context = {
            "org": self.org,
            "org_name": self.org_name,
            "period": self.period.date(),
            "period_label": self.period_label,
            "pack_title": self.template.title,
            "narrative": self._narrative,
            "value": self._value,
            "target": self._target,
            "icon": self._icon_label,
            **extra,
        }
        try:
            return render_text(self.jinja, text, context)
        except SecurityError as exc:
            raise ConfigError(
                f"refused by the template sandbox: {exc}",
                file=self.doc.file,
                line=self.doc.line_of(where),
                field=".".join(map(str, where)),
            ) from None
        except TemplateError as exc:
            line = self.doc.line_of(where)
            inner = getattr(exc, "lineno", None)
            raise ConfigError(
                f"template error: {exc.message or exc}"
                + (f" (line {inner} of the text)" if inner and inner > 1 else ""),
                file=self.doc.file,
                line=line,
                field=".".join(map(str, where)),
            ) from None

    # functions available inside templates -------------------------------------------------------------
    def _narrative(self, metric_id: str, view: str | None = None) -> str:
        metric = self.metric(metric_id)
        row = self.row(metric_id, view)
        if row is None:
            return f"{metric.title}: no data for {self.period_label}."
        if row.get("stale"):
            return f"{metric.title}: {self.not_current(metric_id)}."
        text = sentence(
            metric.title,
            metric.unit,
            row,
            frequency=metric.frequency,
            decimals=metric.decimals,
            per=metric.per,
            plural=metric.plural,
        )
        return text + "".join(" " + extra for extra in _caveats(metric, row))

    def _value(self, metric_id: str) -> str:
        metric = self.metric(metric_id)
        row = self.row(metric_id)
        if row is not None and row.get("stale"):
            return self.not_current(metric_id)
        return format_value(row.get("last_valid_y") if row else None, metric.unit, metric.decimals, metric.per)

    def _target(self, metric_id: str) -> str:
        metric = self.metric(metric_id)
        return format_value(metric.target_for(self.org, self.period.date()), metric.unit, metric.decimals, metric.per)

    def _icon_label(self, metric_id: str) -> str:
        row = self.row(metric_id) or {}
        icon = row.get("variation_icon")
        return VARIATION[icon][2] if icon in VARIATION else "no data"


def _caveats(metric: Metric, row: Mapping[str, Any]) -> list[str]:
    """What a reader must know to read the figures: breaks in the data, trial limits, a fixed baseline."""
    out = []
    breaks = [a for a in row.get("annotations") or () if a.kind == "break"]
    if breaks:
        last = breaks[-1]
        out.append(
            f"Not comparable with figures before {format_period(last.period, metric.frequency)} ({last.reason})."
        )
    if row.get("trial_limits") and row.get("baseline_n"):
        out.append(f"Trial limits: from {int(row['baseline_n'])} points.")
    return out


def pack_metrics(catalogue: Catalogue, template: t.PackTemplate) -> list[str]:
    """The metrics a pack covers: its `metrics:` selection (inherited through `extends`), else the catalogue's.
    A block without its own selection covers exactly these, so a metric added to the catalogue appears only
    in the packs that select it."""
    selection = template.metrics
    if selection is None:
        return [m.id for m in catalogue.metrics]
    if isinstance(selection, list):
        return list(dict.fromkeys(selection))
    return _by_selection(catalogue, selection) or [m.id for m in catalogue.metrics]


def _by_selection(catalogue: Catalogue, selection: t.MetricsSelection) -> list[str]:
    ids = list(selection.metrics)
    if selection.tag:
        ids += [m.id for m in catalogue.metrics if selection.tag in m.tags and m.id not in ids]
    return ids


def _selected(asm: Assembly, selection: t.MetricsSelection) -> list[str]:
    return _by_selection(asm.catalogue, selection) or pack_metrics(asm.catalogue, asm.template)


def _passes(asm: Assembly, metric_id: str, when: str) -> bool:
    if when == "always":
        return True
    row = asm.row(metric_id) or {}
    if row.get("stale"):
        return False  # no current data: neither an exception nor an improvement
    icon, assurance = str(row.get("variation_icon") or ""), row.get("assurance")
    concern, misses = is_concern(icon), _misses_target(asm, metric_id, row)
    fails = fails_target(assurance, misses_target=misses)
    return {
        "special_cause": icon not in {"", "common_cause"},
        "concern": concern,
        "improvement": icon.startswith("improvement"),
        "fails_target": fails,
        "exception": is_exception(icon, assurance, misses_target=misses),
    }[when]


def _misses_target(asm: Assembly, metric_id: str, row: Mapping[str, Any]) -> bool:
    metric = asm.metric(metric_id)
    target, value = metric.target_for(asm.org, asm.period.date()), row.get("last_valid_y")
    if target is None or value is None or pd.isna(value):
        return False
    return value < target if metric.direction == "higher_is_better" else value > target


def _series_points(asm: Assembly, metric_id: str, view: str | None = None) -> pd.DataFrame:
    """The points of one view of the metric (default: the view its summary row uses)."""
    if asm.points.empty:
        return pd.DataFrame(columns=["x", "y", "point_type"])
    rows = asm.points[asm.points["metric_id"] == metric_id]
    if "_view" in rows:
        row = asm.row(metric_id, view)
        key = view or (row or {}).get("view")
        rows = rows[rows["_view"] == key]
    return rows.sort_values("x")


def _cell(asm: Assembly, metric: Metric, value: Any, suppressed: bool = False) -> Cell:
    if suppressed:
        asm.suppressed_any = True
        return Cell(None, "*", "percent" if metric.unit == "percent" else "number", suppressed=True)
    v = None if value is None or pd.isna(value) else float(value)
    kind = "percent" if metric.unit == "percent" else "count" if metric.unit == "count" else "number"
    return Cell(v, format_value(v, metric.unit, metric.decimals, metric.per), kind)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- blocks
def _blocks(asm: Assembly, block: Any, where: tuple[Any, ...], metric_ctx: str | None = None) -> list[Block]:
    kind = next(iter(type(block).model_fields))
    options = getattr(block, kind)
    where = (*where, kind)
    extra = {"metric": metric_ctx} if metric_ctx else {}
    handler = _HANDLERS[kind]
    return handler(asm, options, where, extra)


def _metric_of(asm: Assembly, options: Any, where: tuple[Any, ...], extra: dict[str, Any]) -> Metric:
    metric_id = asm.render(options.metric, (*where, "metric"), **extra).strip()
    try:
        return asm.metric(metric_id)
    except ConfigError as exc:
        raise ConfigError(
            exc.reason, file=asm.doc.file, line=asm.doc.line_of((*where, "metric")), field="metric"
        ) from None


def _cover(asm: Assembly, o: t.CoverOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    subtitle = asm.render(o.subtitle or asm.template.subtitle, (*where, "subtitle"), **extra)
    return [
        Cover(
            asm.render(asm.template.title, ("title",)),
            subtitle,
            asm.period_label,
            asm.template.audience,
            asm.template.owner,
            asm.template.classification,
        )
    ]


def _contents(asm: Assembly, o: t.ContentsOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    return [Contents(o.title)]


def _heading(asm: Assembly, o: t.HeadingOptions | str, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    if isinstance(o, str):
        return [Heading(asm.render(o, where, **extra), 2)]
    return [Heading(asm.render(o.text, (*where, "text"), **extra), o.level)]


def _text(asm: Assembly, o: str, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    text = asm.render(o, where, **extra)
    paragraphs = tuple(p.strip() for p in text.split("\n\n") if p.strip())
    return [Text(paragraphs)] if paragraphs else []


def _summary_table(
    asm: Assembly, o: t.SummaryTableOptions, where: tuple[Any, ...], extra: dict[str, Any]
) -> list[Block]:
    rows = []
    for metric_id in _selected(asm, o):
        if not _passes(asm, metric_id, o.when):
            continue
        metric = asm.metric(metric_id)
        home = asm.primary(metric_id)
        row = asm.row(metric_id, home) or {}
        latest = asm.frame[(asm.frame["metric_id"] == metric_id) & asm.frame["value"].notna()]
        last = latest.sort_values("period").tail(1)
        suppressed = bool(
            asm.frame.loc[asm.frame["metric_id"] == metric_id]
            .sort_values("period")
            .tail(1)
            .get("suppressed", pd.Series([False]))
            .fillna(False)
            .any()
        )
        value = float(last["value"].iloc[0]) if len(last) else None
        label = format_period(last["period"].iloc[0], metric.frequency) if len(last) else "no data"
        target = metric.target_for(asm.org, asm.period.date())
        if row.get("stale"):
            # the period column says which period the latest data are for
            rows.append(
                SummaryRow(
                    metric.id,
                    metric.title,
                    label,
                    Cell(None, STALE_TEXT, "text"),
                    _cell(asm, metric, target),
                    None,
                    None,
                    asm._narrative(metric.id, home) if o.narrative else "",
                )
            )
            continue
        points = _series_points(asm, metric_id, home)
        spark = (
            sparkline_chart(points, title=metric.title, unit=metric.unit, decimals=metric.decimals, theme=asm.theme)
            if o.sparkline and not points.empty
            else None
        )
        rows.append(
            SummaryRow(
                metric.id,
                metric.title,
                label,
                _cell(asm, metric, value, suppressed),
                _cell(asm, metric, target),
                row.get("variation_icon"),
                row.get("assurance"),
                asm._narrative(metric.id, home) if o.narrative else "",
                spark,
                exception=is_exception(
                    row.get("variation_icon"), row.get("assurance"), misses_target=_misses_target(asm, metric_id, row)
                ),
            )
        )
    if not rows:
        return [Text((f"No metric meets the condition '{o.when}' for {asm.period_label}.",), "note")]
    stale = [r for r in rows if asm.stale(r.metric_id)]
    notes: list[Block] = []
    if stale:
        notes.append(Text((stale_line(asm, [r.metric_id for r in stale]),), "note"))
    return [
        SummaryTable(
            asm.render(o.title, (*where, "title"), **extra),
            tuple(rows),
            caption=f"{o.title}, {asm.org_name or ''} {asm.period_label}".replace("  ", " "),
        ),
        *notes,
    ]


#: how the executive summary and the email name metrics without current data
STALE_PREFIX = "Data not current"
STALE_TEXT = "no current data"


def stale_line(asm: Assembly, metric_ids: list[str]) -> str:
    """'Data not current: Discharges before 5pm (latest: week of 22 May 2023).'"""
    parts = [f"{asm.metric(m).title} (latest: {(asm.row(m) or {}).get('latest_label') or 'none'})" for m in metric_ids]
    return f"{STALE_PREFIX}: {'; '.join(parts)}. Not shown as current variation or counted as exceptions."


def _spc(asm: Assembly, o: t.SpcOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    metric = _metric_of(asm, o, where, extra)
    if not _passes(asm, metric.id, o.when):
        return []
    view = View(o.periods, o.baseline or metric.baseline).key
    asm.current_view[metric.id] = view
    summary = asm.row(metric.id, view) or {}
    points = _series_points(asm, metric.id, view) if summary else _series_points(asm, metric.id).iloc[0:0]
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else metric.title
    if summary.get("stale"):
        # no chart of old points that could be read as this period's: one line that says so instead
        return [Text((f"{title}: chart not shown, {asm.not_current(metric.id)}.",), "note")]
    spec = spc_chart(
        points,
        summary,
        title=title,
        unit=metric.unit,
        decimals=metric.decimals,
        frequency=metric.frequency,
        org=asm.org_name,
        theme=asm.theme,
        marks=_marks(metric, summary),
    )
    chart_used = summary.get("chart_used") or metric.chart
    notes = (
        f"{metric.title}: {metric.description} Chart: {chart_used} ({metric.improvement} is better"
        f"{'' if metric.direction != 'neutral' else ': neutral'}). Source: {metric.source}. "
        f"Snapshot {asm.snapshot.hash}."
    )
    return [
        ChartBlock(spec, f"{metric.title}, {asm.org_name or 'all organisations'}: SPC chart", o.native, notes=notes)
    ]


_CHART_NAMES = {
    "p": "p chart",
    "pp": "p′ chart (Laney)",
    "u": "u chart",
    "up": "u′ chart (Laney)",
    "xmr": "XmR chart",
    "c": "c chart",
    "run": "run chart",
}


def _marks(metric: Metric, row: Mapping[str, Any]) -> tuple[str, tuple[tuple[Any, str, str], ...]]:
    """(what the chart's subtitle adds, (period, kind, label) of each register entry in the window)."""
    freq = metric.frequency
    said = []
    first = row.get("window_first")
    if row.get("baseline_fixed") and row.get("baseline_first") is not None:
        said.append(
            f"Limits fixed on baseline {format_period(row['baseline_first'], freq)} to "
            f"{format_period(row['baseline_last'], freq)} ({int(row['baseline_n'])} points)"
        )
    if row.get("trial_limits"):
        said.append(f"Trial limits ({int(row.get('baseline_n') or 0)} points)")
    if row.get("chart_used") in ("pp", "up") and metric.chart == "auto":
        said.append(f"{_CHART_NAMES[row['chart_used']]}: overdispersed, σz {float(row['sigma_z']):.2f}")
    marks = []
    for a in row.get("annotations") or ():
        if first is not None and a.period < first:
            continue
        when = format_period(a.period, freq)
        label = {
            "break": f"Break {when}: {a.reason}; not comparable with earlier figures",
            "rebase": f"Rebased {when}: {a.reason}",
            "note": f"{when}: {a.reason}",
        }[a.kind]
        marks.append((a.period, a.kind, f"{a.kind.capitalize()} {a.period:%b %Y}"))  # the reason is in `said`
        said.append(label)
    return "; ".join(said), tuple(marks)


def _window(asm: Assembly, metric: Metric, periods: int) -> pd.DataFrame:
    """All organisations' rows of the metric over the latest `periods` periods up to the pack period."""
    rows = asm.snapshot.metrics[asm.snapshot.metrics["metric_id"] == metric.id]
    rows = rows[(rows["period"] <= asm.period_end) & rows["value"].notna()]
    if rows.empty:
        return rows
    last = rows["period"].max()
    first = last - _OFFSETS[metric.frequency] * (periods - 1)
    return rows[rows["period"] >= first]


def _peers(asm: Assembly, peers: str | None) -> tuple[pd.DataFrame, str]:
    group = peers or asm.peer_group
    orgs = asm.snapshot.orgs
    if group and group != "all":
        chosen = orgs[orgs["peer_group"] == group]
        if chosen.empty:
            raise ConfigError(
                f"no organisations in peer group '{group}'; groups are: "
                f"{', '.join(sorted(orgs['peer_group'].dropna().unique()))}",
                field="peers",
            )
        return chosen, group
    return orgs, "all organisations"


@dataclass(frozen=True)
class _Pool:
    """Each peer's numerator and denominator summed over the window; peers whose rows cannot be compared
    (a negative numerator, or more events than the denominator for a proportion) are left out and named,
    so one organisation's bad data never breaks, or silently skews, every other organisation's funnel."""

    frame: pd.DataFrame
    group: str
    span: str
    excluded: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()  # small numbers: their pooled figure would reveal a suppressed count

    def note(self, asm: Assembly, title: str) -> list[Block]:
        names = _names(asm)
        out: list[Block] = []
        if self.excluded:
            who = ", ".join(f"{names.get(code, code)} ({code})" for code in self.excluded)
            out.append(
                Text(
                    (
                        f"{title}: left out because their data are not valid for this comparison (a negative "
                        f"count, or more events than the denominator): {who}.",
                    ),
                    "note",
                )
            )
        if self.withheld:
            out.append(
                Text(
                    (f"{title}: {len(self.withheld)} organisation(s) not shown, to protect small numbers (*).",), "note"
                )
            )
        return out


def _cross_section(asm: Assembly, metric: Metric, o: Any) -> _Pool:
    key = ("cross", metric.id, o.periods, o.peers, asm.peer_group, asm.period_end)
    return asm.once(key, lambda: _pool(asm, metric, o))  # type: ignore[no-any-return]


def _pool(asm: Assembly, metric: Metric, o: Any) -> _Pool:
    window = _window(asm, metric, o.periods)
    peers, group = _peers(asm, o.peers)
    rows = window[window["org_code"].isin(peers["org_code"]) & (window["denominator"] > 0)]
    invalid = (rows["numerator"] < 0) | (
        (rows["numerator"] > rows["denominator"]) if metric.unit == "percent" else False
    )
    excluded = tuple(sorted(set(rows.loc[invalid, "org_code"].astype(str))))
    rows = rows[~rows["org_code"].isin(excluded)]
    withheld = tuple(withheld_from_comparison(asm.snapshot.metrics, asm.catalogue, metric.id, rows))
    rows = rows[~rows["org_code"].isin(withheld)]
    pooled = rows.groupby("org_code", as_index=False)[["numerator", "denominator"]].sum()
    if len(window):
        first, last = window["period"].min(), window["period"].max()
        span = (
            format_period(last, metric.frequency)
            if first == last
            else f"{format_period(first, metric.frequency)} to {format_period(last, metric.frequency)}"
        )
    else:
        span = asm.period_label
    return _Pool(pooled, group, span, excluded, withheld)


def _names(asm: Assembly) -> dict[str, str]:
    orgs = asm.snapshot.orgs
    return asm.once(
        ("names",),
        lambda: dict(
            zip(
                orgs["org_code"].astype(str),
                orgs["org_name"].astype(str),  # type: ignore[no-any-return]
                strict=True,
            )
        ),
    )


def _funnel(asm: Assembly, o: t.CrossSectionOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    metric = _metric_of(asm, o, where, extra)
    pool = _cross_section(asm, metric, o)
    pooled, group, span = pool.frame, pool.group, pool.span
    if len(pooled) < 2:
        return [Text((f"{metric.title}: too few {group} with data for a funnel plot ({span}).",), "note")]
    kind = "PR" if metric.unit == "percent" else "RC"
    result = asm.once(
        ("funnel", metric.id, o.periods, o.peers, asm.peer_group, asm.period_end),
        lambda: funnel(pooled, group="org_code", data_type=kind, multiplier=metric.scale),
    )
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else f"{metric.title}: {group}, {span}"
    spec = funnel_chart(
        result.points.assign(target=result.target * metric.scale),
        funnel_curve(result),
        title=title,
        adjusted=result.limits_used == "adjusted",
        unit=metric.unit,
        decimals=metric.decimals,
        highlight=asm.org,
        labels=_names(asm),
        x_title=f"Denominator ({metric.denominator})",
        theme=asm.theme,
    )
    return [
        ChartBlock(
            spec,
            f"{metric.title}: funnel plot of {len(pooled)} {group}, {span}",
            native=True,
            notes=f"phi {result.phi:.3g}, tau² {result.tau2:.3g}, {result.limits_used} limits.",
        ),
        *pool.note(asm, "Funnel plot"),
    ]


def _variation(asm: Assembly, o: t.VariationOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    metric = _metric_of(asm, o, where, extra)
    pool = _cross_section(asm, metric, o)
    pooled, group, span = pool.frame, pool.group, pool.span
    if len(pooled) < 2:
        return [Text((f"{metric.title}: too few {group} with data to compare ({span}).",), "note")]
    cat = asm.once(
        ("caterpillar", metric.id, o.periods, o.peers, asm.peer_group, asm.period_end, o.benchmark),
        lambda: caterpillar(
            pooled,
            kind="proportion" if metric.unit == "percent" else "rate",
            benchmark=o.benchmark,
            higher_is_better=metric.direction != "lower_is_better",
            multiplier=metric.scale,
        ),
    )
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else f"{metric.title}: {group}, {span}"
    spec = caterpillar_chart(
        cat,
        title=title,
        unit=metric.unit,
        decimals=metric.decimals,
        highlight=asm.org,
        labels=_names(asm),
        theme=asm.theme,
    )
    return [
        ChartBlock(spec, f"{metric.title}: variation across {len(cat)} {group}, {span}", native=o.native),
        *pool.note(asm, "Variation chart"),
    ]


def _league_table(asm: Assembly, o: t.LeagueTableOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    metrics = [asm.metric(m) for m in o.metrics]
    wide = None
    span = ""
    group = ""
    notes: list[Block] = []
    for metric in metrics:
        pool = _cross_section(asm, metric, o)
        pooled, group, span = pool.frame, pool.group, pool.span
        notes += pool.note(asm, f"League table ({metric.title})")
        values = pooled.assign(**{metric.id: pooled["numerator"] / pooled["denominator"] * metric.scale})
        part = values[["org_code", metric.id]]
        wide = part if wide is None else wide.merge(part, on="org_code", how="outer")
    if wide is None or len(wide) < 2:
        return [Text((f"Too few {group} with data for a league table.",), "note")]
    needed = min(o.min_metrics or len(metrics), len(metrics))
    table = asm.once(
        ("league", tuple(o.metrics), o.periods, o.peers, asm.peer_group, asm.period_end, needed),
        lambda: league_table(
            wide, metrics={m.id: m.direction != "lower_is_better" for m in metrics}, min_metrics=needed
        ),
    )
    names = _names(asm)
    first = metrics[0]
    chart = league_chart(
        table,
        value=first.id,
        title=o.title or f"{first.title}: {group}, {span}",
        unit=first.unit,
        decimals=first.decimals,
        higher_is_better=first.direction != "lower_is_better",
        top_bottom=o.show,
        highlight=asm.org,
        labels=names,
        theme=asm.theme,
    )
    ranked = table[table["amr"].notna()]
    keep = ranked.head(o.show).index.union(ranked.tail(o.show).index)
    if asm.org is not None:
        keep = keep.union(table.index[table["org_code"] == asm.org])
    unranked = table[table["amr"].isna() & (table["metrics_scored"] > 0)]
    if len(unranked):
        who = ", ".join(names.get(c, c) for c in unranked["org_code"])
        short = (
            "without data for every metric of the table"
            if needed == len(metrics)
            else f"with data for fewer than {needed} of the {len(metrics)} metrics"
        )
        notes.append(Text((f"Not ranked, {short}: {who}.",), "note"))
    columns = [Column("AMR", "number", "0", 6), Column("Organisation", "text", "General", 40)]
    for m in metrics:
        columns += [
            Column(
                m.title,
                "percent" if m.unit == "percent" else "number",
                "0.0%" if m.unit == "percent" else "#,##0.0",
                14,
            ),
            Column("Rank", "number", "0", 6),
        ]
    columns += [Column("Average score", "number", "0.00", 10), Column("Segment", "number", "0", 8)]
    rows = []
    for _, r in table.loc[keep].iterrows():
        cells = [
            Cell(None, "–", "number") if pd.isna(r["amr"]) else Cell(int(r["amr"]), str(int(r["amr"])), "number"),
            Cell(
                names.get(r["org_code"], r["org_code"]) + (" ◀" if r["org_code"] == asm.org else ""),
                names.get(r["org_code"], r["org_code"]) + (" ◀" if r["org_code"] == asm.org else ""),
            ),
        ]
        for m in metrics:
            cells += [
                _cell(asm, m, r[m.id]),
                Cell(
                    None if pd.isna(r[f"{m.id}_rank"]) else int(r[f"{m.id}_rank"]),
                    "" if pd.isna(r[f"{m.id}_rank"]) else str(int(r[f"{m.id}_rank"])),
                    "number",
                ),
            ]
        cells += [
            Cell(None, "–", "number")
            if pd.isna(r["average_score"])
            else Cell(float(r["average_score"]), f"{r['average_score']:.2f}", "number"),
            Cell(
                int(r["segment"]) if not pd.isna(r["segment"]) else None,
                "" if pd.isna(r["segment"]) else str(int(r["segment"])),
                "number",
            ),
        ]
        rows.append(tuple(cells))
    note = (
        "Ranks within the peer group; metric score = 1 + 3 × (rank − 1) / (n − 1) from 1.00 (best) to 4.00; "
        "AMR ranks the average score; segments 1–4 at 1.5, 2.5 and 3.5."
    )
    return [
        ChartBlock(chart, f"League position: {first.title}, {group}, {span}", o.native),
        DataTable(
            f"League table: {group}, {span}",
            tuple(columns),
            tuple(rows),
            caption=f"League table, top and bottom {o.show} of {len(ranked)} {group} ranked",
            footnotes=(note,),
            sheet_name="League table",
        ),
        *notes,
    ]


def _data_rows(asm: Assembly, metric: Metric, periods: int) -> DataTable:
    points = _series_points(asm, metric.id).tail(periods)
    if asm.stale(metric.id):
        points = points.iloc[0:0]
    frame = asm.frame[asm.frame["metric_id"] == metric.id].set_index("period")
    kind = "percent" if metric.unit == "percent" else "number"
    fmt = "0.0%" if metric.unit == "percent" else "#,##0" if metric.decimals == 0 else "#,##0.0"
    columns = (
        Column("Period", "date", "yyyy-mm-dd", 12),
        Column("Value", kind, fmt, 12),
        Column("Numerator", "count", "#,##0", 12),
        Column("Denominator", "count", "#,##0", 12),
        Column("Mean", kind, fmt, 12),
        Column("Lower limit", kind, fmt, 12),
        Column("Upper limit", kind, fmt, 12),
        Column("Point type", "icon", "General", 30),
    )
    rows = []
    for _, p in points.iterrows():
        src = frame.loc[p["x"]] if p["x"] in frame.index else None
        flag = False if src is None else src.get("suppressed", False)
        suppressed = bool(flag) if flag is not None and not pd.isna(flag) else False  # numpy bools too
        num = None if src is None or pd.isna(src["numerator"]) else float(src["numerator"])
        den = None if src is None or pd.isna(src["denominator"]) else float(src["denominator"])
        point_type = "" if pd.isna(p.get("point_type")) else str(p.get("point_type") or "")  # a gap has none
        gap = not suppressed and pd.isna(p["y"])
        rows.append(
            (
                Cell(p["x"].date().isoformat(), format_period(p["x"], metric.frequency), "date"),
                Cell(None, "no data", "text") if gap else _cell(asm, metric, p["y"], suppressed),
                Cell(None, "*", "count", suppressed=True)
                if suppressed
                else Cell(num, "" if num is None else f"{num:,.0f}", "count"),
                Cell(None, "*", "count", suppressed=True)
                if suppressed
                else Cell(den, "" if den is None else f"{den:,.0f}", "count"),
                _cell(asm, metric, p.get("mean")),
                _cell(asm, metric, p.get("lpl")),
                _cell(asm, metric, p.get("upl")),
                Cell(
                    point_type.replace("_", " "),
                    point_type.replace("special_cause_", "special cause ").replace("_", " "),
                    "icon",
                    icon=point_type or None,
                ),
            )
        )
    return DataTable(
        f"{metric.title}: data",
        columns,
        tuple(rows),
        caption=f"{metric.title}, {asm.org_name or ''}: last {len(rows)} periods",
        footnotes=(SUPPRESSED_NOTE.format(threshold=metric.disclosure.suppress_below),)
        if any(c.suppressed for r in rows for c in r)
        else (),
        wide=True,
        sheet_name=metric.id[:31],
    )


def _data_table(asm: Assembly, o: t.DataTableOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    metric = _metric_of(asm, o, where, extra)
    if not _passes(asm, metric.id, o.when):
        return []
    return [_data_rows(asm, metric, o.periods)]


def _commentary(asm: Assembly, o: t.CommentaryOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    for metric_id in _selected(asm, o):
        if metric_id in asm.commentary:
            text, actions, author = asm.commentary[metric_id]
            blocks.append(Commentary(metric_id, asm.metric(metric_id).title, text, actions, author))
    return blocks or [Text((f"No commentary was received for {asm.period_label}.",), "note")]


def _page_break(asm: Assembly, o: Any, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    return [PageBreak()]


def _appendix(asm: Assembly, o: t.AppendixOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    selected = _selected(asm, o)
    if o.definitions:
        columns = (
            Column("Metric", "text", "General", 30),
            Column("Definition", "text", "General", 60),
            Column("Unit", "text", "General", 10),
            Column("Better", "text", "General", 12),
            Column("Chart", "text", "General", 8),
            Column("Target", "text", "General", 14),
            Column("Source", "text", "General", 18),
        )
        rows = []
        for m in (asm.metric(metric_id) for metric_id in selected):
            target = m.target_for(asm.org, asm.period.date())
            rows.append(
                tuple(
                    Cell(v, v)
                    for v in (
                        m.title,
                        m.description or "–",
                        m.unit,
                        m.direction.replace("_", " "),
                        m.chart,
                        format_value(target, m.unit, m.decimals, m.per) if target is not None else "–",
                        m.source,
                    )
                )
            )
        blocks += [
            Heading("Definitions", 2),
            DataTable(
                "Metric definitions",
                columns,
                tuple(rows),
                caption="Metric definitions",
                wide=True,
                sheet_name="Definitions",
            ),
        ]
    if o.data:
        blocks.append(Heading("Data", 2))
        for metric_id in selected:
            if metric_id in asm.summary:
                blocks.append(_data_rows(asm, asm.metric(metric_id), o.periods))
    return blocks


def _for_each(asm: Assembly, o: t.ForEachOptions, where: tuple[Any, ...], extra: dict[str, Any]) -> list[Block]:
    out: list[Block] = []
    chart = next((b.spc for b in o.blocks if isinstance(b, t.SpcBlock)), None)
    for metric_id in _selected(asm, o):
        if chart is not None and metric_id in asm.metric_views:
            # "is it an exception?" is asked of the chart the loop will draw
            metric = asm.metric(metric_id)
            asm.current_view[metric_id] = View(chart.periods, chart.baseline or metric.baseline).key
        if not _passes(asm, metric_id, o.when):
            continue
        for j, inner in enumerate(o.blocks):
            out += _blocks(asm, inner, (*where, "blocks", j), metric_ctx=metric_id)
    if not out:
        out.append(Text((f"No metric meets the condition '{o.when}' for {asm.period_label}.",), "note"))
    return out


_HANDLERS: dict[str, Any] = {
    "cover": _cover,
    "contents": _contents,
    "heading": _heading,
    "text": _text,
    "summary_table": _summary_table,
    "spc": _spc,
    "funnel": _funnel,
    "variation": _variation,
    "league_table": _league_table,
    "data_table": _data_table,
    "commentary": _commentary,
    "page_break": _page_break,
    "appendix": _appendix,
    "for_each": _for_each,
}


def _metric_ids_used(asm: Assembly) -> list[str]:
    """All metrics the pack may show (selections, loops and literal references), in catalogue order."""
    used: set[str] = set()
    for section in asm.template.sections:
        for block in t.iter_blocks(section.blocks):
            options = getattr(block, next(iter(type(block).model_fields)))
            if isinstance(options, t.MetricsSelection):
                used.update(_selected(asm, options))
            metric = getattr(options, "metric", None)
            if isinstance(metric, str) and "{{" not in metric:
                used.add(metric)
            used.update(getattr(options, "metrics", None) or [])
    return [m.id for m in asm.catalogue.metrics if m.id in used]


def assemble(
    catalogue: Catalogue,
    template: t.PackTemplate,
    doc: Located,
    template_hash: str,
    snapshot: Snapshot,
    *,
    org: str | None,
    period: str | None = None,
    peer_group: str | None = None,
    commentary: Callable[[dt.date, str | None], Mapping[str, tuple[str, str, str]]] | None = None,
    built_at: str | None = None,
) -> Pack:
    """One pack on its own: a Batch (packs.batch) of one organisation."""
    from reporting.packs.batch import prepare  # batch builds on this module

    batch = prepare(catalogue, template, doc, template_hash, snapshot, orgs=[org], period=period, peer_group=peer_group)
    return batch.pack(org, commentary=commentary, built_at=built_at)
