"""Between-provider variation: shared constants, confidence intervals and caterpillar (Model Health System) data.

This module is the one home of every constant used by the cross-provider engine (`funnel`, `league`,
`caterpillar`), so docs, messages and tests read the same numbers. Funnel plots live in
`reporting.stats.funnel` and league tables in `reporting.stats.league`; both import from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reporting.errors import StatsError

__all__ = [
    "CATERPILLAR_COLUMNS",
    "FUNNEL_GRID_POINTS",
    "FUNNEL_GRID_START_OTHER",
    "FUNNEL_GRID_START_SR",
    "LEAGUE_BOOTSTRAP_REPLICATES",
    "LEAGUE_BOOTSTRAP_SEED",
    "LEAGUE_DEFICIT_BEST_SEGMENT",
    "LEAGUE_INTENSIVE_SUPPORT_SEGMENT",
    "LEAGUE_INTERVAL_LEVEL",
    "LEAGUE_SCORE_BEST",
    "LEAGUE_SCORE_WORST",
    "LEAGUE_SEGMENTS",
    "POISSON_TAILS",
    "RC_CONTINUITY",
    "SHMI_ROUND_DP",
    "TRIM_BY",
    "Z_95",
    "Z_998",
    "Z_BY_LIMIT",
    "caterpillar",
    "limit_key",
    "poisson_exact_interval",
    "wilson_interval",
    "z_for_confidence",
]

# --- Funnel constants (FunnelPlotR 0.6.0 writes these literally; norm.ppf(0.975) and norm.ppf(0.999)
# agree to the 6 decimals shown, see tests/stats/test_variation.py) -------------------------------------
Z_95: float = 1.959964
"""Two-sided 95% normal quantile, rounded as the reference rounds it."""
Z_998: float = 3.090232
"""Two-sided 99.8% normal quantile (FunnelPlotR calls this limit "99")."""
Z_BY_LIMIT: dict[str, float] = {"95": Z_95, "99.8": Z_998}
POISSON_TAILS: dict[str, tuple[float, float]] = {"95": (0.975, 0.025), "99.8": (0.999, 0.001)}
"""Upper-tail probabilities passed to the chi-square quantile for the exact Poisson lower/upper limits
(the reference calls qchisq(p, ..., lower.tail = FALSE) with exactly these p)."""
TRIM_BY: float = 0.1
"""Share of each tail winsorised (or, for SHMI, truncated) before estimating phi."""
RC_CONTINUITY: float = 0.5
"""Added to numerator and denominator of a ratio of counts before taking logs (avoids log(0))."""
SHMI_ROUND_DP: int = 2
"""SHMI publishes expected deaths to 2 d.p., so the reference rounds them before everything else."""
FUNNEL_GRID_POINTS: int = 1000
"""Points in the reference's limit lookup grid; the PR monotonicity fix depends on this grid."""
FUNNEL_GRID_START_SR: float = 1.1
FUNNEL_GRID_START_OTHER: float = 3.0

# --- League table constants (NHS Oversight Framework 2025/26 style) --------------------------------------
LEAGUE_SCORE_BEST: float = 1.0
LEAGUE_SCORE_WORST: float = 4.0
LEAGUE_SEGMENTS: int = 4
"""Segments 1-4 are the quartiles of the average metric score (NOF 2025/26; 2026/27 moves to fixed thresholds)."""
LEAGUE_DEFICIT_BEST_SEGMENT: int = 3
"""NOF 2025/26 financial override: a provider in deficit can be no higher than segment 3."""
LEAGUE_INTENSIVE_SUPPORT_SEGMENT: int = 5
"""NOF 2025/26 segment 5: providers in intensive support (the Provider Improvement Programme)."""
LEAGUE_BOOTSTRAP_REPLICATES: int = 1000
LEAGUE_BOOTSTRAP_SEED: int = 20250626
"""Seed of the rank-interval bootstrap (the NOF 2025/26 publication date), so rebuilds are identical."""
LEAGUE_INTERVAL_LEVEL: float = 0.95

CATERPILLAR_COLUMNS: tuple[str, ...] = (
    "org_code",
    "peer_group",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "rank",
    "n_ranked",
    "quartile",
    "national_median",
    "peer_median",
    "benchmark",
    "benchmark_gap",
)


def limit_key(limit: float | int | str) -> str:
    """Normalise a limit choice to "95" or "99.8"; 99 is accepted because FunnelPlotR names 99.8% "99"."""
    try:
        value = float(limit)
    except (TypeError, ValueError):
        raise StatsError(f"field 'limit': expected 95 or 99.8 (99 means 99.8), got {limit!r}") from None
    if value == 95:
        return "95"
    if value in (99, 99.8):
        return "99.8"
    raise StatsError(f"field 'limit': expected 95 or 99.8 (99 means 99.8), got {limit!r}")


def z_for_confidence(confidence: float) -> float:
    """Two-sided normal quantile; computed (not rounded) because caterpillar intervals follow no reference."""
    if not 0 < confidence < 1:
        raise StatsError(f"field 'confidence': expected a number between 0 and 1, got {confidence!r}")
    from scipy.special import ndtri  # what scipy.stats.norm.ppf calls, without importing scipy.stats

    return float(ndtri(1 - (1 - confidence) / 2))


def wilson_interval(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion: stays inside [0, 1] and behaves at 0 and n, unlike Wald."""
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    z = z_for_confidence(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = (z / (1 + z2 / n)) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lower = np.clip(centre - half, 0.0, 1.0)
    upper = np.clip(centre + half, 0.0, 1.0)
    # exact endpoints at the boundaries (the formula gives them up to rounding)
    lower = np.where(x == 0, 0.0, lower)
    upper = np.where(x == n, 1.0, upper)
    return lower, upper


def poisson_exact_interval(
    count: npt.ArrayLike,
    exposure: npt.ArrayLike = 1.0,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood, chi-square) interval for a Poisson count, divided by exposure to give a rate."""
    o = np.asarray(count, dtype=float)
    e = np.asarray(exposure, dtype=float)
    if not 0 < confidence < 1:
        raise StatsError(f"field 'confidence': expected a number between 0 and 1, got {confidence!r}")
    from scipy.special import gammaincinv  # chi2.ppf(p, df) is 2 * gammaincinv(df / 2, p) in scipy.stats

    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(o > 0, gammaincinv(np.where(o > 0, o, 1.0), alpha / 2), 0.0) / e
        upper = gammaincinv(o + 1, 1 - alpha / 2) / e
    return lower, upper


# --- caterpillar -----------------------------------------------------------------------------------------


def _check_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise StatsError(f"field '{missing[0]}': column not found (have: {', '.join(map(str, data.columns))})")


def _numeric_column(data: pd.DataFrame, column: str, *, positive: bool = False) -> np.ndarray:
    """Coerce one column to float, naming the first bad row (1 = first data row) so users can find it."""
    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise StatsError(f"row {i + 1}, field '{column}': expected a number, got {raw.iloc[i]!r}")
    arr: np.ndarray = np.asarray(values.to_numpy(dtype=float), dtype=float)
    if not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise StatsError(f"row {i + 1}, field '{column}': expected a finite number, got {raw.iloc[i]!r}")
    if positive and (arr <= 0).any():
        i = int(np.flatnonzero(arr <= 0)[0])
        raise StatsError(f"row {i + 1}, field '{column}': must be > 0, got {raw.iloc[i]!r}")
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise StatsError(f"row {i + 1}, field '{column}': must be >= 0, got {raw.iloc[i]!r}")
    return arr


def _quartile_from_rank(rank: pd.Series, n: pd.Series) -> pd.Series:
    """Quartile 1 = best quarter: 1 + floor(4·(rank − 1)/n), so ranks 1..n/4 are quartile 1."""
    q = pd.Series(1 + np.floor((4 * (rank - 1) / n).to_numpy(dtype=float)), index=rank.index)
    return q.clip(1, 4).astype("Int64")


def caterpillar(
    data: pd.DataFrame,
    *,
    org: str = "org_code",
    numerator: str = "numerator",
    denominator: str = "denominator",
    kind: Literal["proportion", "rate"] = "proportion",
    peer_group: str | None = None,
    benchmark: float | str | None = None,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    multiplier: float = 1.0,
) -> pd.DataFrame:
    """Per-provider value, interval, rank, medians and benchmark, ready for a Model Health System caterpillar.

    Rows are summed by `org` first (one point per provider). Intervals: Wilson score for proportions,
    exact Poisson (chi-square) for rates; `multiplier` scales value, interval, medians and benchmark alike
    (100 for %, 1000 for per-1,000). Rank 1 is the best provider within its peer group (ties share the
    best rank); `quartile` 1 is the best quarter of that peer group. `national_median` is over all
    providers, `peer_median` over the provider's peer group (equal to national without `peer_group`).
    `benchmark` is a number on the value scale, or "top_quartile": the 75th percentile (25th when
    lower is better) of the provider's peer group. `benchmark_gap` = value − benchmark, signed so that a
    positive gap is always better than benchmark.
    """
    if kind not in ("proportion", "rate"):
        raise StatsError(f"field 'kind': expected 'proportion' or 'rate', got {kind!r}")
    columns = [org, numerator, denominator] + ([peer_group] if peer_group else [])
    _check_columns(data, columns)
    num = _numeric_column(data, numerator)
    den = _numeric_column(data, denominator, positive=True)
    if kind == "proportion" and (num > den).any():
        i = int(np.flatnonzero(num > den)[0])
        raise StatsError(
            f"row {i + 1}, field '{numerator}': numerator {num[i]:g} exceeds denominator {den[i]:g} for a proportion"
        )
    frame = pd.DataFrame(
        {
            "org_code": data[org].astype(str).to_numpy(),
            "peer_group": data[peer_group].to_numpy() if peer_group else "all",
            "numerator": num,
            "denominator": den,
        }
    )
    first_peer = frame.groupby("org_code")["peer_group"].transform("first")
    clash = (frame["peer_group"] != first_peer).to_numpy()
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise StatsError(
            f"row {i + 1}, field '{peer_group}': provider {frame['org_code'].iloc[i]!r} is in more than one peer group"
        )
    frame = frame.groupby(["org_code"], sort=True, as_index=False).agg(
        peer_group=("peer_group", "first"), numerator=("numerator", "sum"), denominator=("denominator", "sum")
    )
    if kind == "proportion":
        lower, upper = wilson_interval(frame["numerator"], frame["denominator"], confidence)
    else:
        lower, upper = poisson_exact_interval(frame["numerator"], frame["denominator"], confidence)
    frame["value"] = frame["numerator"] / frame["denominator"] * multiplier
    frame["lower"] = lower * multiplier
    frame["upper"] = upper * multiplier
    by_peer = frame.groupby("peer_group", sort=False)["value"]
    frame["rank"] = by_peer.rank(ascending=not higher_is_better, method="min").astype("Int64")
    frame["n_ranked"] = by_peer.transform("count").astype("Int64")
    frame["quartile"] = _quartile_from_rank(frame["rank"].astype(float), frame["n_ranked"].astype(float))
    frame["national_median"] = float(frame["value"].median())
    frame["peer_median"] = by_peer.transform("median")
    frame["benchmark"] = _benchmark(frame, benchmark, higher_is_better)
    sign = 1.0 if higher_is_better else -1.0
    frame["benchmark_gap"] = sign * (frame["value"] - frame["benchmark"])
    return (
        frame.loc[:, list(CATERPILLAR_COLUMNS)]
        .sort_values(["peer_group", "rank", "org_code"], kind="stable")
        .reset_index(drop=True)
    )


def _benchmark(frame: pd.DataFrame, benchmark: float | str | None, higher_is_better: bool) -> pd.Series:
    if benchmark is None:
        return pd.Series(np.nan, index=frame.index)
    if isinstance(benchmark, str):
        if benchmark != "top_quartile":
            raise StatsError(f"field 'benchmark': expected a number or 'top_quartile', got {benchmark!r}")
        q = 0.75 if higher_is_better else 0.25
        return frame.groupby("peer_group", sort=False)["value"].transform(lambda v: v.quantile(q))
    try:
        return pd.Series(float(benchmark), index=frame.index)
    except (TypeError, ValueError):
        raise StatsError(f"field 'benchmark': expected a number or 'top_quartile', got {benchmark!r}") from None
