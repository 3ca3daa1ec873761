"""Benchmark: our funnel engine against two PyPI peers on the same 200 providers (real A&E data, PR and SR).

Why: `reporting.stats.funnel.funnel` reproduces FunnelPlotR 0.6.0 with numpy; this measures what one funnel
costs next to the peers a Python user could pick instead, and how many providers each peer calls an outlier
differently from us, limit set for limit set (unadjusted against unadjusted, adjusted against adjusted).

Data (built from the repository's real data, no download):
* PR: the 141 trusts of tests/data_fixtures/ae_trust_calendar_2024.csv (attendances_within_4hours /
  total_attendances) plus the first 59 trusts by org code of calendar 2023 summed from
  reporting/demo_data/ae_trust_monthly_2021_2025.csv (total_attendances - attendances_over_4hours /
  total_attendances; months with missing breaches or 0 attendances dropped), labelled CODE-2023: 200 rows.
* SR: 200 synthetic providers (seed 2025): expected deaths log-uniform in [20, 2000] rounded to 2 d.p. (so
  our SHMI rounding changes nothing), relative risk exp(N(0, 0.08²)) with 10 providers at 0.7 or 1.35,
  observed ~ Poisson(expected x risk).

Peers (benchmark-only, not runtime dependencies; ``pip install controlchartspy funnelplot``):

* ``controlchartspy`` 0.1.3 runs PowerBI-Funnels' engine (JavaScript under quickjs), one funnel per call:
  ``controlchartspy.funnel(df, keys, numerators, denominators, funnel_settings={"chart_type": "PR"|"SR",
  "od_adjust": "no"|"yes"}, outlier_settings={"two_sigma": True, "three_sigma": True},
  return_objs="limits")``; a point is an outlier when its ``two_sigma`` (95%) / ``three_sigma`` (99.8%,
  its ll99/ul99 are the 0.001/0.999 quantiles) flag is not "none". PR is the same arcsine method as ours
  (winsorised 10%/90%, type-7 quantiles, DerSimonian-Laird tau²), so PR should agree exactly. "od_adjust":
  "yes" adjusts whenever tau² > 0, as ours does with overdispersion on ("auto" adds a chi-square test; not
  used). SR has no SHMI option: its unadjusted limits are exact Poisson like ours, but its adjusted ones are
  on the square-root scale, (1 ± z·√(s² + tau²))², from winsorised (not truncated) z-scores. So we also count
  its SR differences against our ``sr_method="CQC"`` (same z-scores, phi and tau²; FunnelPlotR's CQC limits
  are 1 ± z·√(s² + tau²) on the ratio scale, not squared back, i.e. about half as wide).
* ``funnelplot`` 0.2.1 (John H. Williamson; numpy + matplotlib) draws a funnel of record-level groups:
  ``funnel_plot(data_groups, ax, percentage=95|99.8)`` with one 0/1 array per provider (a 0/1 per
  attendance, ~35 million records). Its limits are unadjusted normal-approximation ones on the raw scale,
  |p_i - p| < z·sd(pooled records)/√n_i, never overdispersion-adjusted, and PR only. It returns nothing,
  so outliers are read back from the markers it draws ("o" outside, "." inside) in its drawing order
  (groups stably sorted by size). Its time includes building the matplotlib artists (Agg, no rendering).

Run: ``python benchmarks/bench_funnel.py [--clock cpu|wall] [--repeats 1000]``; writes benchmarks/results/funnel.json.
"repeated" times ``funnels()`` on 1,000 PR funnels x 200 providers with overdispersion in one call against the
numpy floor (benchmarks/floor.py) in the same run, and the same funnels as one ``funnel()`` call each.
Timings: best of 20 for ours, best of 5 for each peer, all in this process on the same data; each times the
engine's call only (flags are read from its output afterwards; funnelplot's must be read before its figure
is closed). "limit gap" is the largest |our limit - peer limit| over providers and the four limits.
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

from reporting.stats.funnel import funnel, funnels  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "funnel.json"
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = ["cpu"]  # set from --clock; every timing in one run uses the same clock
CALENDAR_2024 = ROOT / "tests" / "data_fixtures" / "ae_trust_calendar_2024.csv"
MONTHLY = ROOT / "reporting" / "demo_data" / "ae_trust_monthly_2021_2025.csv"
N_PROVIDERS = 200
Flags = dict[str, tuple[bool, bool]]  # group -> (outlier at 95%, outlier at 99.8%)


# --- data ---------------------------------------------------------------------------------------------------


def make_pr(n: int = N_PROVIDERS) -> pd.DataFrame:
    """Calendar 2024 trusts, topped up to n with calendar 2023 trusts (first by org code)."""
    cal = pd.read_csv(CALENDAR_2024)
    first = pd.DataFrame(
        {"group": cal["org_code"].astype(str), "num": cal["attendances_within_4hours"], "den": cal["total_attendances"]}
    )
    monthly = pd.read_csv(MONTHLY)
    y23 = monthly[monthly["period"].str.startswith("2023")]
    y23 = y23[y23["attendances_over_4hours"].notna() & (y23["total_attendances"] > 0)]
    y23 = y23.assign(num=y23["total_attendances"] - y23["attendances_over_4hours"])
    summed = y23.groupby("org_code", sort=True).agg(num=("num", "sum"), den=("total_attendances", "sum"))
    extra = summed.head(n - len(first)).reset_index()
    second = pd.DataFrame({"group": extra["org_code"] + "-2023", "num": extra["num"], "den": extra["den"]})
    out = pd.concat([first, second], ignore_index=True)
    out[["num", "den"]] = out[["num", "den"]].astype(np.int64)
    assert len(out) == n and out["group"].is_unique and (out["num"] <= out["den"]).all()
    return out


def make_sr(n: int = N_PROVIDERS, seed: int = 2025) -> pd.DataFrame:
    """Seeded observed/expected deaths with mild overdispersion and 10 true outliers."""
    rng = np.random.default_rng(seed)
    expected = np.round(np.exp(rng.uniform(np.log(20), np.log(2000), n)), 2)
    risk = np.exp(rng.normal(0.0, 0.08, n))
    risk[rng.choice(n, 10, replace=False)] = rng.choice([0.7, 1.35], 10)
    observed = rng.poisson(expected * risk)
    return pd.DataFrame({"group": [f"P{i:03d}" for i in range(n)], "num": observed, "den": expected})


def make_metrics(pr: pd.DataFrame, n_metrics: int, seed: int = 7) -> list[pd.DataFrame]:
    """n_metrics PR funnels over the same providers: binomial redraws around each provider's real rate."""
    rng = np.random.default_rng(seed)
    den = pr["den"].to_numpy()
    rates = pr["num"].to_numpy() / den
    shifts = rng.uniform(-0.2, 0.05, n_metrics)
    return [
        pd.DataFrame({"group": pr["group"], "num": rng.binomial(den, np.clip(rates + s, 0.01, 0.99)), "den": den})
        for s in shifts
    ]


# --- engines ------------------------------------------------------------------------------------------------


def ours(data: pd.DataFrame, data_type: str, adjusted: bool, sr_method: str = "SHMI") -> Any:
    return funnel(
        data,
        group="group",
        numerator="num",
        denominator="den",
        data_type=data_type,  # type: ignore[arg-type]
        sr_method=sr_method,
        limit=99.8,
        overdispersion=adjusted,
    )  # type: ignore[arg-type]


def ours_flags(res: Any) -> Flags:
    """Outliers at both levels from one result, with the limit set the engine itself chose."""
    p = res.points
    prefix = "od_" if res.limits_used == "adjusted" else ""
    v = p["value"]
    out95 = ~((v >= p[f"{prefix}lcl95"]) & (v <= p[f"{prefix}ucl95"]))
    out998 = ~((v >= p[f"{prefix}lcl998"]) & (v <= p[f"{prefix}ucl998"]))
    assert (out998 == p["outlier"]).all()  # same rule as the engine's own flag
    return {str(g): (bool(a), bool(b)) for g, a, b in zip(p["group"], out95, out998, strict=True)}


def controlchartspy_run(data: pd.DataFrame, data_type: str, adjusted: bool) -> list[dict[str, Any]]:
    import controlchartspy as ccp

    res = ccp.funnel(
        data,
        keys="group",
        numerators="num",
        denominators="den",
        funnel_settings={"chart_type": data_type, "od_adjust": "yes" if adjusted else "no", "perc_labels": "No"},
        outlier_settings={"two_sigma": True, "three_sigma": True},
        return_objs="limits",
    )
    return res.limits or []


def controlchartspy_flags(records: list[dict[str, Any]]) -> Flags:
    return {str(r["group"]): (r["two_sigma"] != "none", r["three_sigma"] != "none") for r in records}


def limit_gap(res: Any, records: list[dict[str, Any]]) -> float:
    """Largest |our limit - peer limit| over providers and the four limits, our chosen set against theirs."""
    p = res.points.set_index("group")
    prefix = "od_" if res.limits_used == "adjusted" else ""
    theirs = pd.DataFrame(records).set_index("group").loc[p.index]
    return float(
        max(
            np.max(np.abs(p[f"{prefix}{a}"].to_numpy() - theirs[b].to_numpy(dtype=float)))
            for a, b in (("lcl95", "ll95"), ("ucl95", "ul95"), ("lcl998", "ll99"), ("ucl998", "ul99"))
        )
    )


def funnelplot_run(groups: list[str], records: list[np.ndarray], percentage: float) -> dict[str, bool]:
    import matplotlib.pyplot as plt
    from funnelplot.core import funnel_plot

    fig, ax = plt.subplots()
    try:
        funnel_plot(records, ax=ax, percentage=percentage, error_mode="none", show_contours=False)
        markers = [ln.get_marker() for ln in ax.get_lines() if ln.get_marker() in (".", "o")]
    finally:
        plt.close(fig)
    order = np.argsort([len(r) for r in records], kind="stable")  # its drawing order: sorted(key=len)
    assert len(markers) == len(groups)
    return {groups[i]: m == "o" for i, m in zip(order, markers, strict=True)}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = CLOCKS[CLOCK[0]]()
        result = fn()
        best = min(best, CLOCKS[CLOCK[0]]() - start)
    return best, result


def differ(ref: Flags, got: Flags, level: int) -> tuple[int, list[str]]:
    assert set(ref) == set(got), "peer returned a different set of providers"
    groups = sorted(g for g in ref if ref[g][level] != got[g][level])
    return len(groups), groups


def only(a: Flags, b: Flags, level: int) -> int:
    """Providers flagged by a and not by b at one level."""
    return sum(a[g][level] and not b[g][level] for g in a)


def row(scenario: str, engine: str, seconds: float, t_ours: float, flags: Flags, ref: Flags, **extra: Any) -> dict:
    d95, g95 = differ(ref, flags, 0)
    d998, g998 = differ(ref, flags, 1)
    return {
        "scenario": scenario,
        "engine": engine,
        "seconds": seconds,
        "providers_per_second": len(flags) / seconds,
        "ratio_ours_over_peer": t_ours / seconds,
        "ours_faster_x": seconds / t_ours,
        "outliers_95": sum(f[0] for f in flags.values()),
        "outliers_998": sum(f[1] for f in flags.values()),
        "differ_95": d95,
        "differ_998": d998,
        "only_ours_95": only(ref, flags, 0),
        "only_peer_95": only(flags, ref, 0),
        "only_ours_998": only(ref, flags, 1),
        "only_peer_998": only(flags, ref, 1),
        "differ_95_groups": g95,
        "differ_998_groups": g998,
        "providers": len(flags),
        **extra,
    }


# --- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1000, help="metrics in the repeated-funnels timing")
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
    warnings.simplefilter("ignore")
    import matplotlib

    matplotlib.use("Agg")

    pr, sr = make_pr(), make_sr()
    rows: list[dict[str, Any]] = []
    fits: dict[str, dict[str, Any]] = {}
    scenarios = [
        ("PR unadjusted", pr, "PR", False),
        ("PR adjusted", pr, "PR", True),
        ("SR unadjusted", sr, "SR", False),
        ("SR adjusted", sr, "SR", True),
    ]
    for name, data, dt, adj in scenarios:
        ours(data, dt, adj)  # warm-up outside the timing
        t_ours, res = timed(lambda data=data, dt=dt, adj=adj: ours(data, dt, adj), repeat=20)
        ref = ours_flags(res)
        fits[name] = {"phi": res.phi, "tau2": res.tau2, "limits_used": res.limits_used, "target": res.target}
        rows.append(row(name, "reporting (ours)" + (" SHMI" if dt == "SR" else ""), t_ours, t_ours, ref, ref))
        try:
            controlchartspy_run(data.head(20), dt, adj)  # warm-up: the JS engine's start-up
        except ImportError:
            rows.append({"scenario": name, "engine": "controlchartspy 0.1.3", "error": "not installed"})
        else:
            t_ccp, recs = timed(lambda data=data, dt=dt, adj=adj: controlchartspy_run(data, dt, adj), repeat=5)
            got = controlchartspy_flags(recs)
            extra: dict[str, Any] = {"max_abs_limit_diff": limit_gap(res, recs)}
            if dt == "SR":  # no SHMI in PowerBI-Funnels: also compare with our CQC (same sqrt-scale z-scores)
                res_cqc = ours(data, dt, adj, sr_method="CQC")
                cqc = ours_flags(res_cqc)
                extra["vs_ours_cqc"] = {
                    "differ_95": differ(cqc, got, 0)[0],
                    "differ_998": differ(cqc, got, 1)[0],
                    "only_ours_95": only(cqc, got, 0),
                    "only_peer_95": only(got, cqc, 0),
                    "only_ours_998": only(cqc, got, 1),
                    "only_peer_998": only(got, cqc, 1),
                    "ours_cqc_outliers_95": sum(f[0] for f in cqc.values()),
                    "ours_cqc_outliers_998": sum(f[1] for f in cqc.values()),
                    "ours_cqc_phi": res_cqc.phi,
                    "ours_cqc_tau2": res_cqc.tau2,
                    "max_abs_limit_diff": limit_gap(res_cqc, recs),
                }
            rows.append(row(name, "controlchartspy 0.1.3", t_ccp, t_ours, got, ref, **extra))
        if name == "PR unadjusted":
            groups = pr["group"].tolist()
            records = [
                np.repeat(np.array([1, 0], dtype=np.uint8), [k, n - k])
                for k, n in zip(pr["num"], pr["den"], strict=True)
            ]
            try:
                funnelplot_run(groups[:3], records[:3], 95)  # warm-up: matplotlib
            except ImportError:
                rows.append({"scenario": name, "engine": "funnelplot 0.2.1", "error": "not installed"})
            else:
                t95, f95 = timed(lambda: funnelplot_run(groups, records, 95), repeat=5)
                t998, f998 = timed(lambda: funnelplot_run(groups, records, 99.8), repeat=5)
                got = {g: (f95[g], f998[g]) for g in groups}
                rows.append(
                    row(
                        name,
                        "funnelplot 0.2.1",
                        min(t95, t998),
                        t_ours,
                        got,
                        ref,
                        records=int(sum(len(r) for r in records)),
                        note="one call per limit level; seconds is the faster of the two",
                    )
                )
            del records

    metrics = make_metrics(pr, args.repeats)
    ours(metrics[0], "PR", True)
    t_loop, _ = timed(lambda: [ours(m, "PR", True) for m in metrics], repeat=3)
    # the many-funnel entry point on the same funnels: one (funnels, providers) array pass, groups in order
    order = np.argsort(pr["group"].astype(str).to_numpy(dtype=object), kind="stable")
    f_groups = pr["group"].to_numpy(dtype=object)[order]
    f_num = np.array([m["num"].to_numpy()[order] for m in metrics], dtype=float)
    f_den = np.array([m["den"].to_numpy()[order] for m in metrics], dtype=float)
    batch = funnels(f_groups, f_num, f_den, data_type="PR", limit=99.8, overdispersion=True)
    for i in range(0, args.repeats, max(1, args.repeats // 50)):  # row i is funnel() of metric i, bit for bit
        assert batch.result(i).points.equals(ours(metrics[i], "PR", True).points), f"funnels() row {i} differs"
    t_rep, _ = timed(
        lambda: funnels(f_groups, f_num, f_den, data_type="PR", limit=99.8, overdispersion=True), repeat=20
    )
    repeated = {
        "funnels": args.repeats,
        "providers": N_PROVIDERS,
        "data_type": "PR",
        "overdispersion": True,
        "seconds": t_rep,
        "seconds_per_funnel": t_rep / args.repeats,
        "funnels_per_second": args.repeats / t_rep,
        "provider_points_per_second": args.repeats * N_PROVIDERS / t_rep,
        "timing": "funnels(): every funnel in one call on (funnels, providers) arrays, best of 20; checked "
        "bit-identical to funnel() on every 20th metric",
        "loop_seconds": t_loop,
        "loop_timing": "one funnel() call per metric in a Python loop (DataFrame in and out), best of 3",
    }
    # the numpy floor (benchmarks/floor.py): every funnel in one 2-D pass, checked to flag the same providers
    from floor import funnel_floor

    from reporting.stats.variation import Z_BY_LIMIT

    assert (funnel_floor(f_num, f_den, Z_BY_LIMIT["99.8"]) == batch.outlier).all(), "floor sketch disagrees"
    t_floor, _ = timed(lambda: funnel_floor(f_num, f_den, Z_BY_LIMIT["99.8"]), repeat=20)
    repeated.update(
        {
            "floor_seconds": t_floor,
            "ours_over_floor": t_rep / t_floor,
            "loop_over_floor": t_loop / t_floor,
            "target_ours_over_floor": 10,
        }
    )

    result = {
        "benchmark": f"{N_PROVIDERS} providers, one funnel per call for every engine; best of 20 for ours, "
        "best of 5 for peers, same process and data; 'ratio_ours_over_peer' = our seconds / peer "
        "seconds (< 1: ours faster), 'ours_faster_x' = its inverse; 'differ_*' = providers whose "
        "outlier flag differs from ours at 95% / 99.8%, like limit set against like",
        "clock": CLOCK[0],
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "data": {
            "PR": f"141 trusts calendar 2024 ({CALENDAR_2024.relative_to(ROOT)}) + 59 trusts calendar 2023 "
            f"({MONTHLY.relative_to(ROOT)}); {int(pr['den'].sum()):,} attendances",
            "SR": "200 synthetic providers, seed 2025, expected 20-2000 (2 d.p.), 10 true outliers",
        },
        "ours_fit": fits,
        "rows": rows,
        "repeated": repeated,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.repeats} funnels x {N_PROVIDERS} providers: funnels() {t_rep:.4f} s, numpy floor {t_floor:.4f} s, "
        f"ours / floor {t_rep / t_floor:.1f}x (target 10x); funnel() in a loop {t_loop:.3f} s ({t_loop / t_floor:.0f}x)"
    )

    print(
        f"{'scenario':14} {'engine':24} {'seconds':>9} {'providers/s':>12} {'ours/peer':>10} "
        f"{'ours faster x':>14} {'outliers 95/99.8':>17} {'differ 95/99.8':>15} {'limit gap':>10}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['scenario']:14} {r['engine']:24} {r['error']}")
            continue
        gap = f"{r['max_abs_limit_diff']:10.1e}" if "max_abs_limit_diff" in r else f"{'-':>10}"
        print(
            f"{r['scenario']:14} {r['engine']:24} {r['seconds']:9.4f} {r['providers_per_second']:12,.0f} "
            f"{r['ratio_ours_over_peer']:10.3f} {r['ours_faster_x']:14.1f} "
            f"{r['outliers_95']:>8} / {r['outliers_998']:<6} {r['differ_95']:>6} / {r['differ_998']:<6} {gap}"
        )
        if "vs_ours_cqc" in r:
            c = r["vs_ours_cqc"]
            print(
                f"{'':14} {'  same, vs ours CQC':24} {'':9} {'':12} {'':10} {'':14} "
                f"{c['ours_cqc_outliers_95']:>8} / {c['ours_cqc_outliers_998']:<6} "
                f"{c['differ_95']:>6} / {c['differ_998']:<6} {c['max_abs_limit_diff']:10.1e}"
            )
    for name, f in fits.items():
        print(f"ours {name:14} phi {f['phi']:.3f}  tau2 {f['tau2']:.3g}  limits {f['limits_used']}")
    print(
        f"repeated: {args.repeats:,} funnels x {N_PROVIDERS} providers (ours): {t_rep:.2f} s, "
        f"{t_rep / args.repeats * 1e3:.2f} ms per funnel, {args.repeats * N_PROVIDERS / t_rep:,.0f} provider-points/s"
    )
    return result


if __name__ == "__main__":
    main()
