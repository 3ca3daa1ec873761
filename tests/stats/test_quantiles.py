"""The engine's quantiles come from scipy.special (cheap to import), not scipy.stats (over a second of a cold
build): the numbers must be exactly those scipy.stats gives, bit for bit, so conformance cannot move."""

from __future__ import annotations

import numpy as np
from scipy import stats

from reporting.stats import _funnel_math as funnel_math
from reporting.stats import funnel as funnel_module
from reporting.stats.variation import POISSON_TAILS, poisson_exact_interval, z_for_confidence


def test_normal_quantile_is_exactly_scipy_stats() -> None:
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.998, 0.999999):
        assert z_for_confidence(confidence) == float(stats.norm.ppf(1 - (1 - confidence) / 2))


def test_poisson_exact_interval_is_exactly_scipy_stats() -> None:
    counts = np.array([0, 1, 2, 3, 7, 10, 55, 1000, 123456, np.nan, -1.0])
    exposure = np.linspace(0.5, 400, len(counts))
    for confidence in (0.8, 0.95, 0.998):
        lower, upper = poisson_exact_interval(counts, exposure, confidence)
        alpha = 1 - confidence
        with np.errstate(divide="ignore", invalid="ignore"):
            want_lower = (
                np.where(counts > 0, stats.chi2.ppf(alpha / 2, 2 * np.where(counts > 0, counts, 1.0)) / 2, 0.0)
                / exposure
            )
            want_upper = stats.chi2.ppf(1 - alpha / 2, 2 * (counts + 1)) / 2 / exposure
        np.testing.assert_array_equal(lower, want_lower)
        np.testing.assert_array_equal(upper, want_upper)


def test_funnel_poisson_limits_are_exactly_scipy_stats() -> None:
    ns = np.unique(np.concatenate([np.linspace(1, 5000, 997), [0.5, 1.5, 2.25, 99999.0]]))
    opts = funnel_module.FunnelOptions(data_type="SR")
    got = funnel_math.limits(ns, opts, 1.0, 0.0, adjusted=False)
    for key, suffix in (("95", "95"), ("99.8", "998")):
        q_low, q_high = POISSON_TAILS[key]
        lo = opts.multiplier * (stats.chi2.isf(q_low, 2 * ns) / 2) / ns
        hi = opts.multiplier * (stats.chi2.isf(q_high, 2 * (ns + 1)) / 2) / ns
        np.testing.assert_array_equal(got[f"lcl{suffix}"], lo)
        np.testing.assert_array_equal(got[f"ucl{suffix}"], hi)
