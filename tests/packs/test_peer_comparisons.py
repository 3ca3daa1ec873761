"""Comparisons get their peers in one place (packs.blocks.peers): the Scottish-style case built with YAML
alone (two reference sources, overlapping groups, a metric only emergency departments are eligible for),
one n in every caption, and each bad choice of peers an error naming file, line, column and field."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from project_fixtures import assemble_pack

from reporting.data.catalogue import load_catalogue
from reporting.data.load import pull
from reporting.errors import ConfigError
from reporting.packs.tree import ChartBlock, DataTable, Pack, Text
from reporting.project import Project

EXE = str(Path(sys.executable).with_name("reporting"))

# English trusts: E5 has no type 1 A&E, E6 is a specialist trust. Scottish sites: S5 is a minor injury unit.
TRUSTS = """\
org_code,org_name,trust_type,type1_ae
E1,Alpha Hospitals NHS Trust,acute,true
E2,Beta Hospitals NHS Trust,acute,true
E3,Gamma Hospitals NHS Trust,acute,true
E4,Delta Hospitals NHS Trust,acute,true
E5,Epsilon Community NHS Trust,community,false
E6,Zeta Eye Hospital NHS Trust,specialist,true
"""
SITES = """\
site,site_name,board,department
S1,Royal Infirmary of Edinburgh,Lothian,ED
S2,Western General Hospital,Lothian,ED
S3,Queen Elizabeth University Hospital,Greater Glasgow and Clyde,ED
S4,Ninewells Hospital,Tayside,ED
S5,Leith Community Treatment Centre,Lothian,MIU
S6,St John's Hospital,Lothian,ED
"""

CATALOGUE = """\
sources:
  ae: {kind: csv, path: data/ae.csv}
  trusts: {kind: csv, path: data/trusts.csv, period: null}
  sites: {kind: csv, path: data/sites.csv, org_code: site, period: null}
orgs:
  sources:
    - {source: trusts, name: org_name}
    - {source: sites, org_code: site, name: site_name, region: board, normalise_names: false}
  peer_groups:
    english_acute: {trust_type: acute, label: acute trusts}
    english_type1: {column: type1_ae}
    scottish_eds: {department: ED, label: Scottish emergency departments}
    lothian: {board: Lothian, label: Lothian sites}
    emergency_departments:
      label: emergency departments
      any_of: [english_type1, scottish_eds]
      not_in: [specialist]
    specialist: [E6]
metrics:
  - id: ae_4hr
    title: A&E 4-hour performance
    unit: percent
    direction: higher_is_better
    chart: p
    target: 0.95
    source: ae
    numerator: within_4h
    denominator: attendances
    frequency: monthly
    eligible: emergency_departments
    disclosure: {suppress_below: 5}
"""

PACK = """\
pack: compare
title: A&E compared
cadence: monthly
formats: [xlsx]
metrics: [ae_4hr]
parameters:
  org: {default: S1}
  peer_group: {default: scottish_eds}
sections:
  - title: Compared
    blocks:
      - funnel: {metric: ae_4hr, periods: 6}
      - variation: {metric: ae_4hr, periods: 6}
      - league_table: {metrics: [ae_4hr], show: 2, periods: 6}
"""


def _ae_csv() -> str:
    codes = ["E1", "E2", "E3", "E4", "E5", "E6", "S1", "S2", "S3", "S4", "S5", "S6"]
    lines = ["period,org_code,attendances,within_4h"]
    for month in range(1, 13):
        for j, code in enumerate(codes):
            attendances = 3000 + 250 * j + 17 * month
            share = 0.62 + 0.025 * j + (0.01 if month % 3 == 0 else 0.0)
            lines.append(f"2024-{month:02d}-01,{code},{attendances},{int(attendances * share)}")
    return "\n".join(lines) + "\n"


def _project(root: Path, pack: str = PACK, catalogue: str = CATALOGUE) -> Project:
    (root / "data").mkdir(parents=True)
    (root / "templates" / "packs").mkdir(parents=True)
    (root / "data" / "ae.csv").write_text(_ae_csv())
    (root / "data" / "trusts.csv").write_text(TRUSTS)
    (root / "data" / "sites.csv").write_text(SITES)
    (root / "templates" / "metrics.yaml").write_text(catalogue)
    (root / "templates" / "packs" / "compare.yaml").write_text(pack)
    project = Project(root)
    pull(load_catalogue(project.catalogue_file), root, project.snapshots, catalogue_file=project.catalogue_file)
    return project


@pytest.fixture(scope="module")
def scottish(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project(tmp_path_factory.mktemp("scottish") / "p")


def _captions(pack: Pack) -> list[str]:
    out = []
    for block in pack.blocks():
        if isinstance(block, ChartBlock):
            out.append(block.caption)
        elif isinstance(block, DataTable):
            out.append(f"{block.title} – {block.caption}")
        elif isinstance(block, Text):
            out.extend(block.paragraphs)
    return out


def test_scottish_case_is_built_end_to_end_with_yaml_alone(scottish: Project) -> None:
    checked = subprocess.run([EXE, "validate"], capture_output=True, text=True, cwd=scottish.root, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    built = subprocess.run(
        [EXE, "build", "compare", "--org", "S1"], capture_output=True, text=True, cwd=scottish.root, timeout=600
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert list((scottish.root / "outputs").rglob("compare-*-S1.xlsx"))


def test_the_subject_is_in_its_comparisons_and_every_caption_states_one_n(scottish: Project) -> None:
    pack = assemble_pack(scottish, "compare", org="S1")
    captions = _captions(pack)
    # scottish_eds: S1, S2, S3, S4, S6 (S5 is a minor injury unit); all eligible, all with data
    assert any(
        c.startswith("A&E 4-hour performance: funnel plot of 5 Scottish emergency departments") for c in captions
    )
    assert any(
        c.startswith("A&E 4-hour performance: variation across 5 Scottish emergency departments") for c in captions
    )
    assert any(c.endswith("top and bottom 2 of the 5 ranked") for c in captions)
    league = next(b for b in pack.blocks() if isinstance(b, DataTable))
    names = [row[1].text for row in league.rows]
    assert "Royal Infirmary of Edinburgh ◀" in names  # the subject, marked, among the shown rows
    ranks = [int(m.group(1)) for row in league.rows if (m := re.match(r"(\d+) \(\d+–\d+\)$", row[3].text))]
    assert ranks and max(ranks) == 5  # every rank ("3 (2–4)": the rank and its 95% interval) out of the stated 5
    assert not any("Leith" in c for c in captions)


def test_overlapping_group_compares_within_lothian(scottish: Project) -> None:
    pack = assemble_pack(scottish, "compare", org="S1", peer_group="lothian")
    captions = _captions(pack)
    # lothian: S1, S2, S5, S6; S5 is not eligible for the A&E metric (a minor injury unit), so 3 are compared
    assert any(c.startswith("A&E 4-hour performance: funnel plot of 3 Lothian sites") for c in captions)


def test_a_group_across_both_sources(scottish: Project) -> None:
    pack = assemble_pack(scottish, "compare", org="S1", peer_group="emergency_departments")
    # E1-E4 (type 1, not specialist) and the five Scottish EDs; not E5 (no type 1), E6 (specialist) or S5 (MIU)
    assert any("funnel plot of 9 emergency departments" in c for c in _captions(pack))


def _error(project: Project, **kw: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        assemble_pack(project, "compare", **{"org": "S1", **kw})
    return caught.value


def test_subject_outside_its_peer_group_is_an_error_naming_both(scottish: Project) -> None:
    err = _error(scottish, org="E1")
    assert "organisation E1 is not in peer group 'scottish_eds'" in str(err)
    assert "E1's groups are: emergency_departments, english_acute, english_type1, all" in str(err)
    assert str(err.file).endswith("compare.yaml") and err.line == 8 and err.column is not None
    assert err.field == "parameters.peer_group.default"


def test_subject_outside_a_blocks_own_peers_points_at_the_block(tmp_path: Path) -> None:
    pack = PACK.replace(
        "- variation: {metric: ae_4hr, periods: 6}", "- variation: {metric: ae_4hr, periods: 6, peers: english_acute}"
    )
    project = _project(tmp_path / "p", pack=pack)
    err = _error(project)
    assert "organisation S1 is not in peer group 'english_acute'" in str(err)
    assert err.line == 13 and err.field == "sections[0].blocks[1].variation.peers"


def test_subject_not_eligible_for_the_metric_is_a_stated_omission(scottish: Project) -> None:
    """A minor injury unit's pack still builds; where its first comparison was, one sentence says why none is."""
    pack = assemble_pack(scottish, "compare", org="S5", peer_group="lothian")
    blocks = pack.blocks()
    assert not [b for b in blocks if isinstance(b, ChartBlock | DataTable)]
    sentence = (
        "Leith Community Treatment Centre is not compared with other organisations on A&E 4-hour performance: "
        "the measure applies to emergency departments only."
    )
    assert [p for b in blocks if isinstance(b, Text) for p in b.paragraphs] == [sentence]


def test_a_group_of_fewer_than_three_eligible_members_is_an_error(tmp_path: Path) -> None:
    catalogue = CATALOGUE.replace("    specialist: [E6]", "    specialist: [E6]\n    pair: [S1, S5, S2]")
    project = _project(tmp_path / "p", catalogue=catalogue)
    err = _error(project, peer_group="pair")
    assert "peer group 'pair' has 2 member(s) eligible for A&E 4-hour performance" in str(err)
    assert "at least 3" in str(err) and "emergency_departments, english_acute" in str(err)


def test_unknown_peer_group_in_a_template_names_the_line_and_the_choices(tmp_path: Path) -> None:
    pack = PACK.replace(
        "- funnel: {metric: ae_4hr, periods: 6}", "- funnel: {metric: ae_4hr, periods: 6, peers: scottish_ed}"
    )
    project = _project(tmp_path / "p", pack=pack)
    err = _error(project)
    assert "unknown peer group 'scottish_ed' (did you mean 'scottish_eds'?)" in str(err)
    assert "groups are: all, emergency_departments, english_acute, english_type1, lothian, scottish_eds" in str(err)
    assert err.line == 12 and err.column is not None and err.field == "sections[0].blocks[0].funnel.peers"


def test_unknown_peer_group_given_on_the_command_line(scottish: Project) -> None:
    err = _error(scottish, peer_group="scotish_eds")
    assert "unknown peer group 'scotish_eds' (did you mean 'scottish_eds'?)" in str(err)
    assert err.field == "peer_group"


def test_unknown_peer_group_in_a_schedule(scottish: Project, tmp_path: Path) -> None:
    from reporting.schedule.load import load_schedules

    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(
        "smtp: {host: localhost, from: a@example.org}\n"
        "jobs:\n"
        "  - id: monthly\n"
        "    pack: compare\n"
        "    every: monday 07:30\n"
        "    parameters: {org: S1, peer_group: lothain}\n"
        "    owner: c@example.org\n"
        "    recipients: {addresses: [b@example.org]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_schedules(schedules, scottish.root)
    err = caught.value
    assert re.search(r"schedules.yaml:6:\d+", str(err))
    assert err.field == "jobs[0].parameters.peer_group"
    assert "unknown peer group 'lothain' (did you mean 'lothian'?); groups are: all, emergency_departments" in str(err)
