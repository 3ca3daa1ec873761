"""The one registry of block rules, keyed by the block's template model class (packs.template.BlockModel).

A rule turns one block of a template (its options) into nodes of the neutral tree (packs.tree) that every
renderer draws. `@rule(FunnelBlock)` registers one; `check_rules` (run when packs.blocks is imported) makes
sure every block model has exactly one, so a missing rule fails at import, not with a KeyError mid-build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from reporting.packs import template as t
from reporting.packs.assembly import Assembly, Extra, Where
from reporting.packs.blocks.peers import NotCompared
from reporting.packs.tree import Block, Text

__all__ = ["RULES", "Rule", "block_nodes", "check_rules", "rule"]

#: (the pack being put together, the block's options, its YAML path, for_each's names) -> tree nodes
Rule = Callable[[Assembly, Any, Where, Extra], list[Block]]
R = TypeVar("R", bound=Rule)

RULES: dict[type[t.BlockModel], Rule] = {}


def rule(model: type[t.BlockModel], rules: dict[type[t.BlockModel], Rule] | None = None) -> Callable[[R], R]:
    """Register the decorated function as THE rule of the block `model` (in `rules`, default RULES).

    Refused at import: a second rule for the same model, and a rule for a class that is not a block model."""
    table = RULES if rules is None else rules
    if not (isinstance(model, type) and issubclass(model, t.BlockModel)) or model is t.BlockModel:
        raise TypeError(f"rule({model!r}): rules are keyed by a block model (a subclass of packs.template.BlockModel)")

    def register(function: R) -> R:
        if model in table:
            raise TypeError(
                f"{model.__name__} has two rules: {table[model].__module__}.{table[model].__name__} "
                f"and {function.__module__}.{function.__name__}"
            )
        table[model] = function
        return function

    return register


def check_rules(rules: dict[type[t.BlockModel], Rule], models: Iterable[type[t.BlockModel]]) -> None:
    """Every block model has a rule, and every rule is for a block model; a TypeError names what is wrong."""
    wanted = list(models)
    missing = [m.__name__ for m in wanted if m not in rules]
    stray = [getattr(m, "__name__", repr(m)) for m in rules if m not in wanted]
    if missing or stray:
        raise TypeError(
            "block rules do not match the block models:"
            + (f" no rule for {', '.join(missing)}" if missing else "")
            + (";" if missing and stray else "")
            + (f" rules for what is not a block model: {', '.join(stray)}" if stray else "")
        )


def block_nodes(asm: Assembly, block: t.BlockModel, where: Where, metric_ctx: str | None = None) -> list[Block]:
    """The tree nodes of one template block, by its model's rule (`metric_ctx`: the metric of a for_each)."""
    extra = {"metric": metric_ctx} if metric_ctx else {}
    try:
        return RULES[type(block)](asm, block.options, (*where, block.kind()), extra)
    except NotCompared as left_out:  # a comparison on a measure that does not apply to this organisation
        if left_out.sentence in asm.said_in_pack:  # said where the first comparison of the measure was
            return []
        asm.said_in_pack.add(left_out.sentence)
        return [Text((left_out.sentence,), "note")]
