"""The rule of the executive summary: what the statistics say, synthesised for a lay board member.

The summary is written from the numbers the pack already computed (each metric's SPC view: variation,
assurance, the points of its current run, staleness, the annotations register, gaps), never from the
per-chart narratives, so no sentence of it appears anywhere else in the pack. It has the parts boards
expect, each a heading and short paragraphs: what needs attention (concerns and failing targets, since when
and by how much), what has improved, what else has changed (special cause with no better direction), what is
stable, what the data cannot tell us yet, and what the Board is asked to do. The asks follow from the parts
above and from whether commentary was received. Analysts rewrite or extend any part from the commentary
workbook (rows keyed `summary:<part>`, see packs.commentary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from reporting.data.catalogue import Metric
from reporting.formatting import format_period
from reporting.mdc import is_concern, is_exception
from reporting.packs import template as t
from reporting.packs.assembly import NO_COMMENTARY, Assembly, Extra, Row, Where, passes, selected, series_points
from reporting.packs.blocks.comparisons import funnel_of
from reporting.packs.blocks.peers import NotCompared
from reporting.packs.blocks.registry import rule
from reporting.packs.commentary import SUMMARY_PREFIX, metric_commentary
from reporting.packs.tree import Block, Heading, Text
from reporting.stats.narrative import amount, difference, period_noun

__all__ = ["summary_parts"]

#: a view with fewer points than this has limits that will still move (NHS England: at least 15 for XmR)
FEW_POINTS = 15
#: what a run of periods is called, by the metric's frequency
PERIODS = {"monthly": "months", "weekly": "weeks", "quarterly": "quarters", "daily": "days"}


@dataclass(frozen=True)
class _Fact:
    """One metric's reading for the summary: the numbers every sentence about it is made of."""

    metric: Metric
    row: Row
    points: pd.DataFrame
    target: float | None
    exception: bool

    @property
    def value(self) -> float:
        return float(self.row["last_valid_y"])

    @property
    def when(self) -> str:
        return period_noun(self.row["last_valid_x"], self.metric.frequency)

    def show(self, value: float) -> str:
        return amount(value, self.metric.unit, self.metric.decimals, self.metric.per)

    def gap(self, reference: float) -> str:
        return difference(self.value, reference, self.metric.unit, self.metric.decimals, self.metric.per)

    @property
    def usual(self) -> str:
        return "usual level (median)" if self.row.get("chart") == "run" else "usual level"

    def verb(self, singular: str, plural: str) -> str:
        return plural if self.metric.plural else singular


def _facts(asm: Assembly, metric_ids: Iterable[str]) -> tuple[list[_Fact], list[str], list[str]]:
    """(metrics with a current reading, stale metrics, metrics with too few values to judge)."""
    facts: list[_Fact] = []
    stale: list[str] = []
    unjudged: list[str] = []
    for metric_id in metric_ids:
        row = asm.row(metric_id, asm.primary(metric_id))
        if row is None:
            unjudged.append(metric_id)
            continue
        if row.get("stale"):
            stale.append(metric_id)
            continue
        value = row.get("last_valid_y")
        if value is None or pd.isna(value) or not row.get("last_point_type"):
            unjudged.append(metric_id)
            continue
        metric = asm.metric(metric_id)
        target = metric.target_for(asm.org, asm.period.date())
        exception = is_exception(
            row.get("variation_icon"),
            row.get("assurance"),
            misses_target=passes(asm, metric_id, "fails_target"),
            stale=False,
        )
        points = series_points(asm, metric_id, asm.primary(metric_id))
        facts.append(_Fact(metric, row, points[points["y"].notna()], target, exception))
    return facts, stale, unjudged


def _signal_start(fact: _Fact) -> pd.Timestamp:
    """The first point of the current signal: the run of points, ending at the latest, of the latest's type."""
    types = fact.points["point_type"].tolist()
    xs = fact.points["x"].tolist()
    if not types:
        return pd.Timestamp(fact.row["last_valid_x"])
    i = len(types) - 1
    while i > 0 and types[i - 1] == types[-1]:
        i -= 1
    return pd.Timestamp(xs[i])


def _misses(fact: _Fact, value: float) -> bool:
    assert fact.target is not None
    return value < fact.target if fact.metric.direction == "higher_is_better" else value > fact.target


def _missed_since(fact: _Fact) -> tuple[pd.Timestamp | None, int, int]:
    """(first of the latest unbroken run of misses, its length, points shown), from the SPC points."""
    ys, xs = fact.points["y"].tolist(), fact.points["x"].tolist()
    run = 0
    while run < len(ys) and _misses(fact, float(ys[len(ys) - 1 - run])):
        run += 1
    return (pd.Timestamp(xs[len(xs) - run]) if run else None), run, len(ys)


def _since(fact: _Fact, start: pd.Timestamp) -> str:
    latest = pd.Timestamp(fact.row["last_valid_x"])
    if start >= latest:
        return f"in {fact.when}"
    return f"since {period_noun(start, fact.metric.frequency)}"


def _direction_word(fact: _Fact) -> str:
    """'higher' or 'lower': which way the latest signal points (the icon's H/L)."""
    icon = str(fact.row.get("variation_icon") or "")
    return "higher" if icon.endswith("high") else "lower"


def _attention(fact: _Fact) -> str:
    title, m = fact.metric.title, fact.metric
    parts = []
    mean = float(fact.row["mean"])
    if is_concern(fact.row.get("variation_icon")):
        since = _since(fact, _signal_start(fact))
        parts.append(
            f"{title} {fact.verb('has', 'have')} been worse than usual {since}. "
            f"At {fact.show(fact.value)} in {fact.when}, {fact.verb('it is', 'they are')} "
            f"{fact.gap(mean)} {_direction_word(fact)} than the {fact.usual} of {fact.show(mean)}."
        )
    if fact.target is not None and fact.row.get("assurance") in {"consistent_fail", "inconsistent"}:
        target = fact.show(fact.target)
        start, run, shown = _missed_since(fact)
        periods = PERIODS.get(m.frequency, "periods")
        if run >= shown:
            first = period_noun(fact.points["x"].iloc[0], m.frequency)
            streak = f" in all {shown} {periods} with figures since {first}"
        elif run > 1 and start is not None:
            streak = f" in every one of the {run} {periods} since {period_noun(start, m.frequency)}"
        else:
            streak = f" in {fact.when}" if run else ""
        opening = title if not parts else fact.verb("It", "They")
        side = "below" if m.direction == "higher_is_better" else "above"
        shortfall = f", and was {fact.gap(fact.target)} {side} it in {fact.when}" if _misses(fact, fact.value) else ""
        missed = f"{opening} {fact.verb('has', 'have')} missed the {target} target{streak}{shortfall}."
        if str(fact.row.get("variation_icon") or "").startswith("improvement"):
            outlook = "It is improving, but not by enough to meet the target reliably."
        elif fact.row.get("assurance") == "consistent_fail":
            outlook = "On its current pattern it will keep missing the target unless the way the service works changes."
        else:
            outlook = "It meets the target in some periods but not others, so the target is not assured."
        parts.append(f"{missed} {outlook}")
    return " ".join(parts)


def _improved(fact: _Fact) -> str:
    mean = float(fact.row["mean"])
    since = _since(fact, _signal_start(fact))
    text = (
        f"{fact.metric.title} {fact.verb('has', 'have')} been better than usual {since}: "
        f"{fact.show(fact.value)} in {fact.when}, {fact.gap(mean)} {_direction_word(fact)} than the "
        f"{fact.usual} of {fact.show(mean)}."
    )
    if fact.row.get("assurance") == "consistent_pass" and fact.target is not None:
        text += f" The {fact.show(fact.target)} target is now met reliably."
    return text


def _changed(fact: _Fact) -> str:
    mean = float(fact.row["mean"])
    since = _since(fact, _signal_start(fact))
    return (
        f"{fact.metric.title} {fact.verb('has', 'have')} been {_direction_word(fact)} than usual {since}: "
        f"{fact.show(fact.value)} in {fact.when}, against a {fact.usual} of {fact.show(mean)}."
    )


def _words(n: int) -> str:
    """Small numbers in words, as plain English writes them (and a sentence never starts with a digit)."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else f"{n:,}"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _stable(facts: Sequence[_Fact]) -> list[str]:
    """One line per group of stable measures: meeting the target, meeting it only some of the time, no target."""
    reliable = [f for f in facts if f.row.get("assurance") == "consistent_pass"]
    sometimes = [f for f in facts if f.row.get("assurance") == "inconsistent"]
    untargeted = [f for f in facts if f not in reliable and f not in sometimes]
    lines = []
    if reliable:
        lines.append(f"Steady and meeting the target reliably: {_join([f.metric.title for f in reliable])}.")
    if sometimes:
        names = [
            f"{f.metric.title} ({f.show(f.value)} in {f.when}, against a {f.show(f.target or 0.0)} target)"
            for f in sometimes
        ]
        lines.append(
            f"Steady, and meeting the target this period, but likely to miss it in some periods: {_join(names)}."
        )
    if untargeted:
        lines.append(f"Steady within the usual range, with no target: {_join([f.metric.title for f in untargeted])}.")
    return lines


def _latest(asm: Assembly, metric_id: str) -> str:
    latest = (asm.row(metric_id) or {}).get("latest_available")
    return "no period" if latest is None or pd.isna(latest) else period_noun(latest, asm.metric(metric_id).frequency)


def _unknown(asm: Assembly, facts: Sequence[_Fact], stale: Sequence[str], unjudged: Sequence[str]) -> list[str]:
    lines = []
    if stale:
        items = [f"{asm.metric(m).title} (the latest are for {_latest(asm, m)})" for m in stale]
        how = "it is" if len(items) == 1 else "they are"
        lines.append(f"There are no current figures for {_join(items)}, so we cannot see how {how} doing now.")
    if unjudged:
        lines.append(f"There are too few values to judge {_join([asm.metric(m).title for m in unjudged])}.")
    breaks: dict[tuple[str, str, str], list[str]] = {}
    for f in facts:
        for a in f.row.get("annotations") or ():
            key = (a.kind, format_period(a.period, f.metric.frequency), a.reason)
            breaks.setdefault(key, []).append(f.metric.title)
    for (kind, period, reason), titles in breaks.items():
        if kind == "break":
            lines.append(
                f"Figures for {_join(titles)} from {period} onwards cannot be set against earlier ones "
                f"({reason.rstrip('.')})."
            )
        else:
            lines.append(f"The usual range of {_join(titles)} starts again from {period} ({reason.rstrip('.')}).")
    few = [f for f in facts if int(f.row.get("baseline_n") or 0) < FEW_POINTS or f.row.get("trial_limits")]
    if few:
        names = [f"{f.metric.title} ({int(f.row.get('baseline_n') or 0)})" for f in few]
        lines.append(
            f"The usual range rests on fewer than {FEW_POINTS} values for {_join(names)}, so it may still move."
        )
    gaps: dict[tuple[pd.Timestamp, ...], list[_Fact]] = {}
    for f in facts:
        missing = tuple(pd.Timestamp(x) for x in f.row.get("missing_periods") or ())
        if missing:
            gaps.setdefault(missing, []).append(f)
    for missing, group in gaps.items():
        frequency = group[0].metric.frequency
        who = _join([f.metric.title for f in group])
        if len(missing) <= 2:
            periods = _join([period_noun(x, frequency) for x in missing])
            lines.append(f"No figures were supplied for {periods} for {who}.")
        else:
            lines.append(
                f"{_words(len(missing)).capitalize()} of the {PERIODS[frequency]} shown have no figures for {who}; "
                f"the most recent of those gaps is {period_noun(missing[-1], frequency)}."
            )
    return lines


def _per_unit(metric: Metric, value: float) -> str:
    """A funnel's value (already scaled by the metric's `per`, as its values are) as the metric writes it."""
    return amount(value, metric.unit, metric.decimals, metric.per)


def _compared(asm: Assembly, metric_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """[(part, metric id, sentence)] for each funnel of the pack: where the organisation sits among its peers.
    Outside the limits on the worse side needs attention, on the better side is an improvement, inside is
    stable. The sentence says the figure is for the funnel's window ("over the 12 months from ..."), so it is
    never read against the same measure's latest month said beside it."""
    out = []
    for section in asm.template.sections:
        for block in t.iter_blocks(section.blocks):
            if not isinstance(block, t.FunnelBlock) or "{{" in block.funnel.metric:
                continue
            if block.funnel.metric not in metric_ids:
                continue
            metric = asm.metric(block.funnel.metric)
            try:
                pool, result = funnel_of(asm, metric, block.funnel)
            except NotCompared:
                continue  # the funnel's place in the pack says why
            mine = result.points[result.points["group"] == asm.org] if result is not None else None
            if result is None or mine is None or mine.empty:
                continue
            value, average = float(mine["value"].iloc[0]), float(result.target * metric.scale)
            periods = PERIODS.get(metric.frequency, "periods")
            over = (
                f"Over the {_words(block.funnel.periods)} {periods} from {pool.span}"
                if " to " in pool.span
                else f"In {pool.span}"
            )
            figure = f"{over}, {metric.title} was {_per_unit(metric, value)}"
            # the one n of the comparison (packs.blocks.peers.Pool), the subject counted once
            peers = f"the average of {_per_unit(metric, average)} for {_words(pool.others)} other {pool.label}"
            if not bool(mine["outlier"].iloc[0]):
                out.append(("stable", metric.id, f"{figure}: within the range expected around {peers}."))
                continue
            high = value > average
            worse = (metric.direction == "higher_is_better") != high if metric.direction != "neutral" else None
            side = "above" if high else "below"
            part = "attention" if worse else "improved" if worse is False else "stable"
            out.append((part, metric.id, f"{figure}: {side} the range expected around {peers}."))
    return out


#: how many periods before the latest "recent" special cause improvement is looked for
RECENT = 3


def _recently_improved(fact: _Fact) -> str:
    """A measure back in its usual range whose last few periods before the latest showed special cause
    improvement: the Board should hear of it, or "What has improved: nothing" contradicts the tables."""
    before = fact.points.iloc[-(RECENT + 1) : -1]
    better = before[before["point_type"] == "special_cause_improvement"]
    if better.empty:
        return ""
    frequency = fact.metric.frequency
    when = _join([period_noun(x, frequency) for x in better["x"]])
    return (
        f"{fact.metric.title} was better than usual in {when}. In {fact.when} it was back within its usual "
        f"range, at {fact.show(fact.value)}."
    )


def _asks(
    asm: Assembly, body: str, attention: Sequence[_Fact], stale: Sequence[str], received: Mapping[str, object]
) -> list[str]:
    asks = []
    for f in attention:
        if f.metric.id in received:
            asks.append(
                f"Seek assurance that the actions in the commentary on {f.metric.title} will bring "
                f"{f.verb('it', 'them')} back on track, and by when."
            )
        else:
            asks.append(
                f"Seek assurance on the recovery plan for {f.metric.title}: ask the executive lead what is "
                "being done and by when."
            )
    for m in stale:
        asks.append(f"Ask when current figures for {asm.metric(m).title} will be available.")
    if not attention:
        asks.append(
            f"Take assurance that no measure is worse than usual and none is missing its target in a way the "
            f"{body} should act on."
        )
    if received:
        asks.append("Note this report and the service leads' commentary on the measures it covers.")
    else:
        asks.append(
            f"Note this report. Service leads sent no commentary for {asm.period_noun}, so it rests on the "
            "figures alone."
        )
    return asks


def summary_parts(asm: Assembly, o: t.ExecutiveSummaryOptions) -> list[tuple[str, str, list[str]]]:
    """[(part key, heading, paragraphs)] before the analysts' overrides: the summary as the numbers write it
    (only the parts the block's `parts:` names, in the summary's own order)."""
    metric_ids = selected(asm, o)
    facts, stale, unjudged = _facts(asm, metric_ids)
    attention = [f for f in facts if f.exception]
    improved = [f for f in facts if not f.exception and str(f.row.get("variation_icon")).startswith("improvement")]
    changed = [f for f in facts if not f.exception and str(f.row.get("variation_icon")).startswith("neutral")]
    stable = [f for f in facts if not f.exception and f.row.get("variation_icon") == "common_cause"]
    recent = [(f, line) for f in stable if (line := _recently_improved(f))]
    received = {k: v for k, v in metric_commentary(asm.commentary).items() if k in metric_ids}
    compared = _compared(asm, metric_ids)

    def peers(part: str, besides: Sequence[_Fact] = ()) -> list[str]:
        mine = {f.metric.id for f in besides}
        return [sentence for where, metric_id, sentence in compared if where == part and metric_id not in mine]

    body = o.body
    label = asm.period_noun  # 'July 2025', 'the week of 25 August 2025'

    def count(n: int, one: str, many: str, nobody: str) -> str:
        return nobody if n == 0 else f"{_words(n)} {one if n == 1 else many}"

    # a measure's paragraph in "needs attention" carries its own peer comparison, so the overview's count of
    # measures is the count of paragraphs; a comparison for a measure not otherwise named is one more
    attention_lines = [
        " ".join([_attention(f), *(s for where, m, s in compared if where == "attention" and m == f.metric.id)])
        for f in attention
    ]
    alone = peers("attention", attention)
    judged = (
        f"; {count(len(stale) + len(unjudged), 'cannot', 'cannot', 'none')} be judged yet" if stale or unjudged else ""
    )
    needs = count(len(attention), "needs", "need", "None needs").capitalize()
    overview = (
        f"This summary covers {_words(len(metric_ids))} measures for {label}. "
        f"{needs} the {body}'s attention"
        + (f" (and {count(len(alone), 'comparison', 'comparisons', '')} with peers)" if alone else "")
        + f", {count(len(improved), 'is', 'are', 'none is')} better than usual and "
        f"{count(len(stable), 'is', 'are', 'none is')} stable{judged}."
    )
    if recent:
        overview += (
            f" {_words(len(recent)).capitalize()} stable {'measure was' if len(recent) == 1 else 'measures were'}"
            " better than usual in recent months."
        )
    none_attention = (
        f"Nothing in {label}: no measure is worse than usual, and none is missing its target in a way "
        "that is likely to continue."
    )
    parts: list[tuple[str, str, list[str]]] = [
        ("overview", "Overview", [overview]),
        ("attention", f"What needs the {body}'s attention", attention_lines + alone or [none_attention]),
        (
            "improved",
            "What has improved",
            [_improved(f) for f in improved] + [line for _, line in recent] + peers("improved")
            or [f"No measure has moved beyond its usual range for the better in {label}."],
        ),
    ]
    if changed:
        parts.append(
            (
                "changed",
                "What else has changed",
                [
                    *(_changed(f) for f in changed),
                    "These measures have no better or worse direction; the change may affect others in this report.",
                ],
            )
        )
    parts += [
        ("stable", "What is stable", _stable(stable) + peers("stable") or ["No measure is within its usual range."]),
        (
            "unknown",
            "What the data cannot tell us yet",
            _unknown(asm, facts, stale, unjudged) or ["Every measure has current figures and an unbroken record."],
        ),
        ("asks", f"What the {body} is asked to do", _asks(asm, body, attention, stale, received)),
    ]
    chosen = set(o.parts) if o.parts is not None else None
    if not received and (chosen is None or "asks" in chosen):
        asm.said_in_pack.add(NO_COMMENTARY)  # the asks say so: the sections' commentary blocks need not again
    return [part for part in parts if chosen is None or part[0] in chosen]


def _paragraphs(text: str) -> list[str]:
    """A workbook cell's text as paragraphs: a blank line starts a new one, a single line break does not."""
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


@rule(t.ExecutiveSummaryBlock)
def _executive_summary(asm: Assembly, o: t.ExecutiveSummaryOptions, where: Where, extra: Extra) -> list[Block]:
    blocks: list[Block] = []
    overrides: Callable[[str], tuple[str, str, str] | None] = lambda key: asm.commentary.get(SUMMARY_PREFIX + key)  # noqa: E731
    for key, heading, paragraphs in summary_parts(asm, o):
        override = overrides(key)
        if override is not None:
            replaced, added, _author = override
            paragraphs = (_paragraphs(replaced) or paragraphs) + _paragraphs(added)
        if heading:
            blocks.append(Heading(heading, o.level))
        blocks.append(Text(tuple(paragraphs), "lead" if key == "overview" else "body"))
    return blocks
