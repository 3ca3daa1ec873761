"""The rule of the league table: organisations ranked across several metrics by the NHS Oversight Framework
2025/26 method (reporting.stats.league), with a 95% interval on every rank (reporting.stats.rank_interval), as a
chart of the first metric and a table of the top and bottom of the peer group."""

from __future__ import annotations

import pandas as pd

from reporting.charts import league_chart
from reporting.data.catalogue import Metric
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, cell
from reporting.packs.blocks.peers import cross_section, org_names
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Cell, ChartBlock, Column, DataTable, Text
from reporting.stats.league import league_table
from reporting.stats.rank_interval import CountModel, Model, rank_intervals
from reporting.stats.variation import LEAGUE_BOOTSTRAP_REPLICATES, LEAGUE_INTERVAL_LEVEL

#: NOF's optional inputs, read from the organisation reference when it has these yes/no columns.
ADJUSTMENTS = ("in_deficit", "intensive_support")


def count_model(metric: Metric) -> Model | None:
    """How a metric's numerator is redrawn for rank intervals: a share of a denominator is binomial, events
    over a denominator (a rate, a count) are Poisson; other units (times, ratios, scores) are held fixed."""
    if metric.unit == "percent":
        return "binomial"
    return "poisson" if metric.unit in ("rate", "count") else None


def _span(r: pd.Series, rank: str) -> Cell:
    """ "18 (12–27)": the rank and its 95% interval (`<rank>_lower`, `<rank>_upper`); "–" when not ranked."""
    if pd.isna(r[rank]):
        return Cell(None, "–")
    value = f"{int(r[rank])} ({int(r[f'{rank}_lower'])}–{int(r[f'{rank}_upper'])})"
    return Cell(value, value)


def _next_segment(r: pd.Series) -> str:
    """What a provider needs to reach the next better segment, as NOF's tables show it."""
    if pd.isna(r["segment"]):
        return "–"
    if r["intensive_support"]:
        return "segment 5 (intensive support)"
    if not pd.isna(r["to_next_segment"]):
        text = f"−{r['to_next_segment']:.2f}"
        return text + " (not significant)" if r["not_significant"] else text
    if r["in_deficit"] and r["quartile"] < r["segment"]:
        return "held at 3 (in deficit)"
    return "top segment" if r["segment"] == 1 else "–"


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
        notes += pool.note(asm, f"{metric.title} in the league table")
        part = pd.DataFrame(
            {
                "org_code": pooled["org_code"].astype(str),
                metric.id: pooled["numerator"] / pooled["denominator"] * metric.scale,
                f"{metric.id}_numerator": pooled["numerator"],
                f"{metric.id}_denominator": pooled["denominator"],
            }
        )
        wide = part if wide is None else wide.merge(part, on="org_code", how="outer")
    if wide is None or len(wide) < 2:
        return [Text((f"Too few {group} with data for a league table.",), "note")]
    orgs = asm.snapshot.orgs
    given = [c for c in ADJUSTMENTS if c in orgs.columns]
    if given:
        wide = wide.merge(orgs[["org_code", *given]].astype({"org_code": str}), on="org_code", how="left")
    needed = min(o.min_metrics or len(metrics), len(metrics))
    directions = {m.id: m.direction != "lower_is_better" for m in metrics}

    def compute() -> pd.DataFrame:
        scored = league_table(
            wide,
            metrics=directions,
            min_metrics=needed,
            in_deficit="in_deficit" if "in_deficit" in given else None,
            intensive_support="intensive_support" if "intensive_support" in given else None,
        )
        models = {m.id: CountModel(directions[m.id], count_model(m)) for m in metrics}
        return scored.merge(rank_intervals(scored, wide, models), on="org_code", validate="1:1")

    table = asm.once(("league", tuple(o.metrics), o.periods, pools[0].group, asm.period_end, needed), compute)
    names = org_names(asm)
    first = metrics[0]
    ranked = table[table["amr"].notna()]
    n = len(ranked)
    if n < 2:
        return [
            Text((f"Too few {group} with data for every metric of the league table ({n} ranked).",), "note"),
            *notes,
        ]
    chart = league_chart(
        ranked,
        value=first.id,
        title=o.title or f"{first.title}: {n} {group} ranked, {span}",
        unit=first.unit,
        decimals=first.decimals,
        higher_is_better=first.direction != "lower_is_better",
        top_bottom=o.show,
        highlight=asm.org,
        labels=names,
        theme=asm.theme,
    )
    keep = ranked.head(o.show).index.union(ranked.tail(o.show).index)
    if asm.org is not None:
        keep = keep.union(table.index[table["org_code"] == asm.org])
    unranked = sorted(set(wide["org_code"]) - set(ranked["org_code"]))
    if unranked:
        who = ", ".join(names.get(c, c) for c in unranked)
        short = (
            "without data for every metric of the table"
            if needed == len(metrics)
            else f"with data for fewer than {needed} of the {len(metrics)} metrics"
        )
        notes.append(Text((f"Not ranked, {short}: {who}.",), "note"))
    columns = [Column("Position", "text", "General", 14), Column("Organisation", "text", "General", 32)]
    for m in metrics:
        columns += [
            Column(
                m.short_title or m.title,
                "percent" if m.unit == "percent" else "number",
                "0.0%" if m.unit == "percent" else "#,##0.0",
                10,
            ),
            Column("Rank", "text", "General", 15),
        ]
    columns += [
        Column("Average score", "number", "0.00", 8),
        Column("Segment", "number", "0", 8),
        Column("To next segment", "text", "General", 11),
    ]
    rows = []
    for _, r in table.loc[keep].iterrows():
        label = names.get(r["org_code"], r["org_code"]) + (" ◀" if r["org_code"] == asm.org else "")
        cells = [_span(r, "amr"), Cell(label, label)]
        for m in metrics:
            cells += [cell(asm, m, r[m.id]), _span(r, f"{m.id}_rank")]
        step = _next_segment(r)
        cells += [
            Cell(None, "–", "number")
            if pd.isna(r["average_score"])
            else Cell(float(r["average_score"]), f"{r['average_score']:.2f}", "number"),
            Cell(None, "", "number")
            if pd.isna(r["segment"])
            else Cell(int(r["segment"]), str(int(r["segment"])), "number"),
            Cell(step, step),
        ]
        rows.append(tuple(cells))
    held = [m.short_title or m.title for m in metrics if count_model(m) is None]
    footnotes = (
        "NHS Oversight Framework 2025/26 method: metric scores 1.00 (best) to 4.00, segments the quartiles of the "
        f"average score, tied ranks sharing the better one. In brackets: the rank's {LEAGUE_INTERVAL_LEVEL:.0%} "
        f"interval from {LEAGUE_BOOTSTRAP_REPLICATES:,} redraws of the counts. To next segment: the fall in average "
        "score needed ('not significant': within that uncertainty)."
        + (f" Held at their values (no count model): {', '.join(held)}." if held else ""),
    )
    return [
        ChartBlock(chart, f"League position: {first.title}, {n} {group} ranked, {span}", o.native),
        DataTable(
            f"League table: {group}, {span}",
            tuple(columns),
            tuple(rows),
            caption=f"League table, top and bottom {o.show} of the {n} ranked",
            footnotes=footnotes,
            wide=True,  # nine columns: a landscape page in Word and the PDF
            sheet_name="League table",
        ),
        *notes,
    ]
