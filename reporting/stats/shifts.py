"""Find the step changes in a series that may be data breaks, so an analyst can register them (never silently).

A candidate is a period k where
* the moving range into k is an outlier: |y[k] - y[k-1]| > 3.267 x the series' screened average moving range
  (the same screen the XmR chart uses), and
* the shift is sustained: the next SUSTAIN points (k included) all lie on the far side of the mean of the
  points before k, and the means before and after differ by more than 3 sigma (sigma = AMR / 1.128).
Evidence: the period, the means of up to WINDOW points before and after, the moving range and the limit.
Sustained shifts without an outlying moving range (gradual) are reported as `rebase` candidates when the run
on one side of the earlier mean is at least SUSTAIN points long and still running at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reporting.stats.constants import D2, MR_SCREEN_MULTIPLIER

__all__ = ["SUSTAIN", "WINDOW", "Step", "find_steps"]

SUSTAIN = 7  # points on one side: the MDC shift rule's run length
WINDOW = 12  # points either side used for the before / after means


@dataclass(frozen=True)
class Step:
    period: pd.Timestamp
    kind: str  # "break" (abrupt) or "rebase" (sustained shift)
    mean_before: float
    mean_after: float
    n_before: int
    n_after: int
    first_before: pd.Timestamp
    last_after: pd.Timestamp
    moving_range: float
    mr_limit: float
    run_after: int  # points from `period` on the far side of the earlier mean


def _screened_amr(y: np.ndarray) -> float:
    mr = np.abs(np.diff(y))
    if not len(mr):
        return float("nan")
    amr = mr.mean()
    keep = mr[(mr < MR_SCREEN_MULTIPLIER * amr) | (amr == 0)]
    return float(keep.mean()) if len(keep) else float(amr)


def find_steps(periods: pd.Series, values: pd.Series, *, after: pd.Timestamp | None = None) -> list[Step]:
    """Step changes in one series (periods ascending; gaps dropped). `after` ignores steps at or before it
    (e.g. the latest registered rebase). At most one step per SUSTAIN points, the strongest kept."""
    ok = values.notna().to_numpy()
    x = pd.DatetimeIndex(periods[ok])
    y = values[ok].to_numpy(dtype=float)
    n = len(y)
    if n < 2 * SUSTAIN:
        return []
    amr = _screened_amr(y)
    if not np.isfinite(amr) or amr == 0:
        return []
    sigma = amr / D2
    limit = MR_SCREEN_MULTIPLIER * amr
    found: list[Step] = []
    for k in range(SUSTAIN, n - SUSTAIN + 1):
        if after is not None and x[k] <= after:
            continue
        before = y[max(0, k - WINDOW) : k]
        later = y[k : k + WINDOW]
        m0, m1 = float(before.mean()), float(later.mean())
        side = np.sign(m1 - m0)
        run = 0
        for v in y[k:]:
            if np.sign(v - m0) != side:
                break
            run += 1
        if run < SUSTAIN or abs(m1 - m0) <= 3 * sigma:
            continue
        mr = abs(y[k] - y[k - 1])
        abrupt = mr > limit
        if not abrupt and run < n - k:  # a gradual shift counts only while it is still running
            continue
        found.append(
            Step(
                pd.Timestamp(x[k]),
                "break" if abrupt else "rebase",
                m0,
                m1,
                len(before),
                len(later),
                pd.Timestamp(x[max(0, k - WINDOW)]),
                pd.Timestamp(x[min(n, k + WINDOW) - 1]),
                float(mr),
                float(limit),
                run,
            )
        )
    # keep the strongest candidate of each cluster (a step shows at k and, more weakly, at k +/- 1 ...)
    out: list[Step] = []
    for s in sorted(found, key=lambda s: (s.kind != "break", -abs(s.mean_after - s.mean_before))):
        at = int(x.searchsorted(s.period))
        if all(abs(at - int(x.searchsorted(o.period))) >= SUSTAIN for o in out):
            out.append(s)
    return sorted(out, key=lambda s: s.period)
