"""Benchmark: the secondary-suppression audit, bridge search against the SVD null-space test it replaced.

Why: `stats.disclosure.recoverable_cells` asks, for every published table, whether the true row and column
totals pin down a suppressed cell. It used to answer with an SVD of the hidden cells' line-incidence matrix
(cubic in the hidden cells, and at the mercy of BLAS threads on a loaded machine: a national --all-orgs
prepare spent 284 of its 364 s there on 2 shared cores). A hidden cell is pinned down iff its edge in the
row-column graph is a bridge, which Tarjan's search finds in linear time with no tolerance.

Data: every table `apply_disclosure` audits while it suppresses the bundled real data (the shipped
catalogue pulled into a scratch project), recorded once, then both answers timed on the same tables in this
process (best of `--repeats`), and checked identical.

Run: ``python benchmarks/bench_disclosure.py [--repeats 5]``; writes benchmarks/results/disclosure.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import reporting.stats.disclosure as disclosure
from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.project import Project

REPO = Path(__file__).resolve().parents[1]
Table = tuple[np.ndarray, np.ndarray, np.ndarray]


def by_svd(rows: np.ndarray, columns: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """The previous implementation: fixed on the null space of the line-incidence matrix."""
    r = pd.factorize(pd.Series(list(rows), dtype=object))[0]
    c = pd.factorize(pd.Series(list(columns), dtype=object))[0]
    hidden = np.flatnonzero(suppressed)
    result = np.zeros(len(r), dtype=bool)
    if len(hidden) == 0:
        return result
    n_rows = int(r.max()) + 1
    incidence = np.zeros((n_rows + int(c.max()) + 1, len(hidden)))
    incidence[r[hidden], np.arange(len(hidden))] = 1.0
    incidence[n_rows + c[hidden], np.arange(len(hidden))] = 1.0
    _, sing, vt = np.linalg.svd(incidence)
    rank = int((sing > 1e-9 * max(1.0, float(sing.max(initial=0.0)))).sum())
    null = vt[rank:]
    movable = np.abs(null).max(axis=0) > 1e-9 if len(null) else np.zeros(len(hidden), bool)
    result[hidden[~movable]] = True
    return result


def audited_tables() -> list[Table]:
    with tempfile.TemporaryDirectory(prefix="bench-disclosure-") as scratch:
        root = Path(scratch)
        shutil.copytree(REPO / "templates", root / "templates")
        project = Project(root)
        dataset, _ = pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    tables: list[Table] = []
    real = disclosure.recoverable_cells

    def spy(rows: np.ndarray, columns: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
        tables.append((np.asarray(rows), np.asarray(columns), np.asarray(suppressed, dtype=bool)))
        return real(rows, columns, suppressed)

    disclosure.recoverable_cells = spy  # type: ignore[assignment]  # record, then restore
    try:
        disclosure.apply_disclosure(dataset.metrics, disclosure.DisclosureRule())
    finally:
        disclosure.recoverable_cells = real  # type: ignore[assignment]
    return tables


def best(fn: object, tables: list[Table], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for table in tables:
            fn(*table)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    tables = audited_tables()
    identical = all(by_svd(*t).tolist() == disclosure.recoverable_cells(*t).tolist() for t in tables)
    t_bridges = best(disclosure.recoverable_cells, tables, args.repeats)
    t_svd = best(by_svd, tables, args.repeats)
    result = {
        "tables": len(tables),
        "hidden_cells": int(sum(t[2].sum() for t in tables)),
        "bridges_s": round(t_bridges, 4),
        "svd_s": round(t_svd, 4),
        "svd_over_bridges": round(t_svd / t_bridges, 1),
        "identical": identical,
    }
    print(json.dumps(result, indent=2))
    (REPO / "benchmarks" / "results" / "disclosure.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
