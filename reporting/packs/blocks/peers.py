"""The one place comparisons get their peers: the window of periods, the peer group (a named set of the
organisation reference, data.peers), the members eligible for the metric, each one's pooled numerator and
denominator (computed once per batch), and the one n every caption and sentence states.

A comparison shows exactly the rows of `Pool.frame`: members of the group, eligible for the metric (its
`eligible:` group), with valid data in the window and not withheld to protect small numbers. The subject
organisation is always among them when it has data: a subject outside the group, or not eligible for the
metric, is an error naming both, as is a group with fewer than MIN_PEERS eligible members."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import pandas as pd

from reporting._yaml import Located, _dotted
from reporting.data.catalogue import Metric
from reporting.data.peers import ALL, groups_of, memberships
from reporting.errors import ConfigError, ReportingError
from reporting.formatting import format_period
from reporting.packs.assembly import OFFSETS, Assembly, Where
from reporting.packs.tree import Block, Text
from reporting.stats.disclosure import round_pooled, withheld_from_comparison

__all__ = [
    "MIN_PEERS",
    "NotCompared",
    "Group",
    "Pool",
    "Pooled",
    "cross_section",
    "org_names",
    "peer_group",
    "check_pack_group",
    "unknown_group",
]

#: Fewer eligible members than this is not a comparison (a funnel or a league of two says nothing).
MIN_PEERS = 3


class Pooled(Protocol):
    """The options a comparison block pools its peers by (funnel, variation and league table options)."""

    @property
    def periods(self) -> int: ...
    @property
    def peers(self) -> str | None: ...


class NotCompared(ReportingError):
    """The subject organisation is not eligible for the metric (its `eligible:` group), so the comparison is
    left out of its pack and this sentence says so (packs.blocks.registry puts it where the block was)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass(frozen=True)
class Group:
    """A peer group as a pack uses it: its name, what captions call its members, and the members."""

    name: str
    label: str
    members: frozenset[str]


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


def _located(asm: Assembly, message: str, path: Where) -> ConfigError:
    return ConfigError(message, file=asm.doc.file, line=asm.doc.line_of(path), field=_dotted(path))


def _group_path(asm: Assembly, peers: str | None, where: Where) -> Where:
    """Where the group was chosen: the block's `peers:`, else the template's peer_group parameter."""
    if peers:
        return (*where, "peers")
    return ("parameters", "peer_group", "default")


def unknown_group(
    name: str, groups: Sequence[str], *, file: object | None = None, line: int | None = None, field: str | None = None
) -> ConfigError:
    """The error for a peer group the snapshot's organisation reference does not define, with the choices."""
    close = difflib.get_close_matches(name, list(groups), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    stale = " (a group added to the catalogue since the last pull needs `reporting pull`)"
    message = f"unknown peer group '{name}'{hint}; groups are: {', '.join(groups)}{stale}"
    return ConfigError(message, file=file, line=line, field=field)


def check_pack_group(orgs: pd.DataFrame, name: str | None, doc: Located, *, given: bool) -> None:
    """The pack's peer group (`--peer-group`, a schedule's, or the template's default) before anything is built."""
    if name is None:
        return
    groups = memberships(orgs)
    if name not in groups:
        if given:
            raise unknown_group(name, list(groups), field="peer_group")
        path = ("parameters", "peer_group", "default")
        raise unknown_group(name, list(groups), file=doc.file, line=doc.line_of(path), field=_dotted(path))


def peer_group(asm: Assembly, peers: str | None, where: Where = ()) -> Group:
    """The group a block compares within: its own `peers:`, else the pack's peer group, else everyone."""
    name = peers or asm.peer_group or ALL
    groups = asm.once(("memberships",), lambda: memberships(asm.snapshot.orgs))
    if name not in groups:
        path = _group_path(asm, peers, where)
        raise unknown_group(name, list(groups), file=asm.doc.file, line=asm.doc.line_of(path), field=_dotted(path))
    label = (
        asm.catalogue.orgs.label(name) if asm.catalogue.orgs is not None else ("organisations" if name == ALL else name)
    )
    return Group(name, label, groups[name])


def _eligible(asm: Assembly, metric: Metric, group: Group) -> frozenset[str]:
    if metric.eligible is None:
        return group.members
    groups = asm.once(("memberships",), lambda: memberships(asm.snapshot.orgs))
    return group.members & groups.get(metric.eligible, frozenset())


@dataclass(frozen=True)
class Pool:
    """Each shown peer's numerator and denominator summed over the window. Peers whose rows cannot be compared
    (a negative numerator, or more events than the denominator for a proportion) are left out and named, so
    one organisation's bad data never breaks, or silently skews, every other organisation's funnel; peers
    whose pooled figure would reveal a suppressed count are withheld and counted."""

    frame: pd.DataFrame  # org_code, numerator, denominator: one row per organisation shown
    group: str
    label: str
    span: str
    subject: str | None = None
    members: tuple[str, ...] = ()
    eligible: tuple[str, ...] = ()
    no_data: tuple[str, ...] = ()
    eligible_label: str = ""  # what the metric's `eligible:` group calls its members ("" without one)
    excluded: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()  # small numbers: their pooled figure would reveal a suppressed count

    @property
    def n(self) -> int:
        """THE number of organisations a comparison states: those shown, the subject counted once."""
        return len(self.frame)

    @property
    def has_subject(self) -> bool:
        return self.subject is not None and bool((self.frame["org_code"] == self.subject).any())

    @property
    def others(self) -> int:
        """How many the subject is compared with ('the average for {others} other ...')."""
        return self.n - 1 if self.has_subject else self.n

    def of_n(self) -> str:
        """'118 non-specialist acute trusts with a type 1 A&E'"""
        return f"{self.n} {self.label}"

    def note(self, asm: Assembly, title: str) -> list[Block]:
        """What makes the members of the group add up to the n shown: those not eligible for the metric, those
        without data in the window, those left out for invalid data and those withheld for small numbers."""
        names = org_names(asm)
        out: list[Block] = []
        left = len(self.members) - len(self.eligible)
        if left:
            whom = "1 is" if left == 1 else f"{left} are"
            out.append(
                Text(
                    (
                        f"{title}: of the {len(self.members)} {self.label}, {whom} not compared on this measure, "
                        f"which applies to {self.eligible_label} only.",
                    ),
                    "note",
                )
            )
        if self.no_data:
            who = ", ".join(f"{names.get(code, code)} ({code})" for code in self.no_data)
            out.append(Text((f"{title}: not shown, no figures for {self.span}: {who}.",), "note"))
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
            count = len(self.withheld)
            whom = "1 organisation is" if count == 1 else f"{count} organisations are"
            out.append(Text((f"{title}: {whom} not shown, to protect small numbers (*).",), "note"))
        return out


def cross_section(asm: Assembly, metric: Metric, o: Pooled, where: Where = ()) -> Pool:
    """Each peer's pooled figures for the block's window and peer group, computed once per batch (the subject
    checks run for every organisation)."""
    group = peer_group(asm, o.peers, where)
    eligible = _eligible(asm, metric, group)
    _check_subject(asm, metric, group, eligible, o.peers, where)
    key = ("cross", metric.id, o.periods, group.name, asm.period_end)
    pool = asm.once(key, lambda: _pool(asm, metric, o.periods, group, eligible))
    return replace(pool, subject=asm.org)


def _check_subject(
    asm: Assembly, metric: Metric, group: Group, eligible: frozenset[str], peers: str | None, where: Where
) -> None:
    if len(eligible) < MIN_PEERS:
        why = f" eligible for {metric.title} ('{metric.eligible}')" if metric.eligible else ""
        raise _located(
            asm,
            f"peer group '{group.name}' has {len(eligible)} member(s){why}; a comparison needs at least "
            f"{MIN_PEERS}: choose a larger group ({', '.join(sorted(memberships(asm.snapshot.orgs)))})",
            _group_path(asm, peers, where),
        )
    org = asm.org
    if org is None:
        return
    everyone = asm.once(("memberships",), lambda: memberships(asm.snapshot.orgs))
    if metric.eligible is not None and org not in everyone.get(metric.eligible, frozenset()):
        names = org_names(asm)
        raise NotCompared(
            f"{names.get(org, org)} is not compared with other organisations on {metric.title}: the measure "
            f"applies to {asm.catalogue.orgs.label(metric.eligible) if asm.catalogue.orgs else metric.eligible} "
            f"only."
        )
    if org not in group.members:
        own = groups_of(asm.snapshot.orgs, org)
        raise _located(
            asm,
            f"organisation {org} is not in peer group '{group.name}', so it cannot be compared within it; "
            f"{org}'s groups are: {', '.join((*own, ALL))} (choose one with --peer-group, a schedule's "
            f"parameters.peer_group or the block's peers:)",
            _group_path(asm, peers, where),
        )


def _pool(asm: Assembly, metric: Metric, periods: int, group: Group, eligible: frozenset[str]) -> Pool:
    window = _window(asm, metric, periods)
    rows = window[window["org_code"].isin(eligible) & (window["denominator"] > 0)]
    no_data = tuple(sorted(eligible - set(rows["org_code"].astype(str))))
    invalid = (rows["numerator"] < 0) | (
        (rows["numerator"] > rows["denominator"]) if metric.unit == "percent" else False
    )
    excluded = tuple(sorted(set(rows.loc[invalid, "org_code"].astype(str))))
    rows = rows[~rows["org_code"].isin(excluded)]
    withheld = tuple(withheld_from_comparison(asm.snapshot.metrics, asm.catalogue, metric.id, rows))
    rows = rows[~rows["org_code"].isin(withheld)]
    pooled = rows.groupby("org_code", as_index=False)[["numerator", "denominator"]].sum()
    pooled = round_pooled(pooled, asm.catalogue, metric.id)  # as the metric's own counts are published
    pooled["org_code"] = pooled["org_code"].astype(str)
    if len(window):
        first, last = window["period"].min(), window["period"].max()
        span = (
            format_period(last, metric.frequency)
            if first == last
            else f"{format_period(first, metric.frequency)} to {format_period(last, metric.frequency)}"
        )
    else:
        span = asm.period_label
    orgs = asm.catalogue.orgs
    return Pool(
        pooled,
        group.name,
        group.label,
        span,
        None,
        tuple(sorted(group.members)),
        tuple(sorted(eligible)),
        no_data,
        eligible_label=orgs.label(metric.eligible) if metric.eligible and orgs is not None else "",
        excluded=excluded,
        withheld=withheld,
    )


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
