"""Resend one delivered message to its recipient again (`reporting resend DELIVERY_ID --reason ...`, the
portal's Resend button in the delivery log): someone lost the email, or it went to spam.

What is resent is the pack that was sent: the files published by that build, checked against its
manifest.json (present, and the sha256 the manifest gives), never a rebuild, which could carry other data. When
the folder has been rebuilt with other content since, or a file is gone or changed on disk, the resend is
refused and says why. The resend is a new delivery row (a key of its own, so the original stays `sent`) with
kind `resend`, who asked, when, why and which delivery it resends (schedule.delivery_kinds), inside a run of
trigger `resend` under the job's lock; the form token given is claimed once, so the same form submitted twice
(a double click) sends once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.errors import ReportingError
from reporting.project import Project
from reporting.schedule.delivery_kinds import claim_form, delivery, delivery_id, record_kind
from reporting.schedule.history import History

__all__ = ["ResendRefused", "Resent", "resend_delivery"]


class ResendRefused(ReportingError):
    """The delivery cannot be resent (not found, not sent, its files gone or changed); the message says why."""


@dataclass(frozen=True)
class Resent:
    original: int
    recipient: str
    status: str  # sent | failed_temporary | failed_permanent | unknown | already (the form was submitted before)
    delivery: int | None = None  # the new delivery row
    error: str | None = None


def resend_delivery(
    project: Project,
    number: int,
    *,
    by: str,
    reason: str,
    token: str | None = None,
    sees: Callable[[str | None], bool] = lambda _: True,
    sleep: Callable[[float], None] = time.sleep,
) -> Resent:
    """Send delivery `number`'s pack to its recipient again, from the published files of that build.
    `sees`: whether the person asking may see an organisation's deliveries (another's looks like none at all)."""
    from reporting.schedule.job_lock import job_lock
    from reporting.schedule.runner import load_project_schedules

    reason = reason.strip()
    if not reason:
        raise ResendRefused("a resend needs a reason (it is kept in the delivery log)")
    history = History.open(project.root)
    row = delivery(history, number)
    if row is None or not sees(row["org_code"]):
        raise ResendRefused(f"no delivery #{number} in the delivery log")
    if row["kind"] is not None:
        original = (row["kind_row"] or {}).get("original_id")
        again = f"; resend the original, #{original}" if original else ""
        raise ResendRefused(f"delivery #{number} is itself a {row['kind']}, not a delivery of the job{again}")
    if row["status"] != "sent":
        hint = (
            f"; its outcome is unknown: check with the recipient, then `reporting run-once {row['job_id']} --resend "
            f"{row['recipient']}`"
            if row["status"] in {"committed", "unknown"}
            else "; send now retries it"
        )
        raise ResendRefused(f"delivery #{number} is {row['status']}, not sent: only a sent message is resent{hint}")
    schedules = load_project_schedules(project)
    job = schedules.job(row["job_id"])
    directory, files = _published_files(history, row)
    try:
        with job_lock(project.root, job.id, wait=False):
            if not claim_form(history, token or secrets.token_urlsafe(24), by, "resend"):
                return Resent(number, row["recipient"], "already")
            return _send(project, history, schedules, job, row, directory, files, by=by, reason=reason, sleep=sleep)
    except BlockingIOError:
        raise ResendRefused(f"job {job.id} is running now; resend when it has finished") from None


def _published_files(history: History, row: dict[str, Any]) -> tuple[Path, tuple[Path, ...]]:
    """The folder and files of the build that delivery `row` sent, checked against its manifest."""
    from sqlalchemy import select

    from reporting.packs.build import BuildResult
    from reporting.schedule.drafts import draft_key
    from reporting.schedule.history import runs

    number = row["id"]
    with history.engine.begin() as conn:
        listed = conn.execute(select(runs.c.files).where(runs.c.id == row["run_id"])).scalar()
    named = json.loads(listed or "[]")
    for folder in dict.fromkeys(Path(f).parent for f in named):
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        made = [f for f in manifest.get("files", []) if not f.get("kept_from_earlier_build")]
        result = BuildResult(str(manifest.get("pack")), manifest.get("org"), row["period"], folder, (), manifest)
        if row["content_hash"] == draft_key(result.content_hash):
            raise ResendRefused(f"delivery #{number} was a draft sent for approval; approve it to send the final pack")
        if result.content_hash != row["content_hash"]:
            continue
        for entry in made:
            path = folder / str(entry["name"])
            if not path.is_file():
                raise ResendRefused(f"{path.name} of delivery #{number}'s pack is gone from {folder.name}/: not resent")
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256"):
                raise ResendRefused(
                    f"{path.name} changed on disk since it was published (its sha256 is not the one in "
                    f"manifest.json): delivery #{number} is not resent, because it would not be the pack that was sent"
                )
        return folder, tuple(folder / str(e["name"]) for e in made)
    raise ResendRefused(
        f"the pack delivery #{number} sent is no longer published (the folder was rebuilt with other content, or "
        "removed): it is not resent from a rebuild; send now sends the current pack to whoever does not have it"
    )


def _send(
    project: Project,
    history: History,
    schedules: Any,
    job: Any,
    row: dict[str, Any],
    folder: Path,
    files: tuple[Path, ...],
    *,
    by: str,
    reason: str,
    sleep: Callable[[float], None],
) -> Resent:
    from reporting.delivery.compose import compose, delivery_message_id, published_url
    from reporting.schedule.runner import _published, _send_with_retries, _smtp

    manifest = json.loads((folder / "manifest.json").read_text())
    content = _content(job, schedules, project, manifest, folder, files, row, by, reason)
    key = hashlib.sha256(json.dumps(["resend", row["content_hash"], row["id"], secrets.token_hex(8)]).encode())
    record = (job.id, row["period"], row["recipient"], row["org_code"], key.hexdigest())
    base = schedules.publish.link_base
    message = compose(
        content,
        schedules.smtp.sender,
        row["recipient"],
        attach_limit_bytes=int(schedules.publish.attach_limit_mb * 1_000_000),
        published_link=published_url(base, _published(folder, project)) if base else None,
        message_id=delivery_message_id(schedules.smtp.sender, *record[:3], record[4]),
    )
    run_id = history.start_run(job.id, "resend")
    history.record_delivery(*record, "sending", 0, None, run_id)
    new = delivery_id(history, *record[:3], record[4])
    record_kind(history, new, "resend", by, original=row["id"], reason=reason)
    status, attempts, error = _send_with_retries(
        _smtp(schedules),
        message,
        job.retries.attempts,
        job.retries.backoff_seconds,
        sleep,
        on_commit=functools.partial(history.record_delivery, *record, "committed", 0, None, run_id),
    )
    history.record_delivery(*record, status, attempts, error, run_id)
    history.finish_run(
        run_id,
        "success" if status == "sent" else "failed",
        period=row["period"],
        files=[str(f) for f in files],
        error=None if status == "sent" else f"{row['recipient']}: {error or status}",
    )
    return Resent(row["id"], row["recipient"], status, new, error)


def _content(
    job: Any,
    schedules: Any,
    project: Project,
    manifest: dict[str, Any],
    folder: Path,
    files: tuple[Path, ...],
    row: dict[str, Any],
    by: str,
    reason: str,
) -> Any:
    """The resend's email: the job's subject and body for that build, saying it is sent again, by whom and why.
    No headline table: that came from the assembled pack, which is not rebuilt (the files are what was sent)."""
    from reporting.delivery.compose import EmailContent, published_url
    from reporting.packs.sandbox import pack_environment, render_text
    from reporting.schedule.runner import _published

    data: dict[str, Any] = {}
    name = (manifest.get("data") or {}).get("name")
    if name:
        try:
            data = json.loads((folder / str(name)).read_text())
        except (OSError, ValueError):
            data = {}
    context = {
        "pack_title": manifest.get("title") or manifest.get("pack"),
        "period_label": data.get("period_label") or row["period"],
        "org": row["org_code"] or "",
        "org_name": data.get("org_name") or "",
        "job": job.id,
    }
    env = pack_environment()
    when = row["updated"]
    again = (
        f"Sent to you again at the request of {by} ({reason}). It is the pack first sent to you on "
        f"{when:%d %B %Y at %H:%M} UTC, with the same files."
    )
    intro = render_text(env, job.body or "", context) or (
        f"{context['pack_title']} for {context['org_name'] or 'all organisations'}, {context['period_label']}."
    )
    where = _published(folder, project)
    base = schedules.publish.link_base
    return EmailContent(
        subject=render_text(env, job.subject, context),
        title=str(context["pack_title"]),
        intro=f"{again}\n\n{intro}",
        items=(),
        attachments=files,
        links=tuple((p.name, published_url(base, where / p.name)) for p in files) if base else (),
        published_as=f"{where}/",
        footer=f"snapshot {manifest.get('snapshot_hash', '')}",
    )
