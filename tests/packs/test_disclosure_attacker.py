"""The attacker test (issue 18): for every shipped pack, built from data with small counts, an attacker who
has the pack for the organisation AND a peer's pack writes every published number about the organisation as
a linear equation over the source's columns (chart points, data-table numerators and denominators, funnel
points with their pooled denominators, league-table and caterpillar values), then solves for each hidden
count. The test fails if any hidden count is determined.

What broke: R1D's suppressed `ae_over_4hr` (1 and 3) were recoverable from `ae_4hr`'s numerator and
denominator; pooled funnel figures minus the months shown gave a hidden 3; peers' packs showed small counts.
"""

from __future__ import annotations

import csv
import io
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.data.snapshot import latest_snapshot
from reporting.packs.batch import assemble
from reporting.packs.template_load import load_template
from reporting.packs.tree import ChartBlock, DataTable
from reporting.project import Project

ORG, PEER = "RJ1", "RXW"
SMALL = {("2024-08-01", 3), ("2024-09-01", 1), ("2024-12-01", 1), ("2025-01-01", 3)}  # attendances over 4 hours
PACKS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "templates" / "packs").glob("*.yaml"))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("small-counts")
    shutil.copytree(Path(__file__).resolve().parents[2] / "templates", root / "templates")
    (root / "data").mkdir()
    text = (resources.files("reporting") / "demo_data" / "ae_trust_monthly_2021_2025.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for period, count in SMALL:
            if row["org_code"] == ORG and row["period"] == period:
                row["attendances_over_4hours"] = str(count)
    with open(root / "data" / "ae.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    cat = (root / "templates" / "metrics.yaml").read_text()
    cat = cat.replace(
        "    kind: demo\n    file: ae_trust_monthly_2021_2025.csv\n", "    kind: csv\n    path: data/ae.csv\n"
    )
    (root / "templates" / "metrics.yaml").write_text(cat)
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots)
    return project


def _coefficients(expression: object, columns: list[str]) -> dict[str, float]:
    """The linear form of a catalogue expression (they are sums and differences of columns)."""
    zero = {c: pd.Series([0.0]) for c in columns}
    base = float(expression.evaluate(zero).iloc[0])  # type: ignore[attr-defined]
    out = {}
    for c in columns:
        unit = {**zero, c: pd.Series([1.0])}
        out[c] = float(expression.evaluate(unit).iloc[0]) - base  # type: ignore[attr-defined]
    return {c: v for c, v in out.items() if v}


class Attacker:
    """Equations sum(coef * column[period]) = rhs about ORG, from what the packs publish."""

    def __init__(self, catalogue: object, names: dict[str, str]) -> None:
        from reporting.data.expr import parse_expression

        self.catalogue = catalogue
        self.name = names[ORG]
        self.rows: list[dict[tuple[str, str], float]] = []
        self.rhs: list[float] = []
        self.forms: dict[str, tuple[dict[str, float] | None, dict[str, float] | None]] = {}
        for m in catalogue.metrics:  # type: ignore[attr-defined]
            cols = sorted(
                set().union(*(parse_expression(t).columns for t in (m.value, m.numerator, m.denominator) if t))
            )
            if m.is_ratio:
                self.forms[m.title] = (
                    _coefficients(parse_expression(m.numerator), cols),
                    _coefficients(parse_expression(m.denominator), cols),
                )
            else:
                self.forms[m.title] = (_coefficients(parse_expression(m.value), cols), None)
        self.scale = {m.title: m.scale for m in catalogue.metrics}  # type: ignore[attr-defined]

    def _add(self, terms: dict[tuple[str, str], float], rhs: float) -> None:
        if terms:
            self.rows.append(terms)
            self.rhs.append(rhs)

    def value(self, title: str, periods: list[str], y: float) -> None:
        """The metric's value over `periods` (one period, or a pooled window) is y."""
        num, den = self.forms[title]
        if den is None:
            self._add({(c, p): k for p in periods for c, k in num.items()}, y)  # type: ignore[union-attr]
        else:
            ratio = y / self.scale[title]
            terms: dict[tuple[str, str], float] = {}
            for p in periods:
                for c, k in num.items():  # type: ignore[union-attr]
                    terms[(c, p)] = terms.get((c, p), 0.0) + k
                for c, k in den.items():
                    terms[(c, p)] = terms.get((c, p), 0.0) - ratio * k
            self._add(terms, 0.0)

    def part(self, title: str, which: int, periods: list[str], y: float) -> None:
        form = self.forms[title][which]
        if form is not None:
            self._add({(c, p): k for p in periods for c, k in form.items()}, y)

    def read(self, pack: object, own: bool, window: list[str]) -> None:
        for block in pack.blocks():  # type: ignore[attr-defined]
            if isinstance(block, ChartBlock) and block.spec.kind == "spc" and own:
                title = block.spec.title
                data = next((s for s in block.spec.series if s.role == "data"), None)
                if title in self.forms and data is not None:
                    for x, y in zip(data.x, data.y, strict=True):
                        if y is not None and not np.isnan(y):
                            self.value(title, [pd.Timestamp(x).strftime("%Y-%m-%d")], float(y))
            elif isinstance(block, ChartBlock) and block.spec.kind in ("funnel", "league", "caterpillar"):
                title = block.spec.title.split(":")[0]
                for s in block.spec.series:
                    labels = s.labels or ()
                    for i, y in enumerate(s.y):
                        label = labels[i] if i < len(labels) else ""
                        x = s.x[i]
                        mine = (
                            label.startswith(self.name) or str(x).endswith(self.name) or (s.role == "highlight" and own)
                        )
                        if not mine or y is None or title not in self.forms:
                            continue
                        self.value(title, window, float(y))
                        if block.spec.kind == "funnel" and isinstance(x, float | int):
                            self.part(title, 1, window, float(x))
            elif isinstance(block, DataTable) and block.title.endswith(": data") and own:
                title = block.title[: -len(": data")]
                if title not in self.forms:
                    continue
                names = [c.name for c in block.columns]
                for row in block.rows:
                    cells = dict(zip(names, row, strict=True))
                    period = pd.Timestamp(cells["Period"].value).strftime("%Y-%m-%d")
                    for name, which in (("Numerator", 0), ("Denominator", 1)):
                        cell = cells.get(name)
                        if cell is not None and isinstance(cell.value, int | float) and not cell.suppressed:
                            self.part(title, which, [period], float(cell.value))

    def determined(self, column: str, period: str) -> bool:
        keys = sorted({k for r in self.rows for k in r})
        if (column, period) not in keys:
            return False
        index = {k: i for i, k in enumerate(keys)}
        a = np.zeros((len(self.rows), len(keys)))
        for i, r in enumerate(self.rows):
            for k, v in r.items():
                a[i, index[k]] = v
        target = np.zeros(len(keys))
        target[index[(column, period)]] = 1.0
        rank = np.linalg.matrix_rank(a, tol=1e-7)
        return bool(np.linalg.matrix_rank(np.vstack([a, target]), tol=1e-7) == rank)


@pytest.mark.parametrize("pack_id", PACKS)
def test_no_suppressed_count_can_be_solved_for(small: Project, pack_id: str) -> None:
    catalogue = load_catalogue(small.catalogue_file)
    template, doc, digest = load_template(small.root, pack_id)
    snapshot = latest_snapshot(small.snapshots)
    names = dict(zip(snapshot.orgs["org_code"].astype(str), snapshot.orgs["org_name"].astype(str), strict=True))
    mine = assemble(catalogue, template, doc, digest, snapshot, org=ORG, built_at="2026-01-01T00:00:00+00:00")
    peer = assemble(catalogue, template, doc, digest, snapshot, org=PEER, built_at="2026-01-01T00:00:00+00:00")
    end = pd.Timestamp(mine.period)
    window = [(end - pd.DateOffset(months=k)).strftime("%Y-%m-%d") for k in range(12)]
    attacker = Attacker(catalogue, names)
    attacker.read(mine, True, window)
    attacker.read(peer, False, window)
    if not attacker.rows:  # e.g. a weekly pack whose organisation has no exception: no chart of these metrics
        shown = [
            b
            for b in mine.blocks()
            if isinstance(b, ChartBlock | DataTable)
            and (b.spec.title if isinstance(b, ChartBlock) else b.title).split(":")[0] in attacker.forms
        ]
        assert not shown, "the attacker read nothing from charts or tables that show the linked metrics"
    solved = [(p, n) for p, n in sorted(SMALL) if attacker.determined("attendances_over_4hours", p)]
    assert solved == [], f"{pack_id}: hidden counts recoverable from what is published: {solved}"


def test_links_are_derived_from_shared_columns_and_complement_of(small: Project, tmp_path: Path) -> None:
    from reporting.stats.disclosure import disclose, linked_metrics

    catalogue = load_catalogue(small.catalogue_file)
    links = linked_metrics(catalogue)
    assert links["ae_over_4hr"] == {"ae_4hr", "ae_attendances", "ae_over_4hr"}
    assert links["trolley_wait_4hr"] == {"trolley_wait_4hr", "emergency_admissions"}
    assert "discharges_total" in links["discharges_before_5pm"] and "ae_4hr" not in links["discharges_total"]
    text = small.catalogue_file.read_text().replace(
        "  - id: emergency_admissions\n",
        "  - id: emergency_admissions\n    disclosure: {complement_of: [ae_attendances]}\n",
        1,
    )
    (tmp_path / "m.yaml").write_text(text)
    joined = linked_metrics(load_catalogue(tmp_path / "m.yaml"))
    assert "emergency_admissions" in joined["ae_over_4hr"]
    frame = latest_snapshot(small.snapshots).metrics
    rows = frame[(frame["org_code"] == ORG) & frame["metric_id"].isin(list(links["ae_over_4hr"]))]
    shown = disclose(rows, catalogue)
    hidden = shown[shown["suppressed"].astype(bool)]
    periods = {p.strftime("%Y-%m-%d") for p in hidden["period"]}
    assert periods >= {p for p, _ in SMALL}
    for period in {p for p, _ in SMALL}:  # every linked metric is hidden in those months
        at = hidden[hidden["period"] == pd.Timestamp(period)]
        assert set(at["metric_id"]) == {"ae_4hr", "ae_attendances", "ae_over_4hr"}
    assert set(hidden["suppression_reason"]) >= {"primary", "complementary"}


def test_suppressed_cells_carry_the_marker_and_footnote(small: Project) -> None:
    """Issue 18: suppressed cells showed as "–", with no "*" and no footnote (a numpy bool is not `True`)."""
    catalogue = load_catalogue(small.catalogue_file)
    template, doc, digest = load_template(small.root, "board")
    pack = assemble(
        catalogue,
        template,
        doc,
        digest,
        latest_snapshot(small.snapshots),
        org=ORG,
        built_at="2026-01-01T00:00:00+00:00",
    )
    marked = []
    for block in pack.blocks():
        if isinstance(block, DataTable) and block.title.startswith("A&E") and block.title.endswith(": data"):
            rows = [r for r in block.rows if r[0].text in ("September 2024", "January 2025")]
            assert rows and all(r[1].text == "*" and r[1].suppressed for r in rows), [[c.text for c in r] for r in rows]
            assert block.footnotes and "*" in block.footnotes[0]
            marked.append(block.title)
    assert len(marked) == 3  # the small count and both metrics it could be worked out from
    assert any("*" in note and "suppress" in note.lower() for note in pack.footnotes)
