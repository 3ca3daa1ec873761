"""Writing the analysis commands' outputs: all files or none."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from reporting.errors import StatsError
from reporting.files import atomic_path

__all__ = ["write_atomically"]


def write_atomically(targets: list[tuple[Path, str]]) -> None:
    """Write every output to a temp file next to it, then rename them all; a failure leaves no output."""
    try:
        with ExitStack() as stack:  # every file written before any is renamed into place
            for path, text in targets:
                temporary = stack.enter_context(atomic_path(path))
                with open(temporary, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
    except OSError as exc:
        raise StatsError(f"{exc.filename or 'output'}: cannot write: {exc.strerror}") from None
