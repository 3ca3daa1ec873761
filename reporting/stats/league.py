"""League tables by the NHS Oversight Framework (NOF) 2025/26 method: metric scores, AMR, IMR and segments.

Sources (docs/league-tables.md quotes and links them): the NOF 2025/26 methodology manual ("each metric is scored
on a scale of 1 to 4 ... with 1 being the highest rating"; the scores are "consolidated, averaged and quartiled
to give a single overall segment of 1, 2, 3 or 4"; then the financial adjustment and segment 5), the technical
metric specification ("scored between 1.00 and 4.00 based on ... value ranked") and NHS England's league tables
page (AMR and IMR; trusts ranked "first on [the] adjusted segment ... and then by their average metric scores";
each table shows "how much it will need to improve by to move into a higher segment"). Where NHS England does
not publish a rule, the one chosen here is stated and pinned by tests:

* every rank is within the peer group, 1 = best, respecting `higher_is_better`; tie rule: ties share the best
  rank of the tie ("min", standard competition ranking: 1, 2, 2, 4) and therefore the same score;
* every rank is out of exactly the providers ranked in the table: a provider with fewer than `min_metrics`
  metric values is ranked on nothing (neither overall nor on a metric), so that a specialist trust with one
  metric neither tops a table of general hospitals nor pushes their metric ranks past the table's n;
* metric score = 1 + 3 · (rank − 1) / (n − 1), n = the ranked providers with a value for that metric (the
  interpolation is not published; a lone provider scores 1.00); IMR = the metric ranks (`<metric>_rank`);
* average metric score = mean of the provider's metric scores, missing values skipped (`metrics_scored`);
* quartile = 1 + floor(4 · (r − 1) / n), r the rank of the average score among the n ranked (lower is better);
* segment = the quartile, then NOF's two adjustments where the organisation reference gives them: financial
  override (a provider in deficit is no higher than segment 3) and segment 5 (intensive support);
* AMR (the league position) = rank by segment, then by average score (ties "min" on both);
* to_next_segment = how far the average metric score must fall to reach the next better segment: to the
  average of the worst provider now in a better quartile (equalling it shares its rank, so its quartile).
  Blank where no better segment can be reached by scores: segment 1, segment 5, or a provider in deficit held
  at segment 3 by the override.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from reporting.errors import StatsError
from reporting.stats.variation import (
    LEAGUE_DEFICIT_BEST_SEGMENT,
    LEAGUE_INTENSIVE_SUPPORT_SEGMENT,
    LEAGUE_SCORE_BEST,
    LEAGUE_SCORE_WORST,
    LEAGUE_SEGMENTS,
)

__all__ = ["adjusted_segment", "league_table", "metric_score", "min_rank", "nullable_int", "quartile_of"]

_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n", ""})

FloatArray = npt.NDArray[np.float64]


def nullable_int(values: npt.ArrayLike) -> ExtensionArray:
    """Whole numbers with <NA> for NaN (ranks, quartiles, segments), so a table never shows "18.0"."""
    return pd.Series(np.asarray(values, dtype=float)).astype("Int64").array


def metric_score(rank: pd.Series | np.ndarray, n: pd.Series | np.ndarray) -> FloatArray:
    """Rank 1 -> 1.00 and rank n -> 4.00, linear in between; n == 1 scores 1.00."""
    rank = np.asarray(rank, dtype=float)
    n = np.asarray(n, dtype=float)
    span = LEAGUE_SCORE_WORST - LEAGUE_SCORE_BEST
    with np.errstate(divide="ignore", invalid="ignore"):
        score = LEAGUE_SCORE_BEST + span * (rank - 1) / (n - 1)
    return np.asarray(np.where(n == 1, LEAGUE_SCORE_BEST, score), dtype=float)


def min_rank(badness: npt.ArrayLike) -> FloatArray:
    """Ranks along the last axis, lower = better, ties "min" (1 + the number of values strictly better); NaN is
    neither ranked nor counted. The same on (providers,) and (replicates, providers): one sort per row, then
    each run of equal values takes the position where it starts."""
    b = np.asarray(badness, dtype=float)
    order = np.argsort(b, axis=-1, kind="stable")  # NaN sorts last, so it never counts as better
    ordered = np.take_along_axis(b, order, axis=-1)
    starts = np.ones(b.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    position = np.broadcast_to(np.arange(b.shape[-1], dtype=float), b.shape)
    first = np.maximum.accumulate(np.where(starts, position, 0.0), axis=-1)
    out = np.empty(b.shape, dtype=float)
    np.put_along_axis(out, order, first + 1, axis=-1)
    out[np.isnan(b)] = np.nan
    return out


def quartile_of(rank: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
    """The quarter of the n ranked providers a rank falls in, 1 = best; NaN where there is no rank."""
    r = np.asarray(rank, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 1 + np.floor(LEAGUE_SEGMENTS * (r - 1) / np.asarray(n, dtype=float))
    return np.asarray(np.clip(q, 1, LEAGUE_SEGMENTS), dtype=float)


def adjusted_segment(
    quartile: npt.ArrayLike, in_deficit: npt.ArrayLike, intensive_support: npt.ArrayLike
) -> FloatArray:
    """NOF's adjustments to the quartile: in deficit -> no higher than segment 3; intensive support -> 5."""
    q = np.asarray(quartile, dtype=float)
    seg = np.where(np.asarray(in_deficit, dtype=bool), np.maximum(q, LEAGUE_DEFICIT_BEST_SEGMENT), q)
    seg = np.where(np.asarray(intensive_support, dtype=bool) & ~np.isnan(q), LEAGUE_INTENSIVE_SUPPORT_SEGMENT, seg)
    return np.asarray(seg, dtype=float)


def _flags(data: pd.DataFrame, column: str | None, field: str) -> npt.NDArray[np.bool_]:
    """A yes/no column of the organisation reference (true/false, yes/no, 1/0; blank is no)."""
    if column is None:
        return np.zeros(len(data), dtype=bool)
    text = data[column].astype("string").str.strip().str.lower().fillna("")
    bad = (~text.isin(_TRUE | _FALSE)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise StatsError(
            f"row {i + 1}, field '{field}' (column '{column}'): expected yes or no (true/false, 1/0), "
            f"got {data[column].iloc[i]!r}"
        )
    return text.isin(_TRUE).to_numpy()


def _validate(
    data: pd.DataFrame,
    metrics: Mapping[str, bool],
    org: str,
    peer_group: str | None,
    min_metrics: int,
    extra: list[str],
) -> None:
    if not metrics:
        raise StatsError("field 'metrics': give at least one metric column and its direction")
    if not 1 <= min_metrics <= len(metrics):
        raise StatsError(
            f"field 'min_metrics': expected 1 to {len(metrics)} (the number of metrics), got {min_metrics!r}"
        )
    needed = [org, *metrics] + ([peer_group] if peer_group else []) + extra
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise StatsError(f"field '{missing[0]}': column not found (have: {', '.join(map(str, data.columns))})")
    for name, direction in metrics.items():
        if not isinstance(direction, bool | np.bool_):
            raise StatsError(f"field 'metrics.{name}': expected True (higher is better) or False, got {direction!r}")
    dup = data[org].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise StatsError(f"row {i + 1}, field '{org}': provider {data[org].iloc[i]!r} appears twice")
    for name in metrics:
        raw = data[name]
        values = pd.to_numeric(raw, errors="coerce")
        bad = (values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise StatsError(f"row {i + 1}, field '{name}': expected a number or blank, got {raw.iloc[i]!r}")


def _to_next_segment(
    groups: np.ndarray, average: FloatArray, quartile: FloatArray, in_deficit: np.ndarray, support: np.ndarray
) -> FloatArray:
    """Fall in average score needed to reach the next better segment (see the module docstring)."""
    out = np.full(len(average), np.nan)
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        avg, q = average[idx], quartile[idx]
        for j, i in enumerate(idx):
            if np.isnan(q[j]) or q[j] <= 1 or support[i]:
                continue
            if in_deficit[i] and q[j] - 1 < LEAGUE_DEFICIT_BEST_SEGMENT:
                continue  # the override holds it at segment 3 whatever its scores
            better = avg[q < q[j]]
            if len(better):
                out[i] = avg[j] - float(np.max(better))
    return out


def league_table(
    data: pd.DataFrame,
    *,
    metrics: Mapping[str, bool],
    org: str = "org_code",
    peer_group: str | None = None,
    min_metrics: int = 1,
    in_deficit: str | None = None,
    intensive_support: str | None = None,
) -> pd.DataFrame:
    """One row per provider: each metric's value, rank (IMR) and score; then the average score, its rank and
    quartile, the segment after NOF's adjustments, AMR and the change to the next segment, all within the
    provider's peer group. `data` is wide: one row per provider, one column per metric; `metrics` maps column
    -> higher_is_better; `in_deficit` and `intensive_support` name optional yes/no columns. Sorted by peer
    group, then AMR."""
    extra = [c for c in (in_deficit, intensive_support) if c]
    _validate(data, metrics, org, peer_group, min_metrics, extra)
    out = pd.DataFrame(
        {
            "org_code": data[org].astype(str).to_numpy(),
            "peer_group": data[peer_group].to_numpy() if peer_group else "all",
        }
    )
    groups = out["peer_group"].to_numpy()
    values = {name: pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float) for name in metrics}
    scored = np.sum([~np.isnan(v) for v in values.values()], axis=0)
    ranked = scored >= min_metrics
    out["metrics_scored"] = scored.astype(int)
    scores = []
    for name, higher_is_better in metrics.items():
        v = np.where(ranked, values[name], np.nan)
        rank = np.full(len(out), np.nan)
        n = np.full(len(out), np.nan)
        for g in pd.unique(groups):
            idx = np.flatnonzero(groups == g)
            rank[idx] = min_rank(-v[idx] if higher_is_better else v[idx])
            n[idx] = np.count_nonzero(~np.isnan(v[idx]))
        score = np.where(np.isnan(rank), np.nan, metric_score(rank, n))
        out[name] = values[name]
        out[f"{name}_rank"] = nullable_int(rank)
        out[f"{name}_score"] = score
        scores.append(score)
    with np.errstate(invalid="ignore"):
        average = np.where(ranked, np.nanmean(np.where(ranked, np.vstack(scores), 0.0), axis=0), np.nan)
    score_rank = np.full(len(out), np.nan)
    n_ranked = np.full(len(out), np.nan)
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        score_rank[idx] = min_rank(average[idx])
        n_ranked[idx] = np.count_nonzero(ranked[idx])
    quartile = quartile_of(score_rank, n_ranked)
    deficit = _flags(data, in_deficit, "in_deficit")
    support = _flags(data, intensive_support, "intensive_support")
    segment = adjusted_segment(quartile, deficit, support)
    amr = np.full(len(out), np.nan)
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        amr[idx] = min_rank(segment[idx] * 10 + average[idx])  # segment first, then average (both in 1..5)
    out["average_score"] = average
    out["score_rank"] = nullable_int(score_rank)
    out["n_ranked"] = n_ranked.astype(int)
    out["quartile"] = nullable_int(quartile)
    out["in_deficit"] = deficit
    out["intensive_support"] = support
    out["segment"] = nullable_int(segment)
    out["amr"] = nullable_int(amr)
    out["to_next_segment"] = _to_next_segment(groups, average, quartile, deficit, support)
    return out.sort_values(["peer_group", "amr", "org_code"], kind="stable", na_position="last").reset_index(drop=True)
