"""Resend one delivered message to its recipient again (`reporting resend DELIVERY_ID --reason ...`, the
portal's Resend button in the delivery log): someone lost the email, or it went to spam.

What is resent is the pack that was sent: the files published by that build, never a rebuild, which could carry
other data. Each file is checked against the sha256 and size the delivery log recorded when the original was sent
(schedule.sent_files; outputs/ and its manifest.json are not the record, anyone who can write there can rewrite
them). A delivery sent before files were recorded is checked against the published manifest.json instead (the
check there was before), and the result says so. The check runs under the job's lock; a file is read once, never
through a symlink and only by a plain name in the published folder, and those very bytes are attached. When the
folder has been rebuilt with other content since, or a file is gone or changed on disk, the resend is refused and
says why; when the recipient is no longer on the job's list for that organisation it is refused unless forced.

The email has the original's subject, body, protective marking, footnotes and "data not current" line (from
the build's manifest, packs.email_facts, the same builders the runner uses). It names the sender (or who asked,
when `requester` is given), never the server's account: `by` is for the delivery log. The resend is a new
delivery row (a key of its own, so the original stays `sent`) with kind `resend`, who asked, when, why and which
delivery it resends (schedule.delivery_kinds), inside a run of trigger `resend`. The form token is claimed before
the lock is taken, so the second click of a double click is told it was already submitted, not to resend later.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting.errors import ReportingError
from reporting.project import Project
from reporting.schedule.delivery_kinds import claim_form, delivery, record_sending
from reporting.schedule.history import History
from reporting.schedule.sent_files import SentFile, sent_files

if TYPE_CHECKING:
    from reporting.delivery.compose import PackFile

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
    checked: str = "delivery log"  # what the files were checked against: "delivery log" | "manifest.json"


BUSY = "a run or resend of this job is in progress: check the delivery log before resending"
LEGACY = "manifest.json"  # Resent.checked for a delivery sent before its files were recorded


def resend_delivery(
    project: Project,
    number: int,
    *,
    by: str,
    reason: str,
    token: str | None = None,
    sees: Callable[[str | None], bool] = lambda _: True,
    requester: str | None = None,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Resent:
    """Send delivery `number`'s pack to its recipient again, from the published files of that build.
    `by`: who asked, for the delivery log; `requester`: who the email says asked (None: it names the sender).
    `sees`: whether the person asking may see an organisation's deliveries (another's looks like none at all).
    `force`: send even when the recipient is no longer on the job's list for that organisation."""
    from reporting.schedule.job_lock import job_lock
    from reporting.schedule.runner import load_project_schedules

    reason = reason.strip()
    if not reason:
        raise ResendRefused("a resend needs a reason (it is kept in the delivery log)")
    history = History.open(project.root)
    row = delivery(history, number)
    if row is None or not sees(row["org_code"]):
        raise ResendRefused(f"no delivery #{number} in the delivery log")
    if row["kind"] == "draft":
        raise _draft(number)
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
    if not force and not _still_listed(job, project, row):
        org = f" for {row['org_code']}" if row["org_code"] else ""
        raise ResendRefused(
            f"{row['recipient']} is no longer on job {job.id}'s recipients{org}: delivery #{number} is not resent "
            f"(someone removed from the list, or moved to another organisation, should not get this pack); "
            f"`reporting resend {number} --force --reason ...` sends it anyway"
        )
    if not claim_form(history, token or secrets.token_urlsafe(24), by, "resend"):  # before the lock: a double click
        return Resent(number, row["recipient"], "already")
    try:
        with job_lock(project.root, job.id, wait=False):
            folder, files, checked = _published_files(project, history, row)
            return _send(
                project,
                history,
                schedules,
                job,
                row,
                folder,
                files,
                by=by,
                requester=requester,
                reason=reason,
                sleep=sleep,
                checked=checked,
            )
    except BlockingIOError:
        raise ResendRefused(BUSY) from None


def _still_listed(job: Any, project: Project, row: dict[str, Any]) -> bool:
    """The recipient is on the job's list now, for the delivery's organisation (or not tied to one)."""
    address, org = str(row["recipient"]).lower(), row["org_code"]
    return any(a.lower() == address and o in {org, None} for a, o in job.recipients_for(project.root))


def _read_plain(folder: Path, name: str, number: int) -> bytes:
    """A published file's bytes, read once: a plain name (publish's rule) in `folder`, never through a symlink."""
    from reporting.packs.publish import _SAFE

    if not _SAFE.match(name):
        raise ResendRefused(f"delivery #{number}'s file {name!r} is not a plain file name: not resent")
    try:
        fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise ResendRefused(f"{name} of delivery #{number}'s pack is gone from {folder.name}/: not resent") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ResendRefused(
                f"{name} in {folder.name}/ is a symbolic link, not the published file: delivery #{number} is not resent"
            ) from None
        raise ResendRefused(f"{name} of delivery #{number}'s pack cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ResendRefused(f"{name} in {folder.name}/ is not a plain file: delivery #{number} is not resent")
        return handle.read()


def _draft(number: int) -> ResendRefused:
    return ResendRefused(f"delivery #{number} was a draft sent for approval; approve it to send the final pack")


def _changed(name: str, number: int, against: str) -> ResendRefused:
    return ResendRefused(
        f"{name} changed on disk since it was published (its sha256 is not the one {against}): delivery #{number} "
        "is not resent, because it would not be the pack that was sent"
    )


def _published_files(project: Project, history: History, row: dict[str, Any]) -> tuple[Path, tuple[PackFile, ...], str]:
    """The folder and files (their bytes, checked) of the build that delivery `row` sent, and what they were
    checked against: the files the delivery log recorded when it was sent, else (sent before that record) the
    published manifest."""
    from sqlalchemy import select

    from reporting.delivery.compose import PackFile
    from reporting.packs.build import BuildResult
    from reporting.schedule.drafts import draft_key
    from reporting.schedule.history import runs

    number = row["id"]
    recorded = sent_files(history, number)
    with history.engine.begin() as conn:
        listed = conn.execute(select(runs.c.files).where(runs.c.id == row["run_id"])).scalar()
    named = [Path(f) for f in json.loads(listed or "[]")]
    outputs = project.outputs.resolve()
    for folder in dict.fromkeys(f.parent for f in named):
        if folder.is_symlink() or not folder.resolve().is_relative_to(outputs):
            continue
        try:
            manifest = json.loads(_read_plain(folder, "manifest.json", number))
        except (ResendRefused, ValueError):
            manifest = {}
        if not manifest:  # not a published build's folder
            continue
        result = BuildResult(str(manifest.get("pack")), manifest.get("org"), row["period"], folder, (), manifest)
        if row["content_hash"] == draft_key(result.content_hash):
            raise _draft(number)
        if recorded is not None:
            here = {f.name for f in named if f.parent == folder}
            if not all(r.name in here for r in recorded):
                continue
            return folder, tuple(_checked(folder, r, number) for r in recorded), "delivery log"
        if result.content_hash != row["content_hash"]:
            continue
        files = []
        for entry in [f for f in manifest.get("files", []) if not f.get("kept_from_earlier_build")]:
            data = _read_plain(folder, str(entry["name"]), number)
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                raise _changed(str(entry["name"]), number, "in manifest.json")
            files.append(PackFile(str(entry["name"]), data))
        return folder, tuple(files), LEGACY
    raise ResendRefused(
        f"the pack delivery #{number} sent is no longer published (the folder was rebuilt with other content, or "
        "removed): it is not resent from a rebuild; send now sends the current pack to whoever does not have it"
    )


def _checked(folder: Path, sent: SentFile, number: int) -> PackFile:
    """One recorded file's bytes, when they are the ones the delivery sent."""
    from reporting.delivery.compose import PackFile

    data = _read_plain(folder, sent.name, number)
    if len(data) != sent.size or hashlib.sha256(data).hexdigest() != sent.sha256:
        raise _changed(sent.name, number, f"recorded when delivery #{number} was sent")
    return PackFile(sent.name, data)


def _send(
    project: Project,
    history: History,
    schedules: Any,
    job: Any,
    row: dict[str, Any],
    folder: Path,
    files: tuple[PackFile, ...],
    *,
    by: str,
    requester: str | None,
    reason: str,
    sleep: Callable[[float], None],
    checked: str,
) -> Resent:
    from reporting.delivery.compose import compose, delivery_message_id, published_url
    from reporting.schedule.runner import _published, _send_recorded, _smtp
    from reporting.schedule.sent_files import record_sent_files

    try:
        manifest = json.loads(_read_plain(folder, "manifest.json", row["id"]))
    except ValueError:
        manifest = {}
    limit = int(schedules.publish.attach_limit_mb * 1_000_000)
    linked = sum(len(f.data) for f in files) > limit
    content = _content(job, schedules, project, manifest, folder, files, row, requester, reason, linked=linked)
    key = hashlib.sha256(json.dumps(["resend", row["content_hash"], row["id"], secrets.token_hex(8)]).encode())
    record = (job.id, row["period"], row["recipient"], row["org_code"], key.hexdigest())
    base = schedules.publish.link_base
    message = compose(
        content,
        schedules.smtp.sender,
        row["recipient"],
        attach_limit_bytes=limit,
        published_link=published_url(base, _published(folder, project)) if base else None,
        message_id=delivery_message_id(schedules.smtp.sender, *record[:3], record[4]),
    )
    run_id = history.start_run(job.id, "resend")
    new = record_sending(history, record, run_id, "resend", by, original=row["id"], reason=reason)  # one transaction
    record_sent_files(history, record, message, files)
    status, _, error = _send_recorded(history, _smtp(schedules), message, record, run_id, job.retries, sleep)
    history.finish_run(
        run_id,
        "success" if status == "sent" else "failed",
        period=row["period"],
        files=[str(folder / f.name) for f in files],
        error=None if status == "sent" else f"{row['recipient']}: {error or status}",
    )
    return Resent(row["id"], row["recipient"], status, new, error, checked)


def _content(
    job: Any,
    schedules: Any,
    project: Project,
    manifest: dict[str, Any],
    folder: Path,
    files: tuple[PackFile, ...],
    row: dict[str, Any],
    requester: str | None,
    reason: str,
    *,
    linked: bool,
) -> Any:
    """The resend's email: the job's subject and body for that build, its marking, footnotes and stale line (the
    runner's builders, from the facts the build wrote), saying it is sent again, by whom and why.
    No headline table: that came from the assembled pack, which is not rebuilt (the files are what was sent)."""
    from reporting.delivery.compose import EmailContent, published_url
    from reporting.packs.email_facts import email_footer, facts_from_manifest, with_stale
    from reporting.packs.sandbox import pack_environment, render_text
    from reporting.schedule.runner import _published

    data: dict[str, Any] = {}
    name = (manifest.get("data") or {}).get("name")
    if name:
        try:
            data = json.loads(_read_plain(folder, str(name), row["id"]))
        except (ResendRefused, ValueError):
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
    asked = f"at the request of {requester}" if requester else f"by {schedules.smtp.sender}"
    same = (
        "The files are too large to attach, so the links open the files published now: when this was sent they "
        "were checked to be byte for byte the ones first sent to you, but a later rebuild of the pack replaces them."
        if linked
        else "It has the same files."
    )
    again = (
        f"Sent to you again {asked} ({reason}). It is the pack first sent to you on "
        f"{when:%d %B %Y at %H:%M} UTC. {same}"
    )
    intro = render_text(env, job.body or "", context) or (
        f"{context['pack_title']} for {context['org_name'] or 'all organisations'}, {context['period_label']}."
    )
    facts = facts_from_manifest(manifest)
    where = _published(folder, project)
    base = schedules.publish.link_base
    snapshot = str(manifest.get("snapshot_hash", ""))
    return EmailContent(
        subject=render_text(env, job.subject, context),
        title=str(context["pack_title"]),
        intro=f"{again}\n\n{with_stale(intro, facts) if facts else intro}",
        items=(),
        attachments=files,
        links=tuple((f.name, published_url(base, where / f.name)) for f in files) if base else (),
        published_as=f"{where}/",
        footer=email_footer(facts, snapshot) if facts else f"snapshot {snapshot}",
    )
