"""Building one pack per organisation, in parallel: `local` (serial), `processes` (a local pool) or `dask`
(a `distributed.Client`: a LocalCluster, or an existing cluster at `dask=tcp://host:8786`).

The caller loads the snapshot and runs the engine ONCE for all the organisations (`packs.batch.Batch`:
one vectorised SPC call, shared funnels and league tables); the batch reaches each worker once (pool
initialiser, or scattered to every Dask worker), and a task only assembles and writes one organisation's
pack. Each worker process keeps ONE Chromium/kaleido session (started when a chart first needs it, stopped
when the process exits) and one LibreOffice profile for every pack it builds. A failure is per
organisation: a bad organisation's pack fails alone and is reported, the others are published; on Dask a
task whose worker dies is retried on another worker, and nothing half-built is ever published (builds are
staged and moved into place whole).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting.errors import ConfigError, ReportingError

if TYPE_CHECKING:
    from reporting.approval import ApprovalState
    from reporting.data.snapshot import Snapshot
    from reporting.packs.batch import Batch
    from reporting.packs.build import BuildResult

__all__ = ["OrgOutcome", "build_many", "parse_executor"]

_SESSION = threading.local()  # each thread's browser session: the daemon may run two jobs at once
_BATCH: dict[str, Batch] = {}  # per pack, installed in pool workers


@dataclass(frozen=True)
class OrgOutcome:
    org: str | None
    directory: str | None
    files: tuple[str, ...]
    content_hashes: dict[str, str]
    seconds: float
    error: str | None = None
    result: BuildResult | None = None  # what was published; its tree keeps only the summary (for email)

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_executor(text: str) -> tuple[str, str | None]:
    kind, _, address = text.partition("=")
    if kind not in {"local", "processes", "dask"} or (address and kind != "dask"):
        raise ConfigError(
            f"unknown executor {text!r}; expected local, processes, dask or dask=tcp://host:8786", field="--executor"
        )
    if address and not re.match(r"^(tcp|tls|ucx)://[^\s/:]+:\d+$", address):
        raise ConfigError(
            f"executor {text!r}: expected dask=tcp://host:port, the Dask scheduler's address", field="--executor"
        )
    return kind, address or None


def _renderer(project_root: str | Path) -> Any:
    """This thread's one browser session, kept for every pack it builds (started when a chart needs it)."""
    if getattr(_SESSION, "renderer", None) is None:
        from reporting.charts import Renderer, project_cache

        renderer = Renderer(project_cache(Path(project_root))).__enter__()
        _SESSION.renderer = renderer
        atexit.register(renderer.__exit__, None, None, None)
    return _SESSION.renderer


def build_org(
    project_root: str,
    pack: str,
    org: str | None,
    period: str | None,
    formats: Sequence[str] | None,
    built_at: str | None = None,
    batch: Batch | None = None,
) -> OrgOutcome:
    """One organisation's pack (runs on a worker) from the batch prepared once by the caller (without one,
    the data are loaded here); errors become the outcome, not an exception."""
    from reporting.packs.build import build_from, check_formats, prepare_build
    from reporting.project import Project

    start = time.perf_counter()
    project = Project(Path(project_root))
    try:
        batch = (
            batch if batch is not None else _BATCH.get(pack) or prepare_build(project, pack, period=period, orgs=[org])
        )
        result = build_from(
            project, batch, org, check_formats(batch, formats), _renderer(project_root), built_at=built_at
        )
    except ReportingError as exc:
        return OrgOutcome(org, None, (), {}, time.perf_counter() - start, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug met by one organisation's data must not stop the others
        logging.getLogger(__name__).exception("building %s for %s failed unexpectedly", pack, org)
        return OrgOutcome(
            org,
            None,
            (),
            {},
            time.perf_counter() - start,
            f"unexpected error ({type(exc).__name__}: {exc}); the traceback is in the log",
        )
    hashes = {f["name"]: f["content_sha256"] for f in result.manifest["files"]}
    return OrgOutcome(
        org,
        str(result.directory),
        tuple(str(f) for f in result.files),
        hashes,
        time.perf_counter() - start,
        result=replace(result, tree=result.tree.summary_only()) if result.tree is not None else result,
    )


def _install(batch: Batch) -> None:
    """Process-pool initialiser: the batch arrives once per worker, not once per task."""
    _BATCH[batch.template.pack] = batch


def build_many(
    project_root: Path,
    pack: str,
    orgs: Sequence[str | None],
    *,
    executor: str = "local",
    period: str | None = None,
    formats: Sequence[str] | None = None,
    workers: int = 2,
    built_at: str | None = None,
    on_done: Callable[[OrgOutcome], None] | None = None,
    task: Callable[..., OrgOutcome] = build_org,
    peer_group: str | None = None,
    snapshot: Snapshot | None = None,
    approval: ApprovalState | None = None,
) -> list[OrgOutcome]:
    """Build `pack` for every organisation in `orgs`; outcomes in the order of `orgs`. The data are loaded and
    the engine run once here, for all of them; each worker only assembles and renders. `task` is what runs
    per organisation (build_org; tests pass a wrapper that kills its worker once)."""
    from reporting.packs.build import check_formats, prepare_build
    from reporting.project import Project

    kind, address = parse_executor(executor)
    batch = prepare_build(
        Project(Path(project_root)), pack, period=period, orgs=orgs, peer_group=peer_group, snapshot=snapshot
    )
    check_formats(batch, formats)  # a wrong format is one error here, not one per organisation
    batch.approval = approval  # the job's approvers and decisions travel with the batch to every worker
    # None is the template's default organisation: built once even if it is also named
    resolved = {org: batch.default_org if org is None else org for org in orgs}
    args = [
        (str(project_root), pack, org, period, list(formats) if formats else None, built_at)
        for org in dict.fromkeys(resolved.values())
    ]
    done: dict[str | None, OrgOutcome] = {}

    def record(outcome: OrgOutcome) -> None:
        done[outcome.org] = outcome
        if on_done:
            on_done(outcome)

    if kind == "local":
        from reporting.charts import Renderer, project_cache

        outer = getattr(_SESSION, "renderer", None)
        with Renderer(
            project_cache(Path(project_root))
        ) as renderer:  # one browser for the serial run, closed at its end
            _SESSION.renderer = renderer
            try:
                for a in args:
                    record(task(*a, batch))
            finally:
                _SESSION.renderer = outer
        return [done[resolved[org]] for org in orgs]
    batch.warm()  # shared cross-organisation results go to the workers computed
    if kind == "processes":
        _pool(args, batch, workers, record, task)
    else:
        _dask(args, batch, address, workers, record, task)
    return [done[resolved[org]] for org in orgs]


def _pool(
    args: list[tuple[Any, ...]],
    batch: Batch,
    workers: int,
    record: Callable[[OrgOutcome], None],
    task: Callable[..., OrgOutcome],
    attempts: int = 2,
) -> None:
    """A local process pool. A worker that dies breaks the whole pool, so the tasks it took down with it are
    run again, once, in a fresh pool (as Dask retries a dead worker's task); a task that fails twice is that
    organisation's failure."""
    from concurrent.futures.process import BrokenProcessPool

    for attempt in range(1, attempts + 1):
        lost: list[tuple[Any, ...]] = []
        broken = False
        # spawn, not fork: a forked child would inherit the parent's browser session state
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_install,
            initargs=(batch,),
        ) as pool:
            futures = {pool.submit(task, *a): a for a in args}
            for future in as_completed(futures):
                try:
                    record(future.result())
                except Exception as exc:  # noqa: BLE001 - e.g. BrokenProcessPool: its worker died
                    broken = broken or isinstance(exc, BrokenProcessPool)
                    if attempt < attempts:
                        lost.append(futures[future])
                    else:
                        record(OrgOutcome(futures[future][2], None, (), {}, 0.0, f"{type(exc).__name__}: {exc}"))
            if broken:
                # Python 3.11 can leave a surviving worker of a broken pool waiting for work while the pool
                # waits for it to exit (seen here as a hang at the end of the `with`); every task is settled
                # by now, so the survivors are stopped
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    if process.is_alive():
                        process.kill()
        if not lost:
            return
        args = lost


def _dask(
    args: list[tuple[Any, ...]],
    batch: Batch,
    address: str | None,
    workers: int,
    record: Callable[[OrgOutcome], None],
    task: Callable[..., OrgOutcome],
) -> None:
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]  # distributed has no type hints
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(cluster if cluster is not None else address)  # type: ignore[no-untyped-call]  # untyped
    try:
        # the prepared data go to each worker once
        shared = client.scatter(batch, broadcast=True)  # type: ignore[no-untyped-call]  # distributed: untyped
        futures = [client.submit(task, *a, shared, key=f"build-{a[1]}-{a[2]}", retries=2, pure=False) for a in args]
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]  # distributed: untyped
            try:
                record(future.result())
            except Exception as exc:  # the task itself failed on every retry (e.g. its worker kept dying)
                org = args[futures.index(future)][2]
                record(OrgOutcome(org, None, (), {}, 0.0, f"{type(exc).__name__}: {exc}"))
    finally:
        client.close()  # type: ignore[no-untyped-call]  # distributed: untyped
        if cluster is not None:
            cluster.close()
