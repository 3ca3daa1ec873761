"""Conformance cases run through the engine, as chart tests' inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from reporting.stats.spc import SPCOptions, spc

CASES = Path(__file__).resolve().parents[1] / "conformance" / "spc"


def case_result(name: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """Run a conformance case through the engine: (points, summary row)."""
    folder = CASES / name
    options = json.loads((folder / "options.json").read_text())
    frame = pd.read_csv(folder / "input.csv")
    if options.get("x_type", "date") == "date":
        frame["x"] = pd.to_datetime(frame["x"])
    rebase = tuple(pd.Timestamp(d).date() for d in options.get("rebase") or [])
    result = spc(
        frame,
        SPCOptions(
            chart=options["chart_type"] if options["chart_type"] != "i" else "xmr",
            improvement=options["improvement_direction"],
            target=options.get("target"),
            rebase=rebase,
            fix_after_n_points=options.get("fix_after_n_points"),
            screen_outliers=options.get("screen_outliers", True),
        ),
        numerator="numerator" if "numerator" in frame else None,
        denominator="denominator" if "denominator" in frame else None,
    )
    return result.points, result.summary.iloc[0].to_dict()
