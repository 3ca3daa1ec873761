"""The block registry: every template block model has exactly one rule, and the check refuses what is wrong."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from reporting.packs import template as t
from reporting.packs.blocks import RULES
from reporting.packs.blocks.registry import Rule, check_rules, rule
from reporting.packs.tree import Block, Text


def test_every_block_model_has_exactly_one_rule() -> None:
    assert set(RULES) == set(t.BLOCK_MODELS)
    assert len(t.BLOCK_MODELS) == len(t.BLOCK_NAMES) == len(set(t.BLOCK_NAMES))
    check_rules(RULES, t.BLOCK_MODELS)  # what the package runs at import


def test_block_names_are_derived_from_the_models_in_order() -> None:
    assert t.BLOCK_NAMES[:4] == ("cover", "contents", "heading", "text")
    assert t.BLOCK_NAMES[-1] == "for_each"
    assert all(model.kind() == name for model, name in zip(t.BLOCK_MODELS, t.BLOCK_NAMES, strict=True))


def _note(asm: object, o: object, where: object, extra: object) -> list[Block]:
    return [Text(("a throwaway block",), "note")]


def test_check_fails_for_a_block_model_without_a_rule() -> None:
    class GaugeOptions(BaseModel):
        metric: str

    class GaugeBlock(t.BlockModel):
        gauge: GaugeOptions

    with pytest.raises(TypeError, match="no rule for GaugeBlock"):
        check_rules(dict(RULES), (*t.BLOCK_MODELS, GaugeBlock))
    rules: dict[type[t.BlockModel], Rule] = dict(RULES)
    rule(GaugeBlock, rules)(_note)
    check_rules(rules, (*t.BLOCK_MODELS, GaugeBlock))  # one model + one rule is all a new block needs


def test_a_second_rule_for_the_same_block_is_refused() -> None:
    rules: dict[type[t.BlockModel], Rule] = dict(RULES)
    with pytest.raises(TypeError, match="FunnelBlock has two rules"):
        rule(t.FunnelBlock, rules)(_note)
    assert rules[t.FunnelBlock] is RULES[t.FunnelBlock]


def test_a_rule_for_what_is_not_a_block_model_is_refused() -> None:
    class NotABlock(BaseModel):
        x: int = 0

    with pytest.raises(TypeError, match="keyed by a block model"):
        rule(NotABlock, {})  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(TypeError, match="keyed by a block model"):
        rule(t.SpcOptions, {})  # type: ignore[arg-type]  # options, not the block
    with pytest.raises(TypeError, match="rules for what is not a block model: NotABlock"):
        check_rules({**RULES, NotABlock: _note}, t.BLOCK_MODELS)  # type: ignore[dict-item]  # under test


def test_a_block_model_has_exactly_one_field() -> None:
    with pytest.raises(TypeError, match="exactly one field"):

        class TwoKeys(t.BlockModel):
            a: str
            b: str


def test_validation_of_a_block_is_said_on_its_model() -> None:
    assert {m.kind() for m in t.BLOCK_MODELS if m.needs_ratio} == {"funnel", "variation"}
