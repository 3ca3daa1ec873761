"""Publishing one format keeps the others already published for that pack and period, lists every file with
the build that wrote it, flags files from a build of other inputs, and applies one permission policy."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_fixtures import copy_project

from reporting.charts import Renderer
from reporting.files import PRIVATE_ENV, atomic_write
from reporting.packs.build import build
from reporting.project import Project

pytestmark = pytest.mark.slow  # whole-pack builds

STEM = "weekly-executive-2025-08-25"


@pytest.fixture
def project(demo_project: Project, tmp_path: Path) -> Project:
    return copy_project(demo_project, tmp_path)


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _manifest(directory: Path) -> dict[str, object]:
    return json.loads((directory / "manifest.json").read_text())  # type: ignore[no-any-return]


def _modes(directory: Path) -> dict[str, int]:
    return {
        str(p.relative_to(directory.parent)): stat.S_IMODE(p.stat().st_mode) for p in [directory, *directory.rglob("*")]
    }


def test_pdf_alone_keeps_pptx_and_xlsx_and_lists_them(project: Project, renderer: Renderer) -> None:
    (first,) = build(project, "weekly-executive", renderer=renderer, built_at="2026-01-01T00:00:00+00:00")
    assert {p.name for p in first.files} == {f"{STEM}.pptx", f"{STEM}.xlsx"}
    before = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in first.files}

    (second,) = build(
        project, "weekly-executive", formats=["pdf"], renderer=renderer, built_at="2026-01-02T00:00:00+00:00"
    )
    assert second.directory == first.directory
    assert [p.name for p in second.files] == [f"{STEM}.pdf"]  # what this build made (and emails attach)
    on_disk = {p.name for p in second.directory.iterdir() if p.is_file()}
    assert {f"{STEM}.pptx", f"{STEM}.xlsx", f"{STEM}.pdf"} <= on_disk
    for name, digest in before.items():  # the same files, not rebuilt
        assert hashlib.sha256((second.directory / name).read_bytes()).hexdigest() == digest

    manifest = _manifest(second.directory)
    files = {f["name"]: f for f in manifest["files"]}  # type: ignore[attr-defined]
    assert set(files) == {f"{STEM}.pptx", f"{STEM}.xlsx", f"{STEM}.pdf"}
    for name, line in files.items():  # every file present, its hash true, and the build that wrote it
        assert line["sha256"] == hashlib.sha256((second.directory / name).read_bytes()).hexdigest()
        assert line["inputs_sha256"] == manifest["inputs_sha256"]
        assert "stale" not in line
    assert files[f"{STEM}.pdf"]["built_at"] == "2026-01-02T00:00:00+00:00"
    assert files[f"{STEM}.pptx"]["built_at"] == files[f"{STEM}.xlsx"]["built_at"] == "2026-01-01T00:00:00+00:00"
    assert files[f"{STEM}.pptx"]["kept_from_earlier_build"] is True
    assert "kept_from_earlier_build" not in files[f"{STEM}.pdf"]
    assert not [p for p in second.directory.parent.iterdir() if p.name.startswith((".building-", ".old-"))]
    # a build without the PDF keeps it and its accessibility record
    (third,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    assert f"{STEM}.pdf" in {f["name"] for f in third.manifest["files"]}
    assert third.manifest["accessibility"] == manifest["accessibility"]
    # the delivery key is what this build made: the kept files do not change it
    (alone,) = build(project, "weekly-executive", formats=["pdf"], renderer=renderer, out=project.outputs / "solo")
    assert alone.content_hash == second.content_hash


def test_a_file_from_other_inputs_is_flagged_not_mixed_silently(project: Project, renderer: Renderer) -> None:
    (first,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    template = project.root / "templates" / "packs" / "weekly-executive.yaml"
    template.write_text(template.read_text() + "\n# edited after the xlsx was published\n")
    (second,) = build(project, "weekly-executive", formats=["pptx"], renderer=renderer)
    files = {f["name"]: f for f in second.manifest["files"]}
    assert set(files) == {f"{STEM}.pptx", f"{STEM}.xlsx"}
    assert files[f"{STEM}.xlsx"]["stale"] is True
    assert files[f"{STEM}.xlsx"]["inputs_sha256"] == first.manifest["inputs_sha256"] != second.manifest["inputs_sha256"]
    assert "stale" not in files[f"{STEM}.pptx"]
    flagged = [w for w in second.manifest["warnings"] if w.startswith(f"{STEM}.xlsx")]
    assert flagged and "--format xlsx" in flagged[0]
    assert flagged[0] in second.warnings
    # rebuilding it clears the flag
    (third,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    assert not [f for f in third.manifest["files"] if f.get("stale")]


def test_only_files_the_manifest_lists_are_kept(project: Project, renderer: Renderer) -> None:
    (first,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    (first.directory / "notes.txt").write_text("not part of the pack")
    (second,) = build(project, "weekly-executive", formats=["pptx"], renderer=renderer)
    assert not (second.directory / "notes.txt").exists()
    assert (second.directory / f"{STEM}.xlsx").exists()


def test_one_permission_policy_for_every_published_file_and_folder(
    project: Project, renderer: Renderer, umask_027: None
) -> None:
    (result,) = build(project, "weekly-executive", formats=["pptx", "xlsx", "pdf"], renderer=renderer)
    modes = _modes(result.directory)
    folders = {name for name in modes if (result.directory.parent / name).is_dir()}
    assert folders and {modes[n] for n in folders} == {0o750}, modes
    assert {modes[n] for n in modes if n not in folders} == {0o640}, modes
    # a build of one format, keeping the others, gives them the same modes
    (again,) = build(project, "weekly-executive", formats=["pdf"], renderer=renderer)
    assert set(_modes(again.directory).values()) == {0o750, 0o640}


def test_private_setting_makes_0600_and_0700(
    project: Project, renderer: Renderer, umask_027: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRIVATE_ENV, "1")
    (result,) = build(project, "weekly-executive", formats=["xlsx"], renderer=renderer)
    assert set(_modes(result.directory).values()) == {0o700, 0o600}


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_follows_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    old = os.umask(mask)
    try:
        path = atomic_write(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(path.stat().st_mode) == expected
    finally:
        os.umask(old)
