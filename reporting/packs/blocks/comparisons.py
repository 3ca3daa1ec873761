"""Rules of the blocks that compare one metric across organisations: funnel plots (with the table of providers
outside their limits) and caterpillar (variation) charts, over the peers' pooled numerators and denominators
(packs.blocks.peers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from reporting.charts import caterpillar_chart, funnel_chart
from reporting.charts.comparison_charts import funnel_sides, hidden_intervals
from reporting.data.catalogue import Metric
from reporting.data.peers import ALL
from reporting.formatting import format_value
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, cell, metric_of
from reporting.packs.blocks.peers import Pool, cross_section, org_names
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, Cell, ChartBlock, Column, ColumnKind, DataTable, Text
from reporting.stats.funnel import FunnelResult, funnel, funnel_curve
from reporting.stats.variation import caterpillar

#: the word for N periods of each frequency ("12 months to July 2025")
_PERIOD_WORDS = {"monthly": "months", "weekly": "weeks", "quarterly": "quarters", "annual": "years", "daily": "days"}


def funnel_of(
    asm: Assembly, metric: Metric, o: t.CrossSectionOptions, where: Where = ()
) -> tuple[Pool, FunnelResult | None]:
    """The peers' pool and the funnel of one funnel block (None with fewer than two peers), computed once per
    batch: the chart and the executive summary read the same result."""
    pool = cross_section(asm, metric, o, where)
    if len(pool.frame) < 2:
        return pool, None
    kind: Literal["PR", "RC"] = "PR" if metric.unit == "percent" else "RC"
    result = asm.once(
        ("funnel", metric.id, o.periods, pool.group, asm.period_end),
        lambda: funnel(pool.frame, group="org_code", data_type=kind, multiplier=metric.scale),
    )
    return pool, result


def denominator_title(asm: Assembly, metric: Metric) -> str:
    """What a ratio metric's denominator counts, from the catalogue: the title of the metric whose value is that
    column of the same source ('A&E attendances'), else the column's name in words."""
    for other in asm.catalogue.metrics:
        if other.source == metric.source and other.value is not None and other.value == metric.denominator:
            return other.title
    return (metric.denominator or "denominator").replace("_", " ").capitalize()


def window_words(metric: Metric, periods: int, span: str) -> str:
    """The pooled window in words: '12 months to July 2025' (or the one period, 'July 2025')."""
    last = span.split(" to ")[-1]
    if periods == 1 or " to " not in span:
        return last
    return f"{periods} {_PERIOD_WORDS.get(metric.frequency, 'periods')} to {last}"


@rule(t.FunnelBlock)
def _funnel(asm: Assembly, o: t.CrossSectionOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    pool, result = funnel_of(asm, metric, o, where)
    group, span = pool.label, pool.span
    if result is None:
        return [Text((f"{metric.title}: too few {group} with data for a funnel plot ({span}).",), "note")]
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else f"{metric.title}: {group}, {span}"
    adjusted = result.limits_used == "adjusted"
    points = result.points.assign(target=result.target * metric.scale)
    spec = funnel_chart(
        points,
        funnel_curve(result),
        title=title,
        adjusted=adjusted,
        unit=metric.unit,
        decimals=metric.decimals,
        highlight=asm.org,
        labels=org_names(asm),
        x_title=f"{denominator_title(asm, metric)}, {window_words(metric, o.periods, span)}",
        direction=metric.direction,
        target=metric.target_for(asm.org, asm.period.date()),
        centre="Peer average" if pool.group != ALL else "Average of all organisations",  # the group: in the title
        theme=asm.theme,
    )
    widened = (
        " The limits are widened because the providers differ more than chance alone would explain "
        "(overdispersion), so only a provider outside them differs by more than that."
        if adjusted
        else ""
    )
    return [
        ChartBlock(
            spec,
            f"{metric.title}: funnel plot of {pool.of_n()}, {span}"
            + (f"; ◆ {asm.org}: {asm.org_name}" if asm.org and asm.org_name else ""),
            native=True,
            notes=f"Each point is one provider; the lines show how far a provider of that size would be expected "
            f"to fall from the peer average by chance alone (95% and 99.8% limits).{widened}",
        ),
        _outlier_table(asm, metric, points, adjusted, group, span),
        *pool.note(asm, "Funnel plot"),
    ]


def _outlier_table(
    asm: Assembly, metric: Metric, points: pd.DataFrame, adjusted: bool, group: str, span: str
) -> DataTable | Text:
    """The providers outside the funnel's 99.8% limits (the chart's coloured triangles, in words): who, their
    value, which limit they crossed and whether that is better or worse; those outside the 95% limits only
    are counted in the caption, as about 1 in 20 would be by chance alone."""
    names = org_names(asm)
    placed = funnel_sides(points, adjusted)
    out = placed[placed["crossed"] == "99.8%"]
    near = int((placed["crossed"] == "95%").sum())
    average = format_value(float(points["target"].iloc[0]), metric.unit, metric.decimals, metric.per)
    more = f" ({near} more only beyond the 95%)" if near else ""
    if out.empty:
        return Text(
            (f"{metric.title}: no provider is outside the 99.8% limits around the peer average{more}, {span}.",),
            "note",
        )
    out = out.sort_values("value", ascending=metric.direction == "lower_is_better", kind="stable")
    kind: ColumnKind = "percent" if metric.unit == "percent" else "number"
    fmt = "0.0%" if metric.unit == "percent" else "#,##0" if metric.decimals == 0 else "#,##0.0"
    rows = []
    for _, r in out.iterrows():
        code = str(r["group"])
        judged = ""
        if metric.direction != "neutral":
            better = (r["side"] == "above") == (metric.direction == "higher_is_better")
            judged = "better" if better else "worse"
        limit = f"{r['crossed']} {'upper' if r['side'] == 'above' else 'lower'} limit"
        rows.append(
            (
                Cell(names.get(code, code), names.get(code, code) + (" ◀" if code == asm.org else "")),
                cell(asm, metric, float(r["value"])),
                Cell(float(r["denominator"]), f"{float(r['denominator']):,.0f}", "count"),
                Cell(*(f"{'Above' if r['side'] == 'above' else 'Below'} the {limit}",) * 2),
                Cell(judged.capitalize() or "Neutral measure", judged.capitalize() or "Neutral measure"),
            )
        )
    return DataTable(
        f"{metric.title}: providers outside the funnel limits",
        (
            Column("Provider", "text", "General", 40),
            Column("Value", kind, fmt, 12),
            Column("Denominator", "count", "#,##0", 14),
            Column("Limit crossed", "text", "General", 30),
            Column("Compared with peers", "text", "General", 18),
        ),
        tuple(rows),
        caption=f"{len(rows)} of the {len(points)} {group} lie beyond the 99.8% limits around the peer average of "
        f"{average}{more}; {span}",
    )


@dataclass(frozen=True)
class Everyone:
    """Pool options for every organisation (the England median): the block's window, no peer group."""

    periods: int
    peers: str | None = ALL


@rule(t.VariationBlock)
def _variation(asm: Assembly, o: t.VariationOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    pool = cross_section(asm, metric, o, where)
    pooled, group, span = pool.frame, pool.label, pool.span
    if len(pooled) < 2:
        return [Text((f"{metric.title}: too few {group} with data to compare ({span}).",), "note")]
    kind: Literal["proportion", "rate"] = "proportion" if metric.unit == "percent" else "rate"
    cat = asm.once(
        ("caterpillar", metric.id, o.periods, pool.group, asm.period_end, o.benchmark),
        lambda: caterpillar(
            pooled,
            kind=kind,
            benchmark=o.benchmark,
            higher_is_better=metric.direction != "lower_is_better",
            multiplier=metric.scale,
        ),
    )
    england: float | None = None
    if pool.group != ALL:  # the median over every organisation, not over the peers shown
        everyone = cross_section(asm, metric, Everyone(o.periods))
        if len(everyone.frame) >= 2:
            england = asm.once(
                ("england_median", metric.id, o.periods, asm.period_end),
                lambda: float(
                    caterpillar(everyone.frame, kind=kind, multiplier=metric.scale)["national_median"].iloc[0]
                ),
            )
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else f"{metric.title}: {group}, {span}"
    hidden = hidden_intervals(cat)
    narrow = f" ({hidden} of the {len(cat)} 95% intervals are narrower than their dot)" if hidden else ""
    spec = caterpillar_chart(
        cat,
        title=title,
        unit=metric.unit,
        decimals=metric.decimals,
        highlight=asm.org,
        labels=org_names(asm),
        peers=group if pool.group != ALL else "all organisations",
        england_median=england,
        theme=asm.theme,
    )
    return [
        ChartBlock(spec, f"{metric.title}: variation across {pool.of_n()}, {span}{narrow}", native=o.native),
        *pool.note(asm, "Variation chart"),
    ]
