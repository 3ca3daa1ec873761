"""A scheduled project (a copy of the session's `pulled` project, tests/conftest.py) and a real SMTP server."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from smtp_server import SmtpTestServer

from reporting.project import Project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scheduled(
    pulled: Path, tmp_path: Path, smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Project]:
    """A copy of the pulled project whose schedules.yaml sends to the test server; `jobs` replaces the jobs."""
    for name in (
        "REPORTING_SMTP_HOST",
        "REPORTING_SMTP_PORT",
        "REPORTING_SMTP_USER",
        "REPORTING_SMTP_PASSWORD",
        "REPORTING_HISTORY_URL",
        "REPORTING_JOBSTORE_URL",
    ):
        monkeypatch.delenv(name, raising=False)

    def make(jobs: str | None = None) -> Project:
        root = tmp_path / "project"
        if not root.exists():
            shutil.copytree(pulled, root)
        text = (REPO / "schedules.yaml").read_text()
        text = text.replace("  port: 25 ", f"  port: {smtp.port} ").replace("  host: localhost", "  host: 127.0.0.1")
        if jobs is not None:
            text = text[: text.index("jobs:")] + "jobs:\n" + jobs
        (root / "schedules.yaml").write_text(text)
        shutil.copy2(REPO / "users.yaml", root / "users.yaml")  # the Board job's approvers
        return Project(root)

    return make
