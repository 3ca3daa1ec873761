"""The Jobs page's Test run and the delivery log's Resend in a real browser (playwright on the system Chromium),
against a real uvicorn server, a real aiosmtpd server and the real SQLite history: disabled without a test
mailbox, a double click on each sends once, and the history shows what was done, by whom.

Screenshots of each page go to $REPORTING_SCREENSHOTS when it is set (to look at them), else to tmp_path."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from approval_fixtures import ADMIN
from jobs_fixtures import BURST, MAILBOX, USERS_WITH_SCOPED_ADMIN, set_test_mailbox
from smtp_server import SmtpTestServer, free_port

from reporting.portal.app import create_app
from reporting.portal.auth import set_password
from reporting.project import Project

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def served(approval_project: Callable[..., Project]) -> Iterator[tuple[str, Project]]:
    import uvicorn

    project = approval_project(jobs=BURST, users=USERS_WITH_SCOPED_ADMIN)
    set_password(project.root, ADMIN, PASSWORD)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(project, secure_cookies=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", project
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page() -> Iterator[object]:
    from reporting.charts.export import find_chromium

    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 1400, "height": 900})
        browser.close()


def _shot(page: object, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REPORTING_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


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
    p.goto(f"{base}/")  # type: ignore[attr-defined]
    p.fill("input[name=email]", ADMIN)  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    p.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    p.wait_for_selector("h1:has-text('Packs')")  # type: ignore[attr-defined]

    p.goto(f"{base}/jobs")  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="monthly-performance").first  # type: ignore[attr-defined]
    assert row.locator("button", has_text="Test run").is_disabled()
    assert "disabled: no test mailbox configured" in row.inner_text()
    _shot(p, "11-jobs-no-test-mailbox", tmp_path)

    set_test_mailbox(project, MAILBOX)
    p.reload()  # type: ignore[attr-defined]
    row = p.locator("tr", has_text="monthly-performance").first  # type: ignore[attr-defined]
    assert MAILBOX in row.inner_text() and row.locator("button", has_text="Test run").is_enabled()
    _shot(p, "12-jobs-test-mailbox", tmp_path)
    row.locator("button", has_text="Test run").dblclick()  # a double click
    p.wait_for_selector(".flash", timeout=180_000)  # type: ignore[attr-defined]
    _wait_for(lambda: len(smtp.messages) >= 4)
    time.sleep(1)  # a second run, had there been one, would have sent by now
    assert len(smtp.messages) == 4 and {m.rcpt_tos for m in smtp.messages} == {(MAILBOX,)}
    assert all(str(m.message()["Subject"]).startswith("[TEST] ") for m in smtp.messages)
    _shot(p, "13-jobs-after-test-run", tmp_path)

    p.click("header >> text=Runs and deliveries")  # type: ignore[attr-defined]
    text = p.locator("#deliveries + .scroll table").inner_text()  # type: ignore[attr-defined]
    assert "test for coo.rxw@example.nhs.uk, asked by admin@example.nhs.uk" in text
    assert p.locator("#deliveries + .scroll table button", has_text="Resend").count() == 0  # a test is not resent
    _shot(p, "14-history-after-test-run", tmp_path)

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
    _shot(p, "15-history-after-resend", tmp_path)
