"""What the portal's browser tests share: the portal served by a real uvicorn on a free loopback port, a page of
the system Chromium (playwright, no download), signing in, and screenshots to $REPORTING_SCREENSHOTS when it is
set (to look at them), else to the test's tmp_path."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smtp_server import free_port

from reporting.portal.app import create_app
from reporting.project import Project

PASSWORD = "correct horse battery staple"


@contextmanager
def serve(project: Project) -> Iterator[str]:
    """The portal of `project` on 127.0.0.1; yields its base URL and stops it after."""
    import uvicorn

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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def browser_page(width: int) -> Iterator[object]:
    """A page `width` pixels wide in the system Chromium."""
    from playwright.sync_api import sync_playwright

    from reporting.charts.export import find_chromium

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": width, "height": 900})
        finally:
            browser.close()


def shot(page: object, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REPORTING_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in(page: object, base: str, email: str) -> None:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=email]", email)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:has-text('Packs')")  # type: ignore[attr-defined]
