"""The metric catalogue (templates/metrics.yaml): what each metric is and where its data comes from.

One source of truth per fact: the catalogue says what a metric is (unit, direction, chart, target, disclosure
rule) and how its value is derived from a source's columns; templates only say where it appears.
Every model rejects unknown keys, so a typo such as `numerater:` is an error with a suggestion, never
silently ignored. Secrets never live here: a SQL source names the environment variable holding its URL.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from reporting._yaml import Located, load_yaml, raise_validation_error
from reporting.data.expr import parse_expression
from reporting.data.org_config import (
    OrgReference,
    OrgSource,
    PeerGroup,
    org_reference_errors,
    unknown_group_error,
)
from reporting.data.periods import Baseline
from reporting.data.source_config import (
    CsvSource,
    DemoSource,
    ExcelSource,
    FrozenModel,
    HttpSource,
    Source,
    SqlSource,
    WhereTest,
    WhereValue,
)
from reporting.errors import ConfigError

__all__ = [
    "Catalogue",
    "Baseline",
    "Disclosure",
    "Metric",
    "TargetTable",
    "definition_hashes",
    "reference_errors",
    "load_catalogue",
]

Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
ChartKind = Literal["xmr", "p", "pp", "u", "up", "c", "run", "auto"]
Unit = Literal["percent", "count", "rate", "minutes", "hours", "days", "ratio", "score", "pounds"]
Frequency = Literal["daily", "weekly", "monthly", "quarterly"]

#: Charts whose limits need a denominator per point (`auto` picks p/p' or u/u' from the data's dispersion).
RATIO_CHARTS: frozenset[str] = frozenset({"p", "pp", "u", "up", "auto"})
#: How the SPC engine names the improvement direction for each catalogue direction.
IMPROVEMENT = {"higher_is_better": "increase", "lower_is_better": "decrease", "neutral": "neutral"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Disclosure(FrozenModel):
    """Statistical disclosure rule, declared here and applied by the analysis before values leave it."""

    suppress_below: int = Field(default=5, ge=0, description="counts below this are suppressed (0 = no suppression)")
    round_to: int | None = Field(
        default=None, ge=1, description="round published counts (above the threshold) to the nearest N, e.g. 5"
    )
    rates_from: Literal["rounded", "exact"] = Field(
        default="rounded",
        description="with round_to: derive rates and percentages from the rounded counts (rounded) or keep "
        "those of the exact counts (exact)",
    )
    secondary: bool = Field(
        default=True, description="also suppress cells that would let a suppressed one be recovered"
    )
    complement_of: list[str] = Field(
        default_factory=list,
        description="metrics from which this one can be worked "
        "out (beyond those sharing a source column): suppressed together",
    )


class TargetTable(FrozenModel):
    """A target that varies by organisation and/or period; `by_period` values apply from their date onward."""

    default: float | None = None
    by_org: dict[str, float] = Field(default_factory=dict)
    by_period: dict[dt.date, float] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": r"^\d{4}-\d{2}-\d{2}$"}}
    )


def _unit_range(unit: str, value: float, what: str) -> None:
    """Refuse a number that cannot be right for the unit: percent metrics are stored as fractions."""
    if unit == "percent" and not 0 <= value <= 1:
        hint = f"write {value / 100:g} for {value:g}%" if 1 < value <= 100 else "expected a fraction from 0 to 1"
        raise ValueError(
            f"{what} {value:g} is not a fraction: percent metrics are kept as fractions from 0 to 1, so {hint}"
        )
    if unit in {"count", "rate", "minutes", "hours", "days", "pounds"} and value < 0:
        raise ValueError(f"{what} {value:g} is negative; a {unit} cannot be below 0")


def _no_percent_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip().rstrip("%").strip()
        try:
            hint = f"write {float(number) / 100:g}"
        except ValueError:
            hint = "write a fraction such as 0.92"
        raise ValueError(f"{value!r} is text; percent targets are fractions, so {hint}")
    return value


def _fraction_target(low: float | None, high: float | None) -> dict[str, Any]:
    bounds = {k: v for k, v in (("minimum", low), ("maximum", high)) if v is not None}
    number = {"type": "number", **bounds}
    table_value = {"anyOf": [number, {"type": "null"}]}
    return {
        "anyOf": [
            number,
            {"type": "null"},
            {
                "type": "object",
                "properties": {
                    "default": table_value,
                    "by_org": {"additionalProperties": number},
                    "by_period": {"additionalProperties": number},
                },
            },
        ]
    }


#: The rules between a metric's keys (Metric._shape, _target_range), said in JSON Schema as well, so an
#: editor flags what validate flags (tests/test_schemas.py checks that the two agree).
_METRIC_SCHEMA_RULES: dict[str, Any] = {
    "dependentRequired": {"numerator": ["denominator"], "denominator": ["numerator"]},
    "oneOf": [
        {"required": ["value"], "not": {"required": ["numerator"]}},
        {"required": ["numerator"], "not": {"required": ["value"]}},
    ],
    "allOf": [
        {
            "if": {"required": ["chart"], "properties": {"chart": {"enum": sorted(RATIO_CHARTS)}}},
            "then": {"required": ["numerator"]},
        },
        {"if": {"required": ["unit"], "properties": {"unit": {"const": "rate"}}}, "then": {"required": ["per"]}},
        {
            "if": {
                "required": ["unit"],
                "properties": {"unit": {"const": "percent"}},
                "not": {"required": ["numerator"]},
            },
            "then": {"properties": {"chart": {"const": "xmr"}}},
        },
        {
            "if": {"required": ["unit"], "properties": {"unit": {"const": "percent"}}},
            "then": {"properties": {"target": _fraction_target(0, 1)}},
        },
        {
            "if": {
                "required": ["unit"],
                "properties": {"unit": {"enum": ["count", "rate", "minutes", "hours", "days", "pounds"]}},
            },
            "then": {"properties": {"target": _fraction_target(0, None)}},
        },
    ],
}


class Metric(FrozenModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_METRIC_SCHEMA_RULES)

    id: str = Field(json_schema_extra={"pattern": _ID.pattern})
    title: str
    short_title: str | None = Field(
        None,
        description="a shorter title for narrow places (table column headers), e.g. 'Trolley waits > 4h (%)'; "
        "the title is used where this is not set",
    )
    description: str = ""
    unit: Unit
    per: int | None = Field(None, ge=1, description="for unit 'rate': the rate is per this many (e.g. 1000)")
    decimals: int = Field(1, ge=0, le=6)
    plural: bool = Field(
        False, description="the title names a plural ('A&E attendances'): narratives say 'were', not 'was'"
    )
    direction: Direction
    chart: ChartKind
    target: float | TargetTable | None = None
    source: str
    value: str | None = Field(None, description="expression over the source's columns giving the value")
    numerator: str | None = None
    denominator: str | None = None
    where: dict[str, WhereValue] = Field(
        default_factory=dict,
        description="keep rows where column == value, or "
        "passes a test such as {at_least: 1} or {from: 2024-04-01, to: 2025-03-31}",
    )
    aggregate: Literal["sum", "mean", "first"] | None = Field(
        None,
        description="combine rows with the same organisation and period (sum, mean or the first) instead of "
        "refusing them as duplicates; the load report counts the rows combined",
    )
    skip_missing: bool = Field(
        False, description="drop (and count) rows whose inputs are blank instead of keeping gaps"
    )
    frequency: Frequency
    max_lag: int = Field(
        1,
        ge=0,
        description="periods (of the metric's frequency) its latest data may lag the "
        "pack's period before it is shown as 'no current data'",
    )
    baseline: Baseline | None = Field(
        None, description="fixed baseline for this metric's charts (a template's spc block may set its own)"
    )
    disclosure: Disclosure = Field(default_factory=Disclosure)
    tags: list[str] = Field(default_factory=list)
    eligible: str | None = Field(
        None,
        description="a peer group of the organisation reference: only its members are compared or ranked on this "
        "metric (e.g. trusts with a type 1 A&E department); others are left out of its funnels and league tables",
    )

    _target_text = field_validator("target", mode="before")(_no_percent_text)

    @field_validator("target")
    @classmethod
    def _target_range(cls, target: float | TargetTable | None, info: ValidationInfo) -> float | TargetTable | None:
        unit = info.data.get("unit")
        if isinstance(target, TargetTable):
            for what, value in [
                ("target default", target.default),
                *((f"target for {k}", v) for k, v in target.by_org.items()),
                *((f"target from {k}", v) for k, v in target.by_period.items()),
            ]:
                if value is not None and unit:
                    _unit_range(unit, value, what)
        elif target is not None and unit:
            _unit_range(unit, float(target), "target")
        return target

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                f"metric id must be lower case letters, digits and _, starting with a letter; got {value!r}"
            )
        return value

    @field_validator("value", "numerator", "denominator")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            parse_expression(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> Metric:
        ratio = self.numerator is not None or self.denominator is not None
        if ratio and (self.numerator is None or self.denominator is None):
            missing = "denominator" if self.denominator is None else "numerator"
            raise ValueError(f"a ratio metric needs both numerator and denominator; '{missing}' is missing")
        if self.chart == "auto" and not ratio:
            raise ValueError(
                "chart 'auto' chooses between p/p' and u/u' charts, so it needs a numerator and a "
                "denominator; use 'xmr' (or 'c', 'run') for this metric"
            )
        if self.chart in RATIO_CHARTS and not ratio:
            raise ValueError(f"chart '{self.chart}' needs a numerator and a denominator (its limits depend on them)")
        if ratio and self.value is not None:
            raise ValueError("give either 'value' or 'numerator' and 'denominator', not both")
        if not ratio and self.value is None:
            raise ValueError("give 'value' (an expression over the source's columns) or 'numerator' and 'denominator'")
        if self.unit == "rate" and self.per is None:
            raise ValueError("unit 'rate' needs 'per' (e.g. per: 1000)")
        if self.unit == "percent" and not ratio and self.chart != "xmr":
            raise ValueError("a percent metric without numerator/denominator can only use an xmr chart")
        return self

    @property
    def is_ratio(self) -> bool:
        return self.numerator is not None

    @property
    def scale(self) -> float:
        """Multiplier from numerator/denominator to value: percent is kept as a fraction, rates per N."""
        return float(self.per) if self.unit == "rate" and self.per else 1.0

    @property
    def improvement(self) -> str:
        return IMPROVEMENT[self.direction]

    def target_for(self, org_code: str | None = None, period: dt.date | None = None) -> float | None:
        """The target that applies to one organisation in one period (None when there is none)."""
        target = self.target
        if target is None or isinstance(target, float | int):
            return None if target is None else float(target)
        if org_code is not None and org_code in target.by_org:
            return target.by_org[org_code]
        if target.by_period and period is not None:
            starts = sorted(target.by_period)
            i = bisect.bisect_right(starts, period) - 1
            if i >= 0:
                return target.by_period[starts[i]]
        return target.default


class Catalogue(FrozenModel):
    sources: dict[str, Source]
    orgs: OrgReference | None = None
    metrics: list[Metric]

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        seen: set[str] = set()
        for metric in self.metrics:
            if metric.id in seen:
                raise ValueError(f"metric id '{metric.id}' is defined twice")
            seen.add(metric.id)
        return self

    def metric(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        import difflib

        close = difflib.get_close_matches(metric_id, [m.id for m in self.metrics], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"no metric '{metric_id}' in the catalogue{hint}", field="metric")


def _vocabulary() -> set[str]:
    words: set[str] = set()
    for model in (
        Catalogue,
        Metric,
        Disclosure,
        Baseline,
        TargetTable,
        OrgReference,
        OrgSource,
        PeerGroup,
        CsvSource,
        ExcelSource,
        SqlSource,
        HttpSource,
        DemoSource,
        WhereTest,
    ):
        words.update(model.model_fields)
    return words


def load_catalogue(file: Path | str) -> Catalogue:
    """Load and check templates/metrics.yaml; every error names the file, line and field."""
    doc = load_yaml(file)
    if not isinstance(doc.data, Mapping):
        raise ConfigError("expected a mapping with 'sources' and 'metrics'", file=doc.file, line=1)
    try:
        catalogue = Catalogue.model_validate(doc.data)
    except ValidationError as exc:
        raise_validation_error(exc, doc, _vocabulary())
        raise  # unreachable: raise_validation_error always raises
    _check_references(catalogue, doc)
    from reporting.redact import register_secret_env

    register_secret_env(getattr(s, "url_env", None) or "" for s in catalogue.sources.values())
    return catalogue


def _check_references(catalogue: Catalogue, doc: Located) -> None:
    for problem in reference_errors(catalogue, doc):
        raise problem


def reference_errors(catalogue: Catalogue, doc: Located) -> list[ConfigError]:
    """Every reference in the catalogue that points nowhere (a metric's source, the orgs source)."""
    import difflib

    problems = []
    names = sorted(catalogue.sources)
    for i, metric in enumerate(catalogue.metrics):
        if metric.source not in catalogue.sources:
            close = difflib.get_close_matches(metric.source, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; sources are: {', '.join(names)}"
            problems.append(
                ConfigError(
                    f"unknown source '{metric.source}'{hint} (metric '{metric.id}')",
                    file=doc.file,
                    line=doc.line_of(("metrics", i, "source")),
                    field=f"metrics[{i}].source",
                )
            )
        elif catalogue.sources[metric.source].period is None:
            problems.append(
                ConfigError(
                    f"source '{metric.source}' has no period column, so it cannot feed metric '{metric.id}'",
                    file=doc.file,
                    line=doc.line_of(("metrics", i, "source")),
                    field=f"metrics[{i}].source",
                )
            )
    if catalogue.orgs is not None:
        problems += org_reference_errors(catalogue.orgs, names, doc)
    groups = sorted(catalogue.orgs.peer_groups) if catalogue.orgs is not None else []
    for i, metric in enumerate(catalogue.metrics):
        if metric.eligible is not None and metric.eligible not in groups:
            problems.append(unknown_group_error(metric.eligible, groups, doc, ("metrics", i, "eligible")))
    return problems


def definition_hashes(catalogue: Catalogue) -> dict[str, str]:
    """Hash of what each metric's data depends on (its definition and its source's), and of the organisation
    reference (key "orgs"): a snapshot records them, so a build can tell that the catalogue changed since."""
    import hashlib
    import json

    def digest(*parts: Any) -> str:
        text = json.dumps(
            [p.model_dump(mode="json", by_alias=True) if p is not None else None for p in parts],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    out = {f"metric:{m.id}": digest(m, catalogue.sources.get(m.source)) for m in catalogue.metrics}
    if catalogue.orgs is not None:
        out["orgs"] = digest(catalogue.orgs, *(catalogue.sources.get(s.source) for s in catalogue.orgs.sources))
    return out


def dump_schema() -> dict[str, Any]:
    """JSON Schema of the catalogue, for editor autocompletion."""
    return Catalogue.model_json_schema()
