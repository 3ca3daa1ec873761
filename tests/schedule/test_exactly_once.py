"""Exactly-once delivery under faults (issue 18), against a real aiosmtpd server and the real daemon.

What broke: a server that accepts but answers after the client's time-out gave each recipient 3 copies (and a
rerun a 4th); `run-once` killed just after the server accepted gave that recipient 2 copies and left the run
"running" for ever; a daemon killed mid-build lost the run without telling anyone; two daemons sharing
REPORTING_JOBSTORE_URL both ran; a missing LibreOffice deleted the published PDF and sent the Board pack
without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from schedule_fixtures import due_now
from smtp_server import SmtpTestServer
from test_runner import NO_SLEEP, WEEKLY

from reporting.project import Project
from reporting.schedule.daemon import SchedulerLocked, run_daemon
from reporting.schedule.history import History
from reporting.schedule.runner import run_once

pytestmark = pytest.mark.slow  # real run-once subprocesses and daemons building packs

CEO, COO, OWNER = "ceo@example.nhs.uk", "coo@example.nhs.uk", "owner@example.nhs.uk"
EXE = str(Path(sys.executable).with_name("reporting"))


def _short_timeout(project: Project, seconds: int = 2) -> None:
    path = project.root / "schedules.yaml"
    path.write_text(path.read_text().replace("  timeout: 30", f"  timeout: {seconds}"))


def _copies(smtp: SmtpTestServer, address: str) -> list[str]:
    return [str(m.message()["Message-ID"]).strip() for m in smtp.for_recipient(address)]


def test_slow_server_gets_one_copy_and_a_rerun_sends_none(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(WEEKLY.replace("attempts: 2", "attempts: 3"))
    _short_timeout(project)
    smtp.slow(4.0)  # stores each message at once, answers "250" after the client gave up
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert report.status == "partial" and sorted(report.failed) == [CEO, COO]
    assert "may have been delivered" in report.failed[CEO] and "not resent" in report.failed[CEO]
    assert len(_copies(smtp, CEO)) == 1 and len(_copies(smtp, COO)) == 1
    statuses = {d["recipient"]: d["status"] for d in History.open(project.root).deliveries("weekly-executive")}
    assert statuses == {CEO: "unknown", COO: "unknown"}
    smtp.slow(0)
    again = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert sorted(again.unknown) == [CEO, COO] and not again.sent
    assert len(_copies(smtp, CEO)) == 1 and len(_copies(smtp, COO)) == 1
    owner = smtp.for_recipient(OWNER)
    assert owner and "--resend" in owner[-1].message().get_content()
    # someone checked: the CEO never got it; resending uses the same Message-ID (recognisably the same email)
    resent = run_once(project, "weekly-executive", sleep=NO_SLEEP, resend=[CEO])
    assert resent.sent == [CEO] and resent.unknown == [COO]
    first, second = _copies(smtp, CEO)
    assert first == second and first.startswith("<reporting.")


def test_crash_after_accept_is_not_resent(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    smtp.crash_after_accept(times=1)  # the first message is stored, then the connection drops unanswered
    report = run_once(project, "weekly-executive", sleep=NO_SLEEP)
    (lost,) = report.unknown or list(report.failed)
    other = COO if lost == CEO else CEO
    assert report.sent == [other] and len(_copies(smtp, lost)) == 1
    run_once(project, "weekly-executive", sleep=NO_SLEEP)
    assert len(_copies(smtp, lost)) == 1 and len(_copies(smtp, other)) == 1


def test_run_once_killed_after_the_server_accepted(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    env = {**os.environ, "REPORTING_HOME": str(project.root)}
    smtp.slow(60.0)  # the server has the first message; the process is killed while it waits for "250"
    proc = subprocess.Popen(
        [EXE, "run-once", "weekly-executive"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        smtp.wait_for(1, timeout=240)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    (first,) = smtp.messages
    accepted = first.rcpt_tos[0]
    assert [r["status"] for r in History.open(project.root).runs()] == ["running"]
    smtp.slow(0)
    result = subprocess.run([EXE, "run-once", "weekly-executive"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1  # one recipient's outcome is unknown: said, not hidden
    assert "may have been delivered" in result.stderr and accepted in result.stderr
    assert len(_copies(smtp, CEO)) == 1 and len(_copies(smtp, COO)) == 1  # nobody got two
    runs = History.open(project.root).runs()
    assert [r["status"] for r in runs] == ["partial", "interrupted"]  # newest first; none left running


def test_daemon_killed_mid_build_reruns_on_restart_and_tells_the_owner(
    scheduled: Callable[..., Project], smtp: SmtpTestServer
) -> None:
    project = scheduled(WEEKLY)
    due_now(project)
    env = {**os.environ, "REPORTING_HOME": str(project.root)}
    daemon = subprocess.Popen(
        [EXE, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not list(project.outputs.rglob(".building-*")):
            time.sleep(0.05)
        assert list(project.outputs.rglob(".building-*")), "the scheduled run did not start building"
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(30)
    assert not smtp.messages
    daemon = subprocess.Popen(
        [EXE, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(
            r["trigger"] == "recovery" and r["finished"] for r in History.open(project.root).runs()
        ):
            time.sleep(0.5)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(120)
    runs = [(r["trigger"], r["status"]) for r in History.open(project.root).runs()]
    assert runs == [("recovery", "success"), ("schedule", "interrupted")]
    assert len(_copies(smtp, CEO)) == 1 and len(_copies(smtp, COO)) == 1
    (notice,) = smtp.for_recipient(OWNER)
    assert "interrupted" in str(notice.message()["Subject"])


def test_two_daemons_sharing_a_job_store_refuse(
    scheduled: Callable[..., Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = scheduled(WEEKLY)
    other = Project(tmp_path / "copy")
    shutil.copytree(project.root, other.root)  # another machine's checkout: its own file lock
    monkeypatch.setenv("REPORTING_JOBSTORE_URL", f"sqlite:///{tmp_path / 'shared-jobs.sqlite'}")
    stop = threading.Event()
    said: list[str] = []
    thread = threading.Thread(
        target=run_daemon, args=(project,), kwargs={"stop": stop, "poll": 0.2, "say": said.append}
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("scheduler running" in s for s in said):
            time.sleep(0.05)
        with pytest.raises(SchedulerLocked, match="lease on this job store is held by"):
            run_daemon(other, stop=threading.Event(), say=lambda _: None)
    finally:
        stop.set()
        thread.join(120)
    # released on a clean stop: the other one may now start
    stop2 = threading.Event()
    stop2.set()
    run_daemon(other, stop=stop2, poll=0.01, say=lambda _: None)


def test_missing_libreoffice_fails_the_board_pack_and_keeps_the_published_pdf(
    scheduled: Callable[..., Project], smtp: SmtpTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reporting.packs.build import build
    from reporting.packs.render import pdf

    if not pdf.libreoffice_available():
        pytest.skip("needs LibreOffice for the first, published build")
    board = (
        WEEKLY.replace("id: weekly-executive", "id: board")
        .replace("pack: weekly-executive", "pack: board")
        .replace("formats: [xlsx]", "formats: [docx, pdf]")
    )
    project = scheduled(board)
    (published,) = build(project, "board", formats=["docx", "pdf"])
    (pdf_file,) = [f for f in published.files if f.suffix == ".pdf"]
    before = pdf_file.read_bytes()
    bin_dir = tmp_path / "bin"  # the PATH without LibreOffice: every other program still there
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for entry in Path(folder).glob("*") if Path(folder).is_dir() else []:
            if entry.name not in ("soffice", "libreoffice") and not (bin_dir / entry.name).exists():
                (bin_dir / entry.name).symlink_to(entry)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert not pdf.libreoffice_available()
    report = run_once(project, "board", sleep=NO_SLEEP)
    assert report.status == "failed" and "LibreOffice is not installed" in (report.error or "")
    assert pdf_file.read_bytes() == before  # the published PDF is still there, untouched
    assert not smtp.for_recipient(CEO) and not smtp.for_recipient(COO)  # no Board pack without its PDF
    (told,) = smtp.for_recipient(OWNER)
    assert "LibreOffice" in told.message().get_content()
