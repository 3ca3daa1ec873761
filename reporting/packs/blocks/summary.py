"""The rule of the summary table: one row per metric, with its latest value, target, icons and sparkline."""

from __future__ import annotations

import pandas as pd

from reporting.charts import sparkline_chart
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.packs.assembly import (
    STALE_TEXT,
    Assembly,
    Extra,
    Where,
    cell,
    passes,
    row_is_exception,
    selected,
    series_points,
    stale_line,
)
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Cell, SummaryRow, SummaryTable, Text


@rule(t.SummaryTableBlock)
def _summary_table(asm: Assembly, o: t.SummaryTableOptions, where: Where, extra: Extra) -> list[Block]:
    rows = []
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
