"""The rule of for_each: its inner blocks once for every selected metric that meets its condition."""

from __future__ import annotations

from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, none_meet, passes, selected
from reporting.packs.blocks.registry import block_nodes, rule
from reporting.packs.tree import Block, Text
from reporting.packs.views import View


@rule(t.ForEachBlock)
def _for_each(asm: Assembly, o: t.ForEachOptions, where: Where, extra: Extra) -> list[Block]:
    out: list[Block] = []
    chart = next((b.spc for b in o.blocks if isinstance(b, t.SpcBlock)), None)
    for metric_id in selected(asm, o):
        if chart is not None and metric_id in asm.metric_views:
            # "is it an exception?" is asked of the chart the loop will draw
            metric = asm.metric(metric_id)
            asm.current_view[metric_id] = View(chart.periods, chart.baseline or metric.baseline).key
        if not passes(asm, metric_id, o.when):
            continue
        for j, inner in enumerate(o.blocks):
            out += block_nodes(asm, inner, (*where, "blocks", j), metric_ctx=metric_id)
    if not out:
        out.append(Text((none_meet(asm, o.when),), "note"))
    return out
