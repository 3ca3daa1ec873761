"""The scheduler daemon with its SQLAlchemy job store: jobs kept across restarts, a missed run caught up once,
one daemon per project, a killed run resumed without duplicate email, a bad file refused."""

from __future__ import annotations

import datetime as dt
import os
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
from test_runner import WEEKLY

from reporting.errors import ConfigError
from reporting.project import Project
from reporting.schedule.daemon import SchedulerLocked, make_scheduler, run_daemon, sync_jobs
from reporting.schedule.history import History
from reporting.schedule.runner import load_project_schedules


def _store_jobs(project: Project) -> dict[str, object]:
    scheduler = make_scheduler(project.root)
    scheduler.start(paused=True)
    try:
        return {j.id: j for j in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_jobs_are_stored_with_ids_grace_and_survive_restart(scheduled: Callable[..., Project]) -> None:
    project = scheduled()
    scheduler = make_scheduler(project.root)
    scheduler.start(paused=True)
    assert sync_jobs(scheduler, load_project_schedules(project), project.root) == [
        "board",
        "monthly-performance",
        "weekly-executive",
    ]
    job = scheduler.get_job("weekly-executive")
    assert job.misfire_grace_time == 3600 and job.coalesce and job.max_instances == 1
    first = job.next_run_time
    assert first.weekday() == 0 and (first.hour, first.minute) == (7, 30) and str(first.tzinfo) == "Europe/London"
    scheduler.shutdown(wait=False)
    stored = _store_jobs(project)
    assert set(stored) == {"board", "monthly-performance", "weekly-executive"}
    assert stored["weekly-executive"].next_run_time == first  # type: ignore[attr-defined]


@pytest.mark.slow
def test_missed_run_is_caught_up_once_after_downtime(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    due_now(project)  # the machine was off at 07:30 on Monday
    stop = threading.Event()
    thread = threading.Thread(
        target=run_daemon, args=(project,), kwargs={"stop": stop, "poll": 0.2, "say": lambda _: None}
    )
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not [r for r in History.open(project.root).runs() if r["finished"]]:
            time.sleep(0.5)
        with pytest.raises(SchedulerLocked, match="one scheduler per project"):
            run_daemon(project, stop=threading.Event(), say=lambda _: None)
    finally:
        stop.set()
        thread.join(120)
    runs = History.open(project.root).runs()
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "success")]
    assert sorted(r.rcpt_tos[0] for r in smtp.messages) == ["ceo@example.nhs.uk", "coo@example.nhs.uk"]
    job = _store_jobs(project)["weekly-executive"]
    assert job.next_run_time > dt.datetime.now(dt.UTC)  # type: ignore[attr-defined]


def test_a_bad_schedules_file_is_refused(scheduled: Callable[..., Project]) -> None:
    project = scheduled(WEEKLY.replace("every: monday 07:30", 'cron: "61 7 * * mon"'))
    with pytest.raises(ConfigError, match="schedules.yaml"):
        run_daemon(project, stop=threading.Event(), say=lambda _: None)
    assert not (project.root / ".reporting" / "jobs.sqlite").exists() or not _store_jobs(project)


@pytest.mark.slow
def test_killed_run_resumes_without_duplicate_email(scheduled: Callable[..., Project], smtp: SmtpTestServer) -> None:
    project = scheduled(WEEKLY)
    exe = str(Path(sys.executable).with_name("reporting"))
    env = {**os.environ, "REPORTING_HOME": str(project.root)}
    # first run: killed while it builds (before any email)
    proc = subprocess.Popen(
        [exe, "run-once", "weekly-executive"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(project.outputs.rglob(".building-*")) and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    sent_before = len(smtp.messages)
    # second run: completes; third run: nothing more to send
    for _ in range(2):
        result = subprocess.run(
            [exe, "run-once", "weekly-executive"], env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, result.stderr
    assert not list(project.outputs.rglob(".building-*"))  # the killed build's staging directory is gone
    addresses = sorted(r.rcpt_tos[0] for r in smtp.messages)
    assert addresses == ["ceo@example.nhs.uk", "coo@example.nhs.uk"], (sent_before, addresses)


def test_editing_schedules_yaml_reloads_and_a_bad_edit_keeps_the_jobs(scheduled: Callable[..., Project]) -> None:
    project = scheduled(WEEKLY)
    said: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=run_daemon, args=(project,), kwargs={"stop": stop, "poll": 0.1, "say": said.append}
    )
    thread.start()
    try:
        # the daemon has read the file's mtime once it says it is running: edit only after that
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("scheduler running" in s for s in said):
            time.sleep(0.05)
        assert any("scheduler running" in s for s in said), said
        path = project.root / "schedules.yaml"
        path.write_text(path.read_text().replace("every: monday 07:30", "every: tuesday 08:15"))
        os.utime(path, (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("reloaded" in s for s in said):
            time.sleep(0.1)
        path.write_text(path.read_text().replace("every: tuesday 08:15", "every: someday"))
        os.utime(path, (time.time() + 10, time.time() + 10))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("not reloaded" in s for s in said):
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(60)
    assert any("reloaded schedules.yaml: weekly-executive" in s for s in said)
    assert any("not reloaded" in s and "schedules.yaml" in s for s in said)
    job = _store_jobs(project)["weekly-executive"]
    assert job.next_run_time.weekday() == 1 and (job.next_run_time.hour, job.next_run_time.minute) == (8, 15)  # type: ignore[attr-defined]
