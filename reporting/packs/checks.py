"""Pack templates checked against the catalogue before any data is read: unknown metrics, metric ids inside
Jinja text (parsed, not rendered), peer groups and block options, each a ConfigError at the template's line.
`check_template` raises the first (a build); `template_problems` lists them all (`reporting validate`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reporting._yaml import Located, _dotted
from reporting.data.catalogue import Catalogue
from reporting.data.peers import ALL
from reporting.errors import ConfigError
from reporting.packs import template as t
from reporting.packs.sandbox import pack_environment

__all__ = ["TEXT_FUNCTIONS", "TEXT_NAMES", "check_template", "metric_refs", "template_problems"]


def metric_refs(template: t.PackTemplate) -> Iterator[tuple[tuple[Any, ...], str, t.BlockModel | None]]:
    """(YAML path, metric id, the block if it is the block's own `metric:`) of every literal metric reference."""
    for i, section in enumerate(template.sections):
        yield from _refs_in(section.blocks, ("sections", i, "blocks"))


def _refs_in(
    blocks: list[t.BlockModel], base: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str, t.BlockModel | None]]:
    for j, block in enumerate(blocks):
        kind = block.kind()
        options = block.options
        path = (*base, j, kind)
        for name in ("metric",):
            value = getattr(options, name, None)
            if isinstance(value, str) and "{{" not in value:
                yield (*path, name), value, block
        for k, value in enumerate(getattr(options, "metrics", None) or []):
            yield (*path, "metrics", k), value, None
        yield from _refs_in(block.children(), (*path, "blocks"))


def check_template(template: t.PackTemplate, doc: Located, catalogue: Catalogue) -> None:
    """Template errors that need the catalogue (the first of them; `template_problems` lists them all)."""
    for problem in template_problems(template, doc, catalogue):
        raise problem


#: Names a pack's Jinja text may use (Assembly.render's context); `metric` only inside for_each.
TEXT_NAMES = ("org", "org_name", "period", "period_label", "pack_title", "narrative", "value", "target", "icon")
TEXT_FUNCTIONS = ("narrative", "value", "target", "icon")


def template_problems(
    template: t.PackTemplate, doc: Located, catalogue: Catalogue, also_known: Iterable[str] = ()
) -> Iterator[ConfigError]:
    """Every template error that needs the catalogue: unknown metric ids (also inside Jinja text, such as
    `narrative('x')`), tags, peer groups, ratio-only blocks on counts, benchmarks in the wrong unit.
    `also_known`: ids the catalogue defines but could not load (their own errors are reported there)."""
    real = {m.id for m in catalogue.metrics}
    ids = [m.id for m in catalogue.metrics] + [i for i in also_known if i not in real]
    tags = {tag for m in catalogue.metrics for tag in m.tags}

    def at(message: str, path: tuple[Any, ...]) -> ConfigError:
        return ConfigError(message, file=doc.file, line=doc.line_of(path), field=_dotted(path))

    def unknown(metric_id: str) -> str:
        close = difflib.get_close_matches(metric_id, ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; metrics are: {', '.join(ids)}"
        return f"unknown metric '{metric_id}'{hint}"

    selection = template.metrics
    pack_ids = selection if isinstance(selection, list) else (selection.metrics if selection else [])
    for k, metric_id in enumerate(pack_ids):
        if metric_id not in ids:
            yield at(unknown(metric_id), ("metrics", k) if isinstance(selection, list) else ("metrics", "metrics", k))
    if isinstance(selection, t.MetricsSelection) and selection.tag and selection.tag not in tags:
        yield at(f"no metric has the tag '{selection.tag}'; tags are: {', '.join(sorted(tags))}", ("metrics", "tag"))
    for path, metric_id, block in metric_refs(template):
        if metric_id not in ids:
            yield at(unknown(metric_id), path)
            continue
        if block is not None and block.needs_ratio and metric_id in real and not catalogue.metric(metric_id).is_ratio:
            yield at(
                f"a {block.kind()} compares providers' rates, so it needs a metric with a numerator and "
                f"denominator; '{metric_id}' has neither",
                path,
            )
    groups = _peer_groups(catalogue)
    peer_param = template.parameters.get("peer_group")
    if peer_param is not None and peer_param.default:
        yield from _check_group(peer_param.default, groups, at, ("parameters", "peer_group", "default"))
    for path, block in _all_blocks(template):
        kind = block.kind()
        options = block.options
        tag = getattr(options, "tag", None)
        if tag and tag not in tags:
            yield at(f"no metric has the tag '{tag}'; tags are: {', '.join(sorted(tags))}", (*path, kind, "tag"))
        peers = getattr(options, "peers", None)
        if peers:
            yield from _check_group(peers, groups, at, (*path, kind, "peers"))
        benchmark = getattr(options, "benchmark", None)
        compared = getattr(options, "metric", None)
        if isinstance(benchmark, float | int) and isinstance(compared, str) and compared in real:
            unit = catalogue.metric(compared).unit
            if unit == "percent" and not 0 <= benchmark <= 1:
                hint = f"write {benchmark / 100:g}" if 1 < benchmark <= 100 else "give a fraction from 0 to 1"
                yield at(
                    f"benchmark {benchmark:g} is not a fraction: '{compared}' is a percent metric, so {hint}",
                    (*path, kind, "benchmark"),
                )
    for path, text, in_loop in _texts(template):
        yield from _text_problems(text, in_loop, ids, at, path)


def _peer_groups(catalogue: Catalogue) -> set[str] | None:
    """Peer group names the organisation reference can give (None: no reference, so no groups at all)."""
    if catalogue.orgs is None:
        return None
    return {*catalogue.orgs.peer_groups, ALL}


def _check_group(
    group: str, groups: set[str] | None, at: Callable[..., ConfigError], path: tuple[Any, ...]
) -> Iterator[ConfigError]:
    if "{{" in group:
        return
    if groups is None:
        yield at(
            f"peer group '{group}' needs organisation reference data with peer groups ('orgs:' in the "
            f"catalogue), and there is none",
            path,
        )
    elif group not in groups:
        close = difflib.get_close_matches(group, sorted(groups), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        yield at(f"unknown peer group '{group}'{hint}; groups are: {', '.join(sorted(groups))}", path)


def _all_blocks(template: t.PackTemplate) -> Iterator[tuple[tuple[Any, ...], t.BlockModel]]:
    def walk(blocks: list[t.BlockModel], base: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], t.BlockModel]]:
        for j, block in enumerate(blocks):
            yield (*base, j), block
            yield from walk(block.children(), (*base, j, block.kind(), "blocks"))

    for i, section in enumerate(template.sections):
        yield from walk(section.blocks, ("sections", i, "blocks"))


def _texts(template: t.PackTemplate) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
    """(YAML path, text, inside for_each) of every string the pack renders with Jinja."""
    yield ("title",), template.title, False
    yield ("subtitle",), template.subtitle, False
    for i, section in enumerate(template.sections):
        yield ("sections", i, "title"), section.title, False
    if template.paper is not None:  # the cover's board-paper essentials
        for name, value in template.paper:
            if isinstance(value, str):
                yield ("paper", name), value, False
        for i, reference in enumerate(template.paper.references):
            yield ("paper", "references", i), reference, False
        for org, own in template.paper.orgs.items():  # one organisation's own essentials
            for name, value in own:
                if isinstance(value, str):
                    yield ("paper", "orgs", org, name), value, False
            for i, reference in enumerate(own.references):
                yield ("paper", "orgs", org, "references", i), reference, False
    for path, block in _all_blocks(template):
        in_loop = "for_each" in path
        kind = block.kind()
        options = block.options
        if isinstance(options, str):
            yield (*path, kind), options, in_loop
            continue
        for name in ("text", "title", "subtitle", "metric", "highlight"):
            value = getattr(options, name, None)
            if isinstance(value, str):
                yield (*path, kind, name), value, in_loop


_PARSER = pack_environment()  # the same sandbox as a build, so validate refuses what the build refuses


def _text_problems(
    text: str, in_loop: bool, ids: list[str], at: Callable[..., ConfigError], path: tuple[Any, ...]
) -> Iterator[ConfigError]:
    """Parse Jinja text without rendering it: syntax errors, unknown names, and metric ids given to the
    template functions as literals (`narrative('scot_4hr')`), which would otherwise fail only at build."""
    if "{{" not in text and "{%" not in text:
        return
    from jinja2 import TemplateSyntaxError, meta, nodes

    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError as exc:
        inner = f" (line {exc.lineno} of the text)" if exc.lineno and exc.lineno > 1 else ""
        yield at(f"template syntax error: {exc.message}{inner}", path)
        return
    known = set(TEXT_NAMES) | ({"metric"} if in_loop else set())
    for name in sorted(meta.find_undeclared_variables(tree) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; names are: {', '.join(sorted(known))}"
        where = " (outside for_each there is no 'metric')" if name == "metric" else ""
        yield at(f"unknown name '{name}' in the text{where}{hint}", path)
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name in TEXT_FUNCTIONS):
            continue
        if len(call.args) != 1 or call.kwargs:
            yield at(f"{call.node.name}() takes one metric id, e.g. {call.node.name}('ae_4hr')", path)
            continue
        arg = call.args[0]
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value not in ids:
            close = difflib.get_close_matches(arg.value, ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; metrics are: {', '.join(ids)}"
            yield at(f"{call.node.name}('{arg.value}'): unknown metric '{arg.value}'{hint}", path)


# ----------------------------------------------------------------------------------------------- period
