"""The rule of the league table: organisations ranked across several metrics (average metric rank), as a chart
of the first metric and a table of the top and bottom of the peer group."""

from __future__ import annotations

import pandas as pd

from reporting.charts import league_chart
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, cell
from reporting.packs.blocks.peers import cross_section, org_names, ranked_together
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Cell, ChartBlock, Column, DataTable, Text
from reporting.stats.league import league_table


@rule(t.LeagueTableBlock)
def _league_table(asm: Assembly, o: t.LeagueTableOptions, where: Where, extra: Extra) -> list[Block]:
    metrics = [asm.metric(m) for m in o.metrics]
    wide = None
    span = ""
    group = ""
    notes: list[Block] = []
    pools = []
    for k, metric in enumerate(metrics):
        pool = cross_section(asm, metric, o, (*where, "metrics", k))
        pools.append(pool)
        pooled, group, span = pool.frame, pool.label, pool.span
        notes += pool.note(asm, f"League table ({metric.title})")
        values = pooled.assign(**{metric.id: pooled["numerator"] / pooled["denominator"] * metric.scale})
        part = values[["org_code", metric.id]]
        wide = part if wide is None else wide.merge(part, on="org_code", how="outer")
    if wide is None or len(wide) < 2:
        return [Text((f"Too few {group} with data for a league table.",), "note")]
    needed = min(o.min_metrics or len(metrics), len(metrics))
    ranked_codes = ranked_together(pools, needed)
    if len(ranked_codes) < 2:
        return [
            Text((f"Too few {group} with figures for the metrics of the table for a league table.",), "note"),
            *notes,
        ]
    table = asm.once(
        ("league", tuple(o.metrics), o.periods, pools[0].group, asm.period_end, needed),
        lambda: league_table(
            wide[wide["org_code"].isin(ranked_codes)].reset_index(drop=True),
            metrics={m.id: m.direction != "lower_is_better" for m in metrics},
            min_metrics=needed,
        ),
    )
    names = org_names(asm)
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
    unranked = sorted(set(wide["org_code"]) - set(ranked_codes))
    if unranked:
        who = ", ".join(names.get(c, c) for c in unranked)
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
                m.short_title or m.title,
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
                cell(asm, m, r[m.id]),
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
            caption=f"League table, top and bottom {o.show} of the {len(ranked)} ranked",
            footnotes=(note,),
            sheet_name="League table",
        ),
        *notes,
    ]
