"""Integrity (issue 18): `--out` can never replace other packs; cached chart images are trusted only with
their keyed content hash, and live in the project, not a shared /tmp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_fixtures import copy_project

from reporting.charts import Renderer, project_cache, sparkline_chart, spc_chart
from reporting.errors import ConfigError
from reporting.packs.build import build
from reporting.packs.publish import safe_output_dir
from reporting.project import Project


@pytest.fixture
def project(demo_project: Project, tmp_path: Path) -> Project:
    return copy_project(demo_project, tmp_path)


@pytest.mark.slow
def test_out_may_not_be_outputs_or_hold_other_packs(project: Project) -> None:
    (weekly,) = build(project, "weekly-executive", formats=["xlsx"])
    before = sorted(p for p in project.outputs.rglob("*"))
    with pytest.raises(ConfigError, match="is outputs/ itself"):
        build(project, "monthly-performance", formats=["xlsx"], out=project.outputs)
    with pytest.raises(ConfigError, match=r"holds other packs \(2025-08-25\)"):
        build(project, "monthly-performance", formats=["xlsx"], out=project.outputs / "weekly-executive")
    (project.outputs / "notes").mkdir()
    (project.outputs / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="files that are not a pack"):
        safe_output_dir(project.outputs, out=project.outputs / "notes")
    assert sorted(p for p in project.outputs.rglob("*") if "notes" not in p.parts) == before
    assert weekly.directory.exists()
    # a new directory, or an earlier build of the same pack, is fine
    (mine,) = build(project, "weekly-executive", formats=["xlsx"], out=project.outputs / "mine")
    (again,) = build(project, "weekly-executive", formats=["xlsx"], out=project.outputs / "mine")
    assert mine.directory == again.directory and (again.directory / "manifest.json").exists()


def test_tampered_cached_images_are_redrawn(project: Project, tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from reporting.stats.spc import SPCOptions, spc

    frame = pd.DataFrame({"x": pd.date_range("2024-01-01", periods=20, freq="MS"), "y": np.arange(20.0) % 5 + 10})
    result = spc(frame, SPCOptions())
    points, summary = result.points, result.summary.iloc[0].to_dict()
    specs = [spc_chart(points, summary, title="Tamper test", unit="count"), sparkline_chart(points, title="spark")]
    cache = project_cache(project.root)
    assert cache == project.root / ".reporting" / "cache"
    with Renderer(cache) as renderer:
        first = renderer.render(specs)
        good = [img.path.read_bytes() for img in first]
        for img in first:
            img.path.write_bytes(b"\x89PNG\r\n\x1a\n planted by someone else")
        again = renderer.render(specs)
        assert [img.path.read_bytes() for img in again] == good  # drawn again, not trusted
        drawn = renderer.rendered + renderer.drawn
        renderer.render(specs)  # untouched: used from the cache
        assert renderer.rendered + renderer.drawn == drawn
    assert (cache / "cache.key").stat().st_mode & 0o077 == 0


def test_default_cache_is_never_a_shared_folder() -> None:
    import tempfile

    with Renderer() as one, Renderer() as two:
        assert one.cache != two.cache
        assert one.cache != Path(tempfile.gettempdir()) / "reporting-chart-cache"


@pytest.fixture
def full_outputs(demo_project: Project, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "p"
    shutil.copytree(demo_project.root, root)
    outputs = root / "outputs"
    outputs.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(outputs)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(outputs)], check=False)


@pytest.mark.slow
def test_full_disk_is_one_line_and_publishes_nothing(full_outputs: Path) -> None:
    exe = str(Path(sys.executable).with_name("reporting"))
    result = subprocess.run(
        [exe, "--project", str(full_outputs), "build", "monthly-performance", "--format", "xlsx"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no space left on" in lines[0] and str(full_outputs / "outputs") in lines[0], (
        result.stderr
    )
    assert not [p for p in (full_outputs / "outputs").rglob("*") if p.is_file()]  # nothing half-published
