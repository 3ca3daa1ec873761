"""Immutable snapshots of a load: Parquet files named by a content hash, so a pack can say which data it used.

The hash is taken over a canonical text form of the frames (sorted rows, fixed float format), not over the
Parquet bytes, so it does not change with the Parquet library's version. A snapshot is written to a temporary
file and moved into place, and the `LATEST` pointer is replaced only after the snapshot is complete: a failed
pull leaves the last good snapshot as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reporting.data.frame import validate_metric_frame
from reporting.errors import DataError
from reporting.files import atomic_path

__all__ = ["Snapshot", "content_hash", "latest_snapshot", "read_snapshot", "stale_definitions", "write_snapshot"]

HASH_LENGTH = 16
LATEST = "LATEST"


@dataclass(frozen=True)
class Snapshot:
    hash: str
    metrics: pd.DataFrame
    orgs: pd.DataFrame
    meta: dict[str, Any]


def _canonical(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.17g", date_format="%Y-%m-%d", lineterminator="\n").encode()


def content_hash(metrics: pd.DataFrame, orgs: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(_canonical(validate_metric_frame(metrics)))
    digest.update(b"\x00orgs\x00")
    digest.update(_canonical(orgs.sort_values("org_code").reset_index(drop=True)))
    return digest.hexdigest()[:HASH_LENGTH]


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """`write(temporary path)`, then the file moved into place (reporting.files); a full disk said plainly."""
    try:
        with atomic_path(path) as temporary:
            write(temporary)
    except BaseException as exc:
        from reporting.limits import no_space

        full = no_space(exc, path.parent)
        if full is not exc:
            raise full from exc
        raise


def write_snapshot(directory: Path, metrics: pd.DataFrame, orgs: pd.DataFrame, meta: dict[str, Any]) -> Snapshot:
    """Write (or reuse) the snapshot of these frames and point LATEST at it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the snapshot directory: {exc.strerror}", source=str(directory), field="snapshot"
        ) from exc
    metrics = validate_metric_frame(metrics)
    digest = content_hash(metrics, orgs)
    meta = {**meta, "hash": digest, "rows": len(metrics), "orgs": len(orgs)}
    meta_path = directory / f"{digest}.json"
    parts = [meta_path, directory / f"{digest}.metrics.parquet", directory / f"{digest}.orgs.parquet"]
    if not all(p.exists() for p in parts):  # immutable: same content, same files; a damaged set is rewritten
        _atomic_write(directory / f"{digest}.metrics.parquet", lambda p: metrics.to_parquet(p, index=False))
        _atomic_write(directory / f"{digest}.orgs.parquet", lambda p: orgs.to_parquet(p, index=False))
        meta.setdefault("created", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        meta["files"] = {p.name: _file_check(p) for p in parts[1:]}
        _atomic_write(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2, default=str) + "\n"))
    else:
        recorded = json.loads(meta_path.read_text())
        if "definitions" in meta and recorded.get("definitions") != meta["definitions"]:
            # same data from changed definitions: the data files stay as they are (they are named by their
            # content), but the record of what they were pulled for must be the latest one
            recorded["definitions"] = meta["definitions"]
            _atomic_write(meta_path, lambda p: p.write_text(json.dumps(recorded, indent=2, default=str) + "\n"))
        meta = recorded
    _atomic_write(directory / LATEST, lambda p: p.write_text(digest + "\n"))
    return Snapshot(digest, metrics, orgs, meta)


def _file_check(path: Path) -> dict[str, Any]:
    """What a snapshot's manifest records of each file: its size and a checksum of its bytes (milliseconds,
    where re-hashing the canonical content of 66k rows takes a quarter of a second or more)."""
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _files_unchanged(directory: Path, meta: dict[str, Any]) -> bool:
    files = meta.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, recorded in files.items():
        path = directory / name
        try:
            if path.stat().st_size != recorded.get("bytes") or _file_check(path) != recorded:
                return False
        except (OSError, AttributeError):
            return False
    return True


def read_snapshot(directory: Path, digest: str) -> Snapshot:
    """Read a snapshot back and check its content still has the hash it is named by.

    The content hash is trusted from the manifest when every file still has the size and checksum recorded
    when it was written; otherwise (an older snapshot, or bytes that changed) the content is hashed again.
    """
    meta_path = directory / f"{digest}.json"
    if not meta_path.exists():
        raise DataError(f"no snapshot {digest} in {directory}; run 'reporting data pull' first", field="snapshot")
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as exc:
        raise DataError(
            f"snapshot {digest}'s manifest is damaged ({exc}); run 'reporting data pull' to write it again",
            source=str(meta_path),
            field="snapshot",
        ) from exc
    try:
        metrics = validate_metric_frame(pd.read_parquet(directory / f"{digest}.metrics.parquet"))
        orgs = pd.read_parquet(directory / f"{digest}.orgs.parquet")
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise DataError(
            f"snapshot {digest} is damaged or incomplete ({type(exc).__name__}); run "
            f"'reporting data pull' to write it again",
            source=str(directory),
            field="snapshot",
        ) from exc
    for column in orgs.columns:
        orgs[column] = orgs[column].astype("string")
    if not (meta.get("hash") == digest and _files_unchanged(directory, meta)):
        actual = content_hash(metrics, orgs)
        if actual != digest:  # a pull rewrites it: the content is named by its hash, so a changed file is damage
            raise DataError(
                f"snapshot {digest} has been changed on disk (its content hashes to {actual})",
                source=str(directory),
                field="snapshot",
            )
    return Snapshot(digest, metrics, orgs, meta)


def stale_definitions(snapshot: Snapshot, catalogue: Any) -> list[str]:
    """Metrics (and "orgs") whose catalogue definition changed since `snapshot` was pulled, so its data may no
    longer be what the catalogue says; a snapshot that records no definitions counts as stale throughout."""
    from reporting.data.catalogue import definition_hashes

    current = definition_hashes(catalogue)
    recorded = snapshot.meta.get("definitions")
    if not isinstance(recorded, dict):
        return [key.removeprefix("metric:") for key in current]
    return [key.removeprefix("metric:") for key, digest in current.items() if recorded.get(key) != digest]


def latest_snapshot(directory: Path) -> Snapshot:
    pointer = directory / LATEST
    if not pointer.exists():
        raise DataError(f"no snapshot yet in {directory}; run 'reporting data pull' first", field="snapshot")
    return read_snapshot(directory, pointer.read_text().strip())
