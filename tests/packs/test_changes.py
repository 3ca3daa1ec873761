"""Issue 13, weekly: "what changed since the last pack" and the period of every headline figure.

Two real consecutive weekly builds of the shipped weekly pack from the bundled data (w/c 18 and 25 August
2025, RJ1): the second pack's changes block lists the real moves, read from the first pack's published
data file, and one is recomputed here with pandas from the bundled CSV and from both data files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pptx import Presentation
from project_fixtures import REPO, copy_project

from reporting.data.catalogue import load_catalogue
from reporting.mdc import VARIATION
from reporting.packs.batch import Batch
from reporting.packs.blocks.changes import change_text, move_text
from reporting.packs.build import BuildResult, build, prepare_build
from reporting.packs.data_file import NoPrevious, PreviousPack, previous_pack
from reporting.packs.tree import DataTable, Pack, SummaryTable, Text
from reporting.project import Project

TITLE = "What changed since the last pack"
WEEK_N, WEEK_N1 = "2025-08-18", "2025-08-25"


@pytest.fixture(scope="module")
def two_weeks(
    demo_project: Project, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Project, BuildResult, BuildResult]:
    """The weekly pack built for week N, then for week N+1, into one project's outputs/."""
    project = copy_project(demo_project, tmp_path_factory.mktemp("weekly"))
    first = build(project, "weekly-executive", period=WEEK_N, orgs=["RJ1"], offline=True)[0]
    second = build(project, "weekly-executive", period=WEEK_N1, orgs=["RJ1"], offline=True)[0]
    return project, first, second


@pytest.fixture(scope="module")
def week_n1(two_weeks: tuple[Project, BuildResult, BuildResult]) -> Batch:
    return prepare_build(two_weeks[0], "weekly-executive", period=WEEK_N1, orgs=["RJ1"], offline=True)


def _changes(pack: Pack) -> DataTable | Text:
    """What the changes block made: its table, or its one line."""
    for b in pack.blocks():
        if isinstance(b, DataTable) and b.title == TITLE:
            return b
        if isinstance(b, Text) and b.paragraphs[0].startswith(f"{TITLE}: "):
            return b
    raise AssertionError("no changes block in the pack")


def _rows(table: DataTable) -> dict[str, list[str]]:
    return {r[0].text: [c.text for c in r] for r in table.rows}


def test_second_week_lists_the_real_moves(two_weeks: tuple[Project, BuildResult, BuildResult]) -> None:
    project, first, second = two_weeks
    assert second.tree is not None
    table = _changes(second.tree)
    assert isinstance(table, DataTable)
    assert [c.name for c in table.columns] == ["Measure", "Last pack", "This pack", "Change", "Variation", "Assurance"]
    # the caption does not repeat the title (renderers print "title – caption")
    assert table.caption == f"{second.tree.org_name}, week of 25 August 2025, against the pack for w/c 18 Aug 2025"
    rows = _rows(table)
    # recomputed with pandas from the bundled data the packs were built from
    raw = pd.read_csv(REPO / "reporting" / "demo_data" / "discharges_weekly_2022_2025.csv")
    rj1 = raw[raw["org_code"] == "RJ1"].set_index("week_start")["discharged_total"]
    before, now = int(rj1[WEEK_N]), int(rj1[WEEK_N1])
    delta = now - before
    assert rows["Discharges per week"][1:4] == [
        f"{before:,} (w/c 18 Aug 2025)",
        f"{now:,} (w/c 25 Aug 2025)",
        f"{'+' if delta > 0 else '−'}{abs(delta):,}",
    ]
    # ... and from the two published data files
    files = [r.directory / r.manifest["data"]["name"] for r in (first, second)]
    latest = [
        pd.json_normalize([s for s in json.loads(f.read_text())["series"] if s["view"]["primary"]]).set_index("metric")
        for f in files
    ]
    values = [float(frame.at["discharges_total", "latest.value"]) for frame in latest]
    assert values[1] - values[0] == delta
    moved = str(latest[0].at["discharges_total", "variation"]), str(latest[1].at["discharges_total", "variation"])
    assert rows["Discharges per week"][4] == move_text(VARIATION, *moved)
    assert moved[0] != moved[1] and "→" in rows["Discharges per week"][4]  # a real icon move, in words
    # the monthly measures have no new figure in a week: named once, not given rows of dashes
    monthly = [m for m in latest[1].index if latest[1].loc[m, "frequency"] == "monthly"]
    periods = [frame.loc[monthly, "latest.period"].tolist() for frame in latest]
    assert len(monthly) == 5 and periods[0] == periods[1] == ["2025-07-01"] * 5
    titles = [str(latest[1].loc[m, "title"]) for m in monthly]
    assert not set(titles) & set(rows)
    assert any(
        all(t in note for t in titles) and note.startswith("No new figure since then") for note in table.footnotes
    )
    assert table.footnotes[0] == f"Compared with the pack for w/c 18 Aug 2025, from its data file {files[0].name}."


def test_changes_block_is_drawn_in_the_deck_and_workbook(two_weeks: tuple[Project, BuildResult, BuildResult]) -> None:
    _, _, second = two_weeks
    deck = next(f for f in second.files if f.suffix == ".pptx")
    texts = [
        shape.text_frame.text
        if shape.has_text_frame
        else " ".join(c.text for row in shape.table.rows for c in row.cells)
        for slide in Presentation(str(deck)).slides
        for shape in slide.shapes
        if shape.has_text_frame or shape.has_table
    ]
    deck_text = "\n".join(texts)
    assert TITLE in deck_text and "594 (w/c 25 Aug 2025)" in deck_text
    book = load_workbook(next(f for f in second.files if f.suffix == ".xlsx"))
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert "594 (w/c 25 Aug 2025)" in cells and "677 (w/c 18 Aug 2025)" in cells


def test_first_pack_says_so_in_one_line(two_weeks: tuple[Project, BuildResult, BuildResult]) -> None:
    _, first, _ = two_weeks
    assert first.tree is not None
    line = _changes(first.tree)
    assert isinstance(line, Text)
    assert line.paragraphs == (
        f"{TITLE}: this is the first Weekly Executive Pack published for {first.tree.org_name}: "
        "there is no earlier pack to compare with.",
    )
    assert not any(isinstance(b, DataTable) and b.title == TITLE for b in first.tree.blocks())


def _outputs_with(
    two_weeks: tuple[Project, BuildResult, BuildResult], tmp_path: Path, edit: Callable[[Path], object]
) -> Path:
    """A copy of the first week's published folder under a fresh outputs/, changed by `edit(folder)`."""
    _, first, _ = two_weeks
    outputs = tmp_path / "outputs"
    folder = outputs / "weekly-executive" / WEEK_N / "RJ1"
    shutil.copytree(first.directory, folder)
    edit(folder)
    return outputs


def _line(batch: Batch, outputs: Path) -> str:
    pack = batch.pack("RJ1", previous=partial(previous_pack, outputs, "weekly-executive"))
    line = _changes(pack)
    assert isinstance(line, Text) and len(line.paragraphs) == 1
    return line.paragraphs[0].removeprefix(f"{TITLE}: ")


def _data_file(folder: Path) -> Path:
    return next(folder.glob("*.data.json"))


def test_incompatible_schema_version_is_said_not_crashed(
    two_weeks: tuple[Project, BuildResult, BuildResult], week_n1: Batch, tmp_path: Path
) -> None:
    def older(folder: Path) -> None:
        path = _data_file(folder)
        doc = json.loads(path.read_text())
        doc["schema_version"] = "0"
        doc["series"] = [{"metric": "renamed", "shape": "different"}]
        path.write_text(json.dumps(doc))

    outputs = _outputs_with(two_weeks, tmp_path, older)
    found = previous_pack(outputs, "weekly-executive", pd.Timestamp(WEEK_N1).date(), "RJ1")
    assert isinstance(found, NoPrevious) and (found.why, found.detail) == ("schema", "0")
    assert _line(week_n1, outputs) == (
        "the last pack (w/c 18 Aug 2025) wrote its data file in schema version 0; this version of reporting "
        "reads version 1, so no changes are shown."
    )


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: _data_file(f).write_text("{not json"), "could not be read"),
        (
            lambda f: _data_file(f).write_text(json.dumps({"schema_version": "1", "series": [{"metric": "x"}]})),
            "could not be read",
        ),
        (lambda f: _data_file(f).unlink(), "could not be read"),
    ],
    ids=["not-json", "wrong-shape", "missing"],
)
def test_unreadable_previous_data_is_one_line(
    two_weeks: tuple[Project, BuildResult, BuildResult],
    week_n1: Batch,
    tmp_path: Path,
    damage: Callable[[Path], object],
    expected: str,
) -> None:
    outputs = _outputs_with(two_weeks, tmp_path, damage)
    assert expected in _line(week_n1, outputs)


def test_a_previous_pack_without_a_data_file_is_said(
    two_weeks: tuple[Project, BuildResult, BuildResult], week_n1: Batch, tmp_path: Path
) -> None:
    def no_data(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        del manifest["data"]
        (folder / "manifest.json").write_text(json.dumps(manifest))

    outputs = _outputs_with(two_weeks, tmp_path, no_data)
    assert (
        _line(week_n1, outputs)
        == "the last pack (w/c 18 Aug 2025) has no data file, so there is nothing to compare with."
    )


def test_latest_earlier_period_of_the_same_pack_and_org_is_chosen(
    two_weeks: tuple[Project, BuildResult, BuildResult], tmp_path: Path
) -> None:
    project, first, second = two_weeks
    outputs = project.outputs
    # this period itself and later ones are never "the previous pack"
    found = previous_pack(outputs, "weekly-executive", pd.Timestamp(WEEK_N1).date(), "RJ1")
    assert isinstance(found, PreviousPack) and found.period.isoformat() == WEEK_N
    assert isinstance(previous_pack(outputs, "weekly-executive", pd.Timestamp(WEEK_N).date(), "RJ1"), NoPrevious)
    # another organisation's pack is not this one's previous pack
    assert previous_pack(outputs, "weekly-executive", pd.Timestamp(WEEK_N1).date(), "RXW") == NoPrevious("first")
    # a folder that is not a period, and no outputs/ at all
    (tmp_path / "o" / "weekly-executive" / ".building-x").mkdir(parents=True)
    assert previous_pack(tmp_path / "o", "weekly-executive", pd.Timestamp(WEEK_N1).date(), "RJ1") == NoPrevious("first")
    assert previous_pack(tmp_path / "none", "weekly-executive", pd.Timestamp(WEEK_N1).date(), "RJ1") == NoPrevious(
        "first"
    )


def test_headline_rows_say_their_period_and_flag_earlier_ones(
    two_weeks: tuple[Project, BuildResult, BuildResult],
) -> None:
    _, _, second = two_weeks
    assert second.tree is not None
    blocks = list(second.tree.blocks())
    summary = next(b for b in blocks if isinstance(b, SummaryTable))
    labels = {r.metric_id: r.period_label for r in summary.rows}
    assert labels["ae_4hr"] == "July 2025 (monthly), before this week"
    assert labels["discharges_total"] == "w/c 25 Aug 2025"
    earlier = [m for m, label in labels.items() if label.endswith(", before this week")]
    assert len(earlier) == 6  # five monthly measures and the stale weekly one
    notes = [p for b in blocks if isinstance(b, Text) for p in b.paragraphs]
    # the stale one is named by its own "Data not current" line, not counted again
    assert (
        "5 of 7 figures are for a period before this week (week of 25 August 2025): the latest available for those "
        "measures." in notes
    )
    # the changes block comes right after the headlines
    i = blocks.index(summary)
    assert any(isinstance(b, DataTable) and b.title == TITLE for b in blocks[i : i + 4])


def test_monthly_figures_in_a_monthly_pack_are_not_flagged(assembled: Callable[..., Pack]) -> None:
    pack = assembled("monthly-performance", org="RJ1")
    summary = next(b for b in pack.blocks() if isinstance(b, SummaryTable))
    labels = {r.metric_id: r.period_label for r in summary.rows}
    assert labels["ae_4hr"] == "July 2025 (monthly)" and labels["discharges_total"] == "w/c 28 Jul 2025"
    assert labels["discharges_before_5pm"] == "w/c 22 May 2023, before this month"  # stale: flagged too
    texts = [p for b in pack.blocks() if isinstance(b, Text) for p in b.paragraphs]
    assert not [p for p in texts if "figures are for a period before" in p or "figures is for" in p]


def test_change_is_in_the_metrics_units() -> None:
    catalogue = load_catalogue(REPO / "templates" / "metrics.yaml")
    ae = catalogue.metric("ae_4hr")  # percent, stored as a fraction
    assert change_text(ae, 0.741, 0.781) == f"+{(0.781 - 0.741) * 100:.{ae.decimals}f} percentage points"
    assert change_text(ae, 0.781, 0.741).startswith("−")
    assert change_text(ae, 0.781, 0.781) == "no change"
    assert change_text(ae, None, 0.781) == "–"
    discharges = catalogue.metric("discharges_total")
    assert change_text(discharges, 677.0, 594.0) == "−83"
    assert (
        move_text(VARIATION, "common_cause", "concern_high") == "common cause variation → special cause concern (high)"
    )
    assert move_text(VARIATION, "common_cause", "common_cause") == "unchanged: common cause variation"


def test_nothing_new_is_one_line_not_an_empty_table(
    two_weeks: tuple[Project, BuildResult, BuildResult], week_n1: Batch, tmp_path: Path
) -> None:
    """A previous pack with exactly this pack's figures (week N+1's own folder, published as week N)."""
    _, _, second = two_weeks
    outputs = tmp_path / "outputs"
    shutil.copytree(second.directory, outputs / "weekly-executive" / WEEK_N / "RJ1")
    assert (
        _line(week_n1, outputs)
        == "nothing has changed since the pack for w/c 18 Aug 2025: no measure has a new figure or icon."
    )
