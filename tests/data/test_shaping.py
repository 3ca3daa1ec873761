"""Data shaping in YAML (issue 14): `aggregate:` over duplicate keys, `where:` comparisons and date ranges,
units checked against the metric's unit, and messages that name the option that fixes them."""

from __future__ import annotations

import pytest
from project_fixtures import BASIC_CATALOGUE, MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import load
from reporting.errors import ConfigError, DataError

SITES_CSV = """\
month,board,site,attendances,within_4h
Apr-2022,NHSA,Site 1,100,90
Apr-2022,NHSA,Site 2,50,40
Apr-2022,NHSB,Site 3,80,60
May-2022,NHSA,Site 1,110,100
May-2022,NHSA,Site 2,40,20
May-2022,NHSB,Site 3,90,81
"""

SITES_CATALOGUE = """\
sources:
  sites:
    kind: csv
    path: data/sites.csv
    org_code: board
    period: month
    date_format: "%b-%Y"
metrics:
  - id: scot_4hr
    title: A&E within 4 hours (Scotland)
    unit: percent
    direction: higher_is_better
    chart: p
    source: sites
    numerator: within_4h
    denominator: attendances
    frequency: monthly
    aggregate: sum
"""


def _load(make_project: MakeProject, catalogue: str, files: dict[str, str]):
    project = make_project(catalogue, files)
    return load(load_catalogue(project.catalogue_file), project.root)


def test_aggregate_sums_duplicate_site_rows_and_reports_the_count(make_project: MakeProject) -> None:
    dataset = _load(make_project, SITES_CATALOGUE, {"data/sites.csv": SITES_CSV})
    rows = dataset.metrics.set_index(["org_code", "period"])
    april = rows.loc[("NHSA", "2022-04-01")]
    assert (april["numerator"], april["denominator"]) == (130, 150)
    assert april["value"] == pytest.approx(130 / 150)
    assert dataset.loads[0].aggregated == 2 and dataset.loads[0].rows == 4


def test_without_aggregate_duplicates_are_refused(make_project: MakeProject) -> None:
    with pytest.raises(DataError, match="duplicate rows"):
        _load(make_project, SITES_CATALOGUE.replace("    aggregate: sum\n", ""), {"data/sites.csv": SITES_CSV})


@pytest.mark.parametrize(("how", "expected"), [("mean", None), ("first", 90 / 100)])
def test_aggregate_mean_and_first(make_project: MakeProject, how: str, expected: float | None) -> None:
    catalogue = SITES_CATALOGUE.replace("aggregate: sum", f"aggregate: {how}")
    dataset = _load(make_project, catalogue, {"data/sites.csv": SITES_CSV})
    april = dataset.metrics.set_index(["org_code", "period"]).loc[("NHSA", "2022-04-01")]
    if how == "mean":
        assert (april["numerator"], april["denominator"]) == (65, 75)
    else:
        assert april["value"] == pytest.approx(expected)


def test_where_comparisons_and_date_ranges(make_project: MakeProject) -> None:
    catalogue = SITES_CATALOGUE.replace(
        "    aggregate: sum\n",
        """\
    aggregate: sum
    where:
      attendances: {at_least: 50}
      month: {from: 2022-05-01, to: 2022-05-31}
""",
    )
    dataset = _load(make_project, catalogue, {"data/sites.csv": SITES_CSV})
    assert sorted(dataset.metrics["period"].dt.strftime("%Y-%m")) == ["2022-05", "2022-05"]
    nhsa = dataset.metrics.set_index("org_code").loc["NHSA"]
    assert nhsa["denominator"] == 110  # the 40-attendance site is left out


def test_bad_date_names_date_format_option(make_project: MakeProject) -> None:
    with pytest.raises(DataError, match=r'date_format: "%b-%Y"'):
        _load(make_project, SITES_CATALOGUE.replace('    date_format: "%b-%Y"\n', ""), {"data/sites.csv": SITES_CSV})


def test_error_line_is_the_source_line_when_where_filters_rows(make_project: MakeProject) -> None:
    """Seen: a bad date on line 1006 reported at line 180, because positions were taken in the filtered rows."""
    csv = "period,org_code,kind,attendances,breaches\n" + "".join(
        f"2024-0{1 + i % 3}-01,R{i:02d},{'x' if i % 2 else 'y'},10,1\n" for i in range(20)
    )
    lines = csv.splitlines()
    lines[15] = lines[15].replace("2024-", "24-")  # line 16 of the file, a 'x' row (i = 14 is even -> 'y')
    csv = "\n".join(lines) + "\n"
    catalogue = BASIC_CATALOGUE.replace(
        "    frequency: monthly\n  - id: ae_attendances",
        "    frequency: monthly\n    where: {kind: y}\n  - id: ae_attendances",
    )
    catalogue = catalogue.replace("numerator: attendances - breaches", "numerator: attendances - breaches")
    with pytest.raises(DataError) as info:
        _load(make_project, catalogue, {"data/ae.csv": csv})
    assert "ae.csv:16" in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("92", "write 0.92"),
        ('"92%"', "write 0.92"),
        ("1.5", "write 0.015"),
        ("-0.1", "expected a fraction from 0 to 1"),
        ("{default: 95}", "write 0.95"),
        ("{by_org: {RAA: 90}}", "write 0.9"),
    ],
)
def test_percent_targets_must_be_fractions(make_project: MakeProject, target: str, message: str) -> None:
    catalogue = BASIC_CATALOGUE.replace(
        "    denominator: attendances\n", f"    denominator: attendances\n    target: {target}\n"
    )
    project = make_project(catalogue)
    with pytest.raises(ConfigError, match=message) as info:
        load_catalogue(project.catalogue_file)
    assert "metrics.yaml:" in str(info.value) and "target" in str(info.value)


def test_count_target_cannot_be_negative(make_project: MakeProject) -> None:
    catalogue = BASIC_CATALOGUE.replace("    value: attendances\n", "    value: attendances\n    target: -3\n")
    with pytest.raises(ConfigError, match="negative"):
        load_catalogue(make_project(catalogue).catalogue_file)


def test_fraction_target_is_accepted(make_project: MakeProject) -> None:
    catalogue = BASIC_CATALOGUE.replace(
        "    denominator: attendances\n", "    denominator: attendances\n    target: 0.92\n"
    )
    assert load_catalogue(make_project(catalogue).catalogue_file).metric("ae_4hr").target == 0.92


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: 1\nb:\n\t- x\n",
            "metrics.yaml:3:1: YAML syntax error: a tab character at line 3 column 1: use spaces for indentation",
        ),
        ("a: 1\n b: 2\n", "a ':' where no new key can start"),
        ("a: 'open\n", "a quote or bracket is never closed"),
    ],
)
def test_yaml_syntax_errors_in_plain_words(make_project: MakeProject, text: str, message: str) -> None:
    project = make_project(text)
    with pytest.raises(ConfigError, match=None) as info:
        load_catalogue(project.catalogue_file)
    assert message in str(info.value), str(info.value)
