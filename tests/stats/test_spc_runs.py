"""The run helpers the SPC rules are built on, against a plain loop over the points (random runs, random group
starts): they replaced run labels and cumulative sums for speed, so they must agree with the obvious definition."""

from __future__ import annotations

import numpy as np
import pytest

from reporting.stats import _spc_rules as rules


def _runs(values: np.ndarray, first: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of equal values that crosses no group start, end exclusive."""
    out, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or first[i] or values[i] != values[i - 1]:
            out.append((start, i))
            start = i
    return out


def _case(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.choice([-1, 0, 1], n, p=[0.2, 0.1, 0.7] if seed % 2 else [0.4, 0.2, 0.4]).astype(np.int64)
    first = rng.random(n) < 0.05
    first[0] = True
    return values, first


@pytest.mark.parametrize("length", [1, 2, 6, 7, 9])
@pytest.mark.parametrize("seed", range(6))
def test_in_long_run_is_membership_of_a_run_at_least_that_long(seed: int, length: int) -> None:
    values, first = _case(seed, 400)
    expected = np.zeros(len(values), bool)
    for start, end in _runs(values, first):
        expected[start:end] = end - start >= length
    np.testing.assert_array_equal(rules.in_long_run(values, first, length), expected)


def test_in_long_run_on_fewer_points_than_the_run() -> None:
    values, first = np.array([1, 1, 1], np.int64), np.array([True, False, False])
    assert not rules.in_long_run(values, first, 7).any()
    assert rules.in_long_run(values, first, 3).all()
    assert not rules.in_long_run(values, np.array([True, False, True]), 3).any()  # a group start breaks it


@pytest.mark.parametrize("seed", range(6))
def test_run_lengths_to_counts_from_the_run_start(seed: int) -> None:
    values, first = _case(seed, 300)
    positions = np.arange(len(values))
    expected = np.zeros(len(values), np.int64)
    for start, end in _runs(values, first):
        expected[start:end] = np.arange(1, end - start + 1)
    np.testing.assert_array_equal(rules.run_lengths_to(values, first, positions), expected)


@pytest.mark.parametrize("seed", range(4))
def test_codes_follow_the_precedence_and_side(seed: int) -> None:
    """special_cause_codes against the rule table written out point by point."""
    rng = np.random.default_rng(seed)
    n = 500
    outside, trend, two, shift = (rng.random(n) < p for p in (0.1, 0.2, 0.2, 0.3))
    rtm = rng.choice([-1, 0, 1], n).astype(np.int64)
    sign = rng.choice([-1, 0, 1], n).astype(np.int64)
    got = rules.special_cause_codes(outside, trend, sign, two, shift, rtm)
    for i in range(n):
        if outside[i]:
            want = rules.CODE_ABOVE_UCL if rtm[i] == 1 else rules.CODE_BELOW_LCL
        elif trend[i]:
            want = rules.CODE_TREND_UP if sign[i] == 1 else rules.CODE_TREND_DOWN
        elif two[i]:
            want = rules.CODE_ABOVE_2IN3 if rtm[i] > 0 else rules.CODE_BELOW_2IN3
        elif shift[i]:
            want = rules.CODE_ABOVE_SHIFT if rtm[i] > 0 else rules.CODE_BELOW_SHIFT
        else:
            want = rules.CODE_COMMON
        assert got[i] == want, i
    assert got.dtype == np.int64
