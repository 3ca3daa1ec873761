"""How sure a league table's ranks are: a 95% interval per rank from a parametric bootstrap of the counts.

NOF's published tables give ranks without uncertainty, though NHS England's notes on them list confidence
intervals and performance volatility among the factors to take into account (docs/league-tables.md). Each replicate redraws every ranked provider's
numerator from its observed rate, binomial(denominator, x / denominator) for a proportion and Poisson(x) over
the same denominator for a rate or a count, and scores the whole table again by the same NOF rules
(`reporting.stats.league`: ranks, scores, quartiles, adjustments, AMR). A rank's interval runs from the lower
to the higher order statistic at 2.5% and 97.5% of its replicates; where the observed rank falls outside that
range (it can, at the edge of a table, when the replicates are skewed), the interval is widened to include it,
so "rank 18 (12–27)" always brackets 18. A metric without a count model is held at its observed values.

A provider is flagged `not_significant` when its change to the next segment is within that uncertainty: the
best 2.5% of its replicates already reach a better segment. Draws are seeded and made in a fixed order (peer
group, metric, provider code), so a rebuild gives identical intervals whatever the row order of the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from reporting.errors import StatsError
from reporting.stats.league import FloatArray, adjusted_segment, metric_score, min_rank, nullable_int, quartile_of
from reporting.stats.variation import LEAGUE_BOOTSTRAP_REPLICATES, LEAGUE_BOOTSTRAP_SEED, LEAGUE_INTERVAL_LEVEL

__all__ = ["CountModel", "Model", "rank_intervals"]

Model = Literal["binomial", "poisson"]


class CountModel(NamedTuple):
    """How one metric of the table is redrawn: its direction and the distribution of its numerator."""

    higher_is_better: bool
    model: Model | None  # None: held at its observed values


def _draw(
    rng: np.random.Generator, numerator: FloatArray, denominator: FloatArray, model: Model, replicates: int
) -> FloatArray:
    """(replicates, providers) redrawn rates; NaN where the provider has no count."""
    ok = ~(np.isnan(numerator) | np.isnan(denominator))
    x = np.where(ok, numerator, 0.0)
    d = np.where(ok, denominator, 1.0)
    if model == "binomial":
        trials = np.rint(d).astype(np.int64)
        draws = rng.binomial(trials, np.clip(x / d, 0.0, 1.0), size=(replicates, len(x)))
    else:
        draws = rng.poisson(x, size=(replicates, len(x)))
    return np.where(ok, draws / d, np.nan)


def _check(counts: pd.DataFrame, metrics: Mapping[str, CountModel]) -> None:
    for name, spec in metrics.items():
        if spec.model is None:
            continue
        for column in (f"{name}_numerator", f"{name}_denominator"):
            if column not in counts.columns:
                raise StatsError(f"field '{column}': column not found (have: {', '.join(map(str, counts.columns))})")
        x = counts[f"{name}_numerator"].to_numpy(dtype=float)
        d = counts[f"{name}_denominator"].to_numpy(dtype=float)
        bad = (x < 0) | (d <= 0) | ((x > d) if spec.model == "binomial" else False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise StatsError(
                f"row {i + 1}, field '{name}': counts {x[i]:g} of {d[i]:g} cannot be redrawn as {spec.model} "
                "(a negative count, a denominator of 0, or more events than the denominator)"
            )


def _interval(reps: FloatArray, observed: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    tail = (1 - level) / 2
    lo = np.quantile(reps, tail, axis=0, method="lower")
    hi = np.quantile(reps, 1 - tail, axis=0, method="higher")
    return np.fmin(lo, observed), np.fmax(hi, observed)


def rank_intervals(
    table: pd.DataFrame,
    counts: pd.DataFrame,
    metrics: Mapping[str, CountModel],
    *,
    replicates: int = LEAGUE_BOOTSTRAP_REPLICATES,
    seed: int = LEAGUE_BOOTSTRAP_SEED,
    level: float = LEAGUE_INTERVAL_LEVEL,
) -> pd.DataFrame:
    """For each row of `table` (the output of `league_table` on the same metrics): `<metric>_rank_lower`,
    `<metric>_rank_upper`, `amr_lower`, `amr_upper`, `best_segment` (the best segment within the interval)
    and `not_significant`. `counts` has `org_code` and, per metric with a model, `<metric>_numerator` and
    `<metric>_denominator`. Rows not ranked in `table` get no interval."""
    if replicates < 1:
        raise StatsError(f"field 'replicates': expected at least 1, got {replicates!r}")
    if not 0 < level < 1:
        raise StatsError(f"field 'level': expected a number between 0 and 1, got {level!r}")
    missing = [m for m in metrics if f"{m}_rank" not in table.columns]
    if missing:
        raise StatsError(f"field 'metrics': '{missing[0]}' is not a metric of the league table")
    _check(counts, metrics)
    by_code = counts.set_index(counts["org_code"].astype(str))
    n_rows = len(table)
    out: dict[str, FloatArray] = {
        f"{m}_rank_{side}": np.full(n_rows, np.nan) for m in metrics for side in ("lower", "upper")
    }
    for key in ("amr_lower", "amr_upper", "best_segment"):
        out[key] = np.full(n_rows, np.nan)
    flag = np.zeros(n_rows, dtype=bool)
    rng = np.random.default_rng(seed)
    ranked = table["amr"].notna().to_numpy()
    codes = table["org_code"].astype(str).to_numpy()
    groups = table["peer_group"].astype(str).to_numpy()
    for g in sorted(set(groups[ranked])):
        idx = np.flatnonzero(ranked & (groups == g))
        idx = idx[np.argsort(codes[idx], kind="stable")]  # draw order independent of the input's row order
        scores = []
        for name, spec in metrics.items():
            observed = table[name].to_numpy(dtype=float)[idx]
            if spec.model is None:
                values = np.broadcast_to(observed, (replicates, len(idx)))
            else:
                rows = by_code.reindex(codes[idx])
                values = _draw(
                    rng,
                    rows[f"{name}_numerator"].to_numpy(dtype=float),
                    rows[f"{name}_denominator"].to_numpy(dtype=float),
                    spec.model,
                    replicates,
                )
                values = np.where(np.isnan(observed), np.nan, values)
            rank = min_rank(-values if spec.higher_is_better else values)
            n = np.count_nonzero(~np.isnan(values), axis=1)[:, None]
            scores.append(np.where(np.isnan(rank), np.nan, metric_score(rank, n)))
            lo, hi = _interval(rank, table[f"{name}_rank"].to_numpy(dtype=float, na_value=np.nan)[idx], level)
            out[f"{name}_rank_lower"][idx], out[f"{name}_rank_upper"][idx] = lo, hi
        average = np.nanmean(np.stack(scores), axis=0)
        quartile = quartile_of(min_rank(average), len(idx))
        segment = adjusted_segment(
            quartile, table["in_deficit"].to_numpy(bool)[idx], table["intensive_support"].to_numpy(bool)[idx]
        )
        amr = min_rank(segment * 10 + average)
        lo, hi = _interval(amr, table["amr"].to_numpy(dtype=float, na_value=np.nan)[idx], level)
        out["amr_lower"][idx], out["amr_upper"][idx] = lo, hi
        observed_segment = table["segment"].to_numpy(dtype=float, na_value=np.nan)[idx]
        best, _ = _interval(segment, observed_segment, level)
        out["best_segment"][idx] = best
        reachable = ~np.isnan(table["to_next_segment"].to_numpy(dtype=float)[idx])
        flag[idx] = reachable & (best < observed_segment)
    result = pd.DataFrame({"org_code": codes})
    for key, column in out.items():
        result[key] = nullable_int(column)
    result["not_significant"] = flag
    return result
