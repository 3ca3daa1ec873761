"""Peer groups as sets: which organisations of the reference belong to each named group (`orgs.peer_groups` in
the catalogue). An organisation may be in any number of groups, so the snapshot keeps each organisation's
groups (column `peer_groups`, joined by ";") rather than one group per organisation; only this module reads
or writes that column."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from reporting._yaml import Located, _dotted
from reporting.data.frame import _where_keep
from reporting.data.org_config import OrgReference, PeerGroup
from reporting.data.source_config import Source, WhereValue
from reporting.data.sources import RawTable
from reporting.errors import ConfigError

__all__ = ["ALL", "SEPARATOR", "ReferencePart", "evaluate_groups", "groups_of", "join_groups", "memberships"]

#: The pseudo-group of every organisation in the reference.
ALL = "all"
SEPARATOR = ";"
TRUE_TEXT = ("true", "1", "yes", "y")
FALSE_TEXT = ("false", "0", "no", "n")


@dataclass(frozen=True)
class ReferencePart:
    """One reference source's rows as read, with the codes they define (in the same order)."""

    table: RawTable
    source: Source
    codes: pd.Series


def evaluate_groups(ref: OrgReference, parts: Sequence[ReferencePart], doc: Located | None) -> dict[str, set[str]]:
    """Members of every group, over all the reference sources: a column one source lacks is false for its
    rows, while a column no source has is an error naming the group's line in the catalogue."""
    done: dict[str, set[str]] = {}

    def members(name: str) -> set[str]:
        if name not in done:
            done[name] = _members(name, ref.peer_groups[name], parts, doc, members)
        return done[name]

    for name in ref.peer_groups:
        members(name)
    return done


def _members(
    name: str, group: PeerGroup, parts: Sequence[ReferencePart], doc: Located | None, members: Callable[[str], set[str]]
) -> set[str]:
    everyone = {str(c) for part in parts for c in part.codes}
    chosen = set(everyone)
    base = ("orgs", "peer_groups", name)
    if group.column:
        _need_column(group.column, parts, doc, (*base, "column"), name)
        chosen &= _codes_where(parts, group.column, None)
    written_as_where = doc is None or (*base, "where") in doc.lines  # else `{trust_type: acute}`, the short form
    for column, wanted in group.where.items():
        _need_column(column, parts, doc, (*base, "where", column) if written_as_where else (*base, column), name)
        chosen &= _codes_where(parts, column, wanted)
    for key in ("codes", "also"):
        listed = getattr(group, key) or []
        unknown = sorted(set(listed) - everyone)
        if unknown:
            raise _config(
                f"peer group '{name}' lists {', '.join(unknown)}, not in the organisation reference "
                f"({len(everyone)} organisations)",
                doc,
                (*base, key, listed.index(unknown[0])),
            )
    if group.codes is not None:
        chosen &= set(group.codes)
    for other in group.in_groups:
        chosen &= members(other)
    if group.any_of:
        chosen &= set().union(*(members(other) for other in group.any_of))
    for other in group.not_in:
        chosen -= members(other)
    return chosen | set(group.also)


def _codes_where(parts: Sequence[ReferencePart], column: str, wanted: WhereValue | None) -> set[str]:
    """Codes of the rows where `column` is true (`wanted` None) or passes the `where:` entry, in every source
    that has the column (the others have none)."""
    out: set[str] = set()
    for part in parts:
        frame = part.table.frame
        if column not in frame.columns:
            continue
        if wanted is None:
            keep = frame[column].astype("string").str.strip().str.lower().isin(TRUE_TEXT).fillna(False).to_numpy(bool)
        else:
            keep = _where_keep(part.table, frame, column, wanted, part.source)
        out.update(str(c) for c in part.codes[keep])
    return out


def _need_column(
    column: str, parts: Sequence[ReferencePart], doc: Located | None, path: tuple[str | int, ...], name: str
) -> None:
    if any(column in part.table.frame.columns for part in parts):
        return
    import difflib

    have = sorted({str(c) for part in parts for c in part.table.frame.columns})
    close = difflib.get_close_matches(column, have, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise _config(
        f"peer group '{name}': column '{column}' is in no organisation reference source{hint}; columns are: "
        f"{', '.join(have)}",
        doc,
        path,
    )


def _config(message: str, doc: Located | None, path: tuple[str | int, ...]) -> ConfigError:
    field = _dotted(path)
    if doc is None:
        return ConfigError(message, field=field)
    return ConfigError(message, file=doc.file, line=doc.line_of(path), field=field)


def join_groups(codes: pd.Series, groups: Mapping[str, set[str]]) -> pd.Series:
    """Each organisation's groups, sorted and joined, as the snapshot keeps them."""
    return pd.Series(
        [SEPARATOR.join(sorted(g for g, members in groups.items() if str(code) in members)) for code in codes],
        index=codes.index,
        dtype="string",
    )


def memberships(orgs: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Group name -> member codes, from the snapshot's organisations (`all`: every organisation)."""
    out: dict[str, set[str]] = {}
    for code, joined in zip(orgs["org_code"].astype(str), orgs["peer_groups"].fillna(""), strict=True):
        for group in str(joined).split(SEPARATOR):
            if group:
                out.setdefault(group, set()).add(code)
    result = {name: frozenset(codes) for name, codes in sorted(out.items())}
    result[ALL] = frozenset(orgs["org_code"].astype(str))
    return result


def groups_of(orgs: pd.DataFrame, code: str) -> tuple[str, ...]:
    """The groups one organisation is in (sorted; without `all`)."""
    row = orgs.loc[orgs["org_code"].astype(str) == code, "peer_groups"]
    if row.empty or pd.isna(row.iloc[0]):
        return ()
    return tuple(g for g in str(row.iloc[0]).split(SEPARATOR) if g)
