"""Building one pack per organisation, in parallel: `local` (serial), `processes` (a local pool) or `dask`
(a `distributed.Client`: a LocalCluster, or an existing cluster at `dask=tcp://host:8786`).

Each worker process keeps ONE Chromium/kaleido session for every pack it builds (started on its first task,
stopped when the process exits); LibreOffice gets a private profile per build. A failure is per
organisation: a bad organisation's pack fails alone and is reported, the others are published; on Dask a
task whose worker dies is retried on another worker, and nothing half-built is ever published (builds are
staged and moved into place whole).
"""

from __future__ import annotations

import atexit
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.errors import ConfigError, ReportingError

__all__ = ["OrgOutcome", "build_many", "parse_executor"]

_RENDERER: Any = None


@dataclass(frozen=True)
class OrgOutcome:
    org: str
    directory: str | None
    files: tuple[str, ...]
    content_hashes: dict[str, str]
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_executor(text: str) -> tuple[str, str | None]:
    kind, _, address = text.partition("=")
    if kind not in {"local", "processes", "dask"} or (address and kind != "dask"):
        raise ConfigError(f"unknown executor {text!r}; expected local, processes, dask or dask=tcp://host:8786",
                          field="--executor")
    return kind, address or None


def _renderer() -> Any:
    """This process's one browser session, started on first use."""
    global _RENDERER
    if _RENDERER is None:
        from reporting.charts import Renderer

        _RENDERER = Renderer().__enter__()
        atexit.register(lambda: _RENDERER.__exit__(None, None, None))
    return _RENDERER


def build_org(project_root: str, pack: str, org: str, period: str | None, formats: Sequence[str] | None,
              built_at: str | None = None) -> OrgOutcome:
    """One organisation's pack (runs on a worker); errors become the outcome, not an exception."""
    from reporting.packs.build import build
    from reporting.project import Project

    start = time.perf_counter()
    try:
        (result,) = build(Project(Path(project_root)), pack, period=period, orgs=[org], formats=formats,
                          renderer=_renderer(), built_at=built_at)
    except ReportingError as exc:
        return OrgOutcome(org, None, (), {}, time.perf_counter() - start, str(exc))
    hashes = {f["name"]: f["content_sha256"] for f in result.manifest["files"]}
    return OrgOutcome(org, str(result.directory), tuple(str(f) for f in result.files), hashes,
                      time.perf_counter() - start)


def build_many(project_root: Path, pack: str, orgs: Sequence[str], *, executor: str = "local",
               period: str | None = None, formats: Sequence[str] | None = None, workers: int = 2,
               built_at: str | None = None, on_done: Callable[[OrgOutcome], None] | None = None,
               task: Callable[..., OrgOutcome] = build_org) -> list[OrgOutcome]:
    """Build `pack` for every organisation in `orgs`; outcomes in the order of `orgs`. `task` is what runs
    per organisation (build_org; tests pass a wrapper that kills its worker once)."""
    kind, address = parse_executor(executor)
    args = [(str(project_root), pack, org, period, list(formats) if formats else None, built_at) for org in orgs]
    done: dict[str, OrgOutcome] = {}

    def record(outcome: OrgOutcome) -> None:
        done[outcome.org] = outcome
        if on_done:
            on_done(outcome)

    if kind == "local":
        global _RENDERER
        from reporting.charts import Renderer

        outer = _RENDERER
        with Renderer() as renderer:  # one browser for the serial run, closed at its end
            _RENDERER = renderer
            try:
                for a in args:
                    record(task(*a))
            finally:
                _RENDERER = outer
    elif kind == "processes":
        # spawn, not fork: a forked child would inherit the parent's browser session state
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(task, *a) for a in args]
            for future in as_completed(futures):
                record(future.result())
    else:
        _dask(args, address, workers, record, task)
    return [done[org] for org in orgs]


def _dask(args: list[tuple[Any, ...]], address: str | None, workers: int, record: Callable[[OrgOutcome], None],
          task: Callable[..., OrgOutcome]) -> None:
    from distributed import Client, LocalCluster, as_completed as dask_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster if cluster is not None else address)
    try:
        futures = [client.submit(task, *a, key=f"build-{a[1]}-{a[2]}", retries=2, pure=False) for a in args]
        for future in dask_completed(futures):
            try:
                record(future.result())
            except Exception as exc:  # the task itself failed on every retry (e.g. its worker kept dying)
                org = args[futures.index(future)][2]
                record(OrgOutcome(org, None, (), {}, 0.0, f"{type(exc).__name__}: {exc}"))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
