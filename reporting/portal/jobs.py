"""The portal's job actions: "send now" and "resend" carried out here, through the delivery log, one at a time
per job (a lock file, so a double click or two browsers do not run the job twice at once)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from reporting.project import Project

__all__ = ["send"]


@contextmanager
def _job_lock(project: Project, job_id: str) -> Iterator[None]:
    """One "send now" of a job at a time across processes (a double click, two browsers): an exclusive lock
    on .reporting/locks/<job>.lock, or BlockingIOError when it is held."""
    folder = project.root / ".reporting" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{job_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def send(project: Project, job_id: str, address: str) -> tuple[str, str]:
    """Run the job now (or resend to one address whose earlier delivery's outcome is unknown) through the
    delivery log; returns the message to show and its kind."""
    from reporting.schedule.runner import run_once

    try:
        with _job_lock(project, job_id):
            report = run_once(project, job_id, trigger="portal", resend=(address,) if address else ())
    except BlockingIOError:
        return f"{job_id} is already running (a second click does nothing); see Runs", "error"
    if report.status == "failed":
        return f"{job_id} failed: {report.error}", "error"
    parts = [f"{job_id}: {report.status}", f"sent {len(report.sent)}", f"already had it {len(report.already)}"]
    if report.held:
        parts.append(f"{len(report.held)} held for approval")
    if report.failed:
        parts.append(f"failed {len(report.failed)}: " + "; ".join(f"{k}: {v}" for k, v in report.failed.items()))
    return ", ".join(parts), "error" if report.failed else "ok"
