"""What every project command shares: the two consoles, the project (from --project), a progress bar, and
pulling the data with one.

Why a module of its own: the commands in reporting.commands and reporting.cli both use them, and imports run
one way (cli -> commands), so they cannot live in cli.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from reporting.project import Project

if TYPE_CHECKING:
    from rich.progress import Progress

    from reporting.data.catalogue import Catalogue
    from reporting.data.load import Dataset
    from reporting.data.snapshot import Snapshot

__all__ = ["err", "out", "progress", "project", "pull", "state"]

out = Console(highlight=False)
if not out.is_terminal:  # logs and CI: wide enough that tables keep one line per row
    out = Console(highlight=False, width=160)
err = Console(stderr=True, highlight=False)


class _State:
    project: Project | None = None
    directory: Path | None = None


state = _State()


def project() -> Project:
    """The project of this invocation: --project, else $REPORTING_HOME or the current directory."""
    if state.project is None:
        state.project = Project.locate(state.directory)
    return state.project


def progress() -> Progress:
    """A spinner on stderr while something runs, shown only on a terminal."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def pull() -> tuple[Catalogue, Dataset, Snapshot]:
    """Pull every source into a snapshot, with a progress bar: (catalogue, dataset, snapshot)."""
    from reporting.data.catalogue import load_catalogue
    from reporting.data.load import pull as pull_sources

    proj = project()
    catalogue = load_catalogue(proj.require_catalogue())
    with progress() as bar:
        task = bar.add_task("loading", total=None)
        dataset, snapshot = pull_sources(
            catalogue,
            proj.root,
            proj.snapshots,
            catalogue_file=proj.catalogue_file,
            progress=lambda what: bar.update(task, description=what),
        )
    return catalogue, dataset, snapshot
