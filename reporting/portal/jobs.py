"""The portal's job actions, carried out here through the delivery log, one at a time per job (schedule.job_lock,
the daemon's too: a double click, two browsers or a scheduled run at the same moment never run the job twice at
once): "send now", "resend" of a delivery whose outcome is unknown, a test run to the job's test mailbox
(schedule.mailbox), and a resend of a delivered message from its published files (schedule.resend). The test
run and the resend also claim the form's one-time token (schedule.delivery_kinds.claim_form), so the same form
submitted twice acts once however the clicks and the lock interleave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reporting.errors import ReportingError
from reporting.project import Project
from reporting.schedule.history import NOT_REAL, History
from reporting.schedule.job_lock import job_lock

__all__ = ["AGAIN", "RELOAD", "job_rows", "resend_sent", "send", "test_run"]

AGAIN = "this form was already submitted (a double click?): it was acted on once; see Runs and deliveries"
RELOAD = "this form has no valid one-time token (a page from before an upgrade?): reload the page and submit it again"


def _token_ok(token: str) -> bool:
    """A form's one-time token as the portal's pages make it (schedule.delivery_kinds.claim_form takes up to 64)."""
    return 0 < len(token) <= 64


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
    if report.skipped:  # e.g. send_if: data_changed with the data unchanged since the last real run
        parts.append(f"skipped: {report.skipped}")
    if report.held:
        parts.append(f"{len(report.held)} held for approval")
    if report.failed:
        parts.append(f"failed {len(report.failed)}: " + "; ".join(f"{k}: {v}" for k, v in report.failed.items()))
    return ", ".join(parts), "error" if report.failed else "ok"


def test_run(project: Project, history: History, job_id: str, by: str, token: str) -> tuple[str, str, str]:
    """The job built as a real run would, every message only to its test mailbox (schedule.mailbox). Returns the
    flash, its kind and the Portal actions detail (counts only: every analyst sees that table, whatever their
    organisations, so it names no recipient)."""
    from reporting.schedule.delivery_kinds import claim_form
    from reporting.schedule.runner import run_once

    if not _token_ok(token):
        return RELOAD, "error", "no valid form token"
    if not claim_form(history, token, by, "test"):
        return AGAIN, "error", "already submitted"
    try:
        with job_lock(project.root, job_id, wait=False):
            report = run_once(project, job_id, trigger="portal", test=True, actor=by)
    except BlockingIOError:
        return f"{job_id} is already running (a second click does nothing); see Runs", "error", "already running"
    except ReportingError as exc:  # no test mailbox configured
        return str(exc), "error", "refused"
    if report.status == "failed":
        return f"test run of {job_id} failed: {report.error}", "error", f"run #{report.run_id} failed"
    if report.skipped:  # send_if: exceptions_exist in a period without one: a real run would send nothing either
        text = f"test run of {job_id}: skipped: {report.skipped}; nothing was sent, not even to the test mailbox"
        return text, "ok", f"run #{report.run_id} skipped: {report.skipped}"
    detail = f"run #{report.run_id}: {len(report.sent)} message(s) to the test mailbox, {len(report.failed)} failed"
    text = f"test run of {job_id}: {len(report.sent)} message(s) sent to {report.test_mailbox} only"
    if report.held:
        text += f", {len(report.held)} held for approval"
    if report.failed:
        text += f"; failed {len(report.failed)}: " + "; ".join(f"{k}: {v}" for k, v in report.failed.items())
    return text + "; no recipient was sent anything", "error" if report.failed else "ok", detail


def resend_sent(
    project: Project, number: int, by: str, reason: str, token: str, sees: Callable[[str | None], bool]
) -> tuple[str, str, str]:
    """A delivered message sent again to its recipient, from the published files of that build. Returns the flash,
    its kind and the Portal actions detail (delivery numbers only, as `test_run`'s)."""
    from reporting.schedule.resend import resend_delivery

    if not _token_ok(token):  # resend_delivery would make one up: the same old page posted twice would send twice
        return RELOAD, "error", f"#{number}: no valid form token"
    try:
        done = resend_delivery(project, number, by=by, reason=reason, token=token, sees=sees)
    except ReportingError as exc:
        return str(exc), "error", f"#{number}: refused"
    if done.status == "already":
        return AGAIN, "error", f"#{number}: already submitted"
    if done.status != "sent":
        text = f"delivery #{number} to {done.recipient} was not resent: {done.error or done.status}"
        return text, "error", f"#{number}: not resent ({done.status})"
    text = f"resent delivery #{number} to {done.recipient} (new delivery #{done.delivery})"
    return text, "ok", f"#{number}: resent as delivery #{done.delivery}"


def _since(history: History, job_id: str) -> dict[str, Any] | None:
    """The job's latest run when it is a test, resend or dry run (after the last real run), else None."""
    latest = history.latest_run(job_id)
    return latest if latest is not None and latest["trigger"] in NOT_REAL else None


def job_rows(project: Project, history: History, schedules: Any) -> list[dict[str, Any]]:
    """The Jobs page's rows: each job with its next run, pause, last real run (and a test, resend or dry run
    since), recipients and test mailbox."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return [
        {
            "job": job,
            "next": job.trigger().get_next_fire_time(None, now),
            "paused": history.paused(job.id),
            "last": history.latest_run(job.id, real=True),  # what the job's recipients last got
            "since": _since(history, job.id),
            "recipients": [a for a, _ in job.recipients_for(project.root)],
            "test_mailbox": schedules.test_mailbox_for(job.id),
        }
        for job in (schedules.jobs if schedules is not None else [])
    ]
