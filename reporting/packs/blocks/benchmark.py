"""Rule of the benchmark trend block (the Model Health System view): the organisation's own series over time
against its peers' median, the England median of all organisations and a benchmark or target line."""

from __future__ import annotations

import pandas as pd

from reporting.charts import benchmark_chart
from reporting.data.catalogue import Metric
from reporting.formatting import format_period
from reporting.packs import template as t
from reporting.packs.assembly import OFFSETS, Assembly, Extra, Where, metric_of, passes
from reporting.packs.blocks.comparisons import Everyone
from reporting.packs.blocks.peers import cross_section
from reporting.packs.blocks.registry import rule
from reporting.packs.tree import Block, ChartBlock, Text
from reporting.stats.disclosure import withheld_from_comparison

#: fewer organisations than this with a figure in a period give that period no median (one or two would
#: publish an organisation's own figure as a "median")
MIN_FOR_MEDIAN = 3


def _members(
    asm: Assembly, metric: Metric, o: t.BenchmarkTrendOptions, where: Where
) -> tuple[frozenset[str], frozenset[str], str]:
    """The block's peers and all organisations, each only those eligible for the metric, and what captions call
    the peers. The one place this block asks the peers API (packs.blocks.peers), so the subject's membership
    and eligibility are checked as for every comparison."""
    pool = cross_section(asm, metric, o, where)
    everyone = cross_section(asm, metric, Everyone(o.periods))
    return frozenset(pool.eligible), frozenset(everyone.eligible), pool.label


def _medians(asm: Assembly, metric: Metric, periods: int, members: frozenset[str] | None) -> pd.Series:
    """Median of the members' values per period over the window (every organisation when `members` is None),
    leaving out any organisation withheld from comparisons for small numbers, and any period with fewer than
    MIN_FOR_MEDIAN figures."""
    rows = asm.snapshot.metrics[asm.snapshot.metrics["metric_id"] == metric.id]
    rows = rows[(rows["period"] <= asm.period_end) & rows["value"].notna()]
    if members is not None:
        rows = rows[rows["org_code"].astype(str).isin(members)]
    if rows.empty:
        return pd.Series(dtype=float)
    last = rows["period"].max()
    rows = rows[rows["period"] >= last - OFFSETS[metric.frequency] * (periods - 1)]
    withheld = set(withheld_from_comparison(asm.snapshot.metrics, asm.catalogue, metric.id, rows))
    rows = rows[~rows["org_code"].astype(str).isin(withheld)]
    by_period = rows.groupby("period")["value"]
    medians: pd.Series = by_period.median().where(by_period.count() >= MIN_FOR_MEDIAN)
    return medians * metric.scale


@rule(t.BenchmarkTrendBlock)
def _benchmark_trend(asm: Assembly, o: t.BenchmarkTrendOptions, where: Where, extra: Extra) -> list[Block]:
    metric = metric_of(asm, o.metric, where, extra)
    if not passes(asm, metric.id, o.when):
        return []
    members, everyone, group = _members(asm, metric, o, where)
    peer = asm.once(
        ("benchmark_medians", metric.id, o.periods, members, asm.period_end),
        lambda: _medians(asm, metric, o.periods, members),
    )
    england = asm.once(
        ("benchmark_medians", metric.id, o.periods, everyone, asm.period_end),
        lambda: _medians(asm, metric, o.periods, everyone),
    )
    rows = asm.frame[(asm.frame["metric_id"] == metric.id) & (asm.frame["period"] <= asm.period_end)]
    mine: pd.Series = rows.set_index("period")["value"]
    if "suppressed" in asm.frame:  # a suppressed figure is a gap, never a number
        hidden = asm.frame[(asm.frame["metric_id"] == metric.id)].set_index("period")["suppressed"]
        mine = mine.where(~hidden.reindex(mine.index).fillna(False).astype(bool))
    seen = set(peer.index) | set(england.index)
    # every period of the window, those without figures too: a missing month is a gap, not a skipped one
    periods = [max(seen) - OFFSETS[metric.frequency] * k for k in range(o.periods - 1, -1, -1)] if seen else []
    periods = [p for p in periods if p >= min(seen)]
    if not periods or mine.reindex(periods).isna().all():
        who = asm.org_name or "this organisation"
        return [Text((f"{metric.title}: no figures for {who} to compare over time.",), "note")]
    frame = pd.DataFrame({"period": periods})
    frame["value"] = mine.reindex(periods).to_numpy(dtype=float) * metric.scale
    frame["peer_median"] = peer.reindex(periods).to_numpy(dtype=float)
    frame["england_median"] = england.reindex(periods).to_numpy(dtype=float)
    if o.benchmark is not None:
        frame["benchmark"] = o.benchmark
        benchmark_name = f"Benchmark: {_said(metric, o.benchmark)}"
    else:
        targets = [metric.target_for(asm.org, pd.Timestamp(p).date()) for p in periods]
        frame["benchmark"] = [float("nan") if v is None else v for v in targets]
        shown = sorted({v for v in targets if v is not None})
        benchmark_name = "Target" + (f": {_said(metric, shown[0])}" if len(shown) == 1 else "")
    first = format_period(periods[0], metric.frequency)
    last = format_period(periods[-1], metric.frequency)
    name = asm.org_name or asm.org or "This organisation"
    title = (
        asm.render(o.title, (*where, "title"), **extra)
        if o.title
        else f"{metric.title}: {name} against {group} and England"
    )
    spec = benchmark_chart(
        frame,
        title=title,
        name=name,
        peers=group,
        unit=metric.unit,
        decimals=metric.decimals,
        benchmark_name=benchmark_name,
        period_label=lambda p: format_period(p, metric.frequency),
        theme=asm.theme,
    )
    caption = (
        f"{metric.title}: {name} against the median of {group} and the England median of all organisations, "
        f"{first} to {last}"
    )
    return [ChartBlock(spec, caption, native=o.native)]


def _said(metric: Metric, value: float) -> str:
    from reporting.formatting import format_value

    return format_value(value, metric.unit, metric.decimals, metric.per)
