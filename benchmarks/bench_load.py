"""Benchmark: loading and checking the bundled demo data against a plain pandas read of the same files.

The baseline is measured in the same run (plain `pd.read_csv` of the three files, no checks), so the figure
that matters is the ratio: what our validation (types, dates, duplicates, expressions, flags) and the
snapshot cost on top of reading the bytes. Run: `.venv/bin/python benchmarks/bench_load.py`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from reporting.data.catalogue import load_catalogue
from reporting.data.load import load, pull
from reporting.data.sources import DEMO_FILES, demo_path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 5


def _best(fn: object) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    catalogue = load_catalogue(ROOT / "templates" / "metrics.yaml")
    baseline = _best(lambda: [pd.read_csv(demo_path(f)) for f in DEMO_FILES])
    checked = _best(lambda: load(catalogue, ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        snap = _best(lambda: pull(catalogue, ROOT, Path(tmp) / "snapshots"))
    rows = len(load(catalogue, ROOT).metrics)
    result = {
        "rows_in_metric_frame": rows,
        "baseline_read_csv_s": round(baseline, 4),
        "load_and_check_s": round(checked, 4),
        "pull_with_snapshot_s": round(snap, 4),
        "ratio_load_vs_read_csv": round(checked / baseline, 2),
        "ratio_pull_vs_read_csv": round(snap / baseline, 2),
        "rows_per_second_load": int(rows / checked),
        "repeats": REPEATS,
        "statistic": "best of repeats",
    }
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
