"""A warm LibreOffice does not outlive a worker that is killed outright (SIGKILL: a pool or xdist replacing a
worker runs none of its exit handlers): LibreOffice's launcher, soffice.bin and the UNO bridge all go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from reporting.packs.render import _warm_office, pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pdf.libreoffice_available(), reason="LibreOffice is not installed"),
    pytest.mark.skipif(_warm_office.uno_python() is None, reason="no Python here has LibreOffice's uno"),
]

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from reporting.packs.render import _warm_office, pdf

    profile = Path(sys.argv[1])
    office = _warm_office.office_for(pdf._soffice(), profile, pdf._common(profile))
    office.start()
    print(json.dumps({"office": office.office.pid, "bridge": office.bridge.pid}), flush=True)
    {after_start}
    """
)


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _office_processes(started: dict[str, int]) -> list[int]:
    """The launcher, every process in its group (soffice.bin), and the bridge."""
    group = os.getpgid(started["office"])
    members = [p.pid for p in psutil.process_iter() if _in_group(p.pid, group)]
    return sorted({started["office"], started["bridge"], *members})


def _in_group(pid: int, group: int) -> bool:
    try:
        return os.getpgid(pid) == group
    except OSError:
        return False


def _killed_worker_leaves(tmp_path: Path, after_start: str) -> tuple[list[int], list[int]]:
    """Start a worker that starts a warm LibreOffice, SIGKILL the worker; (its office processes, those still
    alive 10 s later). `after_start` may print the pids of other processes it starts, to be cleaned up."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER.replace("{after_start}", after_start), str(tmp_path / "profile")],
        stdout=subprocess.PIPE,
        text=True,
    )
    processes: list[int] = []
    others: list[int] = []
    try:
        assert worker.stdout is not None
        started = json.loads(worker.stdout.readline())
        others = json.loads(worker.stdout.readline())
        processes = _office_processes(started)
        assert len(processes) >= 3  # launcher, soffice.bin, bridge
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in processes):
            time.sleep(0.2)
        return processes, [pid for pid in processes if _alive(pid)]
    finally:
        for pid in [*processes, *others]:  # never leave a LibreOffice behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if worker.poll() is None:
            worker.kill()


def test_a_killed_idle_worker_takes_its_libreoffice_with_it(tmp_path: Path) -> None:
    processes, left = _killed_worker_leaves(tmp_path, "print('[]', flush=True); time.sleep(600)")
    assert processes and left == []


def test_a_killed_worker_takes_its_libreoffice_with_it_while_a_child_holds_the_bridge_pipe(tmp_path: Path) -> None:
    # A process forked by the worker (a pool's worker, say) inherits the write end of the bridge's stdin, so
    # the bridge sees no end of input when the worker dies: only the parent-death signal tells it.
    fork = textwrap.dedent(
        """
        import os
        holder = os.fork()
        if holder == 0:
            time.sleep(600)
            os._exit(0)
        print(json.dumps([holder]), flush=True)
        time.sleep(600)
        """
    )
    processes, left = _killed_worker_leaves(tmp_path, fork)
    assert processes and left == []
