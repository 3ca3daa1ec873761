"""The rule of the SPC chart block: one metric's Making Data Count chart, with its baseline and register marks."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from reporting.charts import spc_chart
from reporting.data.catalogue import Metric
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Row, Where, metric_of, passes, series_points
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, ChartBlock, Text
from reporting.packs.views import View


@rule(t.SpcBlock)
def _spc(asm: Assembly, o: t.SpcOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    if not passes(asm, metric.id, o.when):
        return []
    view = View(o.periods, o.baseline or metric.baseline).key
    asm.current_view[metric.id] = view
    summary = asm.row(metric.id, view) or {}
    points = series_points(asm, metric.id, view) if summary else series_points(asm, metric.id).iloc[0:0]
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else metric.title
    if summary.get("stale"):
        # no chart of old points that could be read as this period's: one line that says so instead, once a
        # section (the narrative under the chart then says nothing more)
        line = asm.stale_sentence(metric.id, "no chart is shown")
        return [Text((line,), "note")] if line else []
    spec_marks = _marks(metric, summary)
    spec = spc_chart(
        points,
        summary,
        title=title,
        unit=metric.unit,
        decimals=metric.decimals,
        frequency=metric.frequency,
        org=asm.org_name,
        theme=asm.theme,
        marks=(_span(points, metric.frequency), spec_marks),
        suppressed=_suppressed(asm, metric.id),
        threshold=metric.disclosure.suppress_below,
    )
    chart_used = summary.get("chart_used") or metric.chart
    notes = (
        f"{metric.title}: {metric.description} Drawn as {_article(_CHART_NAMES.get(chart_used, chart_used))}; "
        f"{_BETTER[metric.direction]}. Source: {metric.source}. Snapshot {asm.snapshot.hash}."
    )
    caption = f"{metric.title}, {asm.org_name or 'all organisations'}: SPC chart"
    method = _method(metric, summary)
    # a screen reader hears what a sighted reader sees on the axis and in the caption: the breaks and the method
    said = [f"Break {format_period(p, metric.frequency)}" for p, kind, _ in spec_marks if kind == "break"]
    said += [method[:1].upper() + method[1:]] if method else []
    if said and not spec.message:
        spec = replace(spec, alt_text=f"{spec.alt_text} {'. '.join(said)}.")
    return [ChartBlock(spec, f"{caption}; {method}" if method else caption, o.native, notes=notes)]


def _suppressed(asm: Assembly, metric_id: str) -> list[pd.Timestamp]:
    """The periods disclosure control withheld for this metric (the chart marks them with "*")."""
    rows = asm.frame[asm.frame["metric_id"] == metric_id]
    if "suppressed" not in rows:
        return []
    hidden = rows["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return [pd.Timestamp(p) for p in rows.loc[hidden, "period"]]


#: catalogue direction -> how a chart's note says which way is better, in plain English
_BETTER = {
    "higher_is_better": "higher is better",
    "lower_is_better": "lower is better",
    "neutral": "neither higher nor lower is better in itself",
}


def _article(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiox" else "a ") + name


_CHART_NAMES = {
    "p": "p chart",
    "pp": "p′ chart (Laney)",
    "u": "u chart",
    "up": "u′ chart (Laney)",
    "xmr": "XmR chart",
    "c": "c chart",
    "run": "run chart",
}


def _span(points: pd.DataFrame, frequency: str) -> str:
    """What a chart's subtitle adds to the organisation: the periods it shows ("August 2023 to July 2025")."""
    shown = points.loc[points["y"].notna(), "x"] if "y" in points else points.get("x", pd.Series(dtype=object))
    if shown is None or len(shown) == 0:
        return ""
    first, last = format_period(shown.min(), frequency), format_period(shown.max(), frequency)
    return last if first == last else f"{first} to {last}"


def _method(metric: Metric, row: Row) -> str:
    """How the limits were set, in plain words, for the chart's caption (never its title, which a lay reader
    reads first): a fixed baseline, trial limits, Laney's adjustment, a rebase or note from the register. A
    break is said once, by the narrative under the chart (assembly._caveats)."""
    freq = metric.frequency
    said = []
    if row.get("baseline_fixed") and row.get("baseline_first") is not None:
        said.append(
            f"limits fixed on {format_period(row['baseline_first'], freq)} to "
            f"{format_period(row['baseline_last'], freq)} ({int(row['baseline_n'])} points)"
        )
    if row.get("trial_limits"):
        said.append(f"trial limits, from {int(row.get('baseline_n') or 0)} points, that may still move")
    if row.get("chart_used") in ("pp", "up") and metric.chart == "auto":
        said.append(f"limits widened for overdispersion ({_LANEY[row['chart_used']]})")
    first = row.get("window_first")
    for a in row.get("annotations") or ():
        if first is not None and a.period < first:
            continue
        when, reason = format_period(a.period, freq), str(a.reason).rstrip(".")
        if a.kind == "rebase":
            said.append(f"limits recalculated from {when} ({reason})")
        elif a.kind == "note":
            said.append(f"{when}: {reason}")
    return "; ".join(said)


_LANEY = {"pp": "Laney p′", "up": "Laney u′"}


def _marks(metric: Metric, row: Row) -> tuple[tuple[pd.Timestamp, str, str], ...]:
    """(period, kind, label) of each register entry in the chart's window: a mark on the axis ("Break Oct
    2023"); the reason is in the narrative under the chart, said once."""
    first = row.get("window_first")
    return tuple(
        (a.period, a.kind, f"{a.kind.capitalize()} {a.period:%b %Y}")
        for a in row.get("annotations") or ()
        if first is None or a.period >= first
    )
