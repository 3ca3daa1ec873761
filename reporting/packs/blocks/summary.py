"""The rule of the summary table: one row per metric, with its latest value, target, icons and sparkline.

Each row says which period its figure is for, at the metric's own frequency ("July 2025 (monthly)" in a
weekly pack), and says in words when that is before the pack's own period, so a month-old figure is never
read as this week's.
"""

from __future__ import annotations

import pandas as pd

from reporting.charts import sparkline_chart
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.packs.assembly import (
    OFFSETS,
    STALE_TEXT,
    Assembly,
    Extra,
    Where,
    cell,
    none_meet,
    passes,
    row_is_exception,
    selected,
    series_points,
    stale_line,
)
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Cell, SummaryRow, SummaryTable, Text

#: the pack's period in the "before this week" flag, by cadence
_CADENCE_NOUN = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "daily": "day"}


def figure_period(period: pd.Timestamp, frequency: str) -> str:
    """The period a figure is for, short enough for a table cell: 'w/c 18 Aug 2025', 'July 2025 (monthly)'."""
    if frequency == "weekly":
        return f"w/c {period.day} {period:%b %Y}"
    if frequency == "daily":
        return f"{period.day} {period:%b %Y}"
    return f"{format_period(period, frequency)} ({frequency})"


def before_pack(asm: Assembly, period: pd.Timestamp, frequency: str) -> bool:
    """The figure's period ends before the pack's period starts (July's figure in a late-August pack)."""
    return bool(period + OFFSETS.get(frequency, OFFSETS["daily"]) <= asm.period)


def _period_cell(asm: Assembly, period: pd.Timestamp, frequency: str) -> tuple[str, bool]:
    """The period column's text, and whether it is flagged as before the pack's period."""
    label = figure_period(period, frequency)
    if before_pack(asm, period, frequency):
        return f"{label}, before this {_CADENCE_NOUN.get(asm.template.cadence, 'period')}", True
    return label, False


@rule(t.SummaryTableBlock)
def _summary_table(asm: Assembly, o: t.SummaryTableOptions, where: Where, extra: Extra) -> list[Block]:
    rows = []
    earlier: list[str] = []  # metrics whose latest figure is for a period before the pack's
    for metric_id in selected(asm, o):
        if not passes(asm, metric_id, o.when):
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
        label, old = (
            _period_cell(asm, pd.Timestamp(last["period"].iloc[0]), metric.frequency)
            if len(last)
            else ("no data", False)
        )
        earlier += [metric.id] if old else []
        target = metric.target_for(asm.org, asm.period.date())
        if row.get("stale"):
            # the period column says which period the latest data are for
            rows.append(
                SummaryRow(
                    metric.id,
                    metric.title,
                    label,
                    Cell(None, STALE_TEXT, "text"),
                    cell(asm, metric, target),
                    None,
                    None,
                    asm._narrative(metric.id, home) if o.narrative else "",
                )
            )
            continue
        points = series_points(asm, metric_id, home)
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
                cell(asm, metric, value, suppressed),
                cell(asm, metric, target),
                row.get("variation_icon"),
                row.get("assurance"),
                asm._narrative(metric.id, home) if o.narrative else "",
                spark,
                exception=row_is_exception(asm, metric_id, row),
            )
        )
    if not rows:
        return [Text((none_meet(asm, o.when),), "note")]
    stale = [r for r in rows if asm.stale(r.metric_id)]
    notes: list[Block] = []
    earlier = [m for m in earlier if not asm.stale(m)]  # a stale figure has its own line below
    if earlier:
        noun = _CADENCE_NOUN.get(asm.template.cadence, "period")
        verb = "is" if len(earlier) == 1 else "are"
        notes.append(
            Text(
                (
                    f"{len(earlier)} of {len(rows)} figures {verb} for a period before this {noun} "
                    f"({asm.period_label}): the latest available for those measures.",
                ),
                "note",
            )
        )
    if stale:
        notes.append(Text((stale_line(asm, [r.metric_id for r in stale]),), "note"))
        for r in stale:  # said for this section (Assembly.first_time): a chart here adds no second line
            asm.first_time("stale", r.metric_id)
    return [
        SummaryTable(
            asm.render(o.title, (*where, "title"), **extra),
            tuple(rows),
            caption=f"{o.title}, {asm.org_name or ''} {asm.period_label}".replace("  ", " "),
        ),
        *notes,
    ]
