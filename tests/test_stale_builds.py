"""A build never silently uses data older than its definitions, and packs show only the metrics they choose
(issue 14: after a catalogue edit the build reused the old snapshot, and a new metric leaked into every pack)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from project_fixtures import BASIC_CATALOGUE, MakeProject

EXE = str(Path(sys.executable).with_name("reporting"))

PACK = """\
pack: mini
title: Mini pack
cadence: monthly
formats: [xlsx]
metrics: [ae_4hr]
parameters:
  org: {default: RAA}
sections:
  - title: Summary
    blocks:
      - summary_table: {}
      - for_each:
          blocks:
            - text: "{{ narrative(metric) }}"
      - appendix: {}
"""


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "--project", str(project), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def _project(make_project: MakeProject, pack: str = PACK) -> Path:
    project = make_project(BASIC_CATALOGUE)
    (project.root / "templates" / "packs").mkdir(parents=True, exist_ok=True)
    (project.root / "templates" / "packs" / "mini.yaml").write_text(pack)
    return project.root


def _manifest(root: Path) -> dict:
    return json.loads(next((root / "outputs").rglob("manifest.json")).read_text())


def _workbook_text(root: Path) -> str:
    book = openpyxl.load_workbook(next((root / "outputs").rglob("*.xlsx")))
    return "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value)


@pytest.mark.slow
def test_broken_source_after_edit_fails_the_build_with_the_pulls_error(make_project: MakeProject) -> None:
    root = _project(make_project)
    assert run(root, "build", "mini").returncode == 0
    catalogue = root / "templates" / "metrics.yaml"
    catalogue.write_text(
        BASIC_CATALOGUE.replace("numerator: attendances - breaches", "numerator: attendances - breach")
    )
    result = run(root, "build", "mini")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "column 'breach' not found (did you mean 'breaches'?)" in result.stderr


@pytest.mark.slow
def test_changed_numerator_pulls_again_and_the_pack_shows_the_new_figure(make_project: MakeProject) -> None:
    root = _project(make_project)
    assert run(root, "build", "mini", "--period", "2024-03").returncode == 0
    first = _manifest(root)
    assert first["snapshot"]["chosen"].startswith("pulled") and first["snapshot"]["stale_metrics"] == []
    catalogue = root / "templates" / "metrics.yaml"
    catalogue.write_text(BASIC_CATALOGUE.replace("numerator: attendances - breaches", "numerator: breaches"))
    result = run(root, "build", "mini", "--period", "2024-03")
    assert result.returncode == 0, result.stderr
    second = _manifest(root)
    assert second["snapshot_hash"] != first["snapshot_hash"]
    assert "the catalogue changed ae_4hr" in second["snapshot"]["chosen"]
    assert "\n0.1\n11\n110\n" in _workbook_text(root)  # RAA March: 11 of 110 (0.9, 99 of 110 before the edit)


@pytest.mark.slow
def test_offline_and_snapshot_build_from_old_data_and_say_so(make_project: MakeProject) -> None:
    root = _project(make_project)
    assert run(root, "build", "mini").returncode == 0
    old = _manifest(root)["snapshot_hash"]
    catalogue = root / "templates" / "metrics.yaml"
    catalogue.write_text(BASIC_CATALOGUE.replace("numerator: attendances - breaches", "numerator: breaches"))
    for flags in (["--offline"], ["--snapshot", old]):
        result = run(root, "build", "mini", *flags)
        assert result.returncode == 0, result.stderr
        manifest = _manifest(root)
        assert manifest["snapshot_hash"] == old and manifest["snapshot"]["stale_metrics"] == ["ae_4hr"]
        note = f"Built from snapshot {old} ({flags[0]}), pulled before the catalogue last changed ae_4hr"
        assert any(note in w for w in manifest["warnings"])
        assert note in _workbook_text(root)
        assert "warning:" in result.stderr and note in result.stderr
    assert (root / "snapshots" / "LATEST").read_text().strip() == old  # nothing was pulled


@pytest.mark.slow
def test_new_catalogue_metric_does_not_leak_into_a_pack_that_did_not_select_it(make_project: MakeProject) -> None:
    root = _project(make_project)
    catalogue = root / "templates" / "metrics.yaml"
    catalogue.write_text(
        BASIC_CATALOGUE
        + """\
  - id: scot_4hr
    title: A&E within 4 hours (Scotland)
    unit: percent
    direction: higher_is_better
    chart: p
    source: ae
    numerator: attendances - breaches
    denominator: attendances
    frequency: monthly
"""
    )
    result = run(root, "build", "mini")
    assert result.returncode == 0, result.stderr
    text = _workbook_text(root)
    assert "A&E 4-hour performance" in text
    assert "Scotland" not in text and "A&E attendances" not in text


def test_appendix_takes_its_own_metrics(make_project: MakeProject) -> None:
    pack = PACK.replace("metrics: [ae_4hr]\n", "").replace(
        "      - appendix: {}\n", "      - appendix: {metrics: [ae_attendances]}\n"
    )
    pack = pack.replace("      - summary_table: {}\n", "      - summary_table: {metrics: [ae_4hr]}\n")
    pack = pack.replace(
        "      - for_each:\n          blocks:", "      - for_each:\n          metrics: [ae_4hr]\n          blocks:"
    )
    root = _project(make_project, pack)
    assert run(root, "build", "mini").returncode == 0
    book = openpyxl.load_workbook(next((root / "outputs").rglob("*.xlsx")))
    definitions = book["Definitions"]
    titles = [row[0].value for row in definitions.iter_rows() if row[0].value]
    assert "A&E attendances" in titles and "A&E 4-hour performance" not in titles


@pytest.mark.slow
def test_org_codes_are_case_insensitive_with_did_you_mean(make_project: MakeProject) -> None:
    root = _project(make_project)
    result = run(root, "build", "mini", "--org", "raa")
    assert result.returncode == 0, result.stderr
    assert _manifest(root)["org"] == "RAA"
    wrong = run(root, "build", "mini", "--org", "RAX")
    assert wrong.returncode == 2
    assert "no data for organisation 'RAX'" in wrong.stderr and "(did you mean 'RAA'?)" in wrong.stderr


def test_boolean_options_show_as_flags_in_help() -> None:
    result = subprocess.run(
        [EXE, "run-once", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert "--dry-run" in result.stdout and "--period" in result.stdout and "<str>" in result.stdout
    assert "<bool>" not in result.stdout, result.stdout
