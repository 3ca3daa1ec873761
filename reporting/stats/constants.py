"""Every SPC constant in one named place, so rules, docs and messages cannot drift apart.

The Making Data Count (MDC) numbers follow NHSRplotthedots 0.2.2, which writes them inline as literals
(``R/ptd_spc_standard.R``, ``R/ptd_calculate_point_type.R``); the ratio-chart numbers follow PowerBI-SPC
1.7.4.28 (``src/Limit Calculations/*.ts``).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ASSURANCE_TYPES",
    "CHART_KINDS",
    "CLOSE_TO_LIMITS_MULTIPLIER",
    "D2",
    "IMPROVEMENT_DIRECTIONS",
    "LABEL_ABOVE_CL_2IN3",
    "LABEL_ABOVE_CL_SHIFT",
    "LABEL_ABOVE_UCL",
    "LABEL_BELOW_CL_2IN3",
    "LABEL_BELOW_CL_SHIFT",
    "LABEL_BELOW_LCL",
    "LABEL_COMMON_CAUSE",
    "LABEL_TREND_DECREASING",
    "LABEL_TREND_INCREASING",
    "MIN_FIX_AFTER_N_POINTS",
    "MIN_POINTS",
    "MR_SCREEN_MULTIPLIER",
    "POINT_TYPES",
    "RATIO_CHARTS",
    "RATIO_SIGMA_MULTIPLIER",
    "SHIFT_RUN_LENGTH",
    "SHORT_GROUP_THRESHOLD",
    "SHORT_GROUP_WARNING",
    "SPECIAL_CAUSE_LABELS",
    "TREND_RUN_LENGTH",
    "TWO_IN_THREE_MIN_CLOSE",
    "TWO_IN_THREE_WINDOW",
    "VARIATION_ICONS",
    "XMR_LIMIT_MULTIPLIER",
]

# --- XmR limits (MDC / NHSRplotthedots) -------------------------------------------------------------
#: Process limits are mean +/- 2.66 x AMR; MDC uses 2.66 exactly, not 3 / 1.128 (= 2.6596).
XMR_LIMIT_MULTIPLIER: Final[float] = 2.66
#: The "close to limits" (2-sigma) band: 2/3 of the way to the process limits, 1.77333 x AMR.
CLOSE_TO_LIMITS_MULTIPLIER: Final[float] = 2 * (XMR_LIMIT_MULTIPLIER / 3)
#: Moving ranges at or above 3.267 x AMR are screened out before the AMR is recomputed (one pass).
MR_SCREEN_MULTIPLIER: Final[float] = 3.267
#: d2 for subgroups of 2; PowerBI-SPC's Laney charts divide the AMR of z-scores by it.
D2: Final[float] = 1.128
#: Ratio charts (p, p', u, u', c) follow PowerBI-SPC: limits at 3 sigma, 2-sigma band for "close".
RATIO_SIGMA_MULTIPLIER: Final[float] = 3.0

# --- Special-cause rules -----------------------------------------------------------------------------
#: Shift: this many consecutive points on one side of the centre line (a point on it breaks the run).
SHIFT_RUN_LENGTH: Final[int] = 7
#: Trend: this many consecutive points each strictly higher (or lower) than the one before.
TREND_RUN_LENGTH: Final[int] = 7
#: Two-in-three: a window of this many points, all on one side of the mean ...
TWO_IN_THREE_WINDOW: Final[int] = 3
#: ... of which at least this many lie between the 2-sigma line and the process limit.
TWO_IN_THREE_MIN_CLOSE: Final[int] = 2

# --- Groups and baselines ----------------------------------------------------------------------------
#: Fewest points a series needs before anything can be computed.
MIN_POINTS: Final[int] = 2
#: A rebase group with fewer points than this gets trial limits and a short-group warning
#: (NHSRplotthedots option ``ptd_spc.warning_threshold``; its docs and message say 12, the code uses 13).
SHORT_GROUP_THRESHOLD: Final[int] = 13
#: Smallest accepted ``fix_after_n_points`` (NHSRplotthedots ``ptd_spc_options`` rejects fewer).
MIN_FIX_AFTER_N_POINTS: Final[int] = 12
#: The reference's warning, verbatim (it says 12 although the threshold is 13), kept for parity.
SHORT_GROUP_WARNING: Final[str] = (
    "Some groups have 'n < 12' observations. These have trial limits, which will be revised with each "
    "additional observation until 'n = fix_after_n_points' has been reached."
)

# --- Vocabularies ------------------------------------------------------------------------------------
CHART_KINDS: Final[tuple[str, ...]] = ("xmr", "p", "pp", "u", "up", "c", "run")
#: Charts whose y is numerator / denominator and whose limits depend on each point's denominator.
RATIO_CHARTS: Final[tuple[str, ...]] = ("p", "pp", "u", "up")
IMPROVEMENT_DIRECTIONS: Final[tuple[str, ...]] = ("increase", "decrease", "neutral")

LABEL_COMMON_CAUSE: Final[str] = "Common Cause"
LABEL_ABOVE_UCL: Final[str] = "Above UCL"
LABEL_BELOW_LCL: Final[str] = "Below LCL"
LABEL_TREND_INCREASING: Final[str] = f"{TREND_RUN_LENGTH} Point Trend (Increasing)"
LABEL_TREND_DECREASING: Final[str] = f"{TREND_RUN_LENGTH} Point Trend (Decreasing)"
LABEL_ABOVE_CL_2IN3: Final[str] = f"{TWO_IN_THREE_MIN_CLOSE} in {TWO_IN_THREE_WINDOW} Above CL"
LABEL_BELOW_CL_2IN3: Final[str] = f"{TWO_IN_THREE_MIN_CLOSE} in {TWO_IN_THREE_WINDOW} Below CL"
LABEL_ABOVE_CL_SHIFT: Final[str] = f"{SHIFT_RUN_LENGTH} Points Above CL"
LABEL_BELOW_CL_SHIFT: Final[str] = f"{SHIFT_RUN_LENGTH} Points Below CL"
#: Index = rule code used internally; odd codes are the "high" side, even non-zero codes the "low" side.
SPECIAL_CAUSE_LABELS: Final[tuple[str, ...]] = (
    LABEL_COMMON_CAUSE,
    LABEL_ABOVE_UCL,
    LABEL_BELOW_LCL,
    LABEL_TREND_INCREASING,
    LABEL_TREND_DECREASING,
    LABEL_ABOVE_CL_2IN3,
    LABEL_BELOW_CL_2IN3,
    LABEL_ABOVE_CL_SHIFT,
    LABEL_BELOW_CL_SHIFT,
)

POINT_TYPES: Final[tuple[str, ...]] = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
VARIATION_ICONS: Final[tuple[str, ...]] = (
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
)
ASSURANCE_TYPES: Final[tuple[str, ...]] = ("consistent_pass", "consistent_fail", "inconsistent")
