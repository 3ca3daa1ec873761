"""Benchmark: 60 SPC charts from real data, exported naively vs batched, and as native PowerPoint charts.

(a) naive: plotly's `fig.write_image` per figure (kaleido starts a browser for each call);
(b) ours: `Renderer` (one browser, all charts in one batched call, empty cache);
(c) ours again with a warm cache (nothing is re-rendered);
(d) native PowerPoint charts (python-pptx), per chart, including saving the deck.
Ratios are measured in the same run. Run: `.venv/bin/python benchmarks/bench_charts.py [N]`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from reporting.charts import Renderer, spc_chart
from reporting.charts.export import find_chromium
from reporting.charts.figure import to_figure
from reporting.data.catalogue import load_catalogue
from reporting.data.load import load
from reporting.stats.spc import SPCOptions, spc_metrics

ROOT = Path(__file__).resolve().parents[1]


def specs(n: int) -> list:
    catalogue = load_catalogue(ROOT / "templates" / "metrics.yaml")
    data = load(catalogue, ROOT, metrics=["ae_4hr"])
    orgs = data.metrics.groupby("org_code")["value"].count().sort_values(ascending=False).index[:n]
    result = spc_metrics(data.metrics[data.metrics["org_code"].isin(orgs)], {"ae_4hr": SPCOptions(chart="p")})
    out = []
    for org, points in result.points.groupby("org_code", sort=True):
        summary = result.summary[result.summary["org_code"] == org].iloc[0].to_dict()
        out.append(spc_chart(points, summary, title="A&E 4-hour performance", unit="percent", org=str(org)))
    return out


def main(n: int = 60) -> dict:
    os.environ["BROWSER_PATH"] = find_chromium()
    charts = specs(n)
    naive_n = min(len(charts), 10)  # the naive path is slow; time 10 and report per chart
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, spec in enumerate(charts[:naive_n]):
            to_figure(spec).write_image(f"{tmp}/naive{i}.png", width=spec.size[0], height=spec.size[1], scale=2)
        naive = (time.perf_counter() - start) / naive_n

        with Renderer(cache=Path(tmp) / "cache") as renderer:
            renderer.render(specs(1))  # browser start-up, timed separately below
            start = time.perf_counter()
            renderer.render(charts)
            batched = (time.perf_counter() - start) / len(charts)
            start = time.perf_counter()
            renderer.render(charts)
            cached = (time.perf_counter() - start) / len(charts)
        start = time.perf_counter()
        with Renderer(cache=Path(tmp) / "cache2") as renderer:
            renderer.render(charts)
        batched_with_startup = (time.perf_counter() - start) / len(charts)

        from pptx import Presentation
        from pptx.util import Inches

        from reporting.charts.native_pptx import add_native_chart

        start = time.perf_counter()
        deck = Presentation()
        for spec in charts:
            slide = deck.slides.add_slide(deck.slide_layouts[6])
            add_native_chart(slide.shapes, spec, Inches(0.5), Inches(0.5), Inches(9), Inches(6.5))
        deck.save(f"{tmp}/deck.pptx")
        native = (time.perf_counter() - start) / len(charts)
    result = {
        "charts": len(charts),
        "naive_s_per_chart": round(naive, 3),
        "batched_s_per_chart": round(batched, 3),
        "batched_incl_browser_start_s_per_chart": round(batched_with_startup, 3),
        "cached_s_per_chart": round(cached, 4),
        "native_pptx_s_per_chart": round(native, 4),
        "speedup_batched_vs_naive": round(naive / batched, 1),
        "speedup_batched_incl_start_vs_naive": round(naive / batched_with_startup, 1),
        "naive_sample": naive_n,
    }
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "charts.json").write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return result


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
