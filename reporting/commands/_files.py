"""Writing the analysis commands' outputs: all files or none."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reporting.errors import StatsError

__all__ = ["write_atomically"]


def write_atomically(targets: list[tuple[Path, str]]) -> None:
    """Write every output to a temp file next to it, then rename them all; a failure leaves no output."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        raise StatsError(f"{exc.filename or 'output'}: cannot write: {exc.strerror}") from None
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
