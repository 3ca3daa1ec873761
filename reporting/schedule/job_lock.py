"""One run of a job at a time across processes: the daemon's scheduled runs, the portal's "send now" and
resend, each under an exclusive lock on .reporting/locks/<job>.lock, so two of them never deliver the same job
at once (the delivery log then makes a later run send nothing twice)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["job_lock"]


@contextmanager
def job_lock(project_root: Path, job_id: str, *, wait: bool) -> Iterator[None]:
    """Hold the job's lock for the block. `wait=False` raises BlockingIOError when another run holds it (the
    portal says so); `wait=True` waits for it (a scheduled run after a "send now" then finds it delivered)."""
    folder = Path(project_root) / ".reporting" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{job_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)
