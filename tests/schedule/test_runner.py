"""run-once against a real SMTP server: delivered exactly once, retries, partial failures, bursting, owners told."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from smtp_server import SmtpTestServer

from reporting.project import Project
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # every test builds and sends a pack

WEEKLY = """\
  - id: weekly-executive
    pack: weekly-executive
    every: monday 07:30
    parameters: {period: latest, org: RJ1}
    formats: [xlsx]
    recipients:
      addresses: [ceo@example.nhs.uk, coo@example.nhs.uk]
    subject: "{{ pack_title }} – {{ period_label }}"
    retries: {attempts: 2, backoff_seconds: 0}
    owner: owner@example.nhs.uk
"""
BURST = """\
  - id: monthly-performance
    pack: monthly-performance
    every: monthly 10 08:00
    orgs: [RJ1, RXW]
    formats: [xlsx]
    recipients:
      file: recipients/monthly.csv
    subject: "{{ pack_title }} – {{ org_name }}"
    owner: owner@example.nhs.uk
"""


def NO_SLEEP(_: float) -> None:
    """Retries without waiting."""


def test_delivers_the_pack_exactly_once(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "success" and sorted(report.sent) == ["ceo@example.nhs.uk", "coo@example.nhs.uk"]
    (received,) = smtp.for_recipient("ceo@example.nhs.uk")
    message = received.message()
    (attachment,) = list(message.iter_attachments())
    built = next(f for f in report.files if f.suffix == ".xlsx")
    assert hashlib.sha256(attachment.get_content()).hexdigest() == hashlib.sha256(built.read_bytes()).hexdigest()
    assert message["Subject"] == "Weekly Executive Pack – week of 25 August 2025"
    assert "Trolley waits over 4 hours" in message.get_body(("plain",)).get_content()
    again = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert again.status == "success" and sorted(again.already) == ["ceo@example.nhs.uk", "coo@example.nhs.uk"]
    assert len(smtp.messages) == 2  # no duplicates
    history = History.open(project.root)
    assert [r["status"] for r in history.runs("weekly-executive")] == ["success", "success"]
    assert {d["status"] for d in history.deliveries("weekly-executive")} == {"sent"}


def test_smtp_down_then_up_is_delivered_once(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    smtp.down()
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "partial" and len(report.failed) == 2 and not report.ok
    smtp.up()
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert sorted(report.sent) == ["ceo@example.nhs.uk", "coo@example.nhs.uk"]
    run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert sorted(r.rcpt_tos[0] for r in smtp.messages if r.rcpt_tos[0] != "owner@example.nhs.uk") == [
        "ceo@example.nhs.uk",
        "coo@example.nhs.uk",
    ]
    statuses = {(d["recipient"], d["status"], d["attempts"]) for d in History.open(project.root).deliveries()}
    assert ("ceo@example.nhs.uk", "sent", 3) in statuses  # 2 failed attempts, then 1 that worked


def test_temporary_failure_is_retried_within_the_run(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    smtp.reject("coo@example.nhs.uk", 451, times=1)
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "success" and "coo@example.nhs.uk" in report.sent


def test_permanent_failure_for_one_recipient_others_delivered(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(WEEKLY)
    smtp.reject("coo@example.nhs.uk", 550)
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "partial" and report.sent == ["ceo@example.nhs.uk"]
    assert "550" in report.failed["coo@example.nhs.uk"]
    owner = smtp.for_recipient("owner@example.nhs.uk")
    assert owner and "coo@example.nhs.uk" in owner[0].message().get_content()
    failed = [d for d in History.open(project.root).deliveries() if d["recipient"] == "coo@example.nhs.uk"]
    assert failed[0]["status"] == "failed_permanent" and failed[0]["attempts"] == 1


def test_bursting_sends_each_recipient_only_their_trust(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    report = run_once(project, "monthly-performance", sleep=NO_SLEEP)
    assert report.status == "success" and len(report.sent) == 4
    for address, mine, other in (
        ("performance.rj1@example.nhs.uk", "Guy's and St Thomas'", "Shrewsbury"),
        ("coo.rxw@example.nhs.uk", "Shrewsbury", "Guy's and St Thomas'"),
    ):
        (received,) = smtp.for_recipient(address)
        message = received.message()
        assert mine in message["Subject"] and other not in message["Subject"]
        (attachment,) = list(message.iter_attachments())
        book = load_workbook(io.BytesIO(attachment.get_content()))
        contents = " ".join(str(c.value) for r in book["Contents"].iter_rows() for c in r if c.value)
        assert mine in contents and other not in contents


def test_failed_build_sends_nothing_and_tells_the_owner(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(WEEKLY)
    template = project.root / "templates" / "packs" / "weekly-executive.yaml"
    template.write_text(template.read_text().replace("- cover: {}", '- cover: {}\n      - text: "{{ oops }}"'))
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "failed" and "unknown name 'oops' in the text" in (report.error or "")
    assert [r.rcpt_tos for r in smtp.messages] == [("owner@example.nhs.uk",)]
    assert "Nothing was sent" in smtp.messages[0].message().get_content()
    assert not (project.outputs / "weekly-executive").exists()


def test_dry_run_writes_eml_files(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    report = run_once(project, "weekly-executive", dry_run=True)
    emails = sorted(p.name for p in (project.outputs / "weekly-executive").rglob("*.eml"))
    assert emails == ["ceo@example.nhs.uk.eml", "coo@example.nhs.uk.eml"] and smtp.messages == []
    assert report.status == "success"


def test_send_if_data_changed_and_exceptions_exist(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY.replace("    owner:", "    send_if: data_changed\n    owner:"))
    assert run_once(project, "weekly-executive", sleep=NO_SLEEP).status == "success"
    again = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert again.status == "skipped" and len(smtp.messages) == 2
    # RJ1: no exception this week (its October 2023 step is a registered data break, not a concern)
    project = scheduled(WEEKLY.replace("    owner:", "    send_if: exceptions_exist\n    owner:"))
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "skipped" and len(smtp.messages) == 2
    assert History.open(project.root).runs()[0]["error"] == "no exceptions this period"
    project = scheduled(
        WEEKLY.replace("    owner:", "    send_if: exceptions_exist\n    owner:").replace("org: RJ1", "org: RXW")
    )  # Shrewsbury and Telford: A&E 4-hour is one
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "success" and len(smtp.messages) == 4
    (received, *_) = smtp.for_recipient("ceo@example.nhs.uk")[-1:]
    body = received.message().get_body(("plain",)).get_content()
    assert "Data not current: Discharges before 5pm (latest: w/c 22 May 2023, before this week)." in body


DASK_BURST = """\
  - id: monthly-burst
    pack: monthly-performance
    every: monthly 10 08:00
    parameters: {period: 2025-07}
    executor: dask
    workers: 2
    formats: [xlsx]
    recipients:
      file: recipients/burst.csv
    subject: "{{ pack_title }} – {{ org_name }}"
    owner: owner@example.nhs.uk
"""


def test_dask_burst_one_trust_without_data_fails_alone(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(DASK_BURST)
    # North Middlesex (RAP) stopped reporting in December 2024, so it has no pack for July 2025
    (project.root / "recipients" / "burst.csv").write_text(
        "email,org_code\nceo.rj1@example.nhs.uk,RJ1\nceo.rap@example.nhs.uk,RAP\nceo.rxw@example.nhs.uk,RXW\n"
    )
    report = run_once(project, "monthly-burst", sleep=NO_SLEEP)
    assert report.status == "partial", report
    assert sorted(report.sent) == ["ceo.rj1@example.nhs.uk", "ceo.rxw@example.nhs.uk"], report
    assert "RAP" in report.build_failed and "no data for period 2025-07" in report.build_failed["RAP"]
    assert "failed to build" in report.failed["ceo.rap@example.nhs.uk"]
    assert not smtp.for_recipient("ceo.rap@example.nhs.uk")
    (told,) = smtp.for_recipient("owner@example.nhs.uk")
    assert "pack for RAP not built" in told.message().get_content()
    published = {p.name for p in (project.outputs / "monthly-performance").glob("*/*") if p.is_dir()}
    assert published == {"RJ1", "RXW"}
    # a rerun sends nothing twice: the built packs were delivered; RAP still fails, and is still reported
    again = run_once(project, "monthly-burst", sleep=NO_SLEEP)
    assert sorted(again.already) == ["ceo.rj1@example.nhs.uk", "ceo.rxw@example.nhs.uk"] and not again.sent
    assert again.status == "partial" and list(again.build_failed) == ["RAP"]
