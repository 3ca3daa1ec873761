"""Funnel conformance: FunnelPlotR 0.6.0 reference runs (tests/conformance/spc/f0*), through API and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from reporting.commands.funnel import register
from reporting.stats.funnel import funnel

CASES_DIR = Path(__file__).resolve().parents[1] / "conformance" / "spc"
CASES = sorted(p for p in CASES_DIR.glob("f0*") if p.is_dir())
NUMERIC = [
    "numerator",
    "denominator",
    "value",
    "zscore",
    "zscore_trimmed",
    "lcl95",
    "ucl95",
    "lcl998",
    "ucl998",
    "od_lcl95",
    "od_ucl95",
    "od_lcl998",
    "od_ucl998",
]


def _close(got: pd.Series, exp: pd.Series) -> np.ndarray:
    """README rule: |got − exp| <= 1e-9 · max(1, |exp|); NA must match NA."""
    g, e = got.to_numpy(dtype=float), exp.to_numpy(dtype=float)
    both_na = np.isnan(g) & np.isnan(e)
    ok = np.abs(g - e) <= 1e-9 * np.maximum(1.0, np.abs(e))
    return both_na | ok


def _check(points: pd.DataFrame, summary: dict, case: Path) -> None:
    expected = pd.read_csv(case / "expected.csv", dtype={"group": str})
    exp_summary = json.loads((case / "expected_summary.json").read_text())
    assert points["group"].astype(str).tolist() == expected["group"].tolist()
    for col in NUMERIC:
        ok = _close(points[col], expected[col])
        assert ok.all(), f"{case.name} {col}: rows {np.flatnonzero(~ok).tolist()}"
    assert points["outlier"].astype(int).tolist() == expected["outlier"].astype(int).tolist()
    assert abs(summary["phi"] - exp_summary["phi"]) <= 1e-9 * max(1, abs(exp_summary["phi"]))
    assert abs(summary["tau2"] - exp_summary["tau2"]) <= 1e-9 * max(1, abs(exp_summary["tau2"]))
    assert abs(summary["target"] - exp_summary["target"]) <= 1e-9 * max(1, abs(exp_summary["target"]))
    assert summary["draw_adjusted_used"] is exp_summary["draw_adjusted_used"]
    assert summary["draw_unadjusted_used"] is exp_summary["draw_unadjusted_used"]
    assert summary["outliers"] == exp_summary["outliers"]


def test_cases_present() -> None:
    assert [c.name[:3] for c in CASES] == ["f01", "f02", "f03"]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_api_matches_reference(case: Path) -> None:
    opts = json.loads((case / "options.json").read_text())
    result = funnel(
        pd.read_csv(case / "input.csv"),
        data_type=opts["data_type"],
        sr_method=opts["sr_method"],
        limit=opts["limit"],
        overdispersion=opts["draw_adjusted"],
        trim_by=opts["trim_by"],
        multiplier=opts["multiplier"],
        shmi_rounding=opts["SHMI_rounding"],
    )
    _check(result.points, result.summary(), case)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_cli_matches_reference(case: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep `funnel` a sub-command, as in the real app
    opts = json.loads((case / "options.json").read_text())
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    args = [
        "funnel",
        str(case / "input.csv"),
        "--type",
        opts["data_type"],
        "--method",
        opts["sr_method"],
        "--limit",
        str(opts["limit"]),
        "--trim-by",
        str(opts["trim_by"]),
        "--multiplier",
        str(opts["multiplier"]),
        "--out",
        str(out),
        "--summary",
        str(summary),
    ]
    args.append("--overdispersion" if opts["draw_adjusted"] else "--no-overdispersion")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    _check(pd.read_csv(out, dtype={"group": str}), json.loads(summary.read_text()), case)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_cli_options_file(case: Path, tmp_path: Path) -> None:
    """The cases' options.json can be handed to the CLI as-is."""
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = CliRunner().invoke(
        app,
        [
            "funnel",
            str(case / "input.csv"),
            "--options",
            str(case / "options.json"),
            "--out",
            str(out),
            "--summary",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    _check(pd.read_csv(out, dtype={"group": str}), json.loads(summary.read_text()), case)
