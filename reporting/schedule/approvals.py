"""Approving or rejecting a draft pack (reporting.approval), from `reporting approve` / `reject` or the portal.

An approval is of the latest build's content hash and nothing else: a hash that is not the latest build's is
refused (what the approver reviewed is not what would go out), and one decision per hash is kept by a unique
key in the history database, so a double click or two approvers at once record one decision and release the
distribution once. Approving re-renders the pack without the mark from the inputs of the approved build (its
snapshot, not a fresh pull), publishes it and, for a job, runs the job's delivery under the delivery log,
which is what makes "exactly once" hold for the final paper too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.errors import ConfigError, ReportingError
from reporting.project import Project
from reporting.schedule.history import AlreadyDecided, History

__all__ = ["Decision", "StaleApproval", "decide", "latest_build", "target_of"]


class StaleApproval(ReportingError):
    """The approved content cannot be made again: the template (or its inputs) changed since that build."""


@dataclass(frozen=True)
class Target:
    pack: str
    job: Any | None  # schedule.config.Job
    approvers: tuple[str, ...]
    default_org: str | None


@dataclass(frozen=True)
class Decision:
    pack: str
    period: str
    org: str | None
    content_hash: str
    approved: bool
    by: str
    already: bool = False  # the same person had already made the same decision: nothing was done again
    report: Any | None = None  # the job's run (schedule.runner.RunReport) that released the distribution
    directory: Path | None = None  # where the approved pack is published


def target_of(project: Project, name: str) -> Target:
    """A job id from schedules.yaml (its pack, with the job's approvers added) or a pack id."""
    from reporting.packs.template_load import load_template

    job = None
    if (project.root / "schedules.yaml").exists():
        from reporting.schedule.runner import load_project_schedules

        job = next((j for j in load_project_schedules(project).jobs if j.id == name), None)
    pack = job.pack if job is not None else name
    template, _, _ = load_template(project.root, pack)
    approvers = [*(template.approval.approvers if template.approval else ())]
    approvers += [*(job.approval.approvers if job is not None and job.approval else ())]
    if not approvers:
        raise ConfigError(
            f"{'job' if job is not None else 'pack'} '{name}' needs no approval: neither the pack template nor "
            "the job has 'approval: {approvers: [...]}'",
            field="approval",
        )
    default = job.parameters.org if job is not None and job.parameters.org else None
    if default is None:
        default = {k: v.default for k, v in template.parameters.items()}.get("org")
    return Target(pack, job, tuple(dict.fromkeys(approvers)), default)


def latest_build(project: Project, pack: str, period: str, org: str | None) -> tuple[Path, dict[str, Any]]:
    """The published pack for (pack, period, org) and its manifest; `period` as YYYY-MM or YYYY-MM-DD."""
    base = project.outputs / pack
    periods = sorted(p for p in base.glob(f"{period}*") if p.is_dir()) if base.is_dir() else []
    if not periods:
        raise ReportingError(f"no build of {pack} for {period} in {project.outputs}")
    for folder in (periods[-1] / org, periods[-1]) if org else (periods[-1],):
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        if org is None or manifest.get("org") == org:
            return folder, manifest
    raise ReportingError(f"no build of {pack} for {period}{f' and {org}' if org else ''} in {project.outputs}")


def decide(
    project: Project,
    name: str,
    *,
    period: str,
    content_hash: str,
    by: str,
    comment: str,
    approved: bool,
    org: str | None = None,
    progress: Any = None,
) -> Decision:
    """Approve or reject the latest build of job or pack `name`; see the module docstring."""
    target = target_of(project, name)
    signer = next((a for a in target.approvers if a.lower() == by.strip().lower()), None)
    if signer is None:
        raise ReportingError(f"{by} is not an approver of {name}; its approvers are: {', '.join(target.approvers)}")
    if not comment.strip() and not approved:
        raise ReportingError("a rejection needs a comment saying what must change (--comment)")
    folder, manifest = latest_build(project, target.pack, period, org or target.default_org)
    approval = manifest.get("approval")
    if not approval:
        raise ReportingError(
            f"the latest build of {target.pack} ({folder.relative_to(project.outputs)}) was made before approval "
            "was required; build it again (reporting run-once, or reporting build) and approve that build"
        )
    latest = str(approval["content_sha256"])
    given = content_hash.strip().lower()
    if len(given) < 8 or not latest.startswith(given):
        raise ReportingError(
            f"{content_hash} is not the latest build of {target.pack} for {manifest['period']}: that is "
            f"{latest[:12]} (built {manifest.get('built_at')}); review and approve that one (its content may "
            "differ from what you saw)"
        )
    pack_org = manifest.get("org")
    history = History.open(project.root)
    try:
        history.decide(
            target.pack, manifest["period"], pack_org, latest, approved=approved, by=signer, comment=comment.strip()
        )
    except AlreadyDecided as exc:
        earlier = exc.decision
        if earlier.get("actor") != signer or bool(earlier.get("approved")) != approved:
            raise ReportingError(f"{exc}; nothing was changed or sent") from None
        if not approved or approval["status"] == "approved":  # a double click: done already, nothing again
            return Decision(target.pack, manifest["period"], pack_org, latest, approved, signer, already=True)
        # approved earlier, but its release did not finish (stopped, or failed): release it now; the delivery
        # log keeps anyone who already has it from getting it twice
    if not approved:
        return Decision(target.pack, manifest["period"], pack_org, latest, False, signer)
    return _release(project, target, manifest, folder, latest, signer, history, progress)


def _release(
    project: Project,
    target: Target,
    manifest: dict[str, Any],
    folder: Path,
    approved_hash: str,
    signer: str,
    history: History,
    progress: Any,
) -> Decision:
    """Re-render without the mark from the approved build's snapshot, publish, and (for a job) deliver."""
    report = None
    if target.job is not None:
        from reporting.schedule.job_lock import job_lock
        from reporting.schedule.runner import run_once

        with job_lock(project.root, target.job.id, wait=True):  # after a scheduled run or a send now of the job
            report = run_once(
                project,
                target.job.id,
                period=manifest["period"],
                trigger="approval",
                snapshot_hash=manifest["snapshot_hash"],
                progress=progress,
            )
        if report.status == "failed":
            raise ReportingError(
                f"approved {approved_hash[:12]}, but the run releasing it failed: {report.error}; the approval "
                f"is recorded: run 'reporting run-once {target.job.id} --period {manifest['period']}' to send it"
            )
    else:
        _rebuild(project, target, manifest, history)
    _, now = latest_build(project, target.pack, manifest["period"], manifest.get("org"))
    made = now.get("approval") or {}
    if made.get("content_sha256") != approved_hash or made.get("status") != "approved":
        raise StaleApproval(
            f"approved {approved_hash[:12]}, but building it again from the same data gave other content "
            f"({str(made.get('content_sha256'))[:12]}): the template changed since the approved build. The new "
            "build is a draft awaiting approval; nothing went to the distribution list"
        )
    return Decision(
        target.pack, manifest["period"], manifest.get("org"), approved_hash, True, signer, False, report, folder
    )


def _rebuild(project: Project, target: Target, manifest: dict[str, Any], history: History) -> None:
    """A pack approved without a job: built again from the approved snapshot in the formats it was made in."""
    from reporting.charts import Renderer, project_cache
    from reporting.packs.build import FORMATS, build_from, check_formats, prepare_build

    org = manifest.get("org")
    batch = prepare_build(
        project, target.pack, period=manifest["period"], orgs=[org], snapshot_hash=manifest["snapshot_hash"]
    )
    batch.approval = history.approval_state(target.pack, target.approvers)
    made = [Path(f["name"]).suffix.lstrip(".") for f in manifest.get("files", [])]
    formats = check_formats(batch, [f for f in FORMATS if f in made] or None)
    folder_has_org = (project.outputs / target.pack / manifest["period"] / str(org)).is_dir() if org else False
    with Renderer(project_cache(project.root)) as renderer:
        build_from(project, batch, org if folder_has_org else None, formats, renderer)
