"""The assembly context: what every block rule (packs.blocks) reads while a pack is put together.

The bottom of the packs flow (build -> batch -> assemble -> blocks -> this module): the organisation, period
and engine results of one pack (`Assembly`), the pack's period (`resolve_period`), its metrics
(`pack_metrics`, `selected`), `when:` conditions (`passes`, and `row_is_exception`, which asks the one
definition of an exception, `mdc.is_exception`), and the helpers rules share. Text is rendered by a *sandboxed* Jinja environment: analysts
edit templates, so `{{ ''.__class__ }}` and friends are refused, and an undefined name is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd
from jinja2 import TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from reporting._yaml import Located
from reporting.charts.theme import DEFAULT_THEME, Theme
from reporting.data.annotations import EMPTY, Registered
from reporting.data.catalogue import Catalogue, Metric
from reporting.data.snapshot import Snapshot
from reporting.errors import ConfigError, DataError
from reporting.formatting import format_period, format_value
from reporting.mdc import VARIATION, fails_target, is_concern, is_exception
from reporting.packs import template as t
from reporting.packs.data_file import NoPrevious, PreviousPack
from reporting.packs.sandbox import pack_environment, render_text
from reporting.packs.tree import Cell, ColumnKind
from reporting.packs.views import View
from reporting.stats.narrative import period_noun, sentence

__all__ = [
    "OFFSETS",
    "STALE_PREFIX",
    "STALE_TEXT",
    "Assembly",
    "Extra",
    "Row",
    "Where",
    "cell",
    "metric_ids_used",
    "metric_of",
    "pack_metrics",
    "passes",
    "resolve_period",
    "selected",
    "series_points",
    "stale_line",
]

T = TypeVar("T")
#: the YAML path of a block or option (`("sections", 0, "blocks", 2, "spc", "title")`), for file:line errors
Where = tuple[str | int, ...]
#: names a block inside for_each adds to its Jinja text (`{"metric": "ae_4hr"}`)
Extra = Mapping[str, str]
#: one row of the engine's summary (stats.spc) merged with its view's SeriesInfo (packs.views)
Row = dict[str, Any]

#: how the executive summary and the email name metrics without current data
STALE_PREFIX = "Data not current"
STALE_TEXT = "no current data"
#: the key of Assembly.said_in_pack for "no commentary was received": said once in a pack, wherever first
NO_COMMENTARY = "no commentary"

OFFSETS = {
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
    summary: dict[str, Row] = field(default_factory=dict)
    jinja: SandboxedEnvironment = field(default_factory=pack_environment)  # bounded, text only (packs.sandbox)
    suppressed_any: bool = False
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)  # cross-organisation results, from the Batch
    views: Mapping[tuple[str, str], Row] = field(default_factory=dict)  # (metric, view) -> summary row
    metric_views: Mapping[str, tuple[View, ...]] = field(default_factory=dict)
    annotations: Registered = EMPTY
    current_view: dict[str, str] = field(default_factory=dict)  # the view of the last chart of each metric
    previous: PreviousPack | NoPrevious | None = None  # the last published pack's numbers (the changes block)
    said_in_pack: set[str] = field(default_factory=set)  # notes a pack says once (e.g. a comparison left out)
    said: set[tuple[str, str]] = field(default_factory=set)  # what this section has said once (assemble resets it)
    _points_by_metric: dict[str, pd.DataFrame] | None = field(default=None, repr=False)

    def row(self, metric_id: str, view: str | None = None) -> Row | None:
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

    def first_time(self, kind: str, metric_id: str) -> bool:
        """True the first time a section says `kind` of a metric ("stale"), then False until the next section:
        a chart's "no current data" line and the narrative under it must not say the same thing twice."""
        if (kind, metric_id) in self.said:
            return False
        self.said.add((kind, metric_id))
        return True

    def stale_sentence(self, metric_id: str, what: str = "") -> str:
        """The one line a section says about a metric with no current data ("" once said in this section):
        'Discharges before 5pm: no current data (latest: week of 22 May 2023), so no chart is shown.'"""
        if not self.first_time("stale", metric_id):
            return ""
        return f"{self.metric(metric_id).title}: {self.not_current(metric_id)}{f', so {what}' if what else ''}."

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

    def once(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """A result shared by every organisation of the batch (funnels, league tables), computed once.
        The key names what was computed, so the same key always holds the same type."""
        if key not in self.memo:
            self.memo[key] = compute()
        return cast(T, self.memo[key])

    @property
    def period_label(self) -> str:
        return format_period(self.period, self.template.cadence)

    @property
    def period_noun(self) -> str:
        """The period as a sentence names it: 'July 2025', 'the week of 25 August 2025'."""
        return period_noun(self.period, self.template.cadence)

    @property
    def template_file(self) -> str:
        """The template as the project names it (templates/packs/<pack>.yaml): a server's absolute path never
        goes into a published pack."""
        root = Path(self.doc.file).resolve().parents[2]  # <project>/templates/packs/<pack>.yaml
        return Path(self.doc.file).resolve().relative_to(root).as_posix()

    @property
    def source_names(self) -> tuple[str, ...]:
        """The snapshot's data sources, as the pack's provenance names them: 'name (kind)'."""
        return tuple(f"{name} ({meta.get('kind')})" for name, meta in self.snapshot.meta.get("sources", {}).items())

    def metric(self, metric_id: str) -> Metric:
        return self.catalogue.metric(metric_id)

    def render(self, text: str, where: Where, **extra: str) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        context: dict[str, object] = {
            "org": self.org,
            "org_name": self.org_name,
            "period": self.period.date(),
            "period_label": self.period_label,
            "pack_title": self.template.title,
            "narrative": self._section_narrative,
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
            withheld=self._withheld_latest(metric, row),
        )
        return text + "".join(" " + extra for extra in _caveats(metric, row))

    def _withheld_latest(self, metric: Metric, row: Row) -> str | None:
        """'fewer than 5' when disclosure control withheld the row's latest period, else None."""
        latest = row.get("latest_x")
        value = row.get("latest_y")
        if latest is None or (value is not None and not pd.isna(value)) or "suppressed" not in self.frame:
            return None
        rows = self.frame[(self.frame["metric_id"] == metric.id) & (self.frame["period"] == pd.Timestamp(latest))]
        hidden = rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        return f"fewer than {metric.disclosure.suppress_below}" if hidden.any() else None

    def _section_narrative(self, metric_id: str, view: str | None = None) -> str:
        """narrative() in a template's text: a stale metric's line only if the section has not said it yet."""
        row = self.row(metric_id, view)
        if row is not None and row.get("stale"):
            return self.stale_sentence(metric_id)
        return self._narrative(metric_id, view)

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


def _caveats(metric: Metric, row: Row) -> list[str]:
    """What a reader must know to read the figures: breaks in the data, trial limits, a fixed baseline."""
    out = []
    breaks = [a for a in row.get("annotations") or () if a.kind == "break"]
    if breaks:
        last = breaks[-1]
        out.append(
            # names the metric: two charts with the same break must not repeat one sentence (issue 13)
            f"{metric.title}: not comparable with figures before {format_period(last.period, metric.frequency)} "
            f"({last.reason})."
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


def selected(asm: Assembly, selection: t.MetricsSelection) -> list[str]:
    return _by_selection(asm.catalogue, selection) or pack_metrics(asm.catalogue, asm.template)


def passes(asm: Assembly, metric_id: str, when: str) -> bool:
    """Whether the metric meets a block's `when:` condition in this pack."""
    if when == "always":
        return True
    row = asm.row(metric_id) or {}
    if row.get("stale"):
        return False  # no current data: neither an exception nor an improvement
    icon = str(row.get("variation_icon") or "")
    return {
        "special_cause": icon not in {"", "common_cause"},
        "concern": is_concern(icon),
        "improvement": icon.startswith("improvement"),
        "fails_target": fails_target(row.get("assurance"), misses_target=_misses_target(asm, metric_id, row)),
        "exception": row_is_exception(asm, metric_id, row),
    }[when]


#: what a block says when no measure meets its `when:` condition, in words a board member reads as a finding
_NONE_MEET = {
    "special_cause": "No measure shows special cause variation in {period}.",
    "concern": "No measure is worse than usual in {period}.",
    "improvement": "No measure has moved beyond its usual range for the better in {period}.",
    "fails_target": "No measure is missing its target in {period} in a way that is likely to continue.",
    "exception": "Nothing needs attention in {period}: no measure is worse than usual, and none is missing its "
    "target in a way that is likely to continue.",
}


def none_meet(asm: Assembly, when: str) -> str:
    """The sentence for an empty `when:` selection: a finding ("nothing needs attention"), not a query result."""
    # 'in July 2025', 'in the week of 25 August 2025': the period as a noun, never "in week of ..."
    return _NONE_MEET.get(when, "No measures to show for {period}.").format(period=asm.period_noun)


def row_is_exception(asm: Assembly, metric_id: str, row: Row) -> bool:
    """`mdc.is_exception` for one summary row of this pack (`when: exception`, `SummaryRow.exception`)."""
    return is_exception(
        row.get("variation_icon"),
        row.get("assurance"),
        misses_target=_misses_target(asm, metric_id, row),
        stale=bool(row.get("stale")),
    )


def _misses_target(asm: Assembly, metric_id: str, row: Row) -> bool:
    metric = asm.metric(metric_id)
    target, value = metric.target_for(asm.org, asm.period.date()), row.get("last_valid_y")
    if target is None or value is None or pd.isna(value):
        return False
    return bool(value < target if metric.direction == "higher_is_better" else value > target)


def series_points(asm: Assembly, metric_id: str, view: str | None = None) -> pd.DataFrame:
    """The points of one view of the metric (default: the view its summary row uses)."""
    if asm.points.empty:
        return pd.DataFrame(columns=["x", "y", "point_type"])
    if asm._points_by_metric is None:  # one pass over the points, not one mask per block (each call copies below)
        asm._points_by_metric = {str(k): rows for k, rows in asm.points.groupby("metric_id", sort=False)}
    rows = asm._points_by_metric.get(metric_id, asm.points.iloc[0:0])
    if "_view" in rows:
        row = asm.row(metric_id, view)
        key = view or (row or {}).get("view")
        rows = rows[rows["_view"] == key]
    return rows.sort_values("x")


def cell(asm: Assembly, metric: Metric, value: float | None, suppressed: bool = False) -> Cell:
    if suppressed:
        asm.suppressed_any = True
        return Cell(None, "*", "percent" if metric.unit == "percent" else "number", suppressed=True)
    v = None if value is None or pd.isna(value) else float(value)
    kind: ColumnKind = "percent" if metric.unit == "percent" else "count" if metric.unit == "count" else "number"
    return Cell(v, format_value(v, metric.unit, metric.decimals, metric.per), kind)


def metric_ids_used(asm: Assembly) -> list[str]:
    """All metrics the pack may show (selections, loops and literal references), in catalogue order."""
    used: set[str] = set()
    for section in asm.template.sections:
        for block in t.iter_blocks(section.blocks):
            options = block.options
            if isinstance(options, t.MetricsSelection):
                used.update(selected(asm, options))
            metric = getattr(options, "metric", None)
            if isinstance(metric, str) and "{{" not in metric:
                used.add(metric)
            used.update(getattr(options, "metrics", None) or [])
    return [m.id for m in asm.catalogue.metrics if m.id in used]


def metric_of(asm: Assembly, metric: str, where: Where, extra: Extra) -> Metric:
    """The catalogue metric a block names (its `metric:` may be Jinja, e.g. `{{ metric }}` in for_each)."""
    metric_id = asm.render(metric, (*where, "metric"), **extra).strip()
    try:
        return asm.metric(metric_id)
    except ConfigError as exc:
        raise ConfigError(
            exc.reason, file=asm.doc.file, line=asm.doc.line_of((*where, "metric")), field="metric"
        ) from None


def stale_line(asm: Assembly, metric_ids: list[str]) -> str:
    """'Data not current: Discharges before 5pm (latest: week of 22 May 2023).'"""
    parts = [f"{asm.metric(m).title} (latest: {(asm.row(m) or {}).get('latest_label') or 'none'})" for m in metric_ids]
    return f"{STALE_PREFIX}: {'; '.join(parts)}. Not shown as current variation or counted as exceptions."
