"""Fixed costs: the quick commands import none of the heavy libraries (measured in a fresh interpreter, as a
person runs them), and `python -m reporting` is the `reporting` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("plotly", "kaleido", "dask", "distributed", "pptx", "docx", "scipy")
PROBE = """
import json, sys
sys.argv = ["reporting", *sys.argv[1:]]
from reporting.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES=" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imports")
    shutil.copytree(REPO / "templates", root / "templates")
    subprocess.run(
        [sys.executable, "-m", "reporting", "--project", str(root), "data", "pull"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root


@pytest.mark.parametrize(
    "command", [["--help"], ["validate"], ["data", "show", "ae_4hr"], ["data", "show", "ae_4hr", "--org", "RJ1"]]
)
def test_quick_commands_import_no_heavy_library(project: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--project", str(project), *command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    loaded = set(json.loads(line.removeprefix("MODULES=")))
    assert "reporting" in loaded
    assert not loaded & set(HEAVY), f"`reporting {' '.join(command)}` imported {sorted(loaded & set(HEAVY))}"


def test_help_imports_no_data_library(project: Path) -> None:
    """`reporting --help` (target 0.3 s) lists commands: pandas, numpy and pyarrow alone cost about 0.3 s."""
    done = subprocess.run([sys.executable, "-c", PROBE, "--help"], capture_output=True, text=True, timeout=120)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    loaded = set(json.loads(line.removeprefix("MODULES=")))
    assert done.returncode == 0 and not loaded & {"pandas", "numpy", "pyarrow"}, sorted(loaded)


def test_python_dash_m_reporting_is_the_command(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reporting", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Usage" in done.stdout and "build" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "reporting", "--project", str(project), "build", "no-such-pack"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "no-such-pack" in bad.stderr


def test_a_command_module_that_cannot_be_imported_fails_loudly(tmp_path: Path) -> None:
    """No silent skip: a missing reporting.commands module is an install error, not a missing command."""
    shadow = tmp_path / "shadow"
    shutil.copytree(REPO / "reporting", shadow / "reporting")
    (shadow / "reporting" / "commands" / "funnel.py").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "reporting", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=shadow,
        env={"PYTHONPATH": str(shadow), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0 and "reporting.commands.funnel" in done.stderr
