"""Writing a file so that a reader sees the old whole file or the new whole file, never half of one.

Every output (packs, snapshots, chart images, analysis results) goes through here: the bytes are written to
a temporary file beside the target (same directory, so the rename cannot cross a file system), flushed to
disk, and renamed over the target with os.replace. A failure removes the temporary file and leaves the
target as it was. Temporary names are unique per writer (mkstemp), so two processes writing the same
target never share a half-written file.

One permission policy for everything we write (the folders and files of a pack alike): files get
0666 & ~umask and folders 0777 & ~umask, as any ordinary program's would, so the operator's umask decides
who may read the outputs (022: everyone, 027: the group, 077: only the owner). With REPORTING_PRIVATE=1 in
the environment (inherited by scheduler and Dask workers) they are 0600 and 0700 whatever the umask.
mkstemp and mkdtemp make 0600/0700 on their own; that is why every writer here sets the mode itself.

This module sits below everything (it imports nothing of ours), so charts/, data/ and packs/ can all use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PRIVATE_ENV", "apply_permissions", "atomic_path", "atomic_write", "dir_mode", "file_mode"]

PRIVATE_ENV = "REPORTING_PRIVATE"


def _umask() -> int:
    """The process umask, read without changing it where the platform allows (os.umask can only swap it,
    and another thread creating a file during the swap would get mode 0666)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _private() -> bool:
    return os.environ.get(PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes"}


def file_mode() -> int:
    """The mode of every file we publish (see the module docstring)."""
    return 0o600 if _private() else 0o666 & ~_umask()


def dir_mode() -> int:
    """The mode of every folder we publish."""
    return 0o700 if _private() else 0o777 & ~_umask()


def apply_permissions(root: Path) -> None:
    """The policy on `root` and everything under it (for folders made by mkdtemp and files written by other
    programs, e.g. LibreOffice's PDFs); symbolic links are left alone."""
    files, folders = file_mode(), dir_mode()
    root = Path(root)
    if root.is_symlink():
        return
    os.chmod(root, folders if root.is_dir() else files)
    if not root.is_dir():
        return
    for path in root.rglob("*"):
        if not path.is_symlink():
            os.chmod(path, folders if path.is_dir() else files)


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
        os.chmod(temporary, file_mode())  # mkstemp's 0600 is not the policy
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
