"""A warm LibreOffice: one listening LibreOffice per worker profile, converting every PDF of a build and of a
burst, restarted when it dies.

A cold `soffice` costs about 1.4 s of fixed start before any work, on every PDF. Here one LibreOffice per
profile (pdf.py's callers keep one profile per worker process and thread) listens on a private named pipe,
and a small bridge process (`_uno_bridge.py`, run by a Python that has LibreOffice's `uno` module: Debian's
python3-uno) drives it over UNO. Each conversion is one JSON line to the bridge and one back, with the same
deadline as the cold path; on time-out both processes are killed. A LibreOffice (or bridge) that has died is
noticed before the next conversion, or by the conversion that failed, and replaced once.

Processes are killed by their own process group ids, never by name; all of them are stopped at exit. A worker
that is killed outright (SIGKILL, a pool or xdist replacing it) runs no exit handler, so on Linux both children
get a parent-death signal (`prctl(PR_SET_PDEATHSIG)`): LibreOffice's launcher is killed, and the bridge, told
LibreOffice's process group, kills the whole group (soffice.bin is the launcher's child, which the signal does
not reach) before it exits. Elsewhere the bridge notices its parent has gone within half a second and does the
same. (Linux sends the signal when the THREAD that started the child ends: a LibreOffice started by a thread that
has finished is stopped with it, and started again by the next conversion that needs it.)
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

__all__ = ["WarmOffice", "office_for", "stop_all", "uno_python"]

BRIDGE = Path(__file__).with_name("_uno_bridge.py")
START_TIMEOUT_S = 120.0
_OFFICES: dict[tuple[int, Path], WarmOffice] = {}
_LOCK = threading.Lock()


class OfficeGone(Exception):
    """The LibreOffice or its bridge stopped answering (died, or was killed)."""


@cache
def uno_python() -> str | None:
    """A Python that can `import uno` ($REPORTING_UNO_PYTHON, this one, or the system's), or None."""
    configured = os.environ.get("REPORTING_UNO_PYTHON")
    candidates = (
        [configured] if configured else [sys.executable, "/usr/bin/python3", "/usr/lib/libreoffice/program/python"]
    )
    for python in candidates:
        if python and Path(python).is_file():
            try:
                probe = subprocess.run(
                    [python, "-c", "import uno"],
                    capture_output=True,
                    timeout=30,
                    env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if probe.returncode == 0:
                return python
    return None


def _parent_death_signal(signum: int) -> Callable[[], None] | None:
    """A `preexec_fn` that has the child sent `signum` when this process dies (Linux), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: no locks, no imports
        libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _kill_group(process: subprocess.Popen[Any] | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


class WarmOffice:
    """One listening LibreOffice on `profile`, and its UNO bridge. Not shared by two threads at once."""

    def __init__(self, executable: str, profile: Path, python: str, common: list[str]) -> None:
        self.executable, self.profile, self.python, self.common = executable, Path(profile), python, common
        self.office: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[str] | None = None
        self.starts = 0  # how many LibreOffices this object has started (tests, benchmarks)
        self._log: IO[bytes] | None = None

    # -- life ---------------------------------------------------------------------------------------------
    def alive(self) -> bool:
        return (
            self.office is not None
            and self.office.poll() is None
            and self.bridge is not None
            and self.bridge.poll() is None
        )

    def start(self) -> None:
        self.stop()
        pipe = f"reporting-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.profile.mkdir(parents=True, exist_ok=True)
        self._log = tempfile.TemporaryFile()
        self.office = subprocess.Popen(
            [self.executable, *self.common, f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
            preexec_fn=_parent_death_signal(signal.SIGKILL),
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.bridge = subprocess.Popen(
            [self.python, str(BRIDGE), pipe, str(START_TIMEOUT_S), str(self.office.pid), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            start_new_session=True,
            env=env,
            preexec_fn=_parent_death_signal(signal.SIGTERM),  # the bridge then kills LibreOffice's group
        )
        self.starts += 1
        try:
            ready = self._read(START_TIMEOUT_S)
        except OfficeGone:
            said = self.said()
            self.stop()
            raise OfficeGone(said or "LibreOffice did not start listening") from None
        if not ready.get("ready"):
            self.stop()
            raise OfficeGone(f"unexpected answer from the LibreOffice bridge: {ready}")

    def stop(self) -> None:
        for process in (self.bridge, self.office):
            _kill_group(process)
        self.bridge = self.office = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def said(self) -> str:
        """What LibreOffice and the bridge wrote on stderr (for error messages)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    # -- work ---------------------------------------------------------------------------------------------
    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.bridge is not None and self.bridge.stdout is not None
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.bridge.stdout], [], [], min(left, 0.5))
            if ready:
                line = self.bridge.stdout.readline()
                if not line:
                    raise OfficeGone("the LibreOffice bridge stopped")
                reply: dict[str, Any] = json.loads(line)
                return reply
            if self.bridge.poll() is not None:
                raise OfficeGone("the LibreOffice bridge stopped")
            if self.office is not None and self.office.poll() is not None:
                raise OfficeGone("LibreOffice stopped")

    def convert(self, source: Path, target: Path, filter_name: str, *, writer: bool, timeout_s: float) -> str | None:
        """Convert `source` to the PDF `target`; returns LibreOffice's error text, or None when it worked.

        Raises OfficeGone if a LibreOffice started afresh dies again, TimeoutError past `timeout_s` (both
        processes are then killed)."""
        request = json.dumps({"in": str(source), "out": str(target), "filter": filter_name, "writer": writer})
        for attempt in (1, 2):
            if not self.alive():
                self.start()
            assert self.bridge is not None and self.bridge.stdin is not None
            try:
                self.bridge.stdin.write(request + "\n")
                self.bridge.stdin.flush()
                answer = self._read(timeout_s)
            except TimeoutError:
                self.stop()
                raise
            except (OfficeGone, BrokenPipeError, OSError, ValueError):
                self.stop()
                if attempt == 2:
                    raise OfficeGone("LibreOffice died twice during one conversion") from None
                continue
            if "error" in answer and not self.alive():  # it died under this document: try once more afresh
                self.stop()
                if attempt == 2:
                    return str(answer["error"])
                continue
            return None if answer.get("ok") else str(answer.get("error", answer))
        return None


def office_for(executable: str, profile: Path, common: list[str]) -> WarmOffice | None:
    """This process's warm LibreOffice for `profile` (started on first use), or None when no Python here can
    drive LibreOffice over UNO (then the caller converts cold)."""
    python = uno_python()
    if python is None:
        return None
    key = (os.getpid(), Path(profile).resolve())
    with _LOCK:
        office = _OFFICES.get(key)
        if office is None:
            if not any(pid == os.getpid() for pid, _ in _OFFICES):
                # a pool's worker process ends without atexit handlers, but runs these finalizers
                import multiprocessing.util

                multiprocessing.util.Finalize(None, stop_all, exitpriority=10)
            office = _OFFICES[key] = WarmOffice(executable, Path(profile), python, common)
    return office


def forget(profile: Path) -> None:
    """Stop and drop the warm LibreOffice of `profile` (before the profile is removed)."""
    with _LOCK:
        office = _OFFICES.pop((os.getpid(), Path(profile).resolve()), None)
    if office is not None:
        office.stop()


def stop_all() -> None:
    with _LOCK:
        mine = [o for (pid, _), o in _OFFICES.items() if pid == os.getpid()]
        _OFFICES.clear()
    for office in mine:
        office.stop()


atexit.register(stop_all)
