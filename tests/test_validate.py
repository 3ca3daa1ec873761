"""`reporting validate` checks everything a build or scheduled run needs and reports every error at once
(issue 14: it used to stop at the first, and to pass things the build then failed on)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from project_fixtures import BASIC_CATALOGUE, MakeProject

EXE = str(Path(sys.executable).with_name("reporting"))

PACK = """\
pack: mini
title: Mini pack
cadence: monthly
formats: [xlsx]
metrics: [ae_4hr]
sections:
  - title: Summary
    blocks:
      - summary_table: {}
      - text: "{{ narrative('ae_4hr') }}"
      - appendix: {}
"""


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})}
    )


def _with_pack(make_project: MakeProject, pack: str = PACK, catalogue: str = BASIC_CATALOGUE, name: str = "mini"):
    project = make_project(catalogue)
    folder = project.root / "templates" / "packs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(pack)
    return project


def test_shipped_style_project_passes(make_project: MakeProject) -> None:
    project = _with_pack(make_project)
    result = run("--project", str(project.root), "validate")
    assert result.returncode == 0, result.stderr
    assert "mini.yaml: 1 sections" in result.stdout
    assert "metric 'ae_attendances' is in no pack" in result.stderr  # a warning, not an error


def test_every_error_at_once_with_file_line_and_suggestion(make_project: MakeProject) -> None:
    catalogue = BASIC_CATALOGUE.replace(
        "    denominator: attendances\n", "    denominator: attendances\n    target: 92\n"
    )
    catalogue = catalogue.replace("    unit: count\n", "    units: count\n")
    pack = PACK.replace(
        "formats: [xlsx]\n", "formats: [xlsx]\ntheme: {font_sise: 12, palette: {higlight: '#112233'}}\n"
    )
    pack = pack.replace(
        "      - appendix: {}\n",
        "      - appendix: {}\n      - page_break: {foo: 1}\n"
        "      - text: \"{{ narrative('scot_4hr') }} {{ value('ae_4hr') }} {{ orgname }}\"\n"
        "      - funnel: {metric: ae_4hr, peers: acutee}\n",
    )
    catalogue = catalogue.replace(
        "metrics:\n",
        "  trusts:\n    kind: csv\n    path: data/trusts.csv\n"
        "orgs:\n  source: trusts\n  peer_groups: {acute: is_acute}\nmetrics:\n",
        1,
    )
    project = _with_pack(make_project, pack, catalogue)
    (project.root / "data" / "trusts.csv").write_text("org_code,org_name,is_acute\nRAA,A,true\nRBB,B,false\n")
    (project.root / "schedules.yaml").write_text(
        "smtp: {host: localhost, from: reports@example.org}\n"
        "jobs:\n  - id: j\n    pack: minii\n    every: monday 07:00\n    recipients: {addresses: [a@example.org]}\n"
        "    owner: a@example.org\n"
    )
    result = run("--project", str(project.root), "validate")
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    text = "\n".join(errors)
    mini = str(project.root / "templates" / "packs" / "mini.yaml")
    metrics = str(project.catalogue_file)
    expected = [
        f"{metrics}:20:5, field 'metrics[0].target': target 92 is not a fraction",
        "write 0.92",
        f"{metrics}:24:5, field 'metrics[1].units': unknown key 'units' (did you mean 'unit'?)",
        f"{mini}:5:",
        "unknown key 'font_sise' (did you mean 'font_size'?)",
        "unknown key 'higlight' (did you mean 'highlight'?)",
        f"{mini}:13:22, field 'sections[0].blocks[3].page_break.foo': unknown key 'foo'",
        "narrative('scot_4hr'): unknown metric 'scot_4hr'",
        "unknown name 'orgname' in the text (did you mean 'org_name'?)",
        "unknown peer group 'acutee' (did you mean 'acute'?)",
        "schedules.yaml:4:5, field 'jobs[0].pack': unknown pack 'minii' (did you mean 'mini'?)",
    ]
    for part in expected:
        assert part in text, (part, text)
    assert f"{len(errors)} error(s)" in result.stderr


def test_theme_error_in_build_is_one_line_not_a_traceback(make_project: MakeProject) -> None:
    """Seen: a bad theme key passed validate, then the build failed with a Python traceback and exit 1."""
    project = _with_pack(make_project, PACK.replace("formats: [xlsx]\n", "formats: [xlsx]\ntheme: {fontsize: 3}\n"))
    result = run("--project", str(project.root), "build", "mini")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "mini.yaml:5:" in result.stderr and "unknown key 'fontsize' (did you mean 'font_size'?)" in result.stderr


def test_office_template_missing_layouts_and_styles(make_project: MakeProject, tmp_path: Path) -> None:
    from docx import Document
    from pptx import Presentation

    pptx_path, docx_path = tmp_path / "own.pptx", tmp_path / "own.docx"
    prs = Presentation()
    section = next(layout for layout in prs.slide_layouts if layout.name == "Section Header")
    section._element.cSld.set("name", "Section Heading")  # an analyst's master names it differently
    prs.save(str(pptx_path))
    Document().save(str(docx_path))
    pack = PACK.replace(
        "formats: [xlsx]\n", f"formats: [pptx, docx]\noffice: {{pptx: {pptx_path}, docx: {docx_path}}}\n"
    )
    project = _with_pack(make_project, pack)
    result = run("--project", str(project.root), "validate")
    assert result.returncode == 2
    assert f"{docx_path}: no style 'NHS Table'" in result.stderr
    assert f"{pptx_path}: no slide layout 'Section Header' (did you mean 'Section Heading'?)" in result.stderr


def test_bad_rows_in_two_metrics_both_reported(make_project: MakeProject) -> None:
    from project_fixtures import BASIC_CSV

    project = make_project(
        BASIC_CATALOGUE.replace("value: attendances", "value: attendance"),
        {"data/ae.csv": BASIC_CSV.replace("120,30", "120,x")},
    )
    result = run("--project", str(project.root), "validate")
    assert result.returncode == 2
    assert "ae.csv:3, field 'breaches': expected a number" in result.stderr
    assert "column 'attendance' not found (did you mean 'attendances'?)" in result.stderr
