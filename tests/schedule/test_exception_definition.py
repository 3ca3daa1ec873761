"""One definition of "exception" (reporting.mdc.is_exception), read by the email and `send_if: exceptions_exist`.

Each case runs the real runner against the real SMTP server (tests/smtp_server.py) on the bundled data.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from smtp_server import SmtpTestServer

from reporting.mdc import is_exception
from reporting.project import Project
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

JOB = """\
  - id: weekly-executive
    pack: weekly-executive
    every: monday 07:30
    parameters: {period: latest, org: ORG}
    formats: [xlsx]
    recipients:
      addresses: [ceo@example.nhs.uk]
    subject: "{{ pack_title }} – {{ period_label }}"
    send_if: SEND_IF
    retries: {attempts: 1, backoff_seconds: 0}
    owner: owner@example.nhs.uk
"""


def _job(org: str, send_if: str) -> str:
    return JOB.replace("ORG", org).replace("SEND_IF", send_if)


def NO_SLEEP(_: float) -> None:
    """No waiting between attempts."""


def test_a_missed_target_alone_is_an_exception_that_is_sent_and_listed_first(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    # R0B (South Tyneside and Sunderland): A&E 4-hour is common cause, met inconsistently, and the latest month
    # (73.8%) misses the 78% target; nothing in the pack is special cause concern.
    project = scheduled(_job("R0B", "exceptions_exist"))
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "success" and report.sent == ["ceo@example.nhs.uk"]
    (received,) = smtp.for_recipient("ceo@example.nhs.uk")
    message = received.message()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "concern" not in text.lower()  # the only exception is the missed target
    attention, _, others = text.partition("OTHER MEASURES")
    assert "NEEDS ATTENTION (1)" in attention
    assert "[EXCEPTION] A&E 4-hour performance: 73.8%" in attention
    assert "[EXCEPTION]" not in others and "A&E attendances" in others
    html = message.get_body(("html",)).get_content()
    assert html.index("Needs attention (1)") < html.index("A&amp;E 4-hour performance") < html.index("Other measures")
    assert message["Subject"] == "Weekly Executive Pack – week of 25 August 2025"


def test_a_stale_measure_or_a_target_met_this_period_is_not_an_exception(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    # RJ1: discharges before 5pm has no current data (stale), and A&E 4-hour is met inconsistently but the
    # latest month (78.1%) meets the target: nothing needs attention, so nothing is sent...
    project = scheduled(_job("RJ1", "exceptions_exist"))
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "skipped" and smtp.messages == []
    assert History.open(project.root).runs()[0]["error"] == "no exceptions this period"
    # ...and the same pack sent anyway lists every measure, none as needing attention, the stale one named
    project = scheduled(_job("RJ1", "always"))
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "success"
    (received,) = smtp.for_recipient("ceo@example.nhs.uk")
    text = received.message().get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "NEEDS ATTENTION" not in text and "[EXCEPTION]" not in text
    assert "MEASURES\n" in text and "Discharges before 5pm: no current data" in text
    assert "Data not current: Discharges before 5pm (latest: w/c 22 May 2023, before this week)." in text
    assert "No exceptions this period." in received.message().get_body(("html",)).get_content()


@pytest.mark.parametrize(
    ("icon", "assurance", "misses", "stale", "expected"),
    [
        ("concern_high", None, False, False, True),
        ("common_cause", "consistent_fail", True, False, True),
        ("common_cause", "inconsistent", True, False, True),
        ("common_cause", "inconsistent", False, False, False),  # met this period
        ("common_cause", "consistent_fail", False, False, False),  # the pack's rule: the latest point decides
        ("improvement_high", "consistent_pass", False, False, False),
        ("concern_low", "consistent_fail", True, True, False),  # stale: reported as stale instead
    ],
)
def test_the_definition(icon: str, assurance: str | None, misses: bool, stale: bool, expected: bool) -> None:
    assert is_exception(icon, assurance, misses_target=misses, stale=stale) is expected
