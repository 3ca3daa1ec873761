"""``approve``, ``reject`` and ``approvals``: signing a draft pack off from the command line (the portal does the
same through reporting.schedule.approvals)."""

from __future__ import annotations

from typing import Annotated

import typer

from reporting.commands._context import out, progress, project

__all__ = ["approvals", "approve", "register", "reject"]

Target = Annotated[str, typer.Argument(help="Job id from schedules.yaml, or a pack id.")]
Period = Annotated[str, typer.Option(help="The build's period: YYYY-MM or YYYY-MM-DD.")]
Hash = Annotated[
    str, typer.Option("--hash", help="The content hash you reviewed (manifest.json approval.content_sha256; 8+ chars).")
]
By = Annotated[str, typer.Option("--by", help="Your address, as the approvers list and users.yaml give it.")]
Org = Annotated[str | None, typer.Option(help="Organisation code, for a pack built per organisation.")]


def _decide(
    target: str, period: str, content_hash: str, by: str, comment: str, org: str | None, approved: bool
) -> None:
    from reporting.errors import ReportingError
    from reporting.schedule.approvals import decide

    with progress() as bar:
        task = bar.add_task("approving" if approved else "rejecting", total=None)
        decision = decide(
            project(),
            target,
            period=period,
            content_hash=content_hash,
            by=by,
            comment=comment,
            approved=approved,
            org=org,
            progress=lambda what: bar.update(task, description=what),
        )
    what = "approved" if approved else "rejected"
    where = f"{decision.pack} {decision.period}" + (f" {decision.org}" if decision.org else "")
    if decision.already:
        out.print(f"{where} ({decision.content_hash[:12]}) was already {what} by {decision.by}; nothing done again")
        return
    out.print(f"{what} {where} ({decision.content_hash[:12]}) by {decision.by}")
    report = decision.report
    if report is not None:
        out.print(
            f"released: sent {len(report.sent)}, already had it {len(report.already)}, failed {len(report.failed)}"
        )
        for address, why in report.failed.items():
            out.print(f"  [red]not sent[/red] {address}: {why}", markup=True)
        if report.failed:
            raise ReportingError(
                f"{len(report.failed)} recipient(s) not reached; run-once {report.job_id} retries them"
            )


def approve(
    target: Target,
    period: Period,
    content_hash: Hash,
    by: By,
    comment: Annotated[str, typer.Option(help="Why, for the audit trail.")] = "",
    org: Org = None,
) -> None:
    """Approve the latest build: re-rendered without the DRAFT mark from the same inputs, published and (for a
    job) sent to its recipients, once."""
    _decide(target, period, content_hash, by, comment, org, True)


def reject(
    target: Target,
    period: Period,
    content_hash: Hash,
    by: By,
    comment: Annotated[str, typer.Option(help="What must change (required).")],
    org: Org = None,
) -> None:
    """Reject the latest build: it stays a draft and nothing goes to the distribution list."""
    _decide(target, period, content_hash, by, comment, org, False)


def approvals(pack: Annotated[str | None, typer.Argument(help="Only this pack.")] = None) -> None:
    """The approval queue (drafts awaiting a decision) and the audit trail."""
    from rich.table import Table

    from reporting.schedule.history import History, trail_event

    store = History.open(project().root)
    queue = Table(title="Awaiting approval", title_justify="left")
    for column in ("pack", "period", "org", "content hash", "requested", "by"):
        queue.add_column(column)
    for e in store.pending_approvals():
        if pack is None or e["pack"] == pack:
            event = trail_event(e)
            queue.add_row(e["pack"], e["period"], e["org_code"], e["content_hash"][:12], event["at"], event["by"])
    out.print(queue)
    trail = Table(title="Audit trail", title_justify="left")
    for column in ("pack", "period", "org", "content hash", "action", "by", "at", "comment"):
        trail.add_column(column)
    for e in store.approval_trail(pack):
        event = trail_event(e)
        trail.add_row(
            e["pack"],
            e["period"],
            e["org_code"],
            e["content_hash"][:12],
            e["action"],
            event["by"],
            event["at"],
            event["comment"],
        )
    out.print(trail)


def register(app: typer.Typer) -> None:
    """Add ``approve``, ``reject`` and ``approvals`` to ``app``."""
    app.command()(approve)
    app.command()(reject)
    app.command()(approvals)
