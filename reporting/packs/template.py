"""Pack templates (templates/packs/*.yaml): the declarative model analysts edit.

Classes are named after their YAML keys, unknown keys are errors with a suggestion, and every error names
the template file and line. A block is a one-key mapping (`- spc: {metric: ae_4hr}`); an unknown block name
gets "did you mean". `extends:` inherits another pack and overrides its sections by `id`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from reporting.approval import ApprovalOptions
from reporting.data.periods import Baseline

__all__ = [
    "BLOCK_MODELS",
    "BLOCK_NAMES",
    "BlockModel",
    "PackTemplate",
    "ThemeOptions",
    "theme_overrides",
]

ID = r"^[a-z][a-z0-9_-]*$"
When = Literal["always", "special_cause", "concern", "improvement", "fails_target", "exception"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CoverOptions(_Model):
    subtitle: str | None = None


#: why a paper comes to the board, as NHS board papers say it ("For assurance")
Purpose = Literal["assurance", "approval", "discussion", "information"]


class PaperValues(_Model):
    """The board-paper essentials a secretary expects on the cover. Each is optional: what is left out is not
    printed (never "None"). Text may use the pack's Jinja names (`{{ period_label }}`, `{{ org_name }}`)."""

    meeting: str | None = Field(None, description="the meeting the paper goes to, e.g. Public Board of Directors")
    meeting_date: dt.date | None = Field(None, description="the date of that meeting (YYYY-MM-DD)")
    agenda_item: str | None = Field(None, description="the agenda item number, e.g. 7.2")
    purpose: Purpose | None = Field(
        None, description="why the paper comes: assurance, approval, discussion or information"
    )
    author: str | None = Field(None, description="who wrote the paper (name and role)")
    executive_lead: str | None = Field(None, description="the executive director presenting it")
    references: list[str] = Field(
        default_factory=list, description="Board Assurance Framework (BAF) or risk register references"
    )
    previously_considered: str | None = Field(None, description="where the paper was considered before, if anywhere")


class PaperOptions(PaperValues):
    """`paper:`: the essentials for every organisation, and `orgs:` those that differ for one (its own agenda
    item, BAF and risk references, committee): a key given there replaces the shared one for that trust."""

    orgs: dict[str, PaperValues] = Field(
        default_factory=dict,
        description="organisation code -> the essentials that differ for that organisation's paper",
    )

    def for_org(self, org: str | None) -> PaperValues:
        """The essentials one organisation's cover prints: its own keys over the shared ones."""
        own = self.orgs.get(org or "")
        shared = PaperValues(**{k: getattr(self, k) for k in PaperValues.model_fields})
        if own is None:
            return shared
        return shared.model_copy(update={k: getattr(own, k) for k in own.model_fields_set})


class ContentsOptions(_Model):
    title: str = "Contents"


class HeadingOptions(_Model):
    text: str
    level: int = Field(1, ge=1, le=3)


class MetricsSelection(_Model):
    """Metrics by id and/or by catalogue tag; both empty means every metric in the catalogue."""

    metrics: list[str] = Field(default_factory=list)
    tag: str | None = None


class SummaryTableOptions(MetricsSelection):
    title: str = "Performance summary"
    sparkline: bool = True
    narrative: bool = Field(default=True, description="the narrative sentence under each metric's name")
    when: When = "always"


class ChangesOptions(MetricsSelection):
    """Values and icon moves against the pack of this template and organisation published before this one."""

    title: str = "What changed since the last pack"


class SpcOptions(_Model):
    metric: str
    periods: int = Field(
        24,
        ge=2,
        le=500,
        description="latest N periods shown; the limits come from the points "
        "shown since the latest rebase (or from `baseline`)",
    )
    baseline: Baseline | None = Field(
        None,
        description="fixed limits from {points: N} (the first N shown) or "
        "{from: YYYY-MM, to: YYYY-MM}; overrides the catalogue's baseline",
    )
    title: str | None = None
    native: bool = True
    when: When = "always"


class CrossSectionOptions(_Model):
    metric: str
    peers: str | None = Field(None, description="peer group name (default: the pack's peer_group parameter)")
    periods: int = Field(12, ge=1, le=60, description="the latest N periods, summed per organisation")
    title: str | None = None
    when: When = "always"


class VariationOptions(CrossSectionOptions):
    benchmark: float | Literal["top_quartile"] | None = None
    native: bool = Field(True, description="an editable chart in PowerPoint, Excel and Word (false: a picture)")


class BenchmarkTrendOptions(_Model):
    metric: str
    peers: str | None = Field(None, description="peer group name (default: the pack's peer_group parameter)")
    periods: int = Field(24, ge=2, le=500, description="the latest N periods shown")
    benchmark: float | None = Field(
        None, description="a benchmark line on the metric's scale (0.78 for 78%); default: the catalogue target"
    )
    title: str | None = None
    native: bool = Field(True, description="an editable chart in PowerPoint, Excel and Word (false: a picture)")
    when: When = "always"


class LeagueTableOptions(_Model):
    metrics: list[str]
    show: int = Field(5, ge=1, le=50, description="top and bottom N, plus the highlighted organisation")
    min_metrics: int | None = Field(
        None, ge=1, description="providers with data for fewer of the metrics are not ranked (default: all of them)"
    )
    peers: str | None = None
    periods: int = Field(12, ge=1, le=60)
    title: str | None = None
    native: bool = True


class DataTableOptions(_Model):
    metric: str
    periods: int = Field(13, ge=1, le=500)
    title: str | None = None
    when: When = "always"


class CommentaryOptions(MetricsSelection):
    pass


#: the parts of the executive summary, in the order it writes them (packs.blocks.executive)
SummaryPart = Literal["overview", "attention", "improved", "changed", "stable", "unknown", "asks"]


class ExecutiveSummaryOptions(MetricsSelection):
    """The executive summary written from the pack's statistics (packs.blocks.executive), in five parts."""

    body: str = Field(default="Board", description="who reads and decides: 'What needs the Board's attention'")
    level: int = Field(default=2, ge=1, le=3, description="heading level of each part")
    parts: list[SummaryPart] | None = Field(
        default=None,
        description="the parts to write (default: all), always in the summary's own order; a shorter summary, "
        "e.g. a monthly report's, leaves out 'stable' and 'asks'",
    )


class AppendixOptions(MetricsSelection):
    """Definitions and data tables for the selected metrics (default: the pack's own metrics)."""

    definitions: bool = True
    data: bool = True
    periods: int = Field(default=13, ge=1, le=500)


class AboutOptions(_Model):
    """Where the paper came from: data snapshot, template, reporting version; at the end, not on the cover."""

    title: str = "About this paper"


class ForEachOptions(MetricsSelection):
    when: When = "always"
    blocks: list[Block]


class BlockModel(_Model):
    """A block of a pack: a one-key mapping whose key names the block and whose value holds its options.

    Every subclass is a block (the YAML union and BLOCK_NAMES are built from them, in definition order), and
    packs.blocks must give each exactly one rule. What the catalogue checks of a block's options
    (packs.checks) is said here as class attributes, not by block name in the checks."""

    #: the block compares providers' rates: its `metric` needs a numerator and a denominator
    needs_ratio: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if len(cls.model_fields) != 1:
            raise TypeError(f"{cls.__name__}: a block model has exactly one field, the block's name")

    @classmethod
    def kind(cls) -> str:
        """The block's name, its one YAML key."""
        return next(iter(cls.model_fields))

    @property
    def options(self) -> object:
        """The block's options (a model, a string for `text:`, or None for a bare `page_break:`)."""
        return getattr(self, self.kind())

    def children(self) -> list[BlockModel]:
        """Blocks nested inside this one (for_each's), so walks over a template need no block names."""
        return []


class CoverBlock(BlockModel):
    cover: CoverOptions = Field(default_factory=CoverOptions)


class ContentsBlock(BlockModel):
    contents: ContentsOptions = Field(default_factory=ContentsOptions)


class HeadingBlock(BlockModel):
    heading: HeadingOptions | str


class TextBlock(BlockModel):
    text: str


class SummaryTableBlock(BlockModel):
    summary_table: SummaryTableOptions = Field(default_factory=SummaryTableOptions)


class ChangesBlock(BlockModel):
    changes: ChangesOptions = Field(default_factory=ChangesOptions)


class SpcBlock(BlockModel):
    spc: SpcOptions


class FunnelBlock(BlockModel):
    needs_ratio = True
    funnel: CrossSectionOptions


class VariationBlock(BlockModel):
    needs_ratio = True
    variation: VariationOptions


class BenchmarkTrendBlock(BlockModel):
    """The organisation's series over time against its peers' median, the England median and a benchmark or
    target line (the Model Health System view)."""

    benchmark_trend: BenchmarkTrendOptions


class LeagueTableBlock(BlockModel):
    league_table: LeagueTableOptions


class DataTableBlock(BlockModel):
    data_table: DataTableOptions


class ExecutiveSummaryBlock(BlockModel):
    executive_summary: ExecutiveSummaryOptions = Field(default_factory=ExecutiveSummaryOptions)


class CommentaryBlock(BlockModel):
    commentary: CommentaryOptions = Field(default_factory=CommentaryOptions)


class PageBreakOptions(_Model):
    """A page break takes no options (`page_break: {}`); anything given is a mistake worth reporting."""


class PageBreakBlock(BlockModel):
    page_break: PageBreakOptions | None = None


class AppendixBlock(BlockModel):
    appendix: AppendixOptions = Field(default_factory=AppendixOptions)


class AboutBlock(BlockModel):
    about: AboutOptions = Field(default_factory=AboutOptions)


class ForEachBlock(BlockModel):
    for_each: ForEachOptions

    def children(self) -> list[BlockModel]:
        return list(self.for_each.blocks)


#: every block model, in definition order (the order "blocks are: ..." messages list them)
BLOCK_MODELS: tuple[type[BlockModel], ...] = tuple(BlockModel.__subclasses__())
_BLOCKS: dict[str, type[BlockModel]] = {model.kind(): model for model in BLOCK_MODELS}
BLOCK_NAMES = tuple(_BLOCKS)


def _block_kind(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        key: str = next(iter(value))  # a YAML key (a string, unless the analyst wrote otherwise)
        return key
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


if TYPE_CHECKING:  # the checker sees what a validated block is; pydantic sees the tagged union
    Block: TypeAlias = BlockModel
else:
    Block = Annotated[
        Union[tuple(Annotated[model, Tag(name)] for name, model in _BLOCKS.items())],  # noqa: UP007 (a Union built at run time)
        Discriminator(
            _block_kind,
            custom_error_type="unknown_block",
            custom_error_message="unknown block",
            custom_error_context={"blocks": ", ".join(_BLOCKS)},
        ),
    ]
ForEachOptions.model_rebuild()


class Parameter(_Model):
    default: str | None = None
    description: str = ""


class SectionTemplate(_Model):
    id: str | None = Field(None, pattern=ID, description="name a child pack uses to replace this section")
    title: str
    appendix: bool = False
    blocks: list[Block]


def _theme_model() -> type[BaseModel]:
    """The `theme:` key as a typed model, generated from the renderers' Theme and Palette dataclasses, so a key
    added there is accepted here (and appears in the JSON Schema) without being typed twice."""
    import dataclasses

    from pydantic import create_model

    from reporting.charts.theme import Palette, Theme

    colour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="a colour such as #005EB8")]
    hints = {float: float, int: int, str: str}
    palette_fields: dict[str, Any] = {f.name: (colour | None, None) for f in dataclasses.fields(Palette)}
    palette = create_model("PaletteOptions", __config__=ConfigDict(extra="forbid", frozen=True), **palette_fields)
    theme_fields: dict[str, Any] = {}
    for f in dataclasses.fields(Theme):
        if f.name == "palette":
            theme_fields[f.name] = (palette | None, None)
        else:
            kind = hints.get(type(f.default), Any)
            theme_fields[f.name] = (kind | None, Field(None, gt=0) if kind in (int, float) else None)
    return create_model("ThemeOptions", __config__=ConfigDict(extra="forbid", frozen=True), **theme_fields)


ThemeOptions = _theme_model()


def theme_overrides(theme: BaseModel | None) -> dict[str, Any]:
    """The keys a pack's `theme:` sets, as Theme.with_overrides takes them."""
    return theme.model_dump(exclude_none=True) if theme is not None else {}


class PackTemplate(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema")
    pack: str = Field(pattern=ID)
    extends: str | None = None
    title: str
    subtitle: str = ""
    audience: str = ""
    cadence: Literal["weekly", "monthly", "quarterly"]
    formats: list[Literal["pptx", "docx", "xlsx", "pdf", "html"]] = Field(min_length=1)
    public: bool = Field(
        False,
        description="published on a website: the HTML edition is built with the "
        "template's formats whenever none are asked for",
    )
    open_data: bool = Field(True, description="a Frictionless Data Package of the pack's numbers beside the files")
    accessibility: Literal["error", "warn"] = Field(
        "error",
        description="a PDF failing the PDF/UA checks stops "
        "the build (error) or is published with its failures listed "
        "in manifest.json (warn)",
    )
    office: dict[Literal["pptx", "docx"], str] = Field(default_factory=dict)
    classification: str = "OFFICIAL"
    owner: str = ""
    version: str = "1.0"
    paper: PaperOptions | None = Field(None, description="board-paper essentials printed on the cover")
    approval: ApprovalOptions | None = Field(
        None, description="who signs the pack off: a draft (marked, sent only to them) until one approves it"
    )
    parameters: dict[Literal["org", "peer_group", "period"], Parameter] = Field(default_factory=dict)
    theme: ThemeOptions | None = None  # type: ignore[valid-type]
    metrics: list[str] | MetricsSelection | None = Field(
        None,
        description="the metrics this pack covers (ids, or {metrics: [...], tag: ...}); summary tables, "
        "for_each, the executive summary and the appendix cover only these. Without it: every catalogue metric",
    )
    commentary: str | None = Field(None, description="commentary workbook, relative to the project")
    section_slides: bool = Field(True, description="PowerPoint: a section header slide before each section")
    sections: list[SectionTemplate] = Field(min_length=1)

    @field_validator("formats")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def _vocabulary() -> set[str]:
    """Every key a pack file may use (for "did you mean"): the field names of every model reachable from
    PackTemplate, and the aliases that are words (`from`), derived so a new option is never typed twice."""
    words: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            seen.add(annotation)
            for name, info in annotation.model_fields.items():
                words.add(name)
                if info.alias and info.alias.isidentifier():
                    words.add(info.alias)
                visit(info.annotation)
                for extra in info.metadata:
                    visit(extra)
        for arg in getattr(annotation, "__args__", ()) or ():
            visit(arg)
        if getattr(annotation, "__metadata__", None) is not None:
            visit(getattr(annotation, "__origin__", None))

    visit(PackTemplate)
    return words


def iter_blocks(blocks: list[BlockModel]) -> Iterator[BlockModel]:
    """Every block, including those nested inside others (for checks such as 'is every metric id known?')."""
    for block in blocks:
        yield block
        yield from iter_blocks(block.children())


def schema() -> dict[str, Any]:
    """JSON Schema of a pack file as the tool reads it: a pack with `extends:` inherits the rest from its
    parent, so it needs only `pack`; any other pack needs every required key."""
    spec = PackTemplate.model_json_schema(by_alias=True)
    required = spec.pop("required", [])
    spec["if"] = {"required": ["extends"], "properties": {"extends": {"type": "string"}}}
    spec["then"] = {"required": ["pack"]}
    spec["else"] = {"required": required}
    return spec
