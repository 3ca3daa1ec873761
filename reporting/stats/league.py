"""League tables in the NHS Oversight Framework 2025/26 style: metric scores 1.00-4.00, average, segment.

Scoring (our reading of the NOF methodology manual, which scores "between 1.00 and 4.00 based on the
value ranked"; the exact interpolation is not published, so this one is chosen and pinned by tests):

* each metric is ranked within the peer group, 1 = best, respecting `higher_is_better`; ties share the
  best rank of the tie ("min", standard competition ranking: 1, 2, 2, 4) and therefore the same score;
* metric score = 1 + 3 · (rank − 1) / (n − 1), where n is the number of providers in the peer group with a
  value for that metric (a lone provider scores 1.00);
* average metric score = mean of the provider's available metric scores; missing metric values are
  skipped, not scored as worst, and `metrics_scored` shows how many were used; a provider with fewer than
  `min_metrics` scored gets no average, AMR, quartile or segment (it is "not ranked"), so that a specialist
  trust with one metric cannot top a table of general hospitals ranked on several;
* AMR (aggregated metric ranking) = rank of the average score within the peer group (lower is better,
  ties "min"); IMR = the individual metric ranks (`<metric>_rank`);
* quartile = 1 + floor(4 · (AMR − 1) / n), 1 being the best quarter;
* segment = 1 + number of thresholds the average score exceeds: with (1.5, 2.5, 3.5), scores ≤ 1.5 are
  segment 1, ≤ 2.5 segment 2, ≤ 3.5 segment 3, above that segment 4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from reporting.errors import StatsError
from reporting.stats.variation import LEAGUE_SCORE_BEST, LEAGUE_SCORE_WORST, LEAGUE_SEGMENT_THRESHOLDS

__all__ = ["league_table", "metric_score", "segment_for"]


def metric_score(rank: pd.Series | np.ndarray, n: pd.Series | np.ndarray) -> np.ndarray:
    """Rank 1 -> 1.00 and rank n -> 4.00, linear in between; n == 1 scores 1.00."""
    rank = np.asarray(rank, dtype=float)
    n = np.asarray(n, dtype=float)
    span = LEAGUE_SCORE_WORST - LEAGUE_SCORE_BEST
    with np.errstate(divide="ignore", invalid="ignore"):
        score = LEAGUE_SCORE_BEST + span * (rank - 1) / (n - 1)
    return np.where(n == 1, LEAGUE_SCORE_BEST, score)


def segment_for(score: npt.ArrayLike, thresholds: Sequence[float] = LEAGUE_SEGMENT_THRESHOLDS) -> ExtensionArray:
    """Segment 1..len(thresholds)+1; a score equal to a threshold stays in the better segment."""
    values = np.asarray(score, dtype=float)
    seg = np.searchsorted(np.asarray(thresholds, dtype=float), values, side="left") + 1
    return pd.array(np.where(np.isnan(values), np.nan, seg), dtype="Int64")  # NaN becomes <NA>


def _validate(
    data: pd.DataFrame,
    metrics: Mapping[str, bool],
    org: str,
    peer_group: str | None,
    thresholds: Sequence[float],
    min_metrics: int,
) -> None:
    if not metrics:
        raise StatsError("field 'metrics': give at least one metric column and its direction")
    if not 1 <= min_metrics <= len(metrics):
        raise StatsError(
            f"field 'min_metrics': expected 1 to {len(metrics)} (the number of metrics), got {min_metrics!r}"
        )
    needed = [org, *metrics] + ([peer_group] if peer_group else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise StatsError(f"field '{missing[0]}': column not found (have: {', '.join(map(str, data.columns))})")
    for name, direction in metrics.items():
        if not isinstance(direction, bool | np.bool_):
            raise StatsError(f"field 'metrics.{name}': expected True (higher is better) or False, got {direction!r}")
    t = np.asarray(thresholds, dtype=float)
    if t.ndim != 1 or len(t) == 0 or np.any(np.diff(t) <= 0):
        raise StatsError(f"field 'segment_thresholds': expected increasing numbers, got {tuple(thresholds)!r}")
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


def league_table(
    data: pd.DataFrame,
    *,
    metrics: Mapping[str, bool],
    org: str = "org_code",
    peer_group: str | None = None,
    segment_thresholds: Sequence[float] = LEAGUE_SEGMENT_THRESHOLDS,
    min_metrics: int = 1,
) -> pd.DataFrame:
    """One row per provider: each metric's value, rank (IMR) and score, then average score, AMR, quartile
    and segment, all within the provider's peer group. `data` is wide: one row per provider, one column
    per metric; `metrics` maps column -> higher_is_better. Sorted by peer group, then AMR."""
    _validate(data, metrics, org, peer_group, segment_thresholds, min_metrics)
    out = pd.DataFrame(
        {
            "org_code": data[org].astype(str).to_numpy(),
            "peer_group": data[peer_group].to_numpy() if peer_group else "all",
        }
    )
    score_cols: list[str] = []
    for name, higher_is_better in metrics.items():
        values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        out[name] = values
        grouped = out.groupby("peer_group", sort=False)[name]
        rank = grouped.rank(ascending=not higher_is_better, method="min")
        n = grouped.transform("count")
        out[f"{name}_rank"] = rank.astype("Int64")
        out[f"{name}_score"] = metric_score(rank, n)
        score_cols.append(f"{name}_score")
    scores = out[score_cols]
    out["metrics_scored"] = scores.notna().sum(axis=1).astype(int)
    out["average_score"] = scores.mean(axis=1, skipna=True).where(out["metrics_scored"] >= min_metrics)
    by_peer = out.groupby("peer_group", sort=False)["average_score"]
    out["amr"] = by_peer.rank(ascending=True, method="min").astype("Int64")
    n_ranked = by_peer.transform("count").astype(float)
    amr = out["amr"].to_numpy(dtype=float, na_value=np.nan)
    quartile = 1 + np.floor(4 * (amr - 1) / n_ranked.to_numpy())
    out["quartile"] = pd.array(np.clip(quartile, 1, 4), dtype="Int64")  # NaN (no rank) becomes <NA>
    out["segment"] = segment_for(out["average_score"], segment_thresholds)
    return out.sort_values(["peer_group", "amr", "org_code"], kind="stable", na_position="last").reset_index(drop=True)
