"""Writing a file so that a reader sees the old whole file or the new whole file, never half of one.

Every output (packs, snapshots, chart images, analysis results) goes through here: the bytes are written to
a temporary file beside the target (same directory, so the rename cannot cross a file system), flushed to
disk, and renamed over the target with os.replace. A failure removes the temporary file and leaves the
target as it was. Temporary names are unique per writer (mkstemp), so two processes writing the same
target never share a half-written file.

This module sits below everything (it imports nothing of ours), so charts/, data/ and packs/ can all use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write"]


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; on a clean exit it replaces `path`, on an error it goes.

    For writers that want a file name rather than bytes (openpyxl, pandas, kaleido, pikepdf). `suffix` is
    the temporary file's ending, for writers that choose the format from it (e.g. ".png").
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write `data` (bytes, or text in `encoding` with newlines as given) to `path` atomically."""
    path = Path(path)
    with atomic_path(path) as temporary:
        if isinstance(data, str):
            with open(temporary, "w", encoding=encoding, newline="") as stream:
                stream.write(data)
        else:
            temporary.write_bytes(data)
    return path


def _fsync(path: Path) -> None:
    """The file's bytes on disk before the rename makes them visible (a crash then leaves old or new)."""
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def _fsync_directory(directory: Path) -> None:
    """The rename itself on disk; not every platform or file system lets a directory be opened for this."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
