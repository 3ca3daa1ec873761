"""Run every source of the catalogue and build the MetricFrame and organisation reference in one pass."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reporting import __version__
from reporting._yaml import load_yaml
from reporting.data.catalogue import Catalogue, definition_hashes
from reporting.data.frame import MetricLoad, build_metric, empty_metric_frame
from reporting.data.orgs import ORG_COLUMNS, build_orgs
from reporting.data.snapshot import Snapshot, write_snapshot
from reporting.data.sources import RawTable, read_source

__all__ = ["Dataset", "load", "pull"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Dataset:
    metrics: pd.DataFrame
    orgs: pd.DataFrame
    loads: tuple[MetricLoad, ...]
    source_rows: dict[str, int] = field(default_factory=dict)


def load(
    catalogue: Catalogue,
    project: Path,
    *,
    metrics: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    progress: Progress | None = None,
    catalogue_file: Path | None = None,
) -> Dataset:
    """Read each needed source once, then build every metric from it; any bad row stops the load."""
    wanted = [
        m
        for m in catalogue.metrics
        if (metrics is None or m.id in metrics) and (sources is None or m.source in sources)
    ]
    org_sources = [
        entry.source
        for entry in (catalogue.orgs.sources if catalogue.orgs else [])
        if sources is None or entry.source in sources
    ]
    needed = list(dict.fromkeys([m.source for m in wanted] + org_sources))
    tables: dict[str, RawTable] = {}
    for name in needed:
        if progress:
            progress(f"reading source {name}")
        tables[name] = read_source(name, catalogue.sources[name], project)
    frames, loads = [], []
    for metric in wanted:
        if progress:
            progress(f"checking metric {metric.id}")
        frame, report = build_metric(metric, catalogue.sources[metric.source], tables[metric.source])
        frames.append(frame)
        loads.append(report)
    metric_frame = pd.concat(frames, ignore_index=True) if frames else empty_metric_frame()
    if catalogue.orgs is not None and len(org_sources) == len(catalogue.orgs.sources):
        doc = load_yaml(catalogue_file) if catalogue_file else None
        orgs = build_orgs(catalogue.orgs, tables, catalogue.sources, doc)
    else:
        orgs = pd.DataFrame({c: pd.Series(dtype="string") for c in ORG_COLUMNS})
    return Dataset(metric_frame, orgs, tuple(loads), {n: len(t.frame) for n, t in tables.items()})


def pull(
    catalogue: Catalogue,
    project: Path,
    snapshots: Path,
    *,
    catalogue_file: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Dataset, Snapshot]:
    """Load everything and write an immutable snapshot; on any error nothing is written.

    Pulls in one project run one at a time (an exclusive lock on the project directory, which writes no
    file), so a slow pull that started first can never overwrite LATEST with older data after a newer one.
    """
    fd = os.open(project, os.O_RDONLY)
    try:
        if progress:
            progress("waiting for another pull to finish")
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _pull(catalogue, project, snapshots, catalogue_file, progress)
    finally:
        os.close(fd)  # releases the lock


def _pull(
    catalogue: Catalogue, project: Path, snapshots: Path, catalogue_file: Path | None, progress: Progress | None
) -> tuple[Dataset, Snapshot]:
    dataset = load(catalogue, project, progress=progress, catalogue_file=catalogue_file)
    if progress:
        progress("writing snapshot")
    meta = {
        "reporting_version": __version__,
        "catalogue": str(catalogue_file) if catalogue_file else None,
        "definitions": definition_hashes(catalogue),
        "sources": {n: {"kind": catalogue.sources[n].kind, "rows_read": r} for n, r in dataset.source_rows.items()},
        "metrics": {
            m.metric_id: {
                "rows": m.rows,
                "orgs": m.orgs,
                "missing": m.missing,
                "zero_denominator": m.zero_denominator,
                "skipped": m.skipped,
                "aggregated": m.aggregated,
                "first_period": f"{m.first_period:%Y-%m-%d}" if m.first_period is not None else None,
                "last_period": f"{m.last_period:%Y-%m-%d}" if m.last_period is not None else None,
            }
            for m in dataset.loads
        },
    }
    snapshot = write_snapshot(snapshots, dataset.metrics, dataset.orgs, meta)
    return dataset, snapshot
