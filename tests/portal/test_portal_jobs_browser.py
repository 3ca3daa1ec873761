"""The Jobs page's Test run and the delivery log's Resend in a real browser (playwright on the system Chromium),
against a real uvicorn server, a real aiosmtpd server and the real SQLite history: disabled without a test
mailbox, a double click on each sends once, and the history shows what was done, by whom.

Screenshots of each page go to $REPORTING_SCREENSHOTS when it is set (to look at them), else to tmp_path."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import ADMIN
from browser_fixtures import PASSWORD, browser_page, serve, shot, sign_in
from jobs_fixtures import BURST, MAILBOX, USERS_WITH_SCOPED_ADMIN, set_test_mailbox
from smtp_server import SmtpTestServer

from reporting.portal.auth import set_password
from reporting.project import Project

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def served(approval_project: Callable[..., Project]) -> Iterator[tuple[str, Project]]:
    project = approval_project(jobs=BURST, users=USERS_WITH_SCOPED_ADMIN)
    set_password(project.root, ADMIN, PASSWORD)
    with serve(project) as base:
        yield base, project


@pytest.fixture
def page() -> Iterator[object]:
    with browser_page(1400) as opened:
        yield opened


def _wait_for(check: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_test_run_and_resend_in_the_browser(
    served: tuple[str, Project], page: object, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    base, project = served
    p = page
    sign_in(p, base, ADMIN)

    p.goto(f"{base}/jobs")  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="monthly-performance").first  # type: ignore[attr-defined]
    assert row.locator("button", has_text="Test run").is_disabled()
    assert "disabled: no test mailbox configured" in row.inner_text()
    shot(p, "11-jobs-no-test-mailbox", tmp_path)

    set_test_mailbox(project, MAILBOX)
    p.reload()  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="monthly-performance").first  # type: ignore[attr-defined]
    assert MAILBOX in row.inner_text() and row.locator("button", has_text="Test run").is_enabled()
    shot(p, "12-jobs-test-mailbox", tmp_path)
    row.locator("button", has_text="Test run").dblclick()  # a double click
    p.wait_for_selector(".flash", timeout=180_000)  # type: ignore[attr-defined]
    _wait_for(lambda: len(smtp.messages) >= 4)
    time.sleep(1)  # a second run, had there been one, would have sent by now
    assert len(smtp.messages) == 4 and {m.rcpt_tos for m in smtp.messages} == {(MAILBOX,)}
    assert all(str(m.message()["Subject"]).startswith("[TEST] ") for m in smtp.messages)
    shot(p, "13-jobs-after-test-run", tmp_path)

    p.click("header >> text=Runs and deliveries")  # type: ignore[attr-defined]
    text = p.locator("#deliveries + .scroll table").inner_text()  # type: ignore[attr-defined]
    assert "test for coo.rxw@example.nhs.uk, asked by admin@example.nhs.uk" in text
    assert p.locator("#deliveries + .scroll table button", has_text="Resend").count() == 0  # a test is not resent
    shot(p, "14-history-after-test-run", tmp_path)

    p.goto(f"{base}/jobs")  # type: ignore[attr-defined]
    p.locator("tr", has_text="monthly-performance").first.locator("button", has_text="Send now").click()  # type: ignore[attr-defined]
    p.wait_for_selector(".flash", timeout=180_000)  # type: ignore[attr-defined]
    assert "sent 4" in p.locator(".flash").inner_text()  # type: ignore[attr-defined]  # the test run marked no one sent

    p.goto(f"{base}/runs")  # type: ignore[attr-defined]
    delivered = p.locator("#deliveries + .scroll table tr", has_text="coo.rxw@example.nhs.uk").first  # type: ignore[attr-defined]
    delivered.locator("input[name=reason]").fill("asked for it again: lost in the spam folder")
    form = delivered.locator("form")
    fields = {name: form.locator(f"input[name={name}]").input_value() for name in ("csrf", "once", "reason")}
    action = str(form.get_attribute("action"))
    delivered.locator("button", has_text="Resend").dblclick()  # a double click
    p.wait_for_selector(".flash")  # type: ignore[attr-defined]
    _wait_for(lambda: len(smtp.for_recipient("coo.rxw@example.nhs.uk")) >= 2)
    time.sleep(1)
    assert len(smtp.for_recipient("coo.rxw@example.nhs.uk")) == 2  # the original and one resend
    again = p.request.post(f"{base}{action}", form=fields)  # type: ignore[attr-defined]  # that form, sent again
    assert "already submitted" in again.text() and len(smtp.for_recipient("coo.rxw@example.nhs.uk")) == 2
    p.goto(f"{base}/runs")  # type: ignore[attr-defined]
    text = p.locator("#deliveries + .scroll table").inner_text()  # type: ignore[attr-defined]
    assert "by admin@example.nhs.uk: asked for it again: lost in the spam folder" in text
    assert "resend-delivered" in p.content()  # type: ignore[attr-defined]
    shot(p, "15-history-after-resend", tmp_path)
