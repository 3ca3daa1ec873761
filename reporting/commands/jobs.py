"""The scheduler's commands: ``run-once`` (one job now, or a test run to the test mailbox), ``resend`` (a
delivered message again), ``run`` (the daemon), ``jobs`` and ``history``.
Heavy imports stay inside the commands, so ``reporting --help`` stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reporting.commands._context import err, out, progress, project

__all__ = ["history", "jobs", "register", "resend_command", "run_command", "run_once_command"]


def run_once_command(
    job: Annotated[str, typer.Argument(help="Job id from schedules.yaml.")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM or YYYY-MM-DD; default: the job's period rule.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the emails as .eml files instead of sending.")
    ] = False,
    resend: Annotated[
        list[str] | None,
        typer.Option(
            "--resend",
            help="Send again to this address although an earlier attempt may have been delivered "
            "(its outcome is unknown); same Message-ID. Repeatable.",
        ),
    ] = None,
    test: Annotated[
        bool,
        typer.Option(
            "--test",
            help="A test run: build for the job's recipients as a real run would, but send every message only "
            "to the test mailbox (test_mailbox: in schedules.yaml), marked [TEST]; nobody else gets anything.",
        ),
    ] = False,
    test_mailbox: Annotated[
        str | None, typer.Option("--test-mailbox", help="A test run to this address instead of the configured one.")
    ] = None,
) -> None:
    """Run one job now: pull, build, deliver; exit 1 if any recipient was not reached (run again to retry them)."""
    from reporting.errors import ReportingError
    from reporting.schedule.job_lock import job_lock
    from reporting.schedule.runner import run_once

    here = project()
    testing = test or test_mailbox is not None
    if testing and (dry_run or resend):
        raise ReportingError("--test sends to the test mailbox; it does not go with --dry-run or --resend")
    try:
        with job_lock(here.root, job, wait=False), progress() as bar:  # the daemon and the portal take it too
            task = bar.add_task("running", total=None)
            report = run_once(
                here,
                job,
                period=period,
                dry_run=dry_run,
                resend=tuple(resend or ()),
                progress=lambda what: bar.update(task, description=what),
                test=testing,
                test_mailbox=test_mailbox,
                actor=_who(),
            )
    except BlockingIOError:
        raise ReportingError(
            f"job {job} is running now (the daemon or the portal); run-once again when it has finished"
        ) from None
    done = "written" if dry_run else f"sent to the test mailbox {report.test_mailbox} for" if testing else "sent"
    out.print(
        f"[bold]{report.job_id}[/bold] {report.period or ''}: {report.status}; "
        f"{done} {len(report.sent)}, already had it {len(report.already)}, "
        f"failed {len(report.failed)}" + (f"; skipped: {report.skipped}" if report.skipped else "")
    )
    from rich.markup import escape

    from reporting.redact import redact

    for written in report.written:  # dry run: one line per message, where it went and what it would have sent
        what = (
            f"{len(written.attachments)} attached ({', '.join(written.attachments)})"
            if written.attachments
            else "no attachments (the email says where the files are)"
        )
        out.print(
            f"would send to {escape(written.recipient)}: {escape(repr(written.subject))}, {escape(what)}; "
            f"written to {escape(_shown(written.path))}",
            soft_wrap=True,
        )

    for org, error in report.build_failed.items():
        err.print(f"[red]pack not built:[/red] {org}: {escape(redact(error))}")
    for recipient, error in report.failed.items():
        err.print(f"[red]not reached:[/red] {recipient}: {escape(redact(error))}")
    if report.error:
        err.print(f"[red]error:[/red] {escape(redact(report.error))}")
    if not report.ok:
        raise typer.Exit(1)


def _who() -> str:
    """Who asked, for the delivery log, when it is the command line: the account and the machine."""
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()} (command line)"


def resend_command(
    delivery: Annotated[int, typer.Argument(help="The delivery's number (#) in `reporting history`.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is sent again (kept in the delivery log).")],
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Who asks: kept in the delivery log and named in the email (default: the log has this account on "
            "this machine; the email names the sender).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send even when the recipient is no longer on the job's list.")
    ] = False,
) -> None:
    """Send a delivered message again to its one recipient, from the published files of that build (never a
    rebuild): a new delivery of kind resend; the original stays recorded as sent."""
    from rich.markup import escape

    from reporting.errors import ReportingError
    from reporting.schedule.resend import resend_delivery

    done = resend_delivery(project(), delivery, by=by or _who(), reason=reason, requester=by, force=force)
    if done.status != "sent":
        raise ReportingError(f"delivery #{delivery} to {done.recipient} was not resent: {done.error or done.status}")
    checked = (
        "checked against the files the delivery log recorded"
        if done.checked == "delivery log"
        else "checked against the published manifest.json: it was sent before the delivery log recorded its files"
    )
    out.print(f"resent delivery #{delivery} to {escape(done.recipient)} (new delivery #{done.delivery}; {checked})")


def _shown(path: Path) -> str:
    """A path as the person at the terminal can use it: relative to where they are, when it is below."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_command() -> None:
    """The scheduler daemon: runs every job of schedules.yaml on time (one per project; SIGHUP reloads)."""
    from reporting.schedule.daemon import run_daemon

    run_daemon(project(), say=lambda text: out.print(text))


def jobs() -> None:
    """List the jobs of schedules.yaml with their next run times."""
    import datetime as dt

    from rich.table import Table

    from reporting.schedule.runner import load_project_schedules

    schedules = load_project_schedules(project())
    table = Table(title="Jobs", title_justify="left")
    for column in ("job", "pack", "when", "timezone", "next run", "send if", "recipients", "built on"):
        table.add_column(column)
    now = dt.datetime.now(dt.UTC)
    for job in schedules.jobs:
        next_run = job.trigger().get_next_fire_time(None, now)
        table.add_row(
            job.id,
            job.pack,
            job.every or job.cron or "",
            job.timezone,
            f"{next_run:%a %d %b %Y %H:%M %Z}" if next_run else "–",
            job.send_if,
            str(len(job.recipients_for(project().root))),
            job.executor + (f" ×{job.workers}" if job.executor in {"processes", "dask"} else ""),
        )
    out.print(table)


def history(
    job: Annotated[str | None, typer.Option("--job", help="Only this job.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
) -> None:
    """Runs and deliveries from the run-history database."""
    from rich.table import Table

    from reporting.schedule.history import History

    store = History.open(project().root)
    runs = Table(title="Runs", title_justify="left")
    for column in ("id", "job", "period", "trigger", "started", "finished", "status", "files", "error"):
        runs.add_column(column)
    for r in store.runs(job, limit):
        files = json.loads(r["files"] or "[]")
        runs.add_row(
            str(r["id"]),
            r["job_id"],
            r["period"] or "",
            r["trigger"] or "",
            f"{r['started']:%Y-%m-%d %H:%M:%S}",
            f"{r['finished']:%H:%M:%S}" if r["finished"] else "",
            r["status"],
            str(len(files)),
            (r["error"] or "")[:80],
        )
    out.print(runs)
    deliveries = Table(title="Deliveries", title_justify="left")
    for column in ("#", "job", "period", "recipient", "org", "status", "kind", "attempts", "when", "error"):
        deliveries.add_column(column)
    from reporting.schedule.delivery_kinds import describe, kinds_of

    listed = store.deliveries(job, limit * 10)
    kinds = kinds_of(store, [d["id"] for d in listed])
    for d in listed:
        deliveries.add_row(
            str(d["id"]),
            d["job_id"],
            d["period"],
            d["recipient"],
            d["org_code"] or "",
            d["status"],
            describe(kinds.get(d["id"])),
            str(d["attempts"]),
            f"{d['updated']:%Y-%m-%d %H:%M:%S}",
            (d["error"] or "")[:60],
        )
    out.print(deliveries)


def register(app: typer.Typer) -> None:
    """Add ``run-once``, ``resend``, ``run``, ``jobs`` and ``history`` to ``app``."""
    app.command("run-once")(run_once_command)
    app.command("resend")(resend_command)
    app.command("run")(run_command)
    app.command()(jobs)
    app.command()(history)
