"""Rules of the blocks that are tables of figures: a metric's data table and the appendix (definitions, data)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from reporting.data.catalogue import Metric
from reporting.formatting import format_period, format_value
from reporting.mdc import point_type_icon
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, cell, metric_of, passes, selected, series_points
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import SUPPRESSED_NOTE, Block, Cell, Column, ColumnKind, DataTable, Heading, Text


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of `frame` as dicts of the given columns (None where a column is missing), read column by column:
    pandas' own row iteration costs more than the table it feeds."""
    values = [frame[c].tolist() if c in frame else [None] * len(frame) for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _data_rows(asm: Assembly, metric: Metric, periods: int) -> DataTable:
    points = series_points(asm, metric.id).tail(periods)
    if asm.stale(metric.id):
        points = points.iloc[0:0]
    own = asm.frame[asm.frame["metric_id"] == metric.id]
    # the organisation's own row of each period, read once from whole columns (not a pandas .loc a point)
    flags = own["suppressed"].tolist() if "suppressed" in own else [False] * len(own)
    source = dict(
        zip(own["period"], zip(flags, own["numerator"].tolist(), own["denominator"].tolist(), strict=True), strict=True)
    )
    kind: ColumnKind = "percent" if metric.unit == "percent" else "number"
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
    for p in _records(points, ("x", "y", "point_type", "mean", "lpl", "upl")):
        src = source.get(p["x"])
        flag = False if src is None else src[0]
        suppressed = bool(flag) if flag is not None and not pd.isna(flag) else False  # numpy bools too
        num = None if src is None or pd.isna(src[1]) else float(src[1])
        den = None if src is None or pd.isna(src[2]) else float(src[2])
        point_type = "" if pd.isna(p["point_type"]) else str(p["point_type"] or "")  # a gap has none
        gap = not suppressed and pd.isna(p["y"])
        rows.append(
            (
                Cell(p["x"].date().isoformat(), format_period(p["x"], metric.frequency), "date"),
                Cell(None, "no data", "text") if gap else cell(asm, metric, p["y"], suppressed),
                Cell(None, "*", "count", suppressed=True)
                if suppressed
                else Cell(num, "" if num is None else f"{num:,.0f}", "count"),
                Cell(None, "*", "count", suppressed=True)
                if suppressed
                else Cell(den, "" if den is None else f"{den:,.0f}", "count"),
                cell(asm, metric, p["mean"]),
                cell(asm, metric, p["lpl"]),
                cell(asm, metric, p["upl"]),
                Cell(
                    point_type.replace("_", " "),
                    point_type.replace("special_cause_", "special cause ").replace("_", " "),
                    "icon",
                    icon=point_type_icon(point_type),
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


def _table_or_sentence(asm: Assembly, metric: Metric, periods: int) -> list[Block]:
    """The metric's data table, or, when it would have no rows, one sentence saying why (a table with only
    its header row, "last 0 periods", tells a reader nothing): the same in every format."""
    table = _data_rows(asm, metric, periods)
    if table.rows:
        return [table]
    if asm.stale(metric.id):
        line = asm.stale_sentence(metric.id, "no data table is shown")
        return [Text((line,), "note")] if line else []
    return [Text((f"{metric.title}: no figures to show, so no data table is shown.",), "note")]


@rule(t.DataTableBlock)
def _data_table(asm: Assembly, o: t.DataTableOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    if not passes(asm, metric.id, o.when):
        return []
    return _table_or_sentence(asm, metric, o.periods)


@rule(t.AppendixBlock)
def _appendix(asm: Assembly, o: t.AppendixOptions, where: Where, extra: Extra) -> list[Block]:
    blocks: list[Block] = []
    chosen = selected(asm, o)
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
        for m in (asm.metric(metric_id) for metric_id in chosen):
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
        for metric_id in chosen:
            if metric_id in asm.summary:
                blocks += _table_or_sentence(asm, asm.metric(metric_id), o.periods)
    return blocks
