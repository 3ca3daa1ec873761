"""One run of one scheduled job: pull, build (per organisation when bursting), deliver, record.

Never silent: every run and every delivery attempt is in the history database; a failed build sends
nothing, leaves the previous pack published and tells the job's owner; temporary SMTP failures are retried
with backoff, permanent ones are recorded per recipient while the others still get theirs; and the delivery
log means a rerun sends only to those not yet reached.

Exactly once: each delivery is recorded `sending` before the SMTP conversation and `committed` just before
the final "." of DATA, with a Message-ID fixed by (job, period, recipient, pack content). A message whose
outcome is unknown (no reply after the whole message went, or a crash after `committed`) is never resent
automatically: the run says so, the owner is told, and `run-once JOB --resend ADDRESS` sends it again with the
same Message-ID once someone has checked. Runs left `running` by a crash are marked `interrupted` first.
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from reporting.errors import ConfigError, ReportingError
from reporting.files import atomic_write, dir_mode
from reporting.project import Project
from reporting.redact import redact
from reporting.schedule.delivery_kinds import record_sending
from reporting.schedule.drafts import draft_content, draft_key, is_draft, job_approval, with_approvers
from reporting.schedule.history import History
from reporting.schedule.mailbox import mailbox_for, marked_content, marked_key
from reporting.schedule.sent_files import record_sent_files

if TYPE_CHECKING:
    from reporting.packs.tree import Pack
    from reporting.schedule.config import Schedules

__all__ = ["RunReport", "WrittenEmail", "load_project_schedules", "run_once"]


class BuildFailed(ReportingError):
    """No organisation's pack could be built."""


@dataclass(frozen=True)
class WrittenEmail:
    """One message a dry run wrote instead of sending: where the .eml is and what it would have sent to whom."""

    recipient: str
    path: Path
    subject: str
    attachments: tuple[str, ...]  # file names; empty when the files were too large and the email links them


@dataclass
class RunReport:
    job_id: str
    run_id: int
    status: str  # success | partial | failed | skipped
    period: str | None = None
    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # the outcome of an earlier attempt is unknown: not resent
    failed: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    build_failed: dict[str, str] = field(default_factory=dict)  # organisation -> why its pack was not built
    written: list[WrittenEmail] = field(default_factory=list)  # dry run: each .eml, one per message
    held: list[str] = field(default_factory=list)  # recipients whose pack is a draft awaiting approval
    awaiting: dict[str, str] = field(default_factory=dict)  # organisation ("" for none) -> draft content hash
    test_mailbox: str | None = None  # a test run: every message went there instead (`sent` lists who for)
    skipped: str | None = None  # why nothing was sent (status `skipped`), as the history records it

    @property
    def ok(self) -> bool:
        return self.status in {"success", "skipped"}


def load_project_schedules(project: Project) -> Schedules:
    from reporting.data.catalogue import load_catalogue
    from reporting.schedule.load import load_schedules

    path = project.root / "schedules.yaml"
    if not path.exists():
        raise ConfigError("no schedules.yaml in the project", file=path)
    catalogue = load_catalogue(project.require_catalogue())
    known: list[str] | None = None
    if catalogue.orgs is not None:
        try:
            from reporting.data.snapshot import latest_snapshot

            known = list(latest_snapshot(project.snapshots).orgs["org_code"].astype(str))
        except ReportingError:
            known = None
    return load_schedules(path, project.root, known_orgs=known)


def _published(directory: Path, project: Project) -> PurePosixPath:
    """Where a pack is published, relative to outputs/: the only form in which an email names a place."""
    return PurePosixPath(Path(directory).resolve().relative_to(project.outputs.resolve()).as_posix())


def _content(job: Any, result: Any, project: Project, renderer: Any, link_base: str | None = None) -> Any:
    """The email for one built pack: headline items from its summary table, exceptions first; links to the
    files under `link_base`, else where they are published in words (never a server path)."""
    from reporting.charts import icon_chart
    from reporting.delivery.compose import EmailContent, HeadlineItem, published_url
    from reporting.packs.sandbox import pack_environment, render_text
    from reporting.packs.tree import SummaryTable

    pack = result.tree
    items = []
    for block in pack.blocks():
        if isinstance(block, SummaryTable):
            for r in block.rows:  # `exception` is reporting.mdc.is_exception, decided where the row was made
                items.append(
                    HeadlineItem(
                        r.title, r.latest.text, r.period_label, r.variation_icon, r.assurance, r.narrative, r.exception
                    )
                )
            break
    items.sort(key=lambda i: not i.exception)
    codes = sorted({c for i in items for c in (i.variation_icon, i.assurance) if c})
    specs = [icon_chart(code) for code in codes]
    icons = dict(zip(codes, [img.path for img in renderer.render(specs)], strict=True)) if specs else {}
    env = pack_environment()
    context = {
        "pack_title": pack.title,
        "period_label": pack.period_label,
        "org": pack.org_code or "",
        "org_name": pack.org_name or "",
        "job": job.id,
    }
    subject = render_text(env, job.subject, context)
    intro = (
        render_text(env, job.body or "", context)
        or f"{pack.title} for {pack.org_name or 'all organisations'}, {pack.period_label}."
    )
    from reporting.packs.email_facts import email_facts, email_footer, with_stale

    facts = email_facts(pack)
    intro = with_stale(intro, facts)  # the one "data not current" line of the executive summary, in the email too
    where = _published(result.directory, project)
    links = tuple((p.name, published_url(link_base, where / p.name)) for p in result.files) if link_base else ()
    footer = email_footer(facts, pack.provenance.snapshot_hash)
    return EmailContent(
        subject=subject,
        title=pack.title,
        intro=intro,
        items=tuple(items),
        attachments=tuple(result.files),
        links=links,
        published_as=f"{where}/",
        icon_images=icons,
        footer=footer,
    )


def _has_exception(pack: Pack | None) -> bool:
    """Some measure in the pack's summary tables is an exception (`SummaryRow.exception`, reporting.mdc)."""
    from reporting.packs.tree import SummaryTable

    return pack is not None and any(r.exception for b in pack.blocks() if isinstance(b, SummaryTable) for r in b.rows)


def _send_with_retries(
    settings: Any,
    message: Any,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
    on_commit: Callable[[], None] | None = None,
) -> tuple[str, int, str | None]:
    from reporting.delivery.compose import AmbiguousDeliveryError, PermanentDeliveryError, TemporaryDeliveryError
    from reporting.delivery.smtp import send

    error = None
    for attempt in range(1, attempts + 1):
        try:
            send(settings, message, on_commit=on_commit)
            return "sent", attempt, None
        except AmbiguousDeliveryError as exc:  # it may have been delivered: never retried blindly
            return "unknown", attempt, str(exc)
        except PermanentDeliveryError as exc:
            return "failed_permanent", attempt, str(exc)
        except TemporaryDeliveryError as exc:
            error = str(exc)
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    return "failed_temporary", attempts, error


def _send_recorded(
    history: History,
    settings: Any,
    message: Any,
    record: tuple[str, str, str, str | None, str],
    run_id: int,
    retries: Any,
    sleep: Callable[[float], None],
) -> tuple[str, int, str | None]:
    """Send one message with the job's retries, the delivery log saying "committed" the moment the server has
    accepted it (so a crash after that is never sent twice) and then the outcome: for a run and a resend alike."""
    status, attempts, error = _send_with_retries(
        settings,
        message,
        retries.attempts,
        retries.backoff_seconds,
        sleep,
        on_commit=functools.partial(history.record_delivery, *record, "committed", 0, None, run_id),
    )
    history.record_delivery(*record, status, attempts, error, run_id)
    return status, attempts, error


def _notify_owner(job: Any, schedules: Any, subject: str, text: str) -> None:
    """Best effort: the failure is already in the history; the owner is told if mail works."""
    import email.message

    from reporting.delivery.smtp import send

    if not getattr(job, "owner", None):
        return
    try:
        settings = _smtp(schedules)
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.sender, job.owner, redact(subject)
        message.set_content(redact(text))
        send(settings, message)
    except ReportingError:
        pass


def _smtp(schedules: Any) -> Any:
    from reporting.delivery.smtp import SmtpSettings

    smtp = schedules.smtp
    return SmtpSettings.from_config(smtp.host, smtp.port, smtp.security, smtp.sender, smtp.user, timeout=smtp.timeout)


SCHEDULED = {"schedule", "recovery"}  # runs the scheduler starts (schedule.daemon); pausing stops them
UNKNOWN = {"committed", "unknown"}  # delivery states after which the message may have been accepted


def run_once(
    project: Project,
    job_id: str,
    *,
    period: str | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
    resend: Sequence[str] = (),
    snapshot_hash: str | None = None,
    test: bool = False,
    test_mailbox: str | None = None,
    actor: str = "",
) -> RunReport:
    """Run one job now; see the module docstring for what is guaranteed. `resend`: addresses whose earlier
    delivery has an unknown outcome, checked by a person, to send again (with the same Message-ID).
    `snapshot_hash`: build from that snapshot instead of pulling (an approval re-renders the approved inputs).
    `test`: a test run (schedule.mailbox): every message to `test_mailbox` (default: the configured one), marked,
    recorded as a test asked for by `actor`; the real recipients' deliveries are left as they were."""
    from reporting.charts import Renderer, project_cache
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull
    from reporting.delivery.compose import compose, delivery_message_id, published_url
    from reporting.schedule.executors import build_many

    say = progress or (lambda _: None)
    schedules = load_project_schedules(project)
    job = schedules.job(job_id)
    mailbox = mailbox_for(schedules, job.id, test_mailbox) if test or test_mailbox else None
    trigger = "test" if mailbox else "dry_run" if dry_run else trigger  # neither is a real run (history.NOT_REAL)
    history = History.open(project.root)
    history.recover_interrupted()
    run_id = history.start_run(job.id, trigger)
    report = RunReport(job.id, run_id, "running", test_mailbox=mailbox)
    paused = history.paused(job.id) if trigger in SCHEDULED else None
    if paused:  # paused in the portal: the scheduler's runs wait; a person's "send now" still runs
        report.status, report.skipped = "skipped", f"paused by {paused['actor']} at {paused['at']:%Y-%m-%d %H:%M}"
        history.finish_run(run_id, "skipped", error=report.skipped)
        return report
    try:
        if snapshot_hash is not None:
            from reporting.data.snapshot import read_snapshot

            snapshot = read_snapshot(project.snapshots, snapshot_hash)
        else:
            say("pulling data")
            _, snapshot = pull(load_catalogue(project.require_catalogue()), project.root, project.snapshots)
        requested = period or (job.parameters.period if job.parameters.period not in (None, "latest") else None)
        always = trigger in {"approval", "test", "dry_run"}  # approved: it goes now; a test or dry run is asked for
        if job.send_if == "data_changed" and not always:
            last = history.last_success(job.id)
            if last and last.get("snapshot") == snapshot.hash:
                report.status, report.skipped = "skipped", "data unchanged since the last run"
                history.finish_run(run_id, "skipped", snapshot=snapshot.hash, error=report.skipped)
                return report
        recipients = job.recipients_for(project.root)
        orgs = _orgs_for(job, recipients) or [None]
        say(f"building {job.pack} for {len(orgs)} organisation(s) ({job.executor})")
        count = iter(range(1, len(orgs) + 1))
        outcomes = build_many(
            project.root,
            job.pack,
            orgs,
            executor=job.executor,
            workers=job.workers,
            period=requested,
            formats=job.formats or None,
            snapshot=snapshot,
            peer_group=job.parameters.peer_group,
            approval=job_approval(job, project, history),
            on_done=lambda o: say(f"{'built' if o.ok else 'FAILED'} {o.org or job.pack} ({next(count)}/{len(orgs)})"),
        )
        by_org = {  # requested org -> pack
            org: o.result for org, o in zip(orgs, outcomes, strict=True) if o.ok and o.result is not None
        }
        broken = {org: o.error or "failed" for org, o in zip(orgs, outcomes, strict=True) if not o.ok}
        if not by_org:  # nothing was built: nothing is sent
            raise BuildFailed("; ".join(f"{org or job.pack}: {error}" for org, error in broken.items()))
        results = list(by_org.values())
        report.period = results[0].period
        report.files = [f for r in results for f in r.files]
        report.build_failed = {str(org): error for org, error in broken.items()}
        with Renderer(
            project_cache(project.root)
        ) as renderer:  # for the email's icons (from the chart cache after the first run)
            # a test run is skipped too: its messages say who they would have gone to, and nobody would be sent this
            if job.send_if == "exceptions_exist" and not any(_has_exception(r.tree) for r in results):
                report.status, report.skipped = "skipped", "no exceptions this period"
                files = [str(f) for f in report.files]
                history.finish_run(
                    run_id, "skipped", period=report.period, snapshot=snapshot.hash, files=files, error=report.skipped
                )
                return report
            settings = None if dry_run else _smtp(schedules)
            limit = int(schedules.publish.attach_limit_mb * 1_000_000)
            contents: dict[str | None, Any] = {}
            recipients = with_approvers(recipients, by_org, report.awaiting, history, job, record=not mailbox)
            for email_address, org in recipients:
                # a recipient only ever gets their own organisation's pack; one not tied to an organisation
                # gets the job's (parameters.org, else the pack's default)
                key_org = org if org else (None if None in by_org or None in broken else job.parameters.org)
                result = by_org.get(key_org)
                if result is None:
                    report.failed[email_address] = (
                        f"the pack for {key_org or 'the job'} failed to build: {broken[key_org]}"
                        if key_org in broken
                        else f"no pack was built for organisation {org}"
                    )
                    continue
                key = result.content_hash
                if is_draft(result):  # until approved only its approvers get it, under a key of its own
                    if email_address not in result.manifest["approval"]["approvers"]:
                        report.held.append(email_address)
                        continue
                    key = draft_key(key)
                previous = history.delivery_status(job.id, report.period, email_address, key)
                if previous in {"sent", "dry_run"} and not mailbox:
                    report.already.append(email_address)
                    continue
                if previous in UNKNOWN and email_address not in resend and not dry_run and not mailbox:
                    report.unknown.append(email_address)
                    report.failed[email_address] = (
                        "an earlier attempt may have been delivered (the server took the whole message but its "
                        "reply was lost), so it is not resent automatically; check with the recipient, then "
                        f"run 'reporting run-once {job.id} --resend {email_address}'"
                    )
                    continue
                if result.org not in contents:
                    contents[result.org] = _content(job, result, project, renderer, schedules.publish.link_base)
                    if is_draft(result):
                        contents[result.org] = draft_content(contents[result.org], job, result)
                base = schedules.publish.link_base
                link = published_url(base, _published(result.directory, project)) if base else None
                content, to = contents[result.org], email_address
                if mailbox:  # a test: to the test mailbox, marked, under a key no real delivery has
                    content = marked_content(content, email_address, mailbox, already=previous in {"sent", "dry_run"})
                    to, key = mailbox, marked_key(key, email_address, run_id)
                message = compose(
                    content,
                    schedules.smtp.sender,
                    to,
                    attach_limit_bytes=limit,
                    published_link=link,
                    message_id=delivery_message_id(schedules.smtp.sender, job.id, report.period, to, key),
                )
                if dry_run:
                    folder = result.directory / "emails"
                    folder.mkdir(exist_ok=True, mode=dir_mode())
                    path = atomic_write(folder / f"{email_address}.eml", bytes(message))
                    attached = tuple(
                        str(part.get_filename()) for part in message.iter_attachments() if part.get_filename()
                    )
                    report.written.append(WrittenEmail(email_address, path, str(message["Subject"]), attached))
                    report.sent.append(email_address)
                    continue
                say(f"sending to {email_address}")
                record = (job.id, report.period, to, result.org, key)
                if mailbox:  # the row and its kind at once, before the SMTP conversation
                    record_sending(history, record, run_id, "test", actor, intended=email_address)
                elif is_draft(result):  # marked as one, so nobody is offered a resend of a draft
                    record_sending(history, record, run_id, "draft", actor or "scheduler")
                else:
                    history.record_delivery(*record, "sending", 0, None, run_id)
                record_sent_files(history, record, message, content.attachments)
                status, attempts, error = _send_recorded(history, settings, message, record, run_id, job.retries, sleep)
                if status == "sent":
                    report.sent.append(email_address)
                else:
                    report.failed[email_address] = redact(error or status)
        report.status = "success" if not report.failed and not broken else "partial"
        problems = [
            *(f"pack for {org or job.pack} not built: {error}" for org, error in broken.items()),
            *(f"{k}: {v}" for k, v in report.failed.items()),
        ]
        history.finish_run(
            run_id,
            report.status,
            period=report.period,
            snapshot=snapshot.hash,
            files=[str(f) for f in report.files],
            error="; ".join(problems) or None,
        )
        if problems and not dry_run and not mailbox:
            _notify_owner(
                job,
                schedules,
                f"[reporting] {job.id}: {len(broken)} pack(s) not built, {len(report.failed)} recipient(s) not reached",
                "\n".join(problems) + "\n\nEvery other organisation's pack was published and sent.",
            )
        return report
    except ReportingError as exc:
        report.status, report.error = "failed", redact(exc)
        history.finish_run(run_id, "failed", period=report.period, error=str(exc))
        if not dry_run and not mailbox:
            _notify_owner(
                job,
                schedules,
                f"[reporting] {job.id} failed",
                f"{exc}\n\nNothing was sent; the previous pack stays published.",
            )
        return report
    except BaseException as exc:
        history.finish_run(
            run_id,
            "failed",
            period=report.period,
            error="".join(traceback.format_exception_only(type(exc), exc)).strip(),
        )
        raise


def _orgs_for(job: Any, recipients: Sequence[tuple[str, str | None]]) -> list[str | None] | None:
    """Organisations to build: the job's, every recipient's; None (the pack's default organisation) too when
    some recipients are not tied to one."""
    default = getattr(job.parameters, "org", None)
    orgs: list[str | None] = list(job.orgs or [])
    if not orgs and default:
        return (
            [default]
            if all(o in (None, default) for _, o in recipients)
            else [default, *dict.fromkeys(o for _, o in recipients if o and o != default)]
        )
    orgs += [o for _, o in recipients if o and o not in orgs]
    if orgs and any(o is None for _, o in recipients):
        orgs.append(None)
    return orgs or None
