"""Is a ratio series overdispersed? Laney's sigma-z, computed the way the engine's p'/u' chart computes it.

Why: with thousands of patients a month, p and u limits are so narrow that almost every point is "special
cause" (A&E 4-hour at 18,000 attendances: limits 76.2-78.0%, 46 of 50 points outside). Laney's p'/u' widen the
limits by sigma-z, the spread of the points' z-scores between months. `chart: auto` uses p'/u' when sigma-z is
above OVERDISPERSED (documented in docs/spc.md) and p/u otherwise.

sigma-z = screened mean moving range of z / 1.128, with z = (y - centre) / binomial (or Poisson) sigma, the
centre sum(numerator) / sum(denominator) over the points the limits come from, and moving ranges above
3.267 x their mean left out once (as the engine's p' does).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reporting.stats.constants import D2, MR_SCREEN_MULTIPLIER

__all__ = ["OVERDISPERSED", "auto_chart", "sigma_z"]

#: sigma-z above this: the binomial / Poisson limits are too narrow for the between-period variation.
OVERDISPERSED = 1.5


def sigma_z(numerator: npt.ArrayLike, denominator: npt.ArrayLike, *, proportion: bool = True) -> float:
    """Laney's sigma-z of one series (NaN with fewer than 3 usable points or a zero / one centre line)."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    num, den = num[ok], den[ok]
    if len(num) < 3:
        return float("nan")
    cl = num.sum() / den.sum()
    if cl <= 0 or (proportion and cl >= 1):
        return float("nan")
    sd = np.sqrt(cl * (1 - cl) / den) if proportion else np.sqrt(cl / den)
    z = (num / den - cl) / sd
    mr = np.abs(np.diff(z))
    amr = mr.mean()
    keep = mr[(mr < MR_SCREEN_MULTIPLIER * amr) | (amr == 0)]
    return float(keep.mean() / D2) if len(keep) else float("nan")


def auto_chart(numerator: npt.ArrayLike, denominator: npt.ArrayLike, *, proportion: bool) -> tuple[str, float]:
    """(chart kind, sigma-z): p'/u' when overdispersed, else p/u."""
    sz = sigma_z(numerator, denominator, proportion=proportion)
    base = "p" if proportion else "u"
    return (base + "p" if np.isfinite(sz) and sz > OVERDISPERSED else base), sz
