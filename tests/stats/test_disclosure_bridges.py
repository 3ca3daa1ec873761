"""`recoverable_cells` (a bridge search) agrees with the linear-algebra definition it replaced.

A hidden cell is pinned down by the true row and column totals iff it is fixed on the null space of the
line-incidence matrix of the hidden cells; the SVD below is that definition, kept here as the reference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.stats.disclosure import recoverable_cells


def _by_svd(rows: np.ndarray, cols: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    result = np.zeros(len(rows), dtype=bool)
    idx = np.flatnonzero(hidden)
    if len(idx) == 0:
        return result
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    incidence = np.zeros((n_rows + n_cols, len(idx)))
    incidence[rows[idx], np.arange(len(idx))] = 1.0
    incidence[n_rows + cols[idx], np.arange(len(idx))] = 1.0
    _, sing, vt = np.linalg.svd(incidence)
    rank = int((sing > 1e-9 * max(1.0, float(sing.max(initial=0.0)))).sum())
    null = vt[rank:]
    movable = np.abs(null).max(axis=0) > 1e-9 if len(null) else np.zeros(len(idx), bool)
    result[idx[~movable]] = True
    return result


@settings(max_examples=300, deadline=None)
@given(
    n_rows=st.integers(1, 9),
    n_cols=st.integers(1, 9),
    data=st.data(),
)
def test_bridges_are_exactly_the_cells_the_totals_pin_down(n_rows: int, n_cols: int, data: st.DataObject) -> None:
    cells = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    keep = data.draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))  # ragged tables too
    present = [cell for cell, k in zip(cells, keep, strict=True) if k] or cells[:1]
    hidden = np.array(data.draw(st.lists(st.booleans(), min_size=len(present), max_size=len(present))))
    rows = np.array([f"R{r}" for r, _ in present], dtype=object)
    cols = np.array([f"C{c}" for _, c in present], dtype=object)
    r_codes = np.unique(rows, return_inverse=True)[1]
    c_codes = np.unique(cols, return_inverse=True)[1]
    assert recoverable_cells(rows, cols, hidden).tolist() == _by_svd(r_codes, c_codes, hidden).tolist()


def test_known_shapes() -> None:
    # a 2x2 block of hidden cells protects itself; a single hidden cell in a line is exposed
    rows = ["A", "A", "B", "B", "C"]
    cols = ["x", "y", "x", "y", "x"]
    assert recoverable_cells(rows, cols, [True, True, True, True, False]).tolist() == [False] * 5
    assert recoverable_cells(rows, cols, [True, False, False, False, False]).tolist() == [True] + [False] * 4
    # a chain (no cycle) is exposed end to end
    assert recoverable_cells(["A", "A", "B"], ["x", "y", "y"], [True, True, True]).tolist() == [True, True, True]
    assert recoverable_cells([], [], []).tolist() == []


def test_a_large_sparse_table_agrees_with_the_reference() -> None:
    """40 organisations x 24 periods, sparsely hidden: a mix of cells on cycles and bridges."""
    rng = np.random.default_rng(7)
    r_codes, c_codes = np.repeat(np.arange(40), 24), np.tile(np.arange(24), 40)
    hidden = rng.random(len(r_codes)) < 0.06
    got = recoverable_cells(r_codes, c_codes, hidden)
    assert got.tolist() == _by_svd(r_codes, c_codes, hidden).tolist()
    assert got.any() and (hidden & ~got).any()  # both kinds occur, so the comparison means something
