"""The command line as a user runs it: the installed `reporting` script, exit codes, one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, MakeProject

REPO = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("reporting"))


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "validate", "data", "schema"):
        assert command in result.stdout


@pytest.fixture
def demo_project(tmp_path: Path) -> Path:
    """A project that holds the shipped catalogue (the demo sources are bundled in the package)."""
    root = tmp_path / "demo"
    (root / "templates").mkdir(parents=True)
    shutil.copy(REPO / "templates" / "metrics.yaml", root / "templates" / "metrics.yaml")
    return root


def test_demo_pulls_and_summarises_real_data(demo_project: Path) -> None:
    result = run("--project", str(demo_project), "demo")
    assert result.returncode == 0, result.stderr
    assert "ae_4hr" in result.stdout and "75.2%" in result.stdout  # England, July 2025
    assert "discharges_before_5pm" in result.stdout and "13,815" in result.stdout
    assert "Open Government Licence v3.0" in result.stdout
    snapshot = (demo_project / "snapshots" / "LATEST").read_text().strip()
    assert f"Snapshot {snapshot}" in result.stdout
    show = run("data", "show", "ae_4hr", "--org", "RJ1", "--periods", "3", env={"REPORTING_HOME": str(demo_project)})
    assert show.returncode == 0, show.stderr
    assert "Guy's and St Thomas'" in show.stdout and "2025-07-01" in show.stdout and "78.1%" in show.stdout
    latest = run("data", "show", "discharges_total", cwd=demo_project)
    assert latest.returncode == 0 and "2025-08-25" in latest.stdout


def test_validate_passes_on_shipped_files(demo_project: Path) -> None:
    result = run("validate", cwd=demo_project)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "7 metrics" in result.stdout
    assert _tree(demo_project / "snapshots") == [] and _tree(demo_project / "outputs") == []


@pytest.mark.parametrize(
    ("catalogue", "csv", "expected"),
    [
        (BASIC_CATALOGUE.replace("chart: xmr", "chart: xmr:"), BASIC_CSV, "metrics.yaml:19:15: YAML syntax error"),
        (
            BASIC_CATALOGUE.replace("unit: count", "units: count"),
            BASIC_CSV,
            "metrics.yaml:17:5, field 'metrics[1].units': unknown key 'units' (did you mean 'unit'?)",
        ),
        (BASIC_CATALOGUE.replace("    denominator: attendances\n", ""), BASIC_CSV, "'denominator' is missing"),
        (
            BASIC_CATALOGUE,
            BASIC_CSV.replace("breaches", "breach"),
            "ae.csv:1, field 'breaches': column 'breaches' not found (did you mean 'breach'?)",
        ),
        (BASIC_CATALOGUE, BASIC_CSV.replace("120,30", "120,thirty"), "ae.csv:3, field 'breaches': expected a number"),
        (BASIC_CATALOGUE, BASIC_CSV.replace("120,30", "120,-3"), "ae.csv:3, field 'breaches': expected a count of 0"),
        (BASIC_CATALOGUE, BASIC_CSV + "2024-01-01,RAA,1,1\n", "duplicate rows for metric 'ae_4hr', organisation RAA"),
        (
            BASIC_CATALOGUE,
            BASIC_CSV.replace("2024-02-01,RBB", "1 Feb 2024,RBB"),
            "ae.csv:6, field 'period': date '1 Feb 2024' is not in the format used by the rest of the column",
        ),
    ],
)
def test_bad_input_one_line_error_exit_2_nothing_written(
    make_project: MakeProject, catalogue: str, csv: str, expected: str
) -> None:
    project = make_project(catalogue, {"data/ae.csv": csv})
    for command in (["validate"], ["data", "pull"], ["demo"]):
        result = run("--project", str(project.root), *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert expected in result.stderr
        lines = result.stderr.strip().splitlines()
        if command == ["validate"]:  # every error, one line each (here the same mistake may hit two metrics)
            assert lines[-1].endswith("warning(s)") and all(line.startswith("error: ") for line in lines[:-1])
        else:
            assert len(lines) == 1, result.stderr  # one line
        assert "Traceback" not in result.stderr
    assert _tree(project.outputs) == [] and _tree(project.snapshots) == []


def test_bad_pull_keeps_last_good_snapshot(make_project: MakeProject) -> None:
    project = make_project()
    assert run("--project", str(project.root), "data", "pull").returncode == 0
    good = (project.snapshots / "LATEST").read_text()
    before = _tree(project.snapshots)
    (project.root / "data" / "ae.csv").write_text(BASIC_CSV.replace("120,30", "120,x"))
    result = run("--project", str(project.root), "data", "pull")
    assert result.returncode == 2 and "expected a number" in result.stderr
    assert (project.snapshots / "LATEST").read_text() == good and _tree(project.snapshots) == before
    shown = run("--project", str(project.root), "data", "show", "ae_4hr")
    assert shown.returncode == 0 and "RAA" in shown.stdout and "90.0%" in shown.stdout


@pytest.mark.slow
def test_unknown_metric_and_missing_project(tmp_path: Path, demo_project: Path) -> None:
    result = run("--project", str(tmp_path), "validate")
    assert result.returncode == 2 and "no metric catalogue" in result.stderr
    result = run("--project", str(tmp_path / "nope"), "validate")
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert run("--project", str(demo_project), "data", "pull").returncode == 0
    result = run("--project", str(demo_project), "data", "show", "ae_4h")
    assert result.returncode == 2 and "did you mean 'ae_4hr'?" in result.stderr


def test_schema_is_json_schema() -> None:
    import json

    result = run("schema", "catalogue")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "metrics" in schema["properties"] and "Metric" in schema["$defs"]


@pytest.mark.slow
def test_build_and_commentary_commands(demo_project: Path) -> None:
    shutil.copytree(REPO / "templates" / "packs", demo_project / "templates" / "packs")
    result = run("--project", str(demo_project), "validate")
    assert result.returncode == 0 and "weekly-executive.yaml" in result.stdout, result.stderr
    result = run("--project", str(demo_project), "build", "weekly-executive", "--org", "RXW", "--format", "pptx,xlsx")
    assert result.returncode == 0, result.stderr
    folder = demo_project / "outputs" / "weekly-executive" / "2025-08-25" / "RXW"
    assert sorted(p.name.split(".", 1)[1] for p in folder.iterdir()) == [
        "csv",
        "csv",
        "data.json",
        "json",
        "json",
        "pptx",
        "xlsx",
    ]  # data file, manifest, open data package
    result = run("--project", str(demo_project), "commentary", "monthly-performance", "--org", "RXW")
    assert result.returncode == 0 and "commentary/monthly-performance-RXW-2025-07-01.xlsx" in result.stdout
    result = run("--project", str(demo_project), "build", "weekly-executive", "--out", "/tmp")
    assert result.returncode == 2 and "outside" in result.stderr
    result = run("--project", str(demo_project), "build", "weekly-executiv")
    assert result.returncode == 2 and "did you mean 'weekly-executive'" in result.stderr
    # several organisations: a summary table; the one without data fails alone and the exit code says so
    orgs = demo_project / "trusts.txt"
    orgs.write_text("# trusts\nRJ1\nRXX\n")
    result = run(
        "--project",
        str(demo_project),
        "build",
        "weekly-executive",
        "--org",
        "RXW",
        "--orgs-from",
        str(orgs),
        "--format",
        "xlsx",
        "--executor",
        "processes",
        "--workers",
        "2",
    )
    assert result.returncode == 1, result.stderr
    assert "2 built, 1 failed" in result.stdout and "no data for organisation 'RXX'" in result.stdout
    assert (demo_project / "outputs" / "weekly-executive" / "2025-08-25" / "RJ1").is_dir()
    result = run(
        "--project",
        str(demo_project),
        "build",
        "weekly-executive",
        "--org",
        "RJ1",
        "--org",
        "RXW",
        "--executor",
        "threads",
    )
    assert result.returncode == 2 and "unknown executor 'threads'" in result.stderr
