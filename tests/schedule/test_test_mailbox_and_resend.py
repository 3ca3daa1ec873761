"""A test run to the test mailbox and a resend of a delivered message, against a real SMTP server (aiosmtpd) and
the real SQLite history: the same bursting as a real run, nothing to the real recipients, their deliveries
untouched; a resend from the published files only, refused when they changed or are gone; the command line."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from jobs_fixtures import BURST, MAILBOX, NO_SLEEP, RECIPIENTS, set_test_mailbox
from smtp_server import SmtpTestServer
from typer.testing import CliRunner

from reporting.errors import ConfigError
from reporting.project import Project
from reporting.schedule.delivery_kinds import delivery, kinds_of
from reporting.schedule.history import History
from reporting.schedule.mailbox import NoTestMailbox
from reporting.schedule.resend import ResendRefused, resend_delivery
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # every test builds and sends a pack

OTHER = "job.tests@example.nhs.uk"


def test_a_test_run_bursts_like_a_real_run_but_sends_only_to_the_test_mailbox(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    set_test_mailbox(project, MAILBOX)
    report = run_once(project, "monthly-performance", test=True, actor="admin@example.nhs.uk", sleep=NO_SLEEP)
    assert report.status == "success" and report.test_mailbox == MAILBOX
    assert sorted(report.sent) == sorted(r for r, _ in RECIPIENTS)
    assert len(smtp.messages) == 4 and all(m.rcpt_tos == (MAILBOX,) for m in smtp.messages)
    for recipient, org in RECIPIENTS:
        (message,) = [m.message() for m in smtp.messages if f"would have gone to {recipient}." in _text(m.message())]
        assert message["To"] == MAILBOX and message["Subject"].startswith("[TEST] Integrated Performance Report – ")
        (attachment,) = list(message.iter_attachments())  # that recipient's own trust's pack, as bursting gives
        assert attachment.get_filename().endswith(f"-{org}.xlsx")
    history = History.open(project.root)
    assert history.runs("monthly-performance")[0]["trigger"] == "test"
    rows = history.deliveries("monthly-performance")
    assert {r["recipient"] for r in rows} == {MAILBOX}  # nothing recorded for the real recipients
    kinds = kinds_of(history, [r["id"] for r in rows])
    assert {k["intended"] for k in kinds.values()} == {r for r, _ in RECIPIENTS}
    assert {k["kind"] for k in kinds.values()} == {"test"} and {k["actor"] for k in kinds.values()} == {
        "admin@example.nhs.uk"
    }

    real = run_once(project, "monthly-performance", sleep=NO_SLEEP)  # the real run still sends to everyone
    assert sorted(real.sent) == sorted(r for r, _ in RECIPIENTS) and real.already == []
    for recipient, _ in RECIPIENTS:
        assert len(smtp.for_recipient(recipient)) == 1

    again = run_once(project, "monthly-performance", test=True, sleep=NO_SLEEP)  # a test after: says they have it
    assert len(again.sent) == 4 and len(smtp.for_recipient(MAILBOX)) == 8
    assert "a real run now would not send it" in _text(smtp.for_recipient(MAILBOX)[-1].message())


def test_the_jobs_own_test_mailbox_wins_and_none_configured_is_refused(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST.replace("    owner:", f"    test_mailbox: {OTHER}\n    owner:"))
    set_test_mailbox(project, MAILBOX)
    report = run_once(project, "monthly-performance", test=True, sleep=NO_SLEEP)
    assert report.test_mailbox == OTHER and {m.rcpt_tos for m in smtp.messages} == {(OTHER,)}

    bare = scheduled(BURST)  # the same project, schedules.yaml written again without any test_mailbox
    with pytest.raises(NoTestMailbox, match="has no test mailbox: add `test_mailbox:"):
        run_once(bare, "monthly-performance", test=True, sleep=NO_SLEEP)
    assert History.open(bare.root).runs("monthly-performance")[0]["trigger"] == "test"  # only the earlier one
    with pytest.raises(ConfigError, match="'nobody' is not an email address"):
        run_once(bare, "monthly-performance", test_mailbox="nobody", sleep=NO_SLEEP)


def test_an_invalid_test_mailbox_in_yaml_names_file_line_column_and_field(scheduled: Callable[..., Project]) -> None:
    from reporting.schedule.runner import load_project_schedules

    project = scheduled(BURST.replace("    owner:", "    test_mailbox: tests@localhost\n    owner:"))
    with pytest.raises(ConfigError) as raised:
        load_project_schedules(project)
    text = str(raised.value)
    line = next(
        i for i, t in enumerate((project.root / "schedules.yaml").read_text().splitlines(), 1) if "tests@localhost" in t
    )
    assert f"schedules.yaml:{line}:" in text and "test_mailbox" in text
    assert "'tests@localhost' is not an email address (expected name@organisation.nhs.uk)" in text


def _text(message: object) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[attr-defined]


def _sent_row(project: Project, recipient: str) -> dict[str, object]:
    (row,) = [d for d in History.open(project.root).deliveries() if d["recipient"] == recipient]
    return row


def test_resend_sends_the_published_files_again_once_and_keeps_the_original(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    first = run_once(project, "monthly-performance", sleep=NO_SLEEP)
    assert first.status == "success"
    original = _sent_row(project, "coo.rxw@example.nhs.uk")
    (sent,) = smtp.for_recipient("coo.rxw@example.nhs.uk")
    done = resend_delivery(
        project, int(original["id"]), by="admin@example.nhs.uk", reason="lost in the spam folder", token="form-1"
    )
    assert done.status == "sent" and done.delivery is not None
    again = resend_delivery(project, int(original["id"]), by="admin@example.nhs.uk", reason="x", token="form-1")
    assert again.status == "already"  # the same form twice (a double click): sent once
    first_copy, resent = smtp.for_recipient("coo.rxw@example.nhs.uk")
    assert first_copy == sent
    (a,) = list(sent.message().iter_attachments())
    (b,) = list(resent.message().iter_attachments())
    assert a.get_content() == b.get_content() and a.get_filename() == b.get_filename()  # the very same file
    assert "again by Performance Team <performance@example.nhs.uk> (lost in the spam folder)" in _text(resent.message())
    assert "Integrated Performance Report for The Shrewsbury and Telford Hospital NHS Trust" in _text(resent.message())
    assert resent.message()["Subject"] == sent.message()["Subject"]
    assert resent.message()["Message-ID"] != sent.message()["Message-ID"]
    history = History.open(project.root)
    assert delivery(history, int(original["id"]))["status"] == "sent"  # type: ignore[index]
    row = delivery(history, done.delivery)
    assert row is not None and row["kind"] == "resend" and row["status"] == "sent"
    assert row["kind_row"]["original_id"] == original["id"] and row["kind_row"]["reason"] == "lost in the spam folder"
    assert history.runs("monthly-performance")[0]["trigger"] == "resend"
    with pytest.raises(ResendRefused, match="is itself a resend, not a delivery of the job; resend the original"):
        resend_delivery(project, done.delivery, by="admin@example.nhs.uk", reason="again")
    later = run_once(project, "monthly-performance", sleep=NO_SLEEP)  # the delivery log still says sent: once
    assert len(later.already) == 4 and len(smtp.for_recipient("coo.rxw@example.nhs.uk")) == 2


def test_resend_refuses_what_it_cannot_send_as_it_was(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(BURST)
    run_once(project, "monthly-performance", sleep=NO_SLEEP)
    row = _sent_row(project, "performance.rj1@example.nhs.uk")
    number = int(row["id"])
    with pytest.raises(ResendRefused, match="no delivery #9999 in the delivery log"):
        resend_delivery(project, 9999, by="a@example.nhs.uk", reason="x")
    with pytest.raises(ResendRefused, match=f"no delivery #{number} in the delivery log"):  # another trust's
        resend_delivery(project, number, by="a@example.nhs.uk", reason="x", sees=lambda org: org == "RXW")
    with pytest.raises(ResendRefused, match="needs a reason"):
        resend_delivery(project, number, by="a@example.nhs.uk", reason="  ")
    (xlsx,) = (project.outputs / "monthly-performance").rglob("*-RJ1.xlsx")
    kept = xlsx.read_bytes()
    xlsx.write_bytes(kept + b"changed")
    with pytest.raises(ResendRefused, match=r"changed on disk since it was published \(its sha256 is not the one"):
        resend_delivery(project, number, by="a@example.nhs.uk", reason="x")
    xlsx.unlink()
    with pytest.raises(ResendRefused, match="is gone from"):
        resend_delivery(project, number, by="a@example.nhs.uk", reason="x")
    xlsx.write_bytes(kept)
    assert hashlib.sha256(kept).hexdigest() in (xlsx.parent / "manifest.json").read_text()
    assert resend_delivery(project, number, by="a@example.nhs.uk", reason="restored").status == "sent"
    assert len(smtp.for_recipient("performance.rj1@example.nhs.uk")) == 2


def test_resend_on_the_command_line(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    from reporting.cli import app

    project = scheduled(BURST)
    set_test_mailbox(project, MAILBOX)
    runner = CliRunner()
    at = ["--project", str(project.root)]
    tested = runner.invoke(app, [*at, "run-once", "monthly-performance", "--test"])
    assert tested.exit_code == 0, tested.output
    assert f"sent to the test mailbox {MAILBOX} for 4" in tested.output and len(smtp.messages) == 4
    assert runner.invoke(app, [*at, "run-once", "monthly-performance"]).exit_code == 0
    number = _sent_row(project, "coo.rj1@example.nhs.uk")["id"]
    done = runner.invoke(app, [*at, "resend", str(number), "--reason", "asked for it again"])
    assert done.exit_code == 0 and f"resent delivery #{number} to coo.rj1@example.nhs.uk" in done.output
    assert len(smtp.for_recipient("coo.rj1@example.nhs.uk")) == 2
    missing = runner.invoke(app, [*at, "resend", "4242", "--reason", "x"])
    assert missing.exit_code != 0 and "no delivery #4242" in missing.output + str(missing.exception)
    both = runner.invoke(app, [*at, "run-once", "monthly-performance", "--test", "--dry-run"])
    assert both.exit_code != 0 and "does not go with --dry-run" in str(both.exception)
    listed = runner.invoke(app, [*at, "history", "--job", "monthly-performance"])
    assert "resend of" in listed.output and "test for" in listed.output


def test_a_test_run_of_a_draft_asks_no_approver(approval_project: Callable[..., Project], smtp: SmtpTestServer) -> None:
    """A pack awaiting approval: the test mailbox gets what its approvers would, nobody else anything, and the
    approval queue gains no request (no approver was asked)."""
    from approval_fixtures import APPROVER, DEPUTY

    project = approval_project()
    set_test_mailbox(project, MAILBOX)
    report = run_once(project, "board", test=True, actor="admin@example.nhs.uk", sleep=NO_SLEEP)
    assert report.status == "success" and sorted(report.sent) == sorted([APPROVER, DEPUTY]) and len(report.held) == 2
    assert {m.rcpt_tos for m in smtp.messages} == {(MAILBOX,)} and len(smtp.messages) == 2
    assert all(str(m.message()["Subject"]).startswith("[TEST] DRAFT") for m in smtp.messages)
    assert History.open(project.root).pending_approvals() == []
    real = run_once(project, "board", sleep=NO_SLEEP)  # the real run asks the approvers
    assert sorted(real.sent) == sorted([APPROVER, DEPUTY]) and len(History.open(project.root).pending_approvals()) == 1
