"""Issue 11 from the command line: review, validate and build with the annotations register."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from project_fixtures import copy_project

from reporting.project import Project

REPO = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("reporting"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"}
    )


def _copy(demo_project: Project, tmp_path: Path) -> Path:
    return copy_project(demo_project, tmp_path, ignore=shutil.ignore_patterns("outputs")).root


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_review_json_suggests_the_break_with_evidence(demo_project: Project, tmp_path: Path) -> None:
    root = _copy(demo_project, tmp_path)
    (root / "templates" / "annotations.yaml").write_text("annotations: []\n")
    result = run("--project", str(root), "review", "weekly-executive", "--org", "RJ1", "--json")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    step = next(f for f in findings if f["kind"] == "step" and f["evidence"]["period"] == "2023-10-01")
    assert sorted(step["metrics"]) == ["emergency_admissions", "trolley_wait_4hr"] and step["registered"] is None
    assert step["entry"].startswith("  - metric: [") and "kind: break" in step["entry"]
    text = run("--project", str(root), "review", "weekly-executive", "--org", "RJ1")
    assert "Step change at October 2023 (RJ1)" in text.stdout and "period: 2023-10" in text.stdout
    assert _tree(root / "outputs") == []


def test_bad_register_is_one_line_exit_2_and_outputs_untouched(demo_project: Project, tmp_path: Path) -> None:
    root = _copy(demo_project, tmp_path)
    register = root / "templates" / "annotations.yaml"
    register.write_text(
        "annotations:\n  - metric: emergency_admissions\n    org: RJ1\n    period: 2023-10\n"
        "    kind: rebase\n    reason: x\n  - metric: ae_4hr\n    org: RJ9\n    period: 2023-10\n"
        "    kind: note\n    reason: typo in the code\n"
    )
    (root / "outputs").mkdir()
    (root / "outputs" / "keep.txt").write_text("earlier pack")
    for command in (["validate"], ["build", "monthly-performance", "--org", "RJ1"]):
        result = run("--project", str(root), *command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{register}:6:" in result.stderr and "at least 3 characters" in result.stderr
        errors = [line for line in result.stderr.strip().splitlines() if not line.endswith("warning(s)")]
        assert len(errors) == 1, result.stderr  # validate adds its count line ("1 error(s), 0 warning(s)")
    register.write_text(register.read_text().replace("reason: x\n", "reason: a real reason\n"))
    result = run("--project", str(root), "validate")
    assert (
        result.returncode == 2 and f"{register}:8:5" in result.stderr and "unknown organisation 'RJ9'" in result.stderr
    )
    assert _tree(root / "outputs") == ["keep.txt"]


def test_validate_checks_the_register_and_warns_about_stale_data(demo_project: Project, tmp_path: Path) -> None:
    root = _copy(demo_project, tmp_path)
    result = run("--project", str(root), "validate")
    assert result.returncode == 0, result.stderr
    assert "annotations.yaml: 2 entries" in result.stdout
    assert (
        "warning: weekly-executive (RJ1): Discharges before 5pm: no current data (latest: week of 22 May 2023)"
        in result.stderr
    )


def test_shipped_annotations_schema_is_current() -> None:
    result = run("schema", "annotations")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((REPO / "annotations.schema.json").read_text())
