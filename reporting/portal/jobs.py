"""The portal's job actions: "send now" and "resend" carried out here, through the delivery log, one at a time
per job (schedule.job_lock, the daemon's too: a double click, two browsers or a scheduled run at the same moment
never run the job twice at once)."""

from __future__ import annotations

from reporting.project import Project
from reporting.schedule.job_lock import job_lock

__all__ = ["send"]


def send(project: Project, job_id: str, address: str) -> tuple[str, str]:
    """Run the job now (or resend to one address whose earlier delivery's outcome is unknown) through the
    delivery log; returns the message to show and its kind."""
    from reporting.schedule.runner import run_once

    try:
        with job_lock(project.root, job_id, wait=False):
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
