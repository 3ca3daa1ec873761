"""The organisation reference (`orgs:` in the catalogue): one row per organisation code with its name, region,
system and peer group, read from one of the sources and checked like every other table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporting.data.catalogue import OrgReference
from reporting.data.names import normalise_org_name
from reporting.data.sources import RawTable
from reporting.errors import DataError

__all__ = ["ORG_COLUMNS", "build_orgs"]

ORG_COLUMNS = ("org_code", "org_name", "region", "system", "peer_group")


def _org_names(ref: OrgReference, frame: pd.DataFrame) -> pd.Series:
    """Names as the organisations write them: the override column where filled, else the normalised name."""
    names = frame[ref.name].astype("string").str.strip()
    if ref.normalise_names:
        names = names.map(normalise_org_name, na_action="ignore").astype("string")
    if ref.display_name:
        given = frame[ref.display_name].astype("string").str.strip()
        names = given.where(given.notna() & (given != ""), names)
    return names


def build_orgs(ref: OrgReference, table: RawTable) -> pd.DataFrame:
    """Organisation reference data: one row per org_code with name, region, system and peer group."""
    columns = [
        ref.org_code,
        ref.name,
        *(c for c in (ref.display_name, ref.region, ref.system) if c),
        *ref.peer_groups.values(),
    ]
    for column in columns:
        if column not in table.frame.columns:
            raise table.missing_column(column, "the organisation reference ('orgs')")
    frame = table.frame
    codes = frame[ref.org_code].astype("string").str.strip()
    blank = (codes.isna() | (codes == "")).to_numpy()
    if blank.any():
        pos = int(np.flatnonzero(blank)[0])
        raise DataError(
            "organisation code is blank",
            source=table.origin,
            row=table.where(pos),
            field=ref.org_code,
            row_label=table.row_label,
        )
    dup = codes.duplicated(keep="first").to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"organisation {codes.iloc[pos]} appears twice; expected one row per organisation",
            source=table.origin,
            row=table.where(pos),
            field=ref.org_code,
            row_label=table.row_label,
        )
    peer = pd.Series(ref.default_peer_group, index=frame.index, dtype="object")
    for group, column in reversed(list(ref.peer_groups.items())):  # first listed wins
        truthy = frame[column].astype("string").str.strip().str.lower().isin(["true", "1", "yes", "y"])
        peer = peer.mask(truthy, group)
    return (
        pd.DataFrame(
            {
                "org_code": codes.astype("string"),
                "org_name": _org_names(ref, frame),
                "region": frame[ref.region].astype("string")
                if ref.region
                else pd.Series(pd.NA, index=frame.index, dtype="string"),
                "system": frame[ref.system].astype("string")
                if ref.system
                else pd.Series(pd.NA, index=frame.index, dtype="string"),
                "peer_group": peer.astype("string"),
            }
        )
        .sort_values("org_code")
        .reset_index(drop=True)
    )
