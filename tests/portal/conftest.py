"""Fixtures of the portal tests: the project of tests/approval_fixtures.py and a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import approval_project_maker
from smtp_server import SmtpTestServer

from reporting.project import Project


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def approval_project(
    pulled: Path, tmp_path: Path, smtp: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Project]:
    return approval_project_maker(pulled, tmp_path, smtp, monkeypatch)
