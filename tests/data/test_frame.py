"""Building the MetricFrame from source rows: good rows, and each kind of bad row named by line and field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from project_fixtures import BASIC_CATALOGUE, BASIC_CSV, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.frame import METRIC_FRAME_COLUMNS, validate_metric_frame
from reporting.data.load import Dataset, load
from reporting.data.peers import memberships
from reporting.errors import DataError


def _load(project: object) -> Dataset:
    catalogue = load_catalogue(project.catalogue_file)  # type: ignore[attr-defined]
    return load(catalogue, project.root)  # type: ignore[attr-defined]


def _data_error(make_project: MakeProject, csv: str, catalogue: str = BASIC_CATALOGUE) -> DataError:
    with pytest.raises(DataError) as info:
        _load(make_project(catalogue, {"data/ae.csv": csv}))
    return info.value


def test_metric_frame_shape_and_values(make_project: MakeProject) -> None:
    dataset = _load(make_project())
    frame = dataset.metrics
    assert tuple(frame.columns) == METRIC_FRAME_COLUMNS
    assert str(frame["period"].dtype) == "datetime64[ns]"
    ae = frame[frame.metric_id == "ae_4hr"].set_index(["org_code", "period"])
    assert ae.loc[("RAA", pd.Timestamp("2024-02-01")), "value"] == pytest.approx(90 / 120)
    assert ae.loc[("RAA", pd.Timestamp("2024-01-01")), "numerator"] == 90.0
    assert validate_metric_frame(frame).shape == frame.shape


def test_zero_denominator_is_kept_flagged_and_missing(make_project: MakeProject) -> None:
    dataset = _load(make_project())
    ae = dataset.metrics[dataset.metrics.metric_id == "ae_4hr"].set_index(["org_code", "period"])
    zero = ae.loc[("RBB", pd.Timestamp("2024-02-01"))]
    assert zero["flag"] == "zero_denominator" and np.isnan(zero["value"]) and zero["denominator"] == 0
    blank = ae.loc[("RBB", pd.Timestamp("2024-03-01"))]
    assert blank["flag"] == "missing" and np.isnan(blank["value"])
    report = {r.metric_id: r for r in dataset.loads}["ae_4hr"]
    assert (report.rows, report.zero_denominator, report.missing, report.orgs) == (6, 1, 1, 2)


def test_missing_column_names_the_column_and_a_suggestion(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("breaches", "breachs"))
    assert err.field == "breaches" and err.row == 1
    assert "column 'breaches' not found (did you mean 'breachs'?)" in str(err)
    assert str(err).startswith(str(err.source)) and "ae.csv:1" in str(err)


def test_non_numeric_count(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("2024-02-01,RAA,120,30", "2024-02-01,RAA,12O,30"))
    assert (err.row, err.field) == (3, "attendances")
    assert "expected a number" in str(err) and "'12O'" in str(err) and "ae.csv:3" in str(err)


def test_negative_count(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("2024-03-01,RAA,110,11", "2024-03-01,RAA,110,-11"))
    assert (err.row, err.field) == (4, "breaches")
    assert "expected a count of 0 or more" in str(err)


def test_numerator_above_denominator_for_a_percentage(make_project: MakeProject) -> None:
    err = _data_error(
        make_project,
        BASIC_CSV.replace("2024-03-01,RAA,110,11", "2024-03-01,RAA,110,-20")
        .replace("breaches", "within")
        .replace(",-20", ",200"),
        BASIC_CATALOGUE.replace("attendances - breaches", "within"),
    )
    assert err.row == 4 and "exceeds denominator" in str(err)


def test_duplicate_rows_are_an_error_naming_both_lines(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV + "2024-02-01,RAA,130,3\n")
    assert "duplicate rows for metric 'ae_4hr', organisation RAA" in str(err)
    assert "line 3 and line 8" in str(err) and err.field == "period"


def test_dates_in_the_same_month_collide_after_normalising(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("2024-03-01,RAA", "2024-02-15,RAA"))
    assert "duplicate rows" in str(err) and "2024-02-01" in str(err)


def test_mixed_date_formats(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("2024-03-01,RAA", "01/03/2024,RAA"))
    assert (err.row, err.field) == (4, "period")
    assert "not in the format used by the rest of the column (YYYY-MM-DD)" in str(err)


def test_unreadable_and_blank_dates(make_project: MakeProject) -> None:
    err = _data_error(make_project, BASIC_CSV.replace("2024-01-01,RAA", "January,RAA"))
    assert err.row == 2 and "cannot read 'January' as a date" in str(err)
    err = _data_error(make_project, BASIC_CSV.replace("2024-02-01,RBB", ",RBB"))
    assert err.row == 6 and "date is blank" in str(err)


def test_other_date_formats_and_explicit_format(make_project: MakeProject) -> None:
    csv = (
        BASIC_CSV.replace("2024-01-01", "01/01/2024")
        .replace("2024-02-01", "01/02/2024")
        .replace("2024-03-01", "01/03/2024")
    )
    dataset = _load(make_project(files={"data/ae.csv": csv}))
    assert sorted(dataset.metrics["period"].dt.month.unique()) == [1, 2, 3]  # day first, as in the UK
    catalogue = BASIC_CATALOGUE.replace("    path: data/ae.csv", "    path: data/ae.csv\n    date_format: '%m/%d/%Y'")
    err = _data_error(make_project, csv.replace("01/03/2024,RAA", "13/03/2024,RAA"), catalogue)
    assert "format used by the rest of the column" in str(err)


def test_blank_lines_keep_line_numbers_right(make_project: MakeProject) -> None:
    csv = BASIC_CSV.replace("2024-03-01,RAA,110,11\n", "2024-03-01,RAA,110,11\n\n")
    err = _data_error(make_project, csv.replace("2024-01-01,RBB,50,5", "2024-01-01,RBB,fifty,5"))
    assert err.row == 6


def test_where_filter_and_skip_missing(make_project: MakeProject) -> None:
    csv = (
        "period,org_code,type,attendances,breaches\n"
        "2024-01-01,RAA,1,100,10\n2024-01-01,RAA,other,40,0\n2024-02-01,RAA,1,100,\n"
    )
    catalogue = BASIC_CATALOGUE.replace(
        "    frequency: monthly\n  - id: ae_attendances",
        "    frequency: monthly\n    where: {type: 1}\n    skip_missing: true\n  - id: ae_attendances",
    )
    catalogue = catalogue.replace("    value: attendances", "    value: attendances\n    where: {type: other}")
    dataset = _load(make_project(catalogue, {"data/ae.csv": csv}))
    ae = dataset.metrics[dataset.metrics.metric_id == "ae_4hr"]
    assert len(ae) == 1 and ae["value"].iloc[0] == pytest.approx(0.9)
    assert {r.metric_id: r.skipped for r in dataset.loads}["ae_4hr"] == 1
    assert dataset.metrics[dataset.metrics.metric_id == "ae_attendances"]["value"].tolist() == [40.0]


def test_weekly_periods_start_on_monday(make_project: MakeProject) -> None:
    csv = "week_ending,org_code,discharges\n2024-01-07,RAA,10\n2024-01-14,RAA,12\n"
    catalogue = """\
    sources:
      d: {kind: csv, path: data/ae.csv, period: week_ending}
    metrics:
      - {id: discharges, title: Discharges, unit: count, direction: neutral, chart: xmr, source: d,
         value: discharges, frequency: weekly}
    """
    dataset = _load(make_project(catalogue, {"data/ae.csv": csv}))
    assert [p.day_name() for p in dataset.metrics["period"]] == ["Monday", "Monday"]
    assert dataset.metrics["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]


def test_validate_metric_frame_rejects_bad_shapes() -> None:
    frame = pd.DataFrame(
        {
            "metric_id": ["m", "m"],
            "org_code": ["A", "A"],
            "period": ["2024-01-01"] * 2,
            "value": [1.0, 2.0],
            "numerator": [np.nan] * 2,
            "denominator": [np.nan] * 2,
            "flag": ["", ""],
        }
    )
    with pytest.raises(DataError, match=r"duplicate \(metric, org, period\): \(m, A, 2024-01-01\)"):
        validate_metric_frame(frame)
    with pytest.raises(DataError, match="columns flag are missing"):
        validate_metric_frame(frame.drop(columns="flag"))
    with pytest.raises(DataError, match="unknown flag"):
        validate_metric_frame(frame.assign(period=["2024-01-01", "2024-02-01"], flag=["", "odd"]))


def test_demo_data_loads_with_expected_counts() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    catalogue = load_catalogue(root / "templates" / "metrics.yaml")
    dataset = load(catalogue, root)
    loads = {r.metric_id: r for r in dataset.loads}
    assert loads["ae_4hr"].rows == 7594 and loads["ae_4hr"].orgs == 157
    assert loads["ae_4hr"].missing == 354 and loads["ae_4hr"].zero_denominator == 440
    assert loads["discharges_total"].rows == 21071 and loads["discharges_total"].orgs == 121
    assert loads["discharges_before_5pm"].rows == 7256 and loads["discharges_before_5pm"].skipped == 13815
    # NHS England, July 2025, NHS trusts only, all types, trusts without breach data left out: 75.2%
    ae = dataset.metrics[
        (dataset.metrics.metric_id == "ae_4hr")
        & (dataset.metrics.period == "2025-07-01")
        & (dataset.metrics.flag == "")
    ]
    assert ae["numerator"].sum() / ae["denominator"].sum() == pytest.approx(0.752, abs=0.0005)
    assert len(dataset.orgs) == 214
    groups = memberships(dataset.orgs)
    assert {name: len(codes) for name, codes in groups.items()} == {
        "acute": 137,
        "acute_type1": 119,
        "all": 214,
        "merged": 2,
        "specialist": 16,
        "type1_ae": 124,
    }
