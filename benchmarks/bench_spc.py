"""Benchmark: our vectorised SPC engine against two PyPI peers on the same 1,000 series x 60 points.

Why: the engine's design bet is one vectorised pass over every metric x organisation; this measures what it
buys against per-series engines, and how often each peer colours a point differently from us.

Peers (benchmark-only, not runtime dependencies; ``pip install controlchartspy abspc``):

* ``controlchartspy`` 0.1.3 runs PowerBI-SPC's engine (JavaScript under quickjs) one chart per call. Settings
  as in the conformance set: all four rules on, shift 7, trend 7, screening on, i chart for XmR
  (sigma = AMR / 1.128, so its limits are 0.015% wider than MDC's 2.66), p chart with plain proportions.
  Point types are derived from its flags in the visual's colour order (astronomical > two-in-three > trend >
  shift).
* ``abspc`` 1.1.0 (pandas, one chart per call): ``calculate_control_limits`` -> ``detect_special_causes`` ->
  ``determine_point_colours``. It uses 3 / 1.128 limits without moving-range screening, a shift of 8 and a
  trend of 6, so it differs from MDC by design.

Ours is timed for the ``spc()`` call and reading its point-type codes (``SPCResult.point_codes``): input checks,
sort, series ids, gaps, rebase groups, limits and rules, the work the floor does and more. The frames are built on
first use, so a second row, "ours with frames", times the same call plus the points frame and both summaries, as
a pack pays for them. Reading the point types back as Python strings for the comparisons is outside the timing.

Run: ``python benchmarks/bench_spc.py [--clock cpu|wall] [--series 1000] [--points 60]``; writes benchmarks/results/spc.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from floor import spc_floor  # noqa: E402

from reporting.stats.constants import POINT_TYPES  # noqa: E402
from reporting.stats.spc import SPCOptions, SPCResult, spc  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "spc.json"
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = ["cpu"]  # set from --clock; every timing in one run uses the same clock
PBI_OUTLIERS = {
    "astronomical": True,
    "astronomical_limit": "3 Sigma",
    "shift": True,
    "shift_n": 7,
    "trend": True,
    "trend_n": 7,
    "two_in_three": True,
    "two_in_three_limit": "2 Sigma",
    "improvement_direction": "increase",
    "process_flag_type": "both",
}


def make_data(n_series: int, n_points: int, seed: int = 2025) -> pd.DataFrame:
    """Realistic mixture: stable series, shifts, drifts and the odd outlier, for both XmR and p charts."""
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.arange(n_series), n_points)
    t = np.tile(np.arange(n_points), n_series)
    kind = rng.integers(0, 4, n_series)[sid]  # 0 stable, 1 shift, 2 drift, 3 outlier
    step = np.where((kind == 1) & (t >= n_points * 2 // 3), 1.5, 0.0)
    drift = np.where(kind == 2, 0.04 * t, 0.0)
    spike = np.where((kind == 3) & (t == n_points // 2), 5.0, 0.0)
    base = rng.normal(0, 1, n_series * n_points) + step + drift + spike
    den = rng.integers(200, 2000, n_series * n_points).astype(float)
    p = np.clip(0.7 + 0.03 * (step + drift + spike) / 1.5, 0.01, 0.99)
    num = rng.binomial(den.astype(np.int64), p).astype(float)
    return pd.DataFrame({"series": sid, "x": t + 1, "y": 50 + 5 * base, "num": num, "den": den})


def ours(data: pd.DataFrame, chart: str) -> SPCResult:
    """The engine's call: checks, sort, limits and rules; the frames are built when first read."""
    kw = {"numerator": "num", "denominator": "den"} if chart == "p" else {}
    return spc(data, SPCOptions(chart=chart), by=["series"], **kw)  # type: ignore[arg-type]


def ours_codes(data: pd.DataFrame, chart: str) -> SPCResult:
    """What the floor computes: every point's type (as a code), read without building a frame."""
    res = ours(data, chart)
    res.point_codes  # noqa: B018 - the classification is the product timed here
    return res


def ours_frames(data: pd.DataFrame, chart: str) -> SPCResult:
    """What a pack pays for: the classification plus the points frame and both summaries."""
    res = ours(data, chart)
    res.points, res.summary, res.groups  # noqa: B018 - building the frames is the work timed here
    return res


def point_types(res: SPCResult) -> np.ndarray:
    """Point types as Python strings, for comparing engines (outside the timing: the floor returns codes)."""
    types = res.points["point_type"].to_numpy(dtype=object)
    assert (np.asarray(POINT_TYPES, dtype=object)[res.point_codes] == types).all(), "codes and frame disagree"
    return types


def controlchartspy_run(parts: list[pd.DataFrame], chart: str) -> np.ndarray:
    import controlchartspy as ccp

    out = []
    for part in parts:
        if chart == "p":
            res = ccp.spc(
                part,
                keys="key",
                numerators="num",
                denominators="den",
                spc_settings={"chart_type": "p", "perc_labels": "No", "multiplier": 1},
                outlier_settings=PBI_OUTLIERS,
                return_objs="limits",
            )
        else:
            res = ccp.spc(
                part,
                keys="key",
                numerators="y",
                spc_settings={"chart_type": "i"},
                outlier_settings=PBI_OUTLIERS,
                return_objs="limits",
            )
        for rec in res.limits or []:
            flag = next((rec[r] for r in ("astpoint", "two_in_three", "trend", "shift") if rec[r] != "none"), "none")
            out.append(
                {"improvement": "special_cause_improvement", "deterioration": "special_cause_concern"}.get(
                    flag, "common_cause"
                )
            )
    return np.asarray(out, dtype=object)


def abspc_run(parts: list[pd.DataFrame], chart: str) -> np.ndarray:
    import abspc
    from abspc.spc import COLOUR_COMMON_CAUSE, COLOUR_CONCERN, COLOUR_IMPROVEMENT

    names = {
        COLOUR_COMMON_CAUSE: "common_cause",
        COLOUR_IMPROVEMENT: "special_cause_improvement",
        COLOUR_CONCERN: "special_cause_concern",
    }
    out: list[str] = []
    for part in parts:
        if chart == "p":
            lim = abspc.calculate_control_limits(
                part.assign(value=part["den"]), "p", value_col="value", subgroup_col="den", numerator_col="num"
            )
        else:
            lim = abspc.calculate_control_limits(part, "XmR", value_col="y", subgroup_col=None)
        value_col = "value" if chart == "p" else "y"
        flagged = abspc.detect_special_causes(lim, value_col=value_col)
        out.extend(
            names[c] for c in abspc.determine_point_colours(flagged, value_col=value_col, improvement_direction="high")
        )
    return np.asarray(out, dtype=object)


def timed(fn: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    best, result = float("inf"), np.empty(0)
    for _ in range(repeat):
        start = CLOCKS[CLOCK[0]]()
        result = fn()
        best = min(best, CLOCKS[CLOCK[0]]() - start)
    return best, result


def timed_any(fn: Callable[[], SPCResult], repeat: int) -> tuple[float, SPCResult]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = CLOCKS[CLOCK[0]]()
        result = fn()
        best = min(best, CLOCKS[CLOCK[0]]() - start)
    assert result is not None
    return best, result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: this process's CPU seconds (the default: on a shared, loaded machine a wall-clock best-of-n "
        "favours the short floor, which fits between preemptions); wall: elapsed seconds",
    )
    args = parser.parse_args(argv)
    CLOCK[0] = args.clock

    data = make_data(args.series, args.points)
    parts = [
        g.assign(key=[f"{i:04d}" for i in g["x"]]).reset_index(drop=True) for _, g in data.groupby("series", sort=True)
    ]
    n_points = len(data)
    rows: list[dict[str, Any]] = []
    warnings.simplefilter("ignore")
    for chart in ("xmr", "p"):
        ours(data.head(args.points * 2), chart)  # warm-up (imports, first-call costs) outside the timing
        t_ours, res = timed_any(lambda: ours_codes(data, chart), repeat=15)
        ref = point_types(res)
        rows.append(
            {
                "chart": chart,
                "engine": "reporting (ours)",
                "seconds": t_ours,
                "series_per_second": args.series / t_ours,
                "ours_faster_x": 1.0,
                "points_classified_differently": 0,
                "points": n_points,
            }
        )
        t_frames, res_frames = timed_any(lambda: ours_frames(data, chart), repeat=9)
        rows.append(
            {
                "chart": chart,
                "engine": "ours with frames",
                "seconds": t_frames,
                "series_per_second": args.series / t_frames,
                "ours_faster_x": t_frames / t_ours,
                "points_classified_differently": int((point_types(res_frames) != ref).sum()),
                "points": n_points,
            }
        )
        # the numpy floor (benchmarks/floor.py), timed only once it classifies every point as we do
        y = (data["num"] / data["den"]).to_numpy() if chart == "p" else data["y"].to_numpy()
        num, den = data["num"].to_numpy(), data["den"].to_numpy()
        t_floor, codes = timed(lambda: spc_floor(y, num, den, args.series, chart), repeat=20)
        floor_types = np.asarray(POINT_TYPES, dtype=object)[codes]
        rows.append(
            {
                "chart": chart,
                "engine": "numpy floor sketch",
                "seconds": t_floor,
                "series_per_second": args.series / t_floor,
                "ours_faster_x": t_floor / t_ours,
                "ours_over_floor": t_ours / t_floor,
                "target_ours_over_floor": 3,
                "points_classified_differently": int((floor_types != ref).sum()),
                "points": n_points,
            }
        )
        for name, fn in (("controlchartspy 0.1.3", controlchartspy_run), ("abspc 1.1.0", abspc_run)):
            try:
                fn(parts[:1], chart)  # warm-up: the JS engine's start-up, imports
            except ImportError:
                rows.append({"chart": chart, "engine": name, "error": "not installed"})
                continue
            t_peer, got = timed(lambda fn=fn: fn(parts, chart), repeat=1)
            rows.append(
                {
                    "chart": chart,
                    "engine": name,
                    "seconds": t_peer,
                    "series_per_second": args.series / t_peer,
                    "ours_faster_x": t_peer / t_ours,
                    "ours_with_frames_faster_x": t_peer / t_frames,
                    "points_classified_differently": int((got != ref).sum()),
                    "points": n_points,
                }
            )
    result = {
        "benchmark": f"{args.series} series x {args.points} points, one call per chart kind for ours, "
        "one call per series for the peers; best of 15 for ours (spc() and its point codes), best of 9 for ours "
        "with the points frame and both summaries, best of 20 for the floor, 1 run for peers",
        "clock": CLOCK[0],
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'chart':5} {'engine':24} {'seconds':>9} {'series/s':>11} {'ours faster x':>14} {'points differ':>14}")
    for r in rows:
        if "error" in r:
            print(f"{r['chart']:5} {r['engine']:24} {r['error']}")
            continue
        print(
            f"{r['chart']:5} {r['engine']:24} {r['seconds']:9.4f} {r['series_per_second']:11,.0f} "
            f"{r['ours_faster_x']:14.1f} {r['points_classified_differently']:>8,} / {r['points']:,}"
        )
    for r in rows:
        if "ours_over_floor" in r:
            print(f"{r['chart']}: ours / floor = {r['ours_over_floor']:.2f} (target <= {r['target_ours_over_floor']})")
    return result


if __name__ == "__main__":
    main()
