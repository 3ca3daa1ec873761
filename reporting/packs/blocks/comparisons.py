"""Rules of the blocks that compare one metric across organisations: funnel plots and caterpillar (variation)
charts, over the peers' pooled numerators and denominators (packs.blocks.peers)."""

from __future__ import annotations

from typing import Literal

from reporting.charts import caterpillar_chart, funnel_chart
from reporting.data.catalogue import Metric
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, metric_of
from reporting.packs.blocks.peers import Pool, cross_section, org_names
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, ChartBlock, Text
from reporting.stats.funnel import FunnelResult, funnel, funnel_curve
from reporting.stats.variation import caterpillar


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


@rule(t.FunnelBlock)
def _funnel(asm: Assembly, o: t.CrossSectionOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    pool, result = funnel_of(asm, metric, o, where)
    group, span = pool.label, pool.span
    if result is None:
        return [Text((f"{metric.title}: too few {group} with data for a funnel plot ({span}).",), "note")]
    title = asm.render(o.title, (*where, "title"), **extra) if o.title else f"{metric.title}: {group}, {span}"
    spec = funnel_chart(
        result.points.assign(target=result.target * metric.scale),
        funnel_curve(result),
        title=title,
        adjusted=result.limits_used == "adjusted",
        unit=metric.unit,
        decimals=metric.decimals,
        highlight=asm.org,
        labels=org_names(asm),
        x_title=f"Denominator ({metric.denominator})",
        theme=asm.theme,
    )
    return [
        ChartBlock(
            spec,
            f"{metric.title}: funnel plot of {pool.of_n()}, {span}",
            native=True,
            notes=f"phi {result.phi:.3g}, tau² {result.tau2:.3g}, {result.limits_used} limits.",
        ),
        *pool.note(asm, "Funnel plot"),
    ]


@rule(t.VariationBlock)
def _variation(asm: Assembly, o: t.VariationOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    pool = cross_section(asm, metric, o, where)
    pooled, group, span = pool.frame, pool.label, pool.span
    if len(pooled) < 2:
        return [Text((f"{metric.title}: too few {group} with data to compare ({span}).",), "note")]
    cat = asm.once(
        ("caterpillar", metric.id, o.periods, pool.group, asm.period_end, o.benchmark),
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
        labels=org_names(asm),
        theme=asm.theme,
    )
    return [
        ChartBlock(spec, f"{metric.title}: variation across {pool.of_n()}, {span}", native=o.native),
        *pool.note(asm, "Variation chart"),
    ]
