"""Peer groups are sets over one or more organisation reference sources (data.peers, data.orgs): every way of
defining a group, overlapping membership, merged sources, and each bad input an error naming the catalogue's
file, line, column and field with the valid choices."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
from project_fixtures import MakeProject

from reporting.data.catalogue import load_catalogue
from reporting.data.load import load
from reporting.data.peers import groups_of, memberships
from reporting.errors import ConfigError, DataError

AE = """\
period,org_code,attendances,breaches
2024-01-01,E1,100,10
2024-01-01,S1,80,8
"""

ENGLAND = """\
org_code,org_name,trust_type,has_ed,beds
E1,Alpha Hospital NHS Trust,acute,true,900
E2,Beta Hospital NHS Trust,acute,false,400
E3,Gamma Eye Hospital NHS Trust,specialist,true,120
E4,Delta Community NHS Trust,community,false,0
"""

SCOTLAND = """\
site,site_name,board
S1,Royal Infirmary,Lothian
S2,Western General,Lothian
S3,Balfour Hospital,Orkney
"""


def _catalogue(orgs: str) -> str:
    return (
        "sources:\n"
        "  ae: {kind: csv, path: data/ae.csv}\n"
        "  england: {kind: csv, path: data/england.csv, period: null}\n"
        "  scotland: {kind: csv, path: data/scotland.csv, org_code: site, period: null}\n"
        + textwrap.indent(textwrap.dedent(orgs).strip("\n"), "")
        + "\n"
        "metrics:\n"
        "  - {id: ae_4hr, title: A&E 4-hour, unit: percent, direction: higher_is_better, chart: p, source: ae,\n"
        "     numerator: attendances - breaches, denominator: attendances, frequency: monthly}\n"
    )


FILES = {"data/ae.csv": AE, "data/england.csv": ENGLAND, "data/scotland.csv": SCOTLAND}

TWO_SOURCES = """\
orgs:
  sources:
    - {source: england, name: org_name}
    - {source: scotland, org_code: site, name: site_name, region: board}
  peer_groups:
    with_ed: has_ed
    acute: {trust_type: acute}
    listed: [E1, E3, S1]
    big: {where: {beds: {at_least: 400}}, label: large trusts}
    lothian: {where: {board: Lothian}}
    general_with_ed: {in_groups: [with_ed], not_in: [specialist_group], label: general trusts with an ED}
    specialist_group: {trust_type: specialist}
    scotland_and_alpha: {in_groups: [lothian], also: [E1]}
"""


def _orgs(make_project: MakeProject, orgs: str, files: dict[str, str] = FILES) -> pd.DataFrame:
    project = make_project(_catalogue(orgs), files)
    catalogue = load_catalogue(project.catalogue_file)
    return load(catalogue, project.root, catalogue_file=project.catalogue_file).orgs


def test_groups_are_sets_over_merged_sources(make_project: MakeProject) -> None:
    orgs = _orgs(make_project, TWO_SOURCES)
    assert list(orgs["org_code"]) == ["E1", "E2", "E3", "E4", "S1", "S2", "S3"]
    assert orgs.set_index("org_code").loc["S1", "org_name"] == "Royal Infirmary"
    groups = memberships(orgs)
    assert groups["with_ed"] == {"E1", "E3"}  # boolean column; the Scottish rows lack it: not members
    assert groups["acute"] == {"E1", "E2"}  # column value
    assert groups["listed"] == {"E1", "E3", "S1"}  # codes, across sources
    assert groups["big"] == {"E1", "E2"}  # where: with a test
    assert groups["lothian"] == {"S1", "S2"}
    assert groups["general_with_ed"] == {"E1"}  # in_groups minus not_in
    assert groups["scotland_and_alpha"] == {"S1", "S2", "E1"}
    assert groups["all"] == set(orgs["org_code"])
    # overlapping: one organisation in many groups, none of them "the" group
    assert groups_of(orgs, "E1") == ("acute", "big", "general_with_ed", "listed", "scotland_and_alpha", "with_ed")
    assert groups_of(orgs, "E4") == ()


def test_one_source_form_still_reads(make_project: MakeProject) -> None:
    orgs = _orgs(make_project, "orgs: {source: england, peer_groups: {acute: {trust_type: acute}}}\n")
    assert memberships(orgs)["acute"] == {"E1", "E2"}


def test_a_code_both_sources_define_with_one_name_is_kept_once(make_project: MakeProject) -> None:
    files = {**FILES, "data/scotland.csv": SCOTLAND + "E1,Alpha Hospital NHS Trust,Lothian\n"}
    orgs = _orgs(make_project, TWO_SOURCES, files)
    assert list(orgs["org_code"]).count("E1") == 1
    assert memberships(orgs)["lothian"] == {"S1", "S2", "E1"}  # a column of either source makes it a member


def test_a_code_defined_twice_with_different_names_names_both_places(make_project: MakeProject) -> None:
    files = {**FILES, "data/scotland.csv": SCOTLAND + "E2,Beta General Hospital,Lothian\n"}
    with pytest.raises(DataError) as caught:
        _orgs(make_project, TWO_SOURCES, files)
    text = str(caught.value)
    assert "england.csv:3" in text  # the first definition (line 3 of the English file)
    assert "scotland.csv:5" in text  # and the second, where the error points
    assert "'Beta Hospital NHS Trust'" in text and "'Beta General Hospital'" in text
    assert "field 'site'" in text


def test_where_on_a_column_no_source_has(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as caught:
        _orgs(make_project, TWO_SOURCES.replace("{where: {board: Lothian}}", "{where: {bord: Lothian}}"))
    err = caught.value
    assert str(err.file).endswith("metrics.yaml") and err.line == 14 and err.column is not None
    assert err.field == "orgs.peer_groups.lothian.where.bord"
    assert "did you mean 'board'?" in str(err) and "columns are: beds, board, has_ed" in str(err)


def test_boolean_column_that_does_not_exist(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as caught:
        _orgs(make_project, TWO_SOURCES.replace("with_ed: has_ed", "with_ed: has_eds"))
    assert caught.value.line == 10 and caught.value.field == "orgs.peer_groups.with_ed.column"
    assert "did you mean 'has_ed'?" in str(caught.value)


def test_codes_not_in_the_reference(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as caught:
        _orgs(make_project, TWO_SOURCES.replace("[E1, E3, S1]", "[E1, E9, S1]"))
    assert caught.value.line == 12 and caught.value.field == "orgs.peer_groups.listed.codes[1]"
    assert "lists E9, not in the organisation reference" in str(caught.value)


def test_a_group_built_on_an_unknown_group(make_project: MakeProject) -> None:
    project = make_project(_catalogue(TWO_SOURCES.replace("not_in: [specialist_group]", "not_in: [specialists]")))
    with pytest.raises(ConfigError) as caught:
        load_catalogue(project.catalogue_file)
    err = caught.value
    assert err.line == 15 and err.column is not None and err.field == "orgs.peer_groups.general_with_ed.not_in[0]"
    assert "unknown peer group 'specialists' (did you mean 'specialist_group'?)" in str(err)
    assert "groups are: acute, big, general_with_ed" in str(err)


def test_a_group_defined_in_terms_of_itself(make_project: MakeProject) -> None:
    orgs = TWO_SOURCES.replace("{in_groups: [lothian], also: [E1]}", "{in_groups: [scotland_and_alpha]}")
    project = make_project(_catalogue(orgs))
    with pytest.raises(ConfigError, match="defined in terms of itself: scotland_and_alpha -> scotland_and_alpha"):
        load_catalogue(project.catalogue_file)


def test_metric_eligible_names_a_known_group(make_project: MakeProject) -> None:
    text = _catalogue(TWO_SOURCES).replace("frequency: monthly}", "frequency: monthly, eligible: with_eds}")
    project = make_project(text)
    with pytest.raises(ConfigError) as caught:
        load_catalogue(project.catalogue_file)
    err = caught.value
    assert err.field == "metrics[0].eligible" and err.line == 20 and err.column is not None
    assert "unknown peer group 'with_eds' (did you mean 'with_ed'?)" in str(err)


def test_unknown_reference_source(make_project: MakeProject) -> None:
    project = make_project(_catalogue(TWO_SOURCES.replace("{source: scotland,", "{source: scotlnd,")))
    with pytest.raises(ConfigError) as caught:
        load_catalogue(project.catalogue_file)
    assert caught.value.field == "orgs.sources[1].source" and caught.value.line == 8
    assert "sources are: ae, england, scotland" in str(caught.value)


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("{label: nobody}", "a peer group needs a boolean column"),
        ("[]", "an empty list of codes"),
    ],
)
def test_a_group_that_cannot_have_members(make_project: MakeProject, definition: str, message: str) -> None:
    project = make_project(_catalogue(TWO_SOURCES.replace("[E1, E3, S1]", definition)))
    with pytest.raises(ConfigError, match=message) as caught:
        load_catalogue(project.catalogue_file)
    assert caught.value.line == 12


def test_all_is_not_a_group_name(make_project: MakeProject) -> None:
    project = make_project(_catalogue(TWO_SOURCES.replace("    listed:", "    all:")))
    with pytest.raises(ConfigError, match="'all' is every organisation"):
        load_catalogue(project.catalogue_file)


def test_a_short_form_column_that_does_not_exist_points_at_its_key(make_project: MakeProject) -> None:
    with pytest.raises(ConfigError) as caught:
        _orgs(make_project, TWO_SOURCES.replace("acute: {trust_type: acute}", "acute: {trust_typ: acute}"))
    assert caught.value.line == 11 and caught.value.column is not None
    assert caught.value.field == "orgs.peer_groups.acute.trust_typ"
    assert "did you mean 'trust_type'?" in str(caught.value)
