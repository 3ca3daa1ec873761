"""The NHS Oversight Framework's two optional league-table inputs come from the organisation reference: a source
names its yes/no columns (`in_deficit:`, `intensive_support:`), data.orgs reads them into the organisation
table, and stats.league applies them (in deficit: no better than segment 3; intensive support: segment 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from project_fixtures import MakeProject
from test_peer_groups import FILES, _orgs

from reporting.errors import DataError
from reporting.stats.league import league_table

FLAGGED = """\
org_code,org_name,trust_type,has_ed,beds,deficit,rsp
E1,Alpha Hospital NHS Trust,acute,true,900,yes,
E2,Beta Hospital NHS Trust,acute,false,400,no,true
E3,Gamma Eye Hospital NHS Trust,specialist,true,120,,
E4,Delta Community NHS Trust,community,false,0,0,0
"""

ORGS = """\
orgs:
  sources:
    - {source: england, name: org_name, in_deficit: deficit, intensive_support: rsp}
    - {source: scotland, org_code: site, name: site_name, region: board}
"""


def test_the_reference_supplies_the_adjustments(make_project: MakeProject) -> None:
    orgs = _orgs(make_project, ORGS, {**FILES, "data/england.csv": FLAGGED}).set_index("org_code")
    assert bool(orgs.loc["E1", "in_deficit"]) and not bool(orgs.loc["E2", "in_deficit"])
    assert bool(orgs.loc["E2", "intensive_support"]) and not bool(orgs.loc["E4", "intensive_support"])
    assert pd.isna(orgs.loc["E3", "in_deficit"]) and pd.isna(orgs.loc["S1", "in_deficit"])  # not given: unknown


def test_a_value_that_is_not_yes_or_no_names_the_row_and_column(make_project: MakeProject) -> None:
    bad = FLAGGED.replace(
        "E1,Alpha Hospital NHS Trust,acute,true,900,yes,", "E1,Alpha Hospital NHS Trust,acute,true,900,maybe,"
    )
    with pytest.raises(DataError) as err:
        _orgs(make_project, ORGS, {**FILES, "data/england.csv": bad})
    text = str(err.value)
    assert "england.csv:2" in text and "field 'deficit'" in text and "'maybe'" in text


def test_league_segments_follow_the_flags(make_project: MakeProject) -> None:
    orgs = _orgs(make_project, ORGS, {**FILES, "data/england.csv": FLAGGED})
    codes = [f"P{i}" for i in range(8)]
    wide = pd.DataFrame({"org_code": codes, "m": np.linspace(0.9, 0.5, 8)})
    # E1 (in deficit) takes the best provider's place, E2 (intensive support) the second's
    wide.loc[0, "org_code"], wide.loc[1, "org_code"] = "E1", "E2"
    wide = wide.merge(orgs[["org_code", "in_deficit", "intensive_support"]].astype({"org_code": str}), how="left")
    table = league_table(wide, metrics={"m": True}, in_deficit="in_deficit", intensive_support="intensive_support")
    segment = dict(zip(table["org_code"], table["segment"], strict=True))
    assert segment["E1"] == 3  # the best score, held at 3 by the financial override
    assert segment["E2"] == 5  # intensive support
    assert segment["P2"] == 2 and segment["P7"] == 4  # the others: quartiles of 8, two to a segment
