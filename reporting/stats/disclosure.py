"""Statistical disclosure control, applied to a MetricFrame before any value leaves the engine.

Three steps, in this order, all on a copy:

1. **Primary / derived suppression.** A count below `suppress_below` is suppressed ("primary": the row's
   value is itself a count — a row with no numerator and no denominator, or only the metrics named in
   `count_metrics`). A rate or proportion whose numerator or denominator is below the threshold is
   suppressed too ("derived": its value would reveal the small count). Zero is a count below the
   threshold and is suppressed like any other.
2. **Secondary suppression** (`secondary=True`), per metric, on the table rows x columns
   (org_code x period by default), assuming the true row and column totals are published:
   while some row (or column) has exactly one suppressed cell, also suppress that line's smallest
   unsuppressed cell; then check that no suppressed cell is determined by the totals (a cell joined to the
   rest only through a "bridge" can still be, even when every line holds two: `recoverable_cells`),
   and for any such cell suppress the cheapest rectangle (r, c2), (r2, c), (r2, c2) that puts it on a
   cycle; repeat until stable. The size used to pick cells is the count (value for count rows,
   numerator — else denominator — for ratio rows). A line whose only cell is suppressed cannot be
   protected by cell suppression; such cells are listed in `frame.attrs["disclosure_unprotected"]`.
3. **Rounding** (`round_to`), as NHS disclosure rules use it (e.g. counts under 5 suppressed, the rest
   rounded to the nearest 5): numerators, denominators and count values of unsuppressed rows are rounded
   half-up to the nearest `round_to`. With `rates_from="rounded"` (the default) a ratio's value is derived
   from the rounded numerator and denominator (rescaled by rounded/unrounded, so a percentage stays a
   percentage and its units and `per` are kept); with `rates_from="exact"` it keeps the value computed from
   the exact counts, for rules that publish exact rates beside rounded counts.

Suppressed rows are never dropped: value, numerator and denominator become NaN, `suppressed` is True and
`suppression_reason` is "primary", "derived" or "secondary" (NA when shown), so renderers can print "*"
and a footnote.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from reporting.errors import StatsError

__all__ = [
    "DEFAULT_SUPPRESS_BELOW",
    "DisclosureRule",
    "RATES_FROM",
    "REASON_COMPLEMENTARY",
    "REASON_DERIVED",
    "REASON_PRIMARY",
    "REASON_SECONDARY",
    "apply_disclosure",
    "disclose",
    "linked_metrics",
    "recoverable_cells",
    "round_pooled",
    "rule_of",
    "withheld_from_comparison",
]

DEFAULT_SUPPRESS_BELOW = 5
RatesFrom = Literal["rounded", "exact"]
RATES_FROM: tuple[RatesFrom, ...] = ("rounded", "exact")
REASON_PRIMARY = "primary"
REASON_DERIVED = "derived"
REASON_SECONDARY = "secondary"


@dataclass(frozen=True)
class DisclosureRule:
    """What may be published: counts below `suppress_below` are hidden, optional rounding to the nearest
    `round_to` (rates derived from the rounded counts unless `rates_from` is "exact"), and secondary
    suppression so hidden cells cannot be recovered from totals."""

    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    round_to: int | None = None
    secondary: bool = True
    rates_from: RatesFrom = "rounded"

    def __post_init__(self) -> None:
        if not isinstance(self.suppress_below, int | np.integer) or self.suppress_below < 0:
            raise StatsError(f"field 'suppress_below': expected an integer >= 0, got {self.suppress_below!r}")
        if self.round_to is not None and (not isinstance(self.round_to, int | np.integer) or self.round_to < 1):
            raise StatsError(f"field 'round_to': expected an integer >= 1 or None, got {self.round_to!r}")
        if self.rates_from not in RATES_FROM:
            raise StatsError(f"field 'rates_from': expected one of {', '.join(RATES_FROM)}, got {self.rates_from!r}")


def apply_disclosure(
    frame: pd.DataFrame,
    rule: DisclosureRule | None = None,
    *,
    rows: str = "org_code",
    columns: str = "period",
    tables: Sequence[str] = ("metric_id",),
    count_metrics: Collection[object] | None = None,
) -> pd.DataFrame:
    """Return a copy of a MetricFrame-shaped frame with suppression applied and marked (see module doc).

    `rows` x `columns` define the published table in which totals could reveal a cell; one table per
    combination of `tables` columns (one per metric by default). A row with neither numerator nor
    denominator is taken to be a count; pass `count_metrics` (metric_ids) when some such metrics are not
    counts (a mean, an index), so only the listed ones are checked against the threshold. Rows whose
    value is missing are not table cells (nothing is published, nothing sums into a total).
    """
    rule = rule or DisclosureRule()
    _validate(frame, rows, columns, tables)
    out = frame.copy()
    for col in ("numerator", "denominator"):
        if col not in out.columns:
            out[col] = np.nan
    num = pd.to_numeric(out["numerator"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(out["denominator"], errors="coerce").to_numpy(dtype=float)
    val = pd.to_numeric(out["value"], errors="coerce").to_numpy(dtype=float)
    is_ratio = ~np.isnan(num) | ~np.isnan(den)
    threshold = rule.suppress_below
    is_count = ~is_ratio
    if count_metrics is not None:
        is_count &= out["metric_id"].isin(list(count_metrics)).to_numpy() if "metric_id" in out else False
    primary = is_count & (val < threshold)
    derived = is_ratio & ((num < threshold) | (den < threshold))
    reason = np.full(len(out), None, dtype=object)
    reason[primary] = REASON_PRIMARY
    reason[derived] = REASON_DERIVED
    suppressed = primary | derived
    unprotected: list[dict[str, object]] = []
    if rule.secondary:
        size = np.where(is_ratio, np.where(np.isnan(num), den, num), val)
        in_table = ~np.isnan(size) | suppressed
        keys = list(tables) if tables else []
        groups = out.groupby(keys, sort=False, dropna=False).indices if keys else {(): np.arange(len(out))}
        for members in groups.values():
            idx = np.asarray(members)
            idx = idx[in_table[idx]]
            if len(idx) == 0:
                continue
            new, stuck = _secondary_for_table(
                out[rows].to_numpy()[idx], out[columns].to_numpy()[idx], size[idx], suppressed[idx]
            )
            added = idx[new & ~suppressed[idx]]
            reason[added] = REASON_SECONDARY
            suppressed[added] = True
            unprotected.extend(out.iloc[idx[stuck]][[*keys, rows, columns]].to_dict("records"))
    if rule.round_to is not None:
        num, den, val = _round_counts(num, den, val, is_ratio, rule.round_to, exact_rates=rule.rates_from == "exact")
    out["numerator"], out["denominator"], out["value"] = num, den, val
    out.loc[suppressed, ["value", "numerator", "denominator"]] = np.nan
    out["suppressed"] = suppressed
    out["suppression_reason"] = pd.array(reason, dtype="string")
    out.attrs["disclosure_unprotected"] = unprotected
    out.attrs["disclosure_rule"] = rule
    return out


def recoverable_cells(
    rows: Sequence[object] | np.ndarray, columns: Sequence[object] | np.ndarray, suppressed: Sequence[bool] | np.ndarray
) -> np.ndarray:
    """Which suppressed cells are pinned down exactly by the true row and column totals.

    Draw the hidden cells as edges between their row and their column. Value can be moved among hidden
    cells without changing any total exactly along a cycle of that graph (add, subtract, add ... around it;
    the graph is bipartite, so every cycle is even), so a hidden cell is recoverable iff its edge lies on no
    cycle: iff it is a *bridge*. Found with Tarjan's bridge search in time linear in the hidden cells; this
    is the null-space test (an SVD of the line-incidence matrix, kept in the tests as the reference) without
    its cubic cost or its floating-point tolerance. Returns a boolean mask per cell.
    """
    r_codes, _ = pd.factorize(pd.Series(list(rows), dtype=object))
    c_codes, _ = pd.factorize(pd.Series(list(columns), dtype=object))
    hidden = np.flatnonzero(np.asarray(suppressed, dtype=bool))
    result = np.zeros(len(r_codes), dtype=bool)
    if len(hidden) == 0:
        return result
    n_rows = int(r_codes.max()) + 1
    ends = list(zip(r_codes[hidden].tolist(), (n_rows + c_codes[hidden]).tolist(), strict=True))
    for edge in _bridges(n_rows + int(c_codes.max()) + 1, ends):
        result[hidden[edge]] = True
    return result


def _bridges(n_nodes: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Indexes of the edges on no cycle (Tarjan, iterative so a long table cannot overflow the stack)."""
    adjacent: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for i, (u, v) in enumerate(edges):
        adjacent[u].append((v, i))
        adjacent[v].append((u, i))
    order = [-1] * n_nodes  # discovery time
    low = [0] * n_nodes  # earliest discovery time reachable through the subtree and one back edge
    found: list[int] = []
    clock = 0
    for root in range(n_nodes):
        if order[root] != -1 or not adjacent[root]:
            continue
        order[root] = low[root] = clock
        clock += 1
        stack: list[tuple[int, int, int]] = [(root, -1, 0)]  # node, edge it was entered by, next neighbour
        while stack:
            node, via, nxt = stack[-1]
            if nxt < len(adjacent[node]):
                stack[-1] = (node, via, nxt + 1)
                other, edge = adjacent[node][nxt]
                if edge == via:
                    continue
                if order[other] == -1:
                    order[other] = low[other] = clock
                    clock += 1
                    stack.append((other, edge, 0))
                else:
                    low[node] = min(low[node], order[other])
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.append(via)
    return found


# --- internals -----------------------------------------------------------------------------------------


def _validate(frame: pd.DataFrame, rows: str, columns: str, tables: Sequence[str]) -> None:
    needed = ["value", rows, columns, *tables]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise StatsError(f"field '{missing[0]}': column not found (have: {', '.join(map(str, frame.columns))})")
    dup = frame.duplicated([*tables, rows, columns], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        cell = ", ".join(f"{c}={frame[c].iloc[i]!r}" for c in [*tables, rows, columns])
        raise StatsError(
            f"row {i + 1}, field '{columns}': duplicate table cell ({cell}); disclosure control needs one row per cell"
        )


def _secondary_for_table(
    row_keys: np.ndarray, col_keys: np.ndarray, size: np.ndarray, suppressed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grow the suppression pattern of one table until no hidden cell can be recovered from totals."""
    r, _ = pd.factorize(pd.Series(row_keys, dtype=object))
    c, _ = pd.factorize(pd.Series(col_keys, dtype=object))
    hidden = suppressed.copy()
    size = np.where(np.isnan(size), np.inf, size)
    stuck = np.zeros(len(hidden), dtype=bool)
    while True:
        if _fix_single_lines(r, c, size, hidden) or _fix_single_lines(c, r, size, hidden):
            continue
        exposed = recoverable_cells(r, c, hidden) & ~stuck
        if not exposed.any():
            return hidden, stuck
        cell = int(np.flatnonzero(exposed)[0])
        if not _suppress_rectangle(cell, r, c, size, hidden):
            stuck[cell] = True


def _fix_single_lines(line: np.ndarray, other: np.ndarray, size: np.ndarray, hidden: np.ndarray) -> bool:
    """For each line holding exactly one hidden cell, hide its smallest visible cell; True if anything changed."""
    counts = np.bincount(line, weights=hidden.astype(float), minlength=int(line.max()) + 1)
    changed = False
    for ln in np.flatnonzero(counts == 1):
        visible = np.flatnonzero((line == ln) & ~hidden)
        if len(visible):
            order = np.lexsort((other[visible], size[visible]))
            hidden[visible[order[0]]] = True
            changed = True
    return changed


def _suppress_rectangle(cell: int, r: np.ndarray, c: np.ndarray, size: np.ndarray, hidden: np.ndarray) -> bool:
    """Hide the cheapest (r, c2), (r2, c), (r2, c2) so `cell` sits on a 4-cycle; False if the table has none."""
    index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(r, c, strict=True))}
    r0, c0 = int(r[cell]), int(c[cell])
    best: tuple[float, list[int]] | None = None
    for (r2, c2), k in index.items():
        if r2 == r0 or c2 == c0:
            continue
        a, b = index.get((r0, c2)), index.get((r2, c0))
        if a is None or b is None:
            continue
        corners = [a, b, k]
        cost = float(sum(0.0 if hidden[i] else size[i] for i in corners))
        if best is None or cost < best[0]:
            best = (cost, corners)
    if best is None or all(hidden[i] for i in best[1]):
        return False
    hidden[best[1]] = True
    return True


def _round_counts(
    num: np.ndarray, den: np.ndarray, val: np.ndarray, is_ratio: np.ndarray, base: int, *, exact_rates: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Round counts half-up to the nearest `base`; rescale ratio values so their units are kept (unless the
    rule keeps exact rates)."""

    def rnd(x: np.ndarray) -> np.ndarray:
        return np.floor(x / base + 0.5) * base

    r_num, r_den = rnd(num), rnd(den)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (r_num / r_den) / (num / den)
        scaled = np.where(np.isfinite(factor), val * factor, np.where(r_num == 0, 0.0, val))
    derived = is_ratio & ~np.isnan(num) & ~np.isnan(den) & (not exact_rates)
    new_val = np.where(derived, scaled, np.where(is_ratio, val, rnd(val)))
    return r_num, r_den, new_val


# --- the disclosure stage over a whole catalogue (what packs.batch and every comparison read) ---------------

REASON_COMPLEMENTARY = "complementary"


def linked_metrics(catalogue: Any) -> dict[str, frozenset[str]]:
    """metric id -> the metrics that must be suppressed with it (itself included).

    Two metrics are linked when they read a shared column of the same source with the same `where` filter
    (ae_4hr = (attendances - over_4h) / attendances, ae_over_4hr = over_4h, ae_attendances = attendances: any
    two of them give the third), or when one names the other in `disclosure.complement_of`. Links are
    transitive (connected components)."""
    from reporting.data.expr import parse_expression

    def columns(metric: Any) -> set[str]:
        out: set[str] = set()
        for text in (metric.value, metric.numerator, metric.denominator):
            if text:
                out |= set(parse_expression(text).columns)
        return out

    metrics = list(catalogue.metrics)
    parent = {m.id: m.id for m in metrics}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: str, b: str) -> None:
        if a in parent and b in parent:
            parent[find(a)] = find(b)

    cols = {m.id: columns(m) for m in metrics}
    for i, a in enumerate(metrics):
        for b in metrics[i + 1 :]:
            same_place = a.source == b.source and dict(a.where) == dict(b.where)
            if same_place and cols[a.id] & cols[b.id]:
                union(a.id, b.id)
        for other in getattr(a.disclosure, "complement_of", ()) or ():
            union(a.id, other)
    groups: dict[str, set[str]] = {}
    for m in metrics:
        groups.setdefault(find(m.id), set()).add(m.id)
    return {m.id: frozenset(groups[find(m.id)]) for m in metrics}


def rule_of(metric: Any) -> DisclosureRule:
    d = metric.disclosure
    return DisclosureRule(d.suppress_below, d.round_to, d.secondary, d.rates_from)


def disclose(
    frame: pd.DataFrame, catalogue: Any, tables: Sequence[str] = ("metric_id",), *, secondary: bool = True
) -> pd.DataFrame:
    """The disclosure stage: every metric's own rule (primary, derived, secondary, rounding; a metric linked
    to one that rounds rounds too, to the largest base among them), then complementary suppression across
    linked metrics: a cell hidden in one metric hides the same (organisation, period, table) in every metric
    linked to it, so it cannot be worked out from them."""
    parts = []
    links = linked_metrics(catalogue)
    for metric_id, rows in frame.groupby("metric_id", sort=True):
        metric = catalogue.metric(str(metric_id))
        counts = [metric.id] if metric.unit == "count" else []
        rule = rule_of(metric)
        # linked metrics publish the same counts (ae_attendances is ae_4hr's denominator): one that rounds
        # makes them all round, or the exact count would be published beside the rounded one
        bases = [b for m in links.get(metric.id, ()) if (b := catalogue.metric(m).disclosure.round_to) is not None]
        round_to = max(bases) if bases else None
        rule = DisclosureRule(rule.suppress_below, round_to, rule.secondary and secondary, rule.rates_from)
        parts.append(apply_disclosure(rows, rule, tables=tables, count_metrics=counts))
    if not parts:
        return frame.assign(suppressed=False)
    out = pd.concat(parts, ignore_index=True)
    group = out["metric_id"].map(lambda m: min(links.get(str(m), {str(m)})))
    cell = [c for c in ("org_code", "period", *[t for t in tables if t != "metric_id"]) if c in out.columns]
    hidden = (
        out["suppressed"]
        .astype(bool)
        .groupby([group, *[out[c] for c in cell]], dropna=False)
        .transform("any")
        .to_numpy()
    )
    added = hidden & ~out["suppressed"].astype(bool).to_numpy()
    if added.any():
        out.loc[added, ["value", "numerator", "denominator"]] = np.nan
        out.loc[added, "suppressed"] = True
        out.loc[added, "suppression_reason"] = REASON_COMPLEMENTARY
    return out


def round_pooled(pooled: pd.DataFrame, catalogue: Any, metric_id: str) -> pd.DataFrame:
    """Pooled numerators and denominators (a funnel's, a league table's) rounded as the metric's published
    counts are (its `round_to`, or a linked metric's), so a comparison never shows an exact total beside the
    rounded months; the comparison's rates are then derived from these."""
    links = linked_metrics(catalogue).get(metric_id, frozenset({metric_id}))
    bases = [b for m in links if (b := catalogue.metric(m).disclosure.round_to) is not None]
    if not bases:
        return pooled
    base = max(bases)
    out = pooled.copy()
    for column in ("numerator", "denominator"):
        if column in out:
            out[column] = np.floor(pd.to_numeric(out[column], errors="coerce") / base + 0.5) * base
    return out


def withheld_from_comparison(metrics: pd.DataFrame, catalogue: Any, metric_id: str, window: pd.DataFrame) -> list[str]:
    """Organisations whose figure pooled over `window` must not be published in a funnel, league table or
    caterpillar: one with any suppressed cell (of this metric or a linked one) in the window (the pooled
    total minus the months shown would give the hidden count), or whose pooled numerator or denominator is
    itself below the threshold. Disclosure is applied per organisation, as in its own pack."""
    if window.empty:
        return []
    metric = catalogue.metric(metric_id)
    links = linked_metrics(catalogue).get(metric_id, frozenset({metric_id}))
    periods = window["period"].unique()
    rows = metrics[
        metrics["metric_id"].isin(list(links))
        & metrics["period"].isin(periods)
        & metrics["org_code"].isin(window["org_code"].unique())
    ]
    # primary and derived suppression (and its complements) are enough: secondary only ever adds to them
    shown = disclose(rows.assign(_pack=rows["org_code"]), catalogue, tables=("metric_id", "_pack"), secondary=False)
    hidden = set(shown.loc[shown["suppressed"].astype(bool), "org_code"].astype(str))
    pooled = window.groupby("org_code")[["numerator", "denominator"]].sum()
    threshold = metric.disclosure.suppress_below
    small = pooled[(pooled["numerator"] < threshold) | (pooled["denominator"] < threshold)].index.astype(str)
    return sorted(hidden | set(small))
