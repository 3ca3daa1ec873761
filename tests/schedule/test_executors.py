"""Per-organisation builds on a real Dask LocalCluster: the same packs as a serial run, one bad organisation
fails alone, and a task whose worker dies is retried elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reporting.errors import ConfigError
from reporting.project import Project
from reporting.schedule.executors import OrgOutcome, build_many, build_org, parse_executor

ORGS = ["RJ1", "RXW", "R0A"]
BUILT_AT = "2026-01-01T00:00:00+00:00"


@pytest.mark.slow
def test_dask_builds_the_same_packs_as_serial_and_bad_orgs_fail_alone(
    scheduled: Callable[..., Project], tmp_path: Path
) -> None:
    project = scheduled()
    serial = build_many(project.root, "weekly-executive", ORGS, executor="local", formats=["xlsx"], built_at=BUILT_AT)
    done: list[str] = []
    parallel = build_many(
        project.root,
        "weekly-executive",
        [*ORGS, "RXX"],
        executor="dask",
        formats=["xlsx"],
        built_at=BUILT_AT,
        on_done=lambda o: done.append(o.org),
    )
    assert [o.org for o in parallel] == [*ORGS, "RXX"] and sorted(done) == sorted([*ORGS, "RXX"])
    assert all(o.ok for o in parallel[:3]) and not parallel[3].ok and "RXX" in (parallel[3].error or "")
    assert [o.content_hashes for o in parallel[:3]] == [o.content_hashes for o in serial]
    assert {Path(o.directory).name for o in parallel[:3]} == set(ORGS)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_task_whose_worker_dies_is_retried(scheduled: Callable[..., Project], tmp_path: Path) -> None:
    project = scheduled()
    marker = tmp_path / "died-once"

    def dies_once(*args: object) -> OrgOutcome:
        import os

        if args[2] == "RXW" and not marker.exists():
            marker.touch()
            os._exit(1)  # the worker process dies mid-task
        return build_org(*args)  # type: ignore[arg-type]

    outcomes = build_many(
        project.root, "weekly-executive", ["RJ1", "RXW"], executor="dask", formats=["xlsx"], task=dies_once
    )
    assert marker.exists() and all(o.ok for o in outcomes)
    assert not list(project.outputs.rglob(".building-*"))


def test_executor_names() -> None:
    assert parse_executor("dask=tcp://10.0.0.1:8786") == ("dask", "tcp://10.0.0.1:8786")
    with pytest.raises(ConfigError, match="unknown executor"):
        parse_executor("threads")


@pytest.mark.slow
def test_process_pool_matches_serial(scheduled: Callable[..., Project]) -> None:
    project = scheduled()
    serial = build_many(
        project.root, "weekly-executive", ORGS[:2], executor="local", formats=["xlsx"], built_at=BUILT_AT
    )
    pooled = build_many(
        project.root, "weekly-executive", ORGS[:2], executor="processes", formats=["xlsx"], built_at=BUILT_AT
    )
    assert [o.content_hashes for o in pooled] == [o.content_hashes for o in serial] and all(o.ok for o in pooled)


def dies_once_in_pool(*args: object) -> OrgOutcome:
    """A pool task (module level, so a spawned worker can import it) whose worker dies on RXW's first try."""
    import os

    marker = Path(str(args[0])) / "died-once"
    if args[2] == "RXW" and not marker.exists():
        marker.touch()
        os._exit(1)
    return build_org(*args)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_pool_worker_that_dies_has_its_tasks_run_again(scheduled: Callable[..., Project]) -> None:
    project = scheduled()
    outcomes = build_many(
        project.root, "weekly-executive", ["RJ1", "RXW"], executor="processes", formats=["xlsx"], task=dies_once_in_pool
    )
    assert (project.root / "died-once").exists() and all(o.ok for o in outcomes), outcomes
    assert not list(project.outputs.rglob(".building-*"))
