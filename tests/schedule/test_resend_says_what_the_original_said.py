"""A resend's email says what the original said and nothing it should not (review 16, findings 3, 5, 7 and 11):
the same footer (protective marking, snapshot, footnotes) from the facts the build wrote into its manifest; the
sender, not the server's account and host, as who sent it again; the second click of a double click told it was
already submitted, and a resend while the job runs told to check the delivery log; a recipient no longer on the
job's list refused unless forced; and, when the files are too large to attach, no promise of "the same files".
Real SMTP server (aiosmtpd), real SQLite history, real builds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from jobs_fixtures import BURST, NO_SLEEP
from smtp_server import SmtpTestServer

from reporting.project import Project
from reporting.schedule.delivery_kinds import claim_form, delivery
from reporting.schedule.history import History
from reporting.schedule.job_lock import job_lock
from reporting.schedule.resend import ResendRefused, resend_delivery
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # every test builds and sends a pack

RJ1 = "performance.rj1@example.nhs.uk"


def _text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def _footer(message: Any) -> str:
    """The plain text's footer: what follows its last "--" line."""
    lines = _text(message).splitlines()
    return "\n".join(lines[len(lines) - lines[::-1].index("--") :]).strip()


def _sent(project: Project) -> dict[str, Any]:
    assert len(run_once(project, "monthly-performance", sleep=NO_SLEEP).sent) == 4
    return next(d for d in History.open(project.root).deliveries("monthly-performance") if d["recipient"] == RJ1)


def test_the_resend_has_the_originals_footer_and_names_the_sender_not_the_server(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    import getpass
    import socket

    from reporting.commands.jobs import _who

    project = scheduled(BURST)
    row = _sent(project)
    (original,) = smtp.for_recipient(RJ1)
    footer = _footer(original.message())
    assert footer.startswith("OFFICIAL | snapshot ") and "Open Government Licence" in footer  # the marking
    done = resend_delivery(project, int(row["id"]), by=_who(), reason="lost in spam", sleep=NO_SLEEP)
    again = smtp.for_recipient(RJ1)[-1].message()
    assert _footer(again) == footer
    (manifest,) = (project.outputs / "monthly-performance").rglob("*/RJ1/manifest.json")
    assert json.loads(manifest.read_text())["email"]["classification"] == "OFFICIAL"  # what the build wrote
    text = _text(again)
    assert "Sent to you again by Performance Team <performance@example.nhs.uk> (lost in spam)." in text
    assert "It has the same files." in text
    assert getpass.getuser() + "@" not in text and socket.gethostname() not in text  # the server's account: not sent
    kind = delivery(History.open(project.root), done.delivery or 0)
    assert kind is not None and kind["kind_row"]["actor"] == _who()  # ... but kept in the delivery log
    m = json.loads(manifest.read_text())  # a build whose data was stale wrote its "data not current" rows
    m["email"]["stale"] = ["4-hour A&E (latest: May 2025)"]
    manifest.write_text(json.dumps(m))
    resend_delivery(project, int(row["id"]), by=_who(), reason="again", requester="Jo Bloggs (BI team)")
    assert "Data not current: 4-hour A&E (latest: May 2025)." in _text(smtp.for_recipient(RJ1)[-1].message())
    assert "Sent to you again at the request of Jo Bloggs (BI team) (again)." in _text(
        smtp.for_recipient(RJ1)[-1].message()
    )


def test_a_double_click_is_already_submitted_and_a_busy_job_says_check_the_log(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    row = _sent(project)
    history = History.open(project.root)
    token = "T" * 24
    assert claim_form(history, token, "admin@example.nhs.uk", "resend")  # the first click: claimed, sending
    with job_lock(project.root, "monthly-performance", wait=False):
        second = resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="x", token=token)
        assert second.status == "already"  # not "resend when it has finished"
        with pytest.raises(ResendRefused) as busy:  # a fresh form while a run or resend holds the lock
            resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="x", token="U" * 24)
    assert str(busy.value) == "a run or resend of this job is in progress: check the delivery log before resending"
    assert len(smtp.for_recipient(RJ1)) == 1


def test_a_recipient_no_longer_on_the_list_is_refused_unless_forced_and_large_files_make_no_promise(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(BURST)
    row = _sent(project)
    csv = project.root / "recipients" / "monthly.csv"
    csv.write_text("".join(line for line in csv.read_text().splitlines(True) if RJ1 not in line))
    with pytest.raises(ResendRefused, match=f"{RJ1} is no longer on job monthly-performance's recipients for RJ1"):
        resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="x", sleep=NO_SLEEP)
    assert len(smtp.for_recipient(RJ1)) == 1
    schedules = project.root / "schedules.yaml"  # files too large to attach now: the email links them
    schedules.write_text(schedules.read_text().replace("attach_limit_mb: 10", "attach_limit_mb: 0.001"))
    done = resend_delivery(project, int(row["id"]), by="admin@example.nhs.uk", reason="x", force=True, sleep=NO_SLEEP)
    assert done.status == "sent"
    again = smtp.for_recipient(RJ1)[-1].message()
    assert not list(again.iter_attachments())
    text = _text(again)
    assert "the links open the files published now" in text and "same files" not in text
