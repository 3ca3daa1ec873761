"""Bad sources a demanding analyst will hit: each gives one clear error (or is read right), nothing lost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import load, pull
from reporting.data.snapshot import latest_snapshot
from reporting.errors import ConfigError, DataError, SourceError

HEADER = "period,org_code,attendances,breaches\n"


def _load(project: object) -> pd.DataFrame:
    return load(load_catalogue(project.catalogue_file), project.root).metrics  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("csv", "catalogue", "error", "row"),
    [
        (HEADER, BASIC_CATALOGUE, "the source has no data rows; metric 'ae_4hr' would be empty", None),
        (
            BASIC_CSV,
            BASIC_CATALOGUE.replace(
                "    frequency: monthly\n  - id: ae_att",
                "    frequency: monthly\n    where: {org_code: ZZZ}\n  - id: ae_att",
            ),
            "no rows match where {'org_code': 'ZZZ'}",
            None,
        ),
        (HEADER + '2024-01-01,RAA,"100,5",10\n', BASIC_CATALOGUE, "expected a number", 2),
        (HEADER + "2024-01-01,RAA,inf,10\n", BASIC_CATALOGUE, "expected a number", 2),
        (HEADER + "2024-01-01,RAA,100,10\n2024-02-01,RAA\n", BASIC_CATALOGUE, "row has 2 fields, the header has 4", 3),
        (
            "period,org_code,attendances,attendances\n2024-01-01,RAA,1,2\n",
            BASIC_CATALOGUE,
            "column 'attendances' appears twice",
            1,
        ),
        (
            'period,org_code,attendances,breaches,note\n2024-01-01,RAA,100,10,"a,\nmulti\nline"\n2024-02-01,RAA,12x,30,ok\n',
            BASIC_CATALOGUE,
            "expected a number",
            5,
        ),
    ],
)
def test_bad_rows(make_project: MakeProject, csv: str, catalogue: str, error: str, row: int | None) -> None:
    project = make_project(catalogue, {"data/ae.csv": csv})
    with pytest.raises(DataError) as info:
        _load(project)
    assert error in str(info.value)
    if row is not None:
        assert info.value.row == row


def test_thousands_grouping_and_bom_are_read(make_project: MakeProject) -> None:
    project = make_project(files={"data/ae.csv": "\ufeff" + HEADER + '2024-01-01,RAA,"1,234",34\n'})
    frame = _load(project)
    assert frame.loc[frame.metric_id == "ae_attendances", "value"].tolist() == [1234.0]


def test_percent_values_must_be_fractions(make_project: MakeProject) -> None:
    catalogue = BASIC_CATALOGUE.replace(
        "    unit: count\n    direction: neutral", "    unit: percent\n    direction: neutral"
    )
    with pytest.raises(DataError, match="percent values are stored as fractions"):
        _load(make_project(catalogue))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("    path: data/ae.csv\n    date_format: '%Q'", "not a date format"),
        ("    path: data/ae.csv\n    encoding: utf-9", "unknown text encoding 'utf-9'"),
        ("    path: data/ae.csv\n    delimiter: ''", "at least 1 character"),
    ],
)
def test_bad_source_settings(make_project: MakeProject, change: str, message: str) -> None:
    project = make_project(BASIC_CATALOGUE.replace("    path: data/ae.csv", change))
    with pytest.raises(ConfigError, match=message):
        load_catalogue(project.catalogue_file)


def test_paths_cannot_climb_out_of_the_project(make_project: MakeProject) -> None:
    project = make_project(BASIC_CATALOGUE.replace("path: data/ae.csv", "path: ../../../../etc/passwd"))
    with pytest.raises(SourceError, match="leads outside the project directory"):
        _load(project)


def test_credentials_never_in_yaml_or_messages(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv",
        "  ae:\n    kind: http\n    url: http://user:S3cret@127.0.0.1:1/x.csv",
    )
    with pytest.raises(ConfigError, match="user name or password"):
        load_catalogue(make_project(text).catalogue_file)
    monkeypatch.setenv("TEST_DB", "postgresql+psycopg2://admin:S3cretPW@127.0.0.1:1/wh?password=S3cretPW")
    text = BASIC_CATALOGUE.replace(
        "  ae:\n    kind: csv\n    path: data/ae.csv", "  ae:\n    kind: sql\n    url_env: TEST_DB\n    query: select 1"
    )
    with pytest.raises(SourceError) as info:
        _load(make_project(text))
    assert "S3cret" not in str(info.value) and "admin" not in str(info.value)


def test_damaged_snapshot_is_reported_and_rewritten(make_project: MakeProject) -> None:
    project = make_project()
    catalogue = load_catalogue(project.catalogue_file)
    _, snap = pull(catalogue, project.root, project.snapshots)
    (project.snapshots / f"{snap.hash}.orgs.parquet").unlink()
    with pytest.raises(DataError, match="damaged or incomplete"):
        latest_snapshot(project.snapshots)
    _, again = pull(catalogue, project.root, project.snapshots)
    assert again.hash == snap.hash and latest_snapshot(project.snapshots).hash == snap.hash


def test_project_home_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reporting.project import Project

    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("REPORTING_HOME", str(tmp_path / "afile"))
    with pytest.raises(ConfigError, match="is a file, not a directory") as info:
        Project.locate()
    assert info.value.field == "REPORTING_HOME"
