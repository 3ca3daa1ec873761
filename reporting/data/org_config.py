"""How templates/metrics.yaml declares the organisation reference (`orgs:`): its sources, merged into one row
per organisation code, and the named peer groups over it (sets: an organisation may be in any number). The
groups' members are worked out at the pull (reporting/data/peers.py); docs/peer-groups.md is the analysts'
reference."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from reporting._yaml import Located, _dotted
from reporting.data.source_config import FrozenModel, WhereValue
from reporting.errors import ConfigError

__all__ = [
    "PEER_GROUP_KEYS",
    "OrgReference",
    "OrgSource",
    "PeerGroup",
    "org_reference_errors",
    "org_source_path",
    "unknown_group_error",
]


class OrgSource(FrozenModel):
    """One organisation reference source (code -> name, region, system) and the columns it keeps them in."""

    source: str
    org_code: str = "org_code"
    name: str = "org_name"
    display_name: str | None = Field(
        None,
        description="column holding the name as the organisation writes it, used verbatim where not blank "
        "(otherwise `name` is used, normalised: see normalise_names)",
    )
    normalise_names: bool = Field(
        True,
        description="write names as organisations do (\"Guy's and St Thomas' NHS Foundation Trust\", not "
        "\"Guy's And St Thomas'\" or upper case): small words lower-case, acronyms upper-case",
    )
    region: str | None = None
    system: str | None = Field(None, description="ICB / ICS column")
    in_deficit: str | None = Field(
        None,
        description="boolean column (true/yes/1): the provider is in financial deficit, so the NHS Oversight "
        "Framework league table places it no higher than segment 3",
    )
    intensive_support: str | None = Field(
        None,
        description="boolean column (true/yes/1): the provider is in the Recovery Support Programme, segment 5 "
        "of the NHS Oversight Framework league table",
    )


#: Keys of a peer group written in full; any other key of a group is a column to match (`trust_type: acute`).
PEER_GROUP_KEYS = frozenset({"label", "column", "where", "codes", "in_groups", "any_of", "not_in", "also"})
_GROUP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _peer_group_schema(schema: dict[str, Any]) -> None:
    """Say in JSON Schema what the model reads: the short forms (a boolean column's name, a list of codes), any
    key that is not the group's own as a column to match (with the values a `where:` entry takes), and at
    least one criterion."""
    full: dict[str, Any] = {
        k: schema.pop(k) for k in ("type", "properties", "required", "additionalProperties") if k in schema
    }
    full["additionalProperties"] = copy.deepcopy(full["properties"]["where"]["additionalProperties"])
    full["not"] = {"propertyNames": {"enum": ["label", "not_in", "also"]}}
    schema["anyOf"] = [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}, full]


class PeerGroup(FrozenModel):
    """A named set of organisations; an organisation may be in any number of groups. Every criterion given
    must hold (they intersect), then members of `not_in` groups are taken out and `also` codes added. Short
    forms: a column name (a boolean column), a list of codes, or `{column: value}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_peer_group_schema)

    label: str | None = Field(
        None, description="what captions call the members, plural: 'non-specialist acute trusts' (default: name)"
    )
    column: str | None = Field(None, description="a boolean column of the reference: members where it is true")
    where: dict[str, WhereValue] = Field(
        default_factory=dict,
        description="members where column == value, or passes a test such as {one_of: [a, b]} or {at_least: 100}",
    )
    codes: list[str] | None = Field(None, description="exactly these organisation codes")
    in_groups: list[str] = Field(default_factory=list, description="members of every one of these groups")
    any_of: list[str] = Field(
        default_factory=list, description="members of at least one of these groups (e.g. one per reference source)"
    )
    not_in: list[str] = Field(default_factory=list, description="leaving out members of any of these groups")
    also: list[str] = Field(
        default_factory=list,
        description="codes added after the rest, with the reason in a comment (e.g. a merged trust that a "
        "historical column predates)",
    )

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, list):
            return {"codes": data}
        if isinstance(data, Mapping) and set(data) - PEER_GROUP_KEYS:
            # `{trust_type: acute, label: acute trusts}`: a key that is not one of the group's own is a column
            # to match (a misspelt key is then a column no source has: an error with the columns to choose from)
            columns = {k: v for k, v in data.items() if k not in PEER_GROUP_KEYS}
            where = data.get("where")
            if where is not None and not isinstance(where, Mapping):
                return data
            own = {k: v for k, v in data.items() if k in PEER_GROUP_KEYS}
            return {**own, "where": {**(where or {}), **columns}}
        return data

    @model_validator(mode="after")
    def _some(self) -> PeerGroup:
        if not (self.column or self.where or self.codes is not None or self.in_groups or self.any_of):
            raise ValueError(
                "a peer group needs a boolean column, `{column: value}`, a list of codes, `where:`, `in_groups:` "
                "or `any_of:`"
            )
        if self.codes is not None and not self.codes:
            raise ValueError("an empty list of codes is a group with no members")
        return self


def _org_reference_schema(schema: dict[str, Any]) -> None:
    """The one-source form too: an OrgSource's keys and `peer_groups` directly under `orgs:`."""
    full = {k: schema.pop(k) for k in ("properties", "required", "additionalProperties") if k in schema}
    single = OrgSource.model_json_schema()
    single["properties"]["peer_groups"] = full["properties"]["peer_groups"]
    single.pop("title", None)
    schema["anyOf"] = [{"type": "object", **full}, single]


class OrgReference(FrozenModel):
    """Organisation reference data: one or more sources merged into one row per organisation code, and the
    named peer groups over it. The single-source form (`source: trusts` with its columns) is one entry of
    `sources`."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_org_reference_schema)

    sources: list[OrgSource] = Field(min_length=1)
    peer_groups: dict[str, PeerGroup] = Field(
        default_factory=dict,
        description="peer group name -> definition: a boolean column, `{column: value}`, a list of codes, or "
        "`{where:, in_groups:, any_of:, not_in:, codes:, also:, label:}`; an organisation may be in any number of "
        "groups",
        json_schema_extra={"propertyNames": {"pattern": _GROUP_NAME.pattern, "not": {"const": "all"}}},
    )

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "source" in data:
            if "sources" in data:
                raise ValueError("give `source:` (one reference source) or `sources:` (several), not both")
            own = {k: v for k, v in data.items() if k in OrgSource.model_fields}
            return {**{k: v for k, v in data.items() if k not in own}, "sources": [own]}
        return data

    @field_validator("peer_groups")
    @classmethod
    def _group_names(cls, groups: dict[str, PeerGroup]) -> dict[str, PeerGroup]:
        for name in groups:
            if not _GROUP_NAME.match(name) or name == "all":
                raise ValueError(
                    f"peer group name {name!r}: use letters, digits, '_' and '-', starting with a letter "
                    "('all' is every organisation, so it cannot be redefined)"
                )
        return groups

    def label(self, group: str) -> str:
        """The plural noun captions use for a group's members."""
        if group == "all":
            return "organisations"
        defined = self.peer_groups.get(group)
        return defined.label if defined and defined.label else group


def org_source_path(doc: Located, index: int) -> tuple[str | int, ...]:
    """Where the `index`th reference source is written: `orgs.sources[i]`, or `orgs` itself in the one-source
    form."""
    return ("orgs", "sources", index) if ("orgs", "sources") in doc.lines else ("orgs",)


def unknown_group_error(group: str, groups: list[str], doc: Located, path: tuple[str | int, ...]) -> ConfigError:
    import difflib

    close = difflib.get_close_matches(group, groups, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    choices = ", ".join(groups) if groups else "none are defined (orgs.peer_groups)"
    return ConfigError(
        f"unknown peer group '{group}'{hint}; groups are: {choices}",
        file=doc.file,
        line=doc.line_of(path),
        field=_dotted(path),
    )


def org_reference_errors(ref: OrgReference, names: list[str], doc: Located) -> list[ConfigError]:
    """The reference's sources exist, and its groups name only groups that exist, without going round in a circle."""
    problems = []
    for i, entry in enumerate(ref.sources):
        if entry.source not in names:
            path = (*org_source_path(doc, i), "source")
            problems.append(
                ConfigError(
                    f"unknown source '{entry.source}'; sources are: {', '.join(names)}",
                    file=doc.file,
                    line=doc.line_of(path),
                    field=_dotted(path),
                )
            )
    groups = sorted(ref.peer_groups)
    for name, group in ref.peer_groups.items():
        for key in ("in_groups", "any_of", "not_in"):
            for k, other in enumerate(getattr(group, key)):
                if other not in ref.peer_groups:
                    problems.append(unknown_group_error(other, groups, doc, ("orgs", "peer_groups", name, key, k)))
    if not problems:
        for name in ref.peer_groups:
            chain = _cycle(ref, name, ())
            if chain:
                problems.append(
                    ConfigError(
                        f"peer group '{name}' is defined in terms of itself: {' -> '.join(chain)}",
                        file=doc.file,
                        line=doc.line_of(("orgs", "peer_groups", name)),
                        field=f"orgs.peer_groups.{name}",
                    )
                )
                break
    return problems


def _cycle(ref: OrgReference, name: str, seen: tuple[str, ...]) -> tuple[str, ...]:
    if name in seen:
        return (*seen, name)
    group = ref.peer_groups[name]
    for other in (*group.in_groups, *group.any_of, *group.not_in):
        found = _cycle(ref, other, (*seen, name))
        if found:
            return found
    return ()
