"""What a scheduled run does with a pack that needs approval (reporting.approval): the job's approvers and the
decisions on its pack, a draft sent only to its approvers under a delivery-log key of its own, and the draft's
email. The runner (schedule.runner) calls these; approving is schedule.approvals."""

from __future__ import annotations

import hashlib
from typing import Any

from reporting.approval import ApprovalState
from reporting.project import Project
from reporting.schedule.history import History

__all__ = ["draft_content", "draft_key", "is_draft", "job_approval", "with_approvers"]


def job_approval(job: Any, project: Project, history: History) -> ApprovalState:
    """The job's approvers and every decision on its pack (the pack template's approvers are added in the build)."""
    from reporting.packs.template_load import load_template

    template, _, _ = load_template(project.root, job.pack)
    approvers = [
        *(template.approval.approvers if template.approval else ()),
        *(job.approval.approvers if job.approval else ()),
    ]
    return history.approval_state(job.pack, tuple(dict.fromkeys(approvers)))


def is_draft(result: Any) -> bool:
    return bool((result.manifest.get("approval") or {}).get("status") == "draft")


def draft_key(content_hash: str) -> str:
    """The delivery-log key of a draft: not the final pack's, so an approver who is also on the distribution
    list still gets the approved pack after the draft."""
    return hashlib.sha256(f"draft:{content_hash}".encode()).hexdigest()


def with_approvers(
    recipients: list[tuple[str, str | None]],
    by_org: dict[Any, Any],
    awaiting: dict[str, str],
    history: History,
    job: Any,
    *,
    record: bool = True,
) -> list[tuple[str, str | None]]:
    """Each draft's approvers added to the recipients (with the draft's organisation), the draft recorded as
    awaiting approval in the audit trail (once per content hash; not by a test run, which asks no approver)."""
    out = list(recipients)
    for org, result in by_org.items():
        if not is_draft(result):
            continue
        approval = result.manifest["approval"]
        if record:
            history.request_approval(
                result.pack, result.period, result.org, approval["content_sha256"], f"job {job.id}"
            )
        awaiting[result.org or ""] = approval["content_sha256"]
        out += [(a, org) for a in approval["approvers"] if (a, org) not in out]
    return out


def draft_content(content: Any, job: Any, result: Any) -> Any:
    """A draft's email: marked in the subject, and saying how to approve it."""
    from dataclasses import replace

    from reporting.approval import DRAFT_TEXT

    approval = result.manifest["approval"]
    org = f" --org {result.org}" if result.org else ""
    how = (
        f"This pack awaits your approval and has not gone to its distribution list. Approve it in the portal, "
        f"or run: reporting approve {job.id} --period {result.period}{org} --hash {approval['content_sha256'][:12]} "
        f"--by YOUR-ADDRESS --comment '...' (or reporting reject ...)."
    )
    return replace(content, subject=f"{DRAFT_TEXT}: {content.subject}", intro=f"{how}\n\n{content.intro}")
