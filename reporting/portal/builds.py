"""The published builds under outputs/, read from their manifests, and the one safe way to a file of one.

A download URL names (pack, period, organisation, file name); each part must be a plain name (the rule of
packs.publish.safe_output_dir) and the file must be one the build's manifest lists, so no URL can reach
anything else under outputs/ or outside it (`..`, encoded slashes, symlinks, the manifest's own siblings).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.errors import ReportingError
from reporting.project import Project

__all__ = ["Build", "build_file", "build_json", "builds", "find_build", "templates"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Build:
    pack: str
    period: str
    org: str | None  # the manifest's organisation (None: a pack of no organisation)
    folder_org: str | None  # the organisation's folder under the period, when the build has one
    directory: Path
    manifest: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.pack, self.period, self.folder_org or "-")

    @property
    def approval(self) -> dict[str, Any] | None:
        value = self.manifest.get("approval")
        return value if isinstance(value, dict) else None

    def files(self) -> list[str]:
        return [str(f["name"]) for f in self.manifest.get("files", []) if _SAFE.match(str(f.get("name", "")))]

    def open_data(self) -> list[str]:
        listed = (self.manifest.get("open_data") or {}).get("files", [])
        return [str(f["name"]) for f in listed if _SAFE.match(str(f.get("name", "")))]


def _read(directory: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def builds(outputs: Path) -> list[Build]:
    """Every published build, newest period first (staging and old directories, dot-named, are not builds)."""
    found: list[Build] = []
    if not outputs.is_dir():
        return found
    for pack in sorted(p for p in outputs.iterdir() if p.is_dir() and _SAFE.match(p.name)):
        for period in sorted((p for p in pack.iterdir() if p.is_dir() and _SAFE.match(p.name)), reverse=True):
            manifest = _read(period)
            if manifest is not None:
                found.append(Build(pack.name, period.name, manifest.get("org"), None, period, manifest))
            for org in sorted(p for p in period.iterdir() if p.is_dir() and _SAFE.match(p.name)):
                manifest = _read(org)
                if manifest is not None:
                    found.append(Build(pack.name, period.name, manifest.get("org"), org.name, org, manifest))
    return found


def find_build(outputs: Path, pack: str, period: str, org: str | None) -> Build | None:
    if not all(_SAFE.match(p) for p in (pack, period, *([org] if org else []))):
        return None
    directory = outputs / pack / period / org if org else outputs / pack / period
    manifest = _read(directory)
    if manifest is None:
        return None
    return Build(pack, period, manifest.get("org"), org, directory, manifest)


def build_file(build: Build, name: str) -> Path | None:
    """The file `name` of `build` when its manifest lists it (pack files and open data), else None."""
    if not _SAFE.match(name) or name not in {*build.files(), *build.open_data(), "manifest.json"}:
        return None
    path = build.directory / name
    if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(build.directory.resolve()):
        return None
    return path


def templates(project: Project) -> list[dict[str, Any]]:
    from reporting.packs.template_load import load_template, template_files

    out = []
    for path in template_files(project.root):
        try:
            template, _, _ = load_template(project.root, path.stem)
        except ReportingError as exc:
            out.append({"pack": path.stem, "title": path.stem, "public": False, "error": str(exc), "approval": None})
            continue
        approvers = template.approval.approvers if template.approval else []
        out.append(
            {
                "pack": template.pack,
                "title": template.title,
                "public": template.public,
                "error": None,
                "approval": approvers,
            }
        )
    return out


def build_json(b: Build) -> dict[str, Any]:
    base = f"/files/{b.pack}/{b.period}" + (f"/{b.folder_org}" if b.folder_org else "")
    return {
        "pack": b.pack,
        "period": b.period,
        "org": b.org,
        "title": b.manifest.get("title"),
        "built_at": b.manifest.get("built_at"),
        "approval": (b.approval or {}).get("status"),
        "files": [f"{base}/{name}" for name in b.files()],
        "open_data": [f"{base}/{name}" for name in b.open_data()],
    }
