"""What the rules that compare organisations share: the window of periods, the peer group, each peer's pooled
numerator and denominator (computed once per batch), and the organisations' names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from reporting.data.catalogue import Metric
from reporting.errors import ConfigError
from reporting.formatting import format_period
from reporting.packs.assembly import OFFSETS, Assembly
from reporting.packs.tree import Block, Text
from reporting.stats.disclosure import round_pooled, withheld_from_comparison

__all__ = ["Pool", "Pooled", "cross_section", "org_names"]


class Pooled(Protocol):
    """The options a comparison block pools its peers by (funnel, variation and league table options)."""

    @property
    def periods(self) -> int: ...
    @property
    def peers(self) -> str | None: ...


def _window(asm: Assembly, metric: Metric, periods: int) -> pd.DataFrame:
    """All organisations' rows of the metric over the latest `periods` periods up to the pack period."""
    rows = asm.snapshot.metrics[asm.snapshot.metrics["metric_id"] == metric.id]
    rows = rows[(rows["period"] <= asm.period_end) & rows["value"].notna()]
    if rows.empty:
        return rows
    last = rows["period"].max()
    first = last - OFFSETS[metric.frequency] * (periods - 1)
    window: pd.DataFrame = rows[rows["period"] >= first]
    return window


def _peers(asm: Assembly, peers: str | None) -> tuple[pd.DataFrame, str]:
    group = peers or asm.peer_group
    orgs = asm.snapshot.orgs
    if group and group != "all":
        chosen = orgs[orgs["peer_group"] == group]
        if chosen.empty:
            raise ConfigError(
                f"no organisations in peer group '{group}'; groups are: "
                f"{', '.join(sorted(orgs['peer_group'].dropna().unique()))}",
                field="peers",
            )
        return chosen, group
    return orgs, "all organisations"


@dataclass(frozen=True)
class Pool:
    """Each peer's numerator and denominator summed over the window; peers whose rows cannot be compared
    (a negative numerator, or more events than the denominator for a proportion) are left out and named,
    so one organisation's bad data never breaks, or silently skews, every other organisation's funnel."""

    frame: pd.DataFrame
    group: str
    span: str
    excluded: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()  # small numbers: their pooled figure would reveal a suppressed count

    def note(self, asm: Assembly, title: str) -> list[Block]:
        names = org_names(asm)
        out: list[Block] = []
        if self.excluded:
            who = ", ".join(f"{names.get(code, code)} ({code})" for code in self.excluded)
            out.append(
                Text(
                    (
                        f"{title}: left out because their data are not valid for this comparison (a negative "
                        f"count, or more events than the denominator): {who}.",
                    ),
                    "note",
                )
            )
        if self.withheld:
            out.append(
                Text(
                    (f"{title}: {len(self.withheld)} organisation(s) not shown, to protect small numbers (*).",), "note"
                )
            )
        return out


def cross_section(asm: Assembly, metric: Metric, o: Pooled) -> Pool:
    """Each peer's pooled figures for the block's window and peer group, computed once per batch."""
    key = ("cross", metric.id, o.periods, o.peers, asm.peer_group, asm.period_end)
    return asm.once(key, lambda: _pool(asm, metric, o))


def _pool(asm: Assembly, metric: Metric, o: Pooled) -> Pool:
    window = _window(asm, metric, o.periods)
    peers, group = _peers(asm, o.peers)
    rows = window[window["org_code"].isin(peers["org_code"]) & (window["denominator"] > 0)]
    invalid = (rows["numerator"] < 0) | (
        (rows["numerator"] > rows["denominator"]) if metric.unit == "percent" else False
    )
    excluded = tuple(sorted(set(rows.loc[invalid, "org_code"].astype(str))))
    rows = rows[~rows["org_code"].isin(excluded)]
    withheld = tuple(withheld_from_comparison(asm.snapshot.metrics, asm.catalogue, metric.id, rows))
    rows = rows[~rows["org_code"].isin(withheld)]
    pooled = rows.groupby("org_code", as_index=False)[["numerator", "denominator"]].sum()
    pooled = round_pooled(pooled, asm.catalogue, metric.id)  # as the metric's own counts are published
    if len(window):
        first, last = window["period"].min(), window["period"].max()
        span = (
            format_period(last, metric.frequency)
            if first == last
            else f"{format_period(first, metric.frequency)} to {format_period(last, metric.frequency)}"
        )
    else:
        span = asm.period_label
    return Pool(pooled, group, span, excluded, withheld)


def org_names(asm: Assembly) -> dict[str, str]:
    orgs = asm.snapshot.orgs
    return asm.once(
        ("names",),
        lambda: dict(
            zip(
                orgs["org_code"].astype(str),
                orgs["org_name"].astype(str),
                strict=True,
            )
        ),
    )
