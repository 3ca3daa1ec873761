"""The rule of the `changes` block: what changed since the pack published before this one.

Why: a weekly reader's first question is "what is different from last week?". The previous pack's numbers
are read from its own `<pack>.data.json` (packs.data_file.previous_pack, put on the assembly by the build),
never recomputed from today's data, so a revision of old data shows as a revision and the comparison is with
what the reader was actually sent. Measures with no new figure are named in one line, not given rows of
dashes; with nothing to compare with (first pack, no data file, another schema version) the block says so in
one line instead of drawing an empty table.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from reporting.data.catalogue import Metric
from reporting.formatting import format_value
from reporting.mdc import ASSURANCE, NOT_ASSESSED, VARIATION
from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where, selected
from reporting.packs.blocks.registry import rule
from reporting.packs.blocks.summary import figure_period
from reporting.packs.data_file import SCHEMA_VERSION, NoPrevious, PreviousPack, PreviousSeries
from reporting.packs.tree import Block, Cell, Column, DataTable, Text

__all__ = ["change_text", "move_text"]


def _label(table: dict[str, tuple[str, str, str]], code: str | None) -> str:
    if code in table:
        text = table[code][2]
        return text[0].lower() + text[1:]
    return NOT_ASSESSED.lower()


def move_text(table: dict[str, tuple[str, str, str]], before: str | None, now: str | None) -> str:
    """An icon's move in words ('common cause variation → special cause concern (high)'), or 'unchanged: …'."""
    if before == now:
        return f"unchanged: {_label(table, now)}"
    return f"{_label(table, before)} → {_label(table, now)}"


def change_text(metric: Metric, before: float | None, now: float | None) -> str:
    """The change in the metric's own units: '+1.2 percentage points', '−35', '+0.4 per 1,000'."""
    if before is None or now is None:
        return "–"
    delta = now - before
    scale = 100.0 if metric.unit == "percent" else 1.0
    if round(abs(delta) * scale, metric.decimals) == 0:
        return "no change"
    sign = "+" if delta > 0 else "−"
    if metric.unit == "percent":
        return f"{sign}{abs(delta) * 100:,.{metric.decimals}f} percentage points"
    return sign + format_value(abs(delta), metric.unit, metric.decimals, metric.per)


def _figure(metric: Metric, period: dt.date | None, value: float | None) -> str:
    """'594 (w/c 25 Aug 2025)'"""
    if period is None:
        return "no current data"
    shown = format_value(value, metric.unit, metric.decimals, metric.per)
    return f"{shown} ({figure_period(pd.Timestamp(period), metric.frequency)})"


def _now(asm: Assembly, metric_id: str) -> PreviousSeries:
    """This pack's figure for the metric, read as the data file writes it (packs.data_file.pack_data)."""
    row = asm.row(metric_id, asm.primary(metric_id)) or {}
    stale = bool(row.get("stale"))
    x, y = row.get("last_valid_x"), row.get("last_valid_y")
    value = None if stale or y is None or (isinstance(y, float) and math.isnan(y)) else float(y)
    period = None if stale or x is None or pd.isna(x) else pd.Timestamp(x).date()
    metric = asm.metric(metric_id)
    return PreviousSeries(
        metric_id,
        metric.title,
        metric.frequency,
        period,
        value,
        row.get("variation_icon"),
        row.get("assurance"),
        stale,
    )


def _same(a: PreviousSeries, b: PreviousSeries) -> bool:
    same_value = (a.value is None and b.value is None) or (
        a.value is not None and b.value is not None and math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-12)
    )
    return a.period == b.period and same_value and a.variation == b.variation and a.assurance == b.assurance


def _nothing(asm: Assembly, why: NoPrevious | None) -> str:
    cadence = asm.template.cadence
    when = figure_period(pd.Timestamp(why.period), cadence) if why and why.period else ""
    if why is None:
        return "This build did not look for earlier packs, so no changes are shown."
    if why.why == "first":
        org = asm.org_name or "this organisation"
        return f"This is the first {asm.template.title} published for {org}: there is no earlier pack to compare with."
    if why.why == "no_data":
        return f"The last pack ({when}) has no data file, so there is nothing to compare with."
    if why.why == "schema":
        return (
            f"The last pack ({when}) wrote its data file in schema version {why.detail}; this version of reporting "
            f"reads version {SCHEMA_VERSION}, so no changes are shown."
        )
    return f"The last pack's data file ({why.detail}, {when}) could not be read, so no changes are shown."


def _one_line(title: str, sentence: str) -> Text:
    """The block's title and why there is no table, as one paragraph (a heading alone could end a slide)."""
    return Text((f"{title}: {sentence[0].lower()}{sentence[1:]}",))


@rule(t.ChangesBlock)
def _changes(asm: Assembly, o: t.ChangesOptions, where: Where, extra: Extra) -> list[Block]:
    title = asm.render(o.title, (*where, "title"), **extra)
    previous = asm.previous
    if not isinstance(previous, PreviousPack):
        return [_one_line(title, _nothing(asm, previous))]
    since = figure_period(pd.Timestamp(previous.period), asm.template.cadence)
    rows: list[tuple[Cell, ...]] = []
    unchanged: list[str] = []
    for metric_id in selected(asm, o):
        metric = asm.metric(metric_id)
        now = _now(asm, metric_id)
        before = previous.series.get(metric_id)
        if before is not None and _same(before, now):
            unchanged.append(metric.title)
            continue
        if before is None:
            last, change = "not in the last pack", "–"
        else:
            last = _figure(metric, before.period, before.value)
            change = change_text(metric, before.value, now.value)
            if before.period == now.period and change != "no change":
                change += " (revised)"
        texts = (
            metric.title,
            last,
            _figure(metric, now.period, now.value),
            change,
            move_text(VARIATION, before.variation if before else None, now.variation),
            move_text(ASSURANCE, before.assurance if before else None, now.assurance),
        )
        rows.append(tuple(Cell(text, text) for text in texts))
    if not rows:
        return [
            _one_line(title, f"nothing has changed since the pack for {since}: no measure has a new figure or icon.")
        ]
    notes = [f"Compared with the pack for {since}, from its data file {previous.file.name}."]
    if unchanged:
        notes.append(f"No new figure since then: {', '.join(unchanged)}.")
    columns = (
        Column("Measure", width=28),
        Column("Last pack", width=24),
        Column("This pack", width=24),
        Column("Change", width=18),
        Column("Variation", width=34),
        Column("Assurance", width=30),
    )
    return [
        DataTable(
            title,
            columns,
            tuple(rows),
            # not the title again: renderers print "title – caption"
            caption=", ".join(p for p in (asm.org_name, asm.period_label, f"against the pack for {since}") if p),
            footnotes=tuple(notes),
            sheet_name="Changes",
        )
    ]
