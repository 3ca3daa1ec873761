"""Shared by tests/approval and tests/portal: a copy of the pulled demo project whose Board job needs approval,
with a users.yaml, sending to a real SMTP server (tests/smtp_server.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from smtp_server import SmtpTestServer

from reporting.project import Project

REPO = Path(__file__).resolve().parents[1]
APPROVER, DEPUTY, ANALYST = (
    "board.secretary@example.nhs.uk",
    "deputy.secretary@example.nhs.uk",
    "analyst@example.nhs.uk",
)
CHAIR, MEMBER, OWNER = "chair@example.nhs.uk", "member@example.nhs.uk", "owner@example.nhs.uk"
ADMIN, VIEWER_RXW = "admin@example.nhs.uk", "viewer.rxw@example.nhs.uk"
USERS = f"""\
users:
  - email: {APPROVER}
    name: Board Secretary
    roles: [approver]
    orgs: ["*"]
  - email: {DEPUTY}
    roles: [approver]
    orgs: [RJ1]
  - email: {ANALYST}
    roles: [analyst]
    orgs: [RJ1]
  - email: {ADMIN}
    roles: [admin]
    orgs: ["*"]
  - email: {VIEWER_RXW}
    roles: [viewer]
    orgs: [RXW]
"""
BOARD = f"""\
  - id: board
    pack: board
    every: monthly 15 09:00
    parameters: {{period: latest, org: RJ1}}
    formats: [docx, pptx]
    recipients:
      addresses: [{CHAIR}, {MEMBER}]
    subject: "{{{{ pack_title }}}} – {{{{ period_label }}}}"
    retries: {{attempts: 2, backoff_seconds: 0}}
    owner: {OWNER}
    approval:
      approvers: [{APPROVER}, {DEPUTY}]
"""


def approval_project_maker(
    pulled: Path, tmp_path: Path, smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Project]:
    """`make(jobs=BOARD, users=USERS)`: the pulled demo project sending to the test server."""
    for name in ("REPORTING_SMTP_HOST", "REPORTING_SMTP_PORT", "REPORTING_SMTP_USER", "REPORTING_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REPORTING_HISTORY_URL", raising=False)

    def make(jobs: str = BOARD, users: str | None = USERS) -> Project:
        root = tmp_path / "project"
        if not root.exists():
            shutil.copytree(pulled, root)
        text = (REPO / "schedules.yaml").read_text()
        text = text.replace("  port: 25 ", f"  port: {smtp.port} ").replace("  host: localhost", "  host: 127.0.0.1")
        (root / "schedules.yaml").write_text(text[: text.index("jobs:")] + "jobs:\n" + jobs)
        if users is not None:
            (root / "users.yaml").write_text(users)
        return Project(root)

    return make
