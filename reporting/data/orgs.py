"""The organisation reference (`orgs:` in the catalogue): one row per organisation code with its name, region,
system and peer groups, merged from one or more sources (English trusts plus Scottish sites, say) and checked
like every other table."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from reporting._yaml import Located
from reporting.data.names import normalise_org_name
from reporting.data.org_config import OrgReference, OrgSource
from reporting.data.peers import FALSE_TEXT, TRUE_TEXT, ReferencePart, evaluate_groups, join_groups
from reporting.data.source_config import Source
from reporting.data.sources import RawTable
from reporting.errors import DataError

__all__ = ["ORG_COLUMNS", "build_orgs"]

ORG_COLUMNS = ("org_code", "org_name", "region", "system", "peer_groups")


def _org_names(entry: OrgSource, frame: pd.DataFrame) -> pd.Series:
    """Names as the organisations write them: the override column where filled, else the normalised name."""
    names = frame[entry.name].astype("string").str.strip()
    if entry.normalise_names:
        names = names.map(normalise_org_name, na_action="ignore").astype("string")
    if entry.display_name:
        given = frame[entry.display_name].astype("string").str.strip()
        names = given.where(given.notna() & (given != ""), names)
    return names


def _place(table: RawTable, pos: int) -> str:
    """'file:line' (or 'file, row n') of one row, for messages that name two places."""
    row = table.where(pos)
    return f"{table.origin}:{row}" if table.row_label == "line" else f"{table.origin}, {table.row_label} {row}"


def _at_first(table: RawTable, rows: np.ndarray, field: str, message: Callable[[int], str]) -> DataError:
    """The error for the first of `rows` (a boolean mask), at its file:line and field."""
    pos = int(np.flatnonzero(rows)[0])
    return DataError(message(pos), source=table.origin, row=table.where(pos), field=field, row_label=table.row_label)


def _one_source(entry: OrgSource, table: RawTable) -> pd.DataFrame:
    flags = (entry.in_deficit, entry.intensive_support)
    columns = [entry.org_code, entry.name, *(c for c in (entry.display_name, entry.region, entry.system, *flags) if c)]
    for column in columns:
        if column not in table.frame.columns:
            raise table.missing_column(column, "the organisation reference ('orgs')")
    frame = table.frame
    codes = frame[entry.org_code].astype("string").str.strip()
    blank = (codes.isna() | (codes == "")).to_numpy()
    if blank.any():
        raise _at_first(table, blank, entry.org_code, lambda pos: "organisation code is blank")
    dup = codes.duplicated(keep="first").to_numpy()
    if dup.any():
        raise _at_first(
            table,
            dup,
            entry.org_code,
            lambda pos: f"organisation {codes.iloc[pos]} appears twice; expected one row per organisation",
        )

    def optional(column: str | None) -> pd.Series:
        if column:
            return frame[column].astype("string")
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    def flag(column: str | None) -> pd.Series:
        """A boolean column; a source without it leaves its organisations unknown (NA), not False."""
        if not column:
            return pd.Series(pd.NA, index=frame.index, dtype="boolean")
        text = frame[column].astype("string").str.strip().str.lower()
        given = (text.notna() & (text != "")).to_numpy(dtype=bool)
        bad = given & ~text.isin((*TRUE_TEXT, *FALSE_TEXT)).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            raise _at_first(
                table,
                bad,
                column,
                lambda pos: f"expected yes or no (true/false, 1/0) or blank, got {frame[column].iloc[pos]!r}",
            )
        return text.isin(TRUE_TEXT).astype("boolean").where(pd.Series(given, index=frame.index), pd.NA)

    out = pd.DataFrame(
        {
            "org_code": codes.astype("string"),
            "org_name": _org_names(entry, frame),
            "region": optional(entry.region),
            "system": optional(entry.system),
            "_pos": np.arange(len(frame)),
        }
    )
    for key, given_as in (("in_deficit", entry.in_deficit), ("intensive_support", entry.intensive_support)):
        if given_as:  # only where the reference gives it: the league table applies an adjustment it is given
            out[key] = flag(given_as)
    return out


def build_orgs(
    ref: OrgReference, tables: Mapping[str, RawTable], sources: Mapping[str, Source], doc: Located | None = None
) -> pd.DataFrame:
    """Organisation reference data: one row per org_code with name, region, system and its peer groups. A code
    two sources both define is kept once if they agree on its name, and is an error naming both rows if not."""
    parts: list[ReferencePart] = []
    frames: list[pd.DataFrame] = []
    for entry in ref.sources:
        table = tables[entry.source]
        frame = _one_source(entry, table)
        seen = {code: k for k, part in enumerate(frames) for code in part["org_code"]}
        for pos, (code, name) in enumerate(zip(frame["org_code"], frame["org_name"], strict=True)):
            if code not in seen:
                continue
            k = seen[code]
            earlier = frames[k].loc[frames[k]["org_code"] == code].iloc[0]
            if str(earlier["org_name"]) != str(name):
                first = parts[k].table
                raise DataError(
                    f"organisation {code} is '{earlier['org_name']}' in {_place(first, int(earlier['_pos']))} "
                    f"(source '{ref.sources[k].source}') but '{name}' here (source '{entry.source}'); a code "
                    f"must name one organisation across the reference sources",
                    source=table.origin,
                    row=table.where(pos),
                    field=entry.org_code,
                    row_label=table.row_label,
                )
        parts.append(ReferencePart(table, sources[entry.source], frame["org_code"]))
        frames.append(frame)
    groups = evaluate_groups(ref, parts, doc)
    merged = pd.concat([f[keep] for f, keep in zip(frames, _firsts(frames), strict=True)], ignore_index=True).drop(
        columns="_pos"
    )
    merged["peer_groups"] = join_groups(merged["org_code"], groups)
    return merged.sort_values("org_code").reset_index(drop=True)


def _firsts(frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """For each source's rows, whether it is the first to define its code (agreeing repeats were checked)."""
    seen: set[str] = set()
    out = []
    for frame in frames:
        keep = ~frame["org_code"].isin(seen).to_numpy()
        seen.update(str(c) for c in frame["org_code"])
        out.append(keep)
    return out
