"""Publishing a built pack: output paths that cannot leave outputs/, manifest entries, and the swap into place.

A build writes every file into a staging directory inside outputs/ (packs.build); only when all of them
succeeded is that directory swapped into place whole, so nothing half-made is ever published. Staging
directories of builds that were killed are removed on the next build.

A build of some formats keeps the other formats already published for that pack, period and organisation:
they are linked into the staging directory before the swap (`carry_over`), so the manifest lists every file
present, each with the build that wrote it. A kept file from a build of different inputs (snapshot, template
or parameters) is kept but flagged `stale` in the manifest and in the build's warnings, never silently mixed
in: rebuilding it would need LibreOffice and minutes the caller did not ask for, deleting it is the bug this
replaced. Emails attach only the files of the build that sent them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporting.approval import ApprovalOptions, ApprovalState
from reporting.errors import ConfigError
from reporting.files import apply_permissions

__all__ = [
    "Kept",
    "approval_state",
    "carry_over",
    "content_hash",
    "entry",
    "inputs_hash",
    "publish",
    "remove_abandoned",
    "safe_output_dir",
]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def safe_output_dir(outputs: Path, *parts: str, out: Path | None = None) -> Path:
    """outputs/<parts...> (or `out`), refusing anything that would land outside outputs/."""
    for part in parts:
        if not _SAFE.match(part):
            raise ConfigError(
                f"{part!r} cannot be part of an output path (letters, digits, . _ - only)", field="output"
            )
    base = outputs.resolve()
    target = out if out is not None else base.joinpath(*parts)
    target = (target if target.is_absolute() else Path.cwd() / target).resolve()
    if not target.is_relative_to(base):
        raise ConfigError(
            f"output directory {target} is outside {base}; packs are only written under outputs/", field="--out"
        )
    if out is not None:  # publishing replaces the directory whole: never one that holds anything else
        if target == base:
            raise ConfigError(
                f"--out {target} is outputs/ itself; publishing there would delete every other pack; "
                f"give a directory for this pack (e.g. outputs/my-pack)",
                field="--out",
            )
        if target.is_dir():
            others = sorted(
                str(p.parent.relative_to(target)) for p in target.rglob("manifest.json") if p.parent != target
            )
            if others or (not (target / "manifest.json").exists() and any(target.iterdir())):
                what = (
                    f"other packs ({', '.join(others[:3])}{' ...' if len(others) > 3 else ''})"
                    if others
                    else "files that are not a pack"
                )
                raise ConfigError(
                    f"--out {target} holds {what}; publishing replaces the directory whole, so give "
                    f"a new or empty directory, or one holding an earlier build of this pack",
                    field="--out",
                )
    return target


def content_hash(path: Path) -> str:
    """Hash of what a file says: its sha256, as every writer here is deterministic (a rebuild is the same bytes).

    Office files through reporting.office_package, PDFs through render.pdf.reproducible."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entry(f: Path) -> dict[str, Any]:
    """A file's line in manifest.json: name, size, sha256 and content hash."""
    return {
        "name": f.name,
        "bytes": f.stat().st_size,
        "sha256": hashlib.sha256(f.read_bytes()).hexdigest(),
        "content_sha256": content_hash(f),
    }


def inputs_hash(snapshot_hash: str, template_hash: str, parameters: dict[str, Any]) -> str:
    """What a build was made from, as one hash: two files with the same one belong together in a pack."""
    key = json.dumps([snapshot_hash, template_hash, parameters], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Kept:
    """What `carry_over` kept of the published pack."""

    entries: list[dict[str, Any]] = field(default_factory=list)  # manifest lines, with the build that wrote them
    warnings: list[str] = field(default_factory=list)  # one per file made from other inputs
    accessibility: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # a kept PDF's PDF/UA failures


def carry_over(final: Path, staging: Path, inputs: str) -> Kept:
    """Files of the published pack at `final` that this build did not write are linked into `staging`, so the
    swap keeps them, with their manifest lines (the build that wrote them), a warning for each one made from
    other inputs than `inputs`, and a kept PDF's accessibility failures. Only files its manifest lists are
    kept, never anything else."""
    try:
        old = json.loads((final / "manifest.json").read_text())
    except (OSError, ValueError):
        return Kept()
    old_inputs = (
        inputs_hash(old["snapshot_hash"], old["template_hash"], old.get("parameters", {}))
        if {"snapshot_hash", "template_hash"} <= old.keys()
        else None
    )
    kept: list[dict[str, Any]] = []
    warnings: list[str] = []
    accessibility: dict[str, list[dict[str, Any]]] = {}
    for item in old.get("files", []):
        name = str(item.get("name", ""))
        source, target = final / name, staging / name
        if not _SAFE.match(name) or target.exists() or not source.is_file() or source.is_symlink():
            continue
        try:
            os.link(source, target)  # files are replaced, never edited in place: sharing the inode is safe
        except OSError:
            shutil.copy2(source, target)
        built_at = item.get("built_at", old.get("built_at"))
        made_from = item.get("inputs_sha256", old_inputs)
        line = {**entry(target), "built_at": built_at, "inputs_sha256": made_from, "kept_from_earlier_build": True}
        if made_from != inputs:
            line["stale"] = True
            warnings.append(
                f"{name} is from an earlier build (built {built_at}) of other inputs (data snapshot, template or "
                f"parameters) than the rest of this pack; rebuild it with --format {target.suffix.lstrip('.')}"
            )
        kept.append(line)
        failures = old.get("accessibility", {}).get("failures", {})
        if name in failures:
            accessibility[name] = failures[name]
    return Kept(kept, warnings, accessibility)


def approval_state(final: Path, template: ApprovalOptions | None, given: ApprovalState | None) -> ApprovalState:
    """Who must approve this build (the template's approvers and the caller's, e.g. a job's) and what has been
    decided. The caller's decisions (from the history database) are the record; without them a rebuild keeps
    the approval the published pack at `final` records for the same content hash, so `reporting build` of an
    approved pack from the same inputs is not turned back into a draft."""
    approvers = tuple(dict.fromkeys([*(template.approvers if template else ()), *(given.approvers if given else ())]))
    if given is not None and given.decided:
        return ApprovalState(approvers, given.decided)
    try:
        old = json.loads((final / "manifest.json").read_text()).get("approval") or {}
    except (OSError, ValueError):
        old = {}
    if old.get("status") == "approved" and isinstance(old.get("content_sha256"), str):
        trail = tuple({str(k): str(v) for k, v in e.items()} for e in old.get("trail", []) if isinstance(e, dict))
        return ApprovalState(approvers, {old["content_sha256"]: (True, trail)})
    return ApprovalState(approvers)


def remove_abandoned(folder: Path) -> None:
    """Staging directories left by a build that was killed (its process is gone) are removed, never published."""
    for stale in folder.glob(".building-*"):
        match = re.match(r"\.building-.+?-(\d+)-", stale.name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass


def publish(staging: Path, final: Path) -> None:
    """Swap the finished directory into place; an earlier build of the same pack is replaced whole (what it
    should keep was carried into `staging` first). The permission policy (reporting.files) is applied first:
    mkdtemp made the folder 0700 and LibreOffice writes its PDFs with its own mode."""
    apply_permissions(staging)
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
