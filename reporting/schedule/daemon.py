"""`reporting run`: the scheduler daemon (APScheduler 3).

- Job store: SQLAlchemy (SQLite at <project>/.reporting/jobs.sqlite, or REPORTING_JOBSTORE_URL), so a restart
  keeps every job and its next run time. Jobs have explicit ids (the schedules.yaml ids), coalesce=True,
  max_instances=1 and the job's misfire_grace_time (APScheduler's default of 1 s silently skips runs).
- Catch-up: at start-up a job whose trigger is unchanged keeps its stored next run time, so a run missed
  while the machine was down fires once (coalesced) when it comes back, within the grace time.
- One scheduler per project: APScheduler 3 cannot share a job store between processes, so the daemon takes
  an exclusive lock (<project>/.reporting/scheduler.lock) and refuses to start a second time; and one
  scheduler per job store and per history database, across machines: a lease row held in those databases
  (schedule.lease), renewed every poll, refuses a second daemon sharing REPORTING_JOBSTORE_URL.
- Crash recovery: at start-up, runs left `running` by a process that is gone are marked `interrupted`; a job
  whose latest run was a scheduled one that was interrupted is run again at once (its delivery log means
  nobody who got it gets it twice) and its owner is told. One job never runs twice at once in a daemon.
- Reload on SIGHUP or when schedules.yaml changes; a file that fails validation is reported and the jobs
  already scheduled keep running (nothing is dropped). SIGTERM/SIGINT shut down cleanly, letting a running
  build finish.
The APScheduler scheduler runs in a background thread while the main thread waits for signals; that is
BlockingScheduler's behaviour with signal handling we control.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reporting.errors import ConfigError, ReportingError
from reporting.project import Project
from reporting.redact import install_log_redaction, redact
from reporting.schedule.job_lock import job_lock

__all__ = ["SchedulerLocked", "jobstore_url", "make_scheduler", "run_daemon", "run_scheduled", "sync_jobs"]

ENV_JOBSTORE = "REPORTING_JOBSTORE_URL"
log = logging.getLogger("reporting.schedule")


class SchedulerLocked(ReportingError):
    """Another `reporting run` already schedules this project."""


def jobstore_url(project: Path) -> str:
    return os.environ.get(ENV_JOBSTORE) or f"sqlite:///{project / '.reporting' / 'jobs.sqlite'}"


def run_scheduled(project_root: str, job_id: str, trigger: str = "schedule") -> None:
    """What the job store calls (module-level, so it can be stored by reference)."""
    from reporting.schedule.runner import run_once

    # a recovery run, a catch-up run and the portal's "send now" of one job never overlap, in any process
    with job_lock(Path(project_root), job_id, wait=True):
        report = run_once(Project(Path(project_root)), job_id, trigger=trigger)
    log.info(
        "job %s: %s (sent %d, already %d, failed %d)%s",
        job_id,
        report.status,
        len(report.sent),
        len(report.already),
        len(report.failed),
        f": {report.error}" if report.error else "",
    )


def make_scheduler(project: Path) -> Any:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    (project / ".reporting").mkdir(exist_ok=True)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=jobstore_url(project))},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="Europe/London",
    )


def sync_jobs(scheduler: Any, schedules: Any, project: Path) -> list[str]:
    """Make the store hold exactly the file's jobs; unchanged triggers keep their next run time."""
    wanted = {job.id for job in schedules.jobs}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            stored.remove()
    for job in schedules.jobs:
        trigger = job.trigger()
        existing = scheduler.get_job(job.id)
        args = [str(project), job.id]
        if existing is not None and str(existing.trigger) == str(trigger) and list(existing.args) == args:
            existing.modify(misfire_grace_time=job.misfire_grace_time, coalesce=True, max_instances=1)
        else:
            scheduler.add_job(
                run_scheduled,
                trigger=trigger,
                args=args,
                id=job.id,
                name=f"{job.id} ({job.pack})",
                replace_existing=True,
                misfire_grace_time=job.misfire_grace_time,
                coalesce=True,
                max_instances=1,
            )
    return sorted(wanted)


def _lock(project: Path) -> int:
    path = project / ".reporting" / "scheduler.lock"
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise SchedulerLocked(
            f"another 'reporting run' (pid {other}) already schedules {project}; one scheduler "
            f"per project, because APScheduler 3 cannot share a job store between processes"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _leases(project: Path) -> list[Any]:
    """Take the scheduler lease in the job store and in the history database (one holder for both)."""
    from reporting.schedule.history import history_url
    from reporting.schedule.lease import Lease, LeaseHeld

    urls = list(dict.fromkeys([jobstore_url(project), history_url(project)]))
    taken: list[Any] = []
    holder = None
    try:
        for url in urls:
            lease = Lease(url, project=str(project), holder=holder) if holder else Lease(url, project=str(project))
            holder = lease.holder
            lease.acquire()
            taken.append(lease)
    except LeaseHeld as exc:
        for lease in taken:
            lease.release()
        raise SchedulerLocked(
            f"another 'reporting run' already schedules from this job store or history: {exc}; "
            f"one scheduler per job store ({ENV_JOBSTORE})"
        ) from None
    return taken


def _recover(project: Project, schedules: Any, say: Callable[[str], None]) -> list[threading.Thread]:
    """Re-run each job whose latest real run (not a test, resend or dry run) was a scheduled run interrupted by a
    crash, telling its owner."""
    from reporting.schedule.history import History
    from reporting.schedule.runner import _notify_owner

    history = History.open(project.root)
    history.recover_interrupted()
    threads = []
    for job in schedules.jobs:
        latest = history.latest_run(job.id, real=True)  # a test run or resend since the crash does not hide it
        if not latest or latest["status"] != "interrupted" or latest["trigger"] not in ("schedule", "recovery"):
            continue
        started = f"{latest['started']:%Y-%m-%d %H:%M}"
        say(f"job {job.id}: run {latest['id']} (started {started}) was interrupted; running it again now")
        _notify_owner(
            job,
            schedules,
            f"[reporting] {job.id}: interrupted run is being re-run",
            f"Run {latest['id']} of {job.id}, started {started} UTC, was interrupted: the scheduler stopped "
            f"before it finished (killed or crashed). Nothing it had not finished was published.\n\n"
            f"The scheduler has restarted and is running the job again now; anyone who already "
            f"received this pack will not get it twice. You will hear again if that run fails.",
        )
        thread = threading.Thread(
            target=_safe_run, args=(str(project.root), job.id), daemon=True, name=f"recovery-{job.id}"
        )
        thread.start()
        threads.append(thread)
    return threads


def _safe_run(project_root: str, job_id: str) -> None:
    try:
        run_scheduled(project_root, job_id, trigger="recovery")
    except Exception:  # noqa: BLE001 - logged (redacted); the history row says failed
        log.exception("recovery run of %s failed", job_id)


def run_daemon(
    project: Project, *, stop: threading.Event | None = None, poll: float = 5.0, say: Callable[[str], None] = print
) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set, for tests)."""
    from reporting.schedule.runner import load_project_schedules

    install_log_redaction()
    schedules = load_project_schedules(project)  # a bad file refuses to start: nothing is silently dropped
    fd = _lock(project.root)
    try:
        leases = _leases(project.root)
    except BaseException:
        os.close(fd)
        raise
    stop = stop or threading.Event()
    reload = threading.Event()
    scheduler = make_scheduler(project.root)
    path = project.root / "schedules.yaml"
    mtime = path.stat().st_mtime
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGHUP, lambda *_: reload.set())
    recovering: list[threading.Thread] = []
    try:
        scheduler.start(paused=True)
        ids = sync_jobs(scheduler, schedules, project.root)
        scheduler.resume()
        for job in scheduler.get_jobs():
            say(f"scheduled {job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}")
        say(f"scheduler running for {project.root} ({len(ids)} jobs); SIGHUP or editing schedules.yaml reloads")
        recovering = _recover(project, schedules, say)
        while not stop.wait(poll):
            try:
                for lease in leases:
                    lease.renew()
            except ReportingError as exc:
                say(f"scheduler stopping: {exc}")
                break
            changed = path.exists() and path.stat().st_mtime != mtime
            if reload.is_set() or changed:
                reload.clear()
                mtime = path.stat().st_mtime if path.exists() else mtime
                try:
                    schedules = load_project_schedules(project)
                except ConfigError as exc:
                    say(redact(f"schedules.yaml not reloaded, the current jobs keep running: {exc}"))
                    continue
                say(f"reloaded schedules.yaml: {', '.join(sync_jobs(scheduler, schedules, project.root))}")
    finally:
        scheduler.shutdown(wait=True)
        for thread in recovering:
            thread.join()  # a recovery run finishes, like a scheduled one (SIGTERM lets a build finish)
        for lease in leases:
            lease.release()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        os.close(fd)
        say("scheduler stopped")
