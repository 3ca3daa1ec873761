"""Emails never carry a server path: links come from `publish.link_base`, URL-quoted per segment; without one
the files are attached or the email says where they are published relative to outputs/. A dry run says where
each .eml went and what it would have sent to whom."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path, PurePosixPath

import pytest
from smtp_server import SmtpTestServer

from reporting.delivery.compose import published_url
from reporting.project import Project
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # every test builds a pack

EXE = str(Path(sys.executable).with_name("reporting"))
JOB = """\
  - id: weekly-executive
    pack: weekly-executive
    every: monday 07:30
    parameters: {period: latest, org: RJ1}
    formats: [pptx, xlsx]
    recipients:
      addresses: [ceo@example.nhs.uk, coo@example.nhs.uk]
    subject: "{{ pack_title }} – {{ period_label }}"
    owner: owner@example.nhs.uk
"""
FOLDER = "weekly-executive/2025-08-25/RJ1"
FILES = ("weekly-executive-2025-08-25-RJ1.pptx", "weekly-executive-2025-08-25-RJ1.xlsx")


def _publish(project: Project, settings: str) -> None:
    path = project.root / "schedules.yaml"
    text = path.read_text()
    start = text.index("publish:")
    end = text.index("\n\n", start)
    path.write_text(text[:start] + "publish:\n" + settings + text[end:])


def _emails(project: Project) -> list[EmailMessage]:
    paths = sorted(project.outputs.rglob("*.eml"))
    assert paths
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]  # type: ignore[misc]


def _bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def _no_server_path(project: Project, message: EmailMessage) -> None:
    """The test for the defect: no part of any email (text or HTML) names where the project lives."""
    roots = {str(project.root), str(project.root.resolve()), str(project.outputs.resolve())}
    for body in _bodies(message):
        for root in roots:
            assert root not in body
        assert "/tmp/" not in body and "\\outputs\\" not in body


def test_published_url_quotes_each_segment() -> None:
    relative = PurePosixPath("board papers/2025-07-01/R&B #1.pdf")
    assert (
        published_url("https://intranet.example/packs/", relative)
        == "https://intranet.example/packs/board%20papers/2025-07-01/R%26B%20%231.pdf"
    )
    assert published_url("https://intranet.example/packs", relative).count("//") == 1
    assert published_url("\\\\server\\packs\\", PurePosixPath("a/b.pdf")) == "\\\\server\\packs\\a\\b.pdf"
    assert published_url("/mnt/shared/packs/", PurePosixPath("a/b c.pdf")) == "/mnt/shared/packs/a/b c.pdf"


def test_with_a_link_base_the_email_links_every_file(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(JOB)
    _publish(project, "  link_base: https://intranet.example/packs/\n  attach_limit_mb: 10\n")
    report = run_once(project, "weekly-executive", dry_run=True)
    assert report.status == "success" and smtp.messages == []
    for message in _emails(project):
        _no_server_path(project, message)
        text, html = _bodies(message)
        for name in FILES:
            url = f"https://intranet.example/packs/{FOLDER}/{name}"
            assert f"- {name}: {url}" in text
            assert f'href="{url}"' in html
        assert sorted(p.get_filename() for p in message.iter_attachments()) == sorted(FILES)


def test_without_a_link_base_files_too_big_are_named_relative_to_outputs(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(JOB)
    _publish(project, "  attach_limit_mb: 0.001\n")  # 1 kB: nothing fits
    report = run_once(project, "weekly-executive", dry_run=True)
    assert report.status == "success"
    for message in _emails(project):
        _no_server_path(project, message)
        assert list(message.iter_attachments()) == []
        text, html = _bodies(message)
        assert "OPEN THE PACK" not in text  # no link list without a base URL
        assert "published in the reporting outputs folder" in text
        for name in FILES:
            assert f"  {FOLDER}/{name}" in text
            assert f"{FOLDER}/{name}" in html


def test_without_a_link_base_small_files_are_attached(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(JOB)
    _publish(project, "  attach_limit_mb: 10\n")
    assert run_once(project, "weekly-executive", dry_run=True).status == "success"
    for message in _emails(project):
        _no_server_path(project, message)
        assert sorted(p.get_filename() for p in message.iter_attachments()) == sorted(FILES)


def test_the_checker_catches_a_server_path(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    """The scan above is not vacuous: an email that lists absolute paths (as before this fix) fails it."""
    from reporting.delivery.compose import EmailContent, compose

    project = scheduled(JOB)
    paths = [project.outputs.resolve() / FOLDER / name for name in FILES]
    old_style = EmailContent("s", "t", "i", (), links=tuple((p.name, str(p)) for p in paths))
    with pytest.raises(AssertionError):
        _no_server_path(project, compose(old_style, "a@example.nhs.uk", "b@example.nhs.uk"))


def test_dry_run_prints_where_each_eml_went(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(JOB)
    env = {**os.environ, "REPORTING_HOME": str(project.root), "COLUMNS": "400"}
    result = subprocess.run(
        [EXE, "run-once", "weekly-executive", "--dry-run"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("would send to ")]
    assert len(lines) == 2, result.stdout
    for address, line in zip(("ceo@example.nhs.uk", "coo@example.nhs.uk"), lines, strict=True):
        where = f"outputs/{FOLDER}/emails/{address}.eml"
        assert line.startswith(f"would send to {address}: 'Weekly Executive Pack – ")
        assert "2 attached (" in line and all(name in line for name in FILES)
        assert line.endswith(f"written to {where}"), line
        assert (project.root / where).is_file()
    assert str(project.root) not in result.stdout
