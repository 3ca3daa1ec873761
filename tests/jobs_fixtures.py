"""Shared by the test-run and resend tests (the runner's, and the portal's HTTP and browser ones): a job bursting
to two trusts and its recipients, a scoped admin, and a way to set or remove the project-wide test mailbox."""

from __future__ import annotations

import re

from approval_fixtures import USERS

from reporting.project import Project

MAILBOX = "test.mailbox@example.nhs.uk"
SCOPED_ADMIN = "admin.rxw@example.nhs.uk"
USERS_WITH_SCOPED_ADMIN = USERS + f"  - email: {SCOPED_ADMIN}\n    roles: [admin]\n    orgs: [RXW]\n"
RECIPIENTS = [  # the shipped recipients/monthly.csv, which the scheduled project copies
    ("performance.rj1@example.nhs.uk", "RJ1"),
    ("coo.rj1@example.nhs.uk", "RJ1"),
    ("performance.rxw@example.nhs.uk", "RXW"),
    ("coo.rxw@example.nhs.uk", "RXW"),
]
BURST = """\
  - id: monthly-performance
    pack: monthly-performance
    every: monthly 10 08:00
    orgs: [RJ1, RXW]
    formats: [xlsx]
    recipients:
      file: recipients/monthly.csv
    subject: "{{ pack_title }} – {{ org_name }}"
    retries: {attempts: 2, backoff_seconds: 0}
    owner: owner@example.nhs.uk
"""


def NO_SLEEP(_: float) -> None:
    """Retries without waiting."""


def set_test_mailbox(project: Project, mailbox: str | None) -> None:
    """The project-wide `test_mailbox:` of schedules.yaml set to `mailbox` (removed when None)."""
    path = project.root / "schedules.yaml"
    text = re.sub(r"^test_mailbox: .*\n", "", path.read_text(), flags=re.M)
    if mailbox:
        text = text.replace("\njobs:\n", f"\ntest_mailbox: {mailbox}\njobs:\n", 1)
    path.write_text(text)
