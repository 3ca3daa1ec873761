"""Organisation names as organisations write them (issue 13: "Guy's And St Thomas'" on every page)."""

from __future__ import annotations

import pytest

from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.data.names import normalise_org_name
from reporting.errors import DataError

CASES = [
    # naive title case, as in the bundled NHS files
    ("Guy's And St Thomas' NHS Foundation Trust", "Guy's and St Thomas' NHS Foundation Trust"),
    ("Guy'S And St Thomas' Nhs Foundation Trust", "Guy's and St Thomas' NHS Foundation Trust"),
    ("The Shrewsbury And Telford Hospital NHS Trust", "The Shrewsbury and Telford Hospital NHS Trust"),
    (
        "Tameside And Glossop Integrated Care NHS Foundation Trust",
        "Tameside and Glossop Integrated Care NHS Foundation Trust",
    ),
    (
        "Great Ormond Street Hospital For Children NHS Foundation Trust",
        "Great Ormond Street Hospital for Children NHS Foundation Trust",
    ),
    ("Isle Of Wight NHS Trust", "Isle of Wight NHS Trust"),
    ("University Hospitals Of North Midlands NHS Trust", "University Hospitals of North Midlands NHS Trust"),
    ("Stoke-On-Trent", "Stoke-on-Trent"),
    # upper case, as ODS publishes
    ("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas' NHS Foundation Trust"),
    ("NHS GREATER GLASGOW AND CLYDE", "NHS Greater Glasgow and Clyde"),
    ("BURTON UPON TRENT", "Burton upon Trent"),
    ("2GETHER NHS FOUNDATION TRUST", "2gether NHS Foundation Trust"),
    # already written with care: never made worse
    (
        "The Queen Elizabeth Hospital, King's Lynn, NHS Foundation Trust",
        "The Queen Elizabeth Hospital, King's Lynn, NHS Foundation Trust",
    ),
    ("Tees, Esk and Wear Valleys NHS Foundation Trust", "Tees, Esk and Wear Valleys NHS Foundation Trust"),
    ("McMillan iCare LLP", "McMillan iCare LLP"),
    ("  Liverpool   Women's NHS Foundation Trust ", "Liverpool Women's NHS Foundation Trust"),
]


@pytest.mark.parametrize(("given", "written"), CASES)
def test_names_are_written_as_organisations_write_them(given: str, written: str) -> None:
    assert normalise_org_name(given) == written
    assert normalise_org_name(written) == written  # idempotent


ORGS = """\
code,name,written_as
RJ1,Guy's And St Thomas' NHS Foundation Trust,
RXW,THE SHREWSBURY AND TELFORD HOSPITAL NHS TRUST,
RAA,Some Trust,SomeTrust (as it brands itself)
"""


def _catalogue(extra: str) -> str:
    return f"""\
sources:
  ae:
    kind: csv
    path: data/ae.csv
  orgs:
    kind: csv
    path: data/orgs.csv
orgs:
  source: orgs
  org_code: code
  name: name
{extra}
metrics:
  - id: ae_attendances
    title: A&E attendances
    unit: count
    direction: neutral
    chart: xmr
    source: ae
    value: attendances
    frequency: monthly
"""


def _names(make_project, extra: str) -> dict[str, str]:
    project = make_project(
        _catalogue(extra),
        files={"data/ae.csv": "period,org_code,attendances\n2024-01-01,RJ1,100\n", "data/orgs.csv": ORGS},
    )
    dataset, _ = pull(load_catalogue(project.catalogue_file), project.root, project.snapshots)
    return dict(zip(dataset.orgs["org_code"], dataset.orgs["org_name"], strict=True))


def test_reference_names_are_normalised_when_loaded_and_the_override_column_wins(make_project) -> None:
    names = _names(make_project, "  display_name: written_as\n")
    assert names == {
        "RJ1": "Guy's and St Thomas' NHS Foundation Trust",
        "RXW": "The Shrewsbury and Telford Hospital NHS Trust",
        "RAA": "SomeTrust (as it brands itself)",
    }


def test_normalising_can_be_switched_off(make_project) -> None:
    names = _names(make_project, "  normalise_names: false\n")
    assert names["RJ1"] == "Guy's And St Thomas' NHS Foundation Trust"


def test_a_missing_override_column_names_the_file_and_field(make_project) -> None:
    with pytest.raises(DataError, match=r"orgs\.csv.*column 'nickname' not found") as raised:
        _names(make_project, "  display_name: nickname\n")
    assert raised.value.field == "nickname"
