"""The SPC frames built on first read (``SPCResult.points`` / ``summary`` / ``groups``) equal the frames the eager
engine built, on many random series: every chart kind, rebase dates and phases (breaks), ``fix_after_n_points``
(baselines), gaps, whole series of gaps, targets, several by-columns, shuffled input and ``spc_metrics``.

The eager engine's frames are pinned as digests in ``spc_eager_frames.json``, written by running this file as a
script against commit c7a0e98 (the last engine that built every frame in ``spc()``)::

    PYTHONPATH=<export of c7a0e98> python tests/stats/test_spc_lazy_frames.py --write

A digest covers the column names, each column's kind (float, int, bool, datetime, text) and every value exactly
(floats by their hex form), so it holds on pandas 2 and 3 alike (object or Arrow text).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting.stats.constants import POINT_TYPES, SPECIAL_CAUSE_LABELS
from reporting.stats.spc import SPCOptions, SPCResult, spc, spc_metrics

DIGESTS = Path(__file__).with_name("spc_eager_frames.json")
CHARTS = ("xmr", "p", "pp", "u", "up", "c", "run")
RATIO = ("p", "pp", "u", "up")
ORGS = np.array(["RJ1", "R0B", "RXW", "R1D"], dtype=object)


def _data(seed: int, n_series: int, n_points: int, *, gaps: bool, dates: bool) -> pd.DataFrame:
    """Series with steps, drifts and noise; a few gaps (and one series of gaps only) when asked."""
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.arange(n_series), n_points)
    t = np.tile(np.arange(n_points), n_series)
    level = rng.normal(0, 1, n_series)[sid]
    when = rng.integers(n_points // 3, n_points, n_series)[sid]
    step = np.where(t >= when, rng.normal(0, 2, n_series)[sid], 0.0)
    drift = np.where(sid % 3 == 1, 0.08 * t, 0.0)
    noise = rng.normal(0, 1, len(sid))
    den = rng.integers(40, 400, len(sid)).astype(float)
    share = np.clip(0.6 + 0.05 * (level + step + drift), 0.02, 0.98)
    data = pd.DataFrame(
        {
            "org": ORGS[sid % len(ORGS)],
            "series": sid,
            "x": t + 1,
            "y": 50 + 5 * (level + step + drift + noise),
            "num": rng.binomial(den.astype(np.int64), share).astype(float),
            "den": den,
            "count": np.round(np.abs(8 + 3 * (level + step + noise))),
            "goal": np.where(t > n_points // 2, 51.0, np.nan),
            "phase": np.where(t >= n_points * 2 // 3, "after", "before"),
        }
    )
    if gaps:
        hole = rng.random(len(data)) < 0.08
        data.loc[hole, ["y", "count"]] = np.nan
        data.loc[hole, "num"] = np.nan
        data.loc[data["series"] == n_series - 1, ["y", "count", "num"]] = np.nan  # a series with no value
    if dates:
        data["x"] = pd.Timestamp("2023-01-02") + pd.to_timedelta(7 * (data["x"] - 1), unit="D")
    return data


def _run(chart: str, variant: int, seed: int) -> SPCResult:
    """One case: a chart kind and one of four option sets, on seeded data (shuffled for odd seeds)."""
    dates = variant in (1, 3)
    data = _data(seed, 6, 30, gaps=seed % 3 != 0, dates=dates)
    if seed % 2:
        data = data.sample(frac=1, random_state=seed)
    kw: dict[str, object] = {"numerator": "num", "denominator": "den"} if chart in RATIO else {}
    if chart == "c":
        kw["y"] = "count"
    target = 0.6 if chart in RATIO else 9.0 if chart == "c" else 52.0
    by: list[str] = ["org", "series"] if variant != 2 else ["series"]
    xs = sorted(data["x"].unique())
    if variant == 0:
        options = SPCOptions(chart=chart)  # type: ignore[arg-type]
    elif variant == 1:  # a baseline: limits from the first 12 points
        options = SPCOptions(chart=chart, improvement="decrease", target=target, fix_after_n_points=12)  # type: ignore[arg-type]
    elif variant == 2:  # breaks: a rebase date in the data and one that matches nothing
        options = SPCOptions(chart=chart, improvement="neutral", rebase=(xs[14], 999), screen_outliers=False)  # type: ignore[arg-type]
    else:  # breaks from a phase column, per-point targets from a column
        options = SPCOptions(chart=chart)  # type: ignore[arg-type]
        kw.update(phase="phase", target="goal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spc(data, options, by=by, **kw)  # type: ignore[arg-type]


def _metrics(seed: int) -> SPCResult:
    """spc_metrics over a MetricFrame of two metrics (a p chart and an XmR chart), one with a target column."""
    data = _data(seed, 8, 24, gaps=True, dates=True)
    frame = pd.DataFrame(
        {
            "metric_id": np.where(data["series"] % 2 == 0, "ae4h", "beds"),
            "org_code": data["org"],
            "period": data["x"],
            "value": np.where(data["series"] % 2 == 0, data["num"] / data["den"], data["y"]),
            "numerator": data["num"],
            "denominator": data["den"],
        }
    ).drop_duplicates(["metric_id", "org_code", "period"])
    if seed % 2:
        frame = frame.assign(target=0.62)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spc_metrics(
            frame, {"ae4h": SPCOptions(chart="p", target=0.6), "beds": SPCOptions(improvement="decrease")}
        )


def cases() -> Iterator[tuple[str, Callable[[], SPCResult]]]:
    for i, chart in enumerate(CHARTS):
        for variant in range(4):
            seed = 100 + 4 * i + variant
            yield f"{chart}-{variant}-{seed}", partial(_run, chart, variant, seed)
    for seed in (7, 8):
        yield f"metrics-{seed}", partial(_metrics, seed)


def _kind(column: pd.Series) -> str:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "text"


def _cell(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value).hex()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_cell(v) for v in value]
    return str(value)


def digest(frame: pd.DataFrame) -> str:
    """Columns, their kinds and every value, exactly."""
    body = [
        [str(c) for c in frame.columns],
        [_kind(frame[c]) for c in frame.columns],
        [[_cell(v) for v in frame[c].tolist()] for c in frame.columns],
        [len(frame)],
    ]
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def record(result: SPCResult) -> dict[str, object]:
    return {
        "points": digest(result.points),
        "summary": digest(result.summary),
        "groups": digest(result.groups),
        "warnings": list(result.warnings),
    }


CASES = dict(cases())


@pytest.mark.parametrize("name", sorted(CASES))
def test_lazy_frames_equal_the_eager_engines(name: str) -> None:
    expected = json.loads(DIGESTS.read_text())[name]
    got = record(CASES[name]())
    for key in ("points", "summary", "groups", "warnings"):
        assert got[key] == expected[key], f"{name}: {key} differs from the eager engine's"


def test_every_case_is_pinned() -> None:
    assert sorted(json.loads(DIGESTS.read_text())) == sorted(CASES)


def test_frames_are_built_on_first_read_and_kept() -> None:
    result = CASES["xmr-3-103"]()
    codes = result.point_codes  # the classification needs no frame
    assert not {"points", "summary", "groups"} & set(vars(result))
    assert len(codes) == len(result.points)
    assert "points" in vars(result) and not {"summary", "groups"} & set(vars(result))
    assert result.points is result.points
    summary = result.summary
    assert result.summary is summary and "groups" not in vars(result)


def _texts(column: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in column.tolist()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_codes_and_lines_agree_with_the_points_frame(name: str) -> None:
    result = CASES[name]()
    pts = result.points
    types = np.array([*POINT_TYPES, None], dtype=object)  # code -1 (a gap) reads the last entry
    labels = np.array([*SPECIAL_CAUSE_LABELS, None], dtype=object)
    assert types[result.point_codes].tolist() == _texts(pts["point_type"])
    assert labels[result.special_codes].tolist() == _texts(pts["special_cause_type"])
    lines = [a.lines for a in result.parts]
    for column, attr in (("mean", "mean"), ("lpl", "lpl"), ("upl", "upl"), ("lower_1sigma", "lower1")):
        joined = np.concatenate([getattr(li, attr) for li in lines])
        np.testing.assert_array_equal(joined, pts[column].to_numpy(dtype=float))
    # the same result read in the other order gives the same frames
    again = CASES[name]()
    assert again.groups.equals(result.groups) and again.summary.equals(result.summary)
    assert again.points.equals(pts)


def test_digest_sees_one_ulp_a_missing_value_and_a_kind() -> None:
    """The pin is only worth something if a one-ulp change, a None for a value or a changed kind shows."""
    frame = CASES["p-0-104"]().points
    base = digest(frame)
    nudged = frame.copy()
    nudged["upl"] = np.nextafter(nudged["upl"].to_numpy(dtype=float), np.inf)
    assert digest(nudged) != base
    blank = frame.copy()
    blank["point_type"] = blank["point_type"].astype(object)
    assert digest(blank) == base  # object or Arrow text: the same kind
    blank.loc[3, "point_type"] = None
    assert digest(blank) != base
    assert digest(frame.assign(relative_to_mean=frame["relative_to_mean"].astype(float))) != base


if __name__ == "__main__" and "--write" in sys.argv:
    import reporting

    print(f"engine: {reporting.__file__}")
    DIGESTS.write_text(json.dumps({n: record(run()) for n, run in sorted(CASES.items())}, indent=1) + "\n")
    print(f"wrote {len(CASES)} cases to {DIGESTS}")
