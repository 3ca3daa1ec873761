"""The rule of the SPC chart block: one metric's Making Data Count chart, with its baseline and register marks."""

from __future__ import annotations

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
        f"{metric.title}: {metric.description} Drawn as {_article(_CHART_NAMES.get(chart_used, chart_used))}; "
        f"{_BETTER[metric.direction]}. Source: {metric.source}. Snapshot {asm.snapshot.hash}."
    )
    return [
        ChartBlock(spec, f"{metric.title}, {asm.org_name or 'all organisations'}: SPC chart", o.native, notes=notes)
    ]


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


def _marks(metric: Metric, row: Row) -> tuple[str, tuple[tuple[pd.Timestamp, str, str], ...]]:
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
