"""Block rules, one module per family, and the one registry that maps each template block model to its rule.

Importing this package registers every rule and checks that each block model of packs.template has exactly
one (packs.blocks.registry.check_rules): a new block is a model in packs.template and a `@rule(Model)`
function in the module of its family.
"""

from __future__ import annotations

from reporting.packs import template as t
from reporting.packs.blocks import (
    benchmark,
    changes,
    comparisons,
    executive,
    league,
    loops,
    spc,
    summary,
    tables,
    text,
)
from reporting.packs.blocks.registry import RULES, block_nodes, check_rules

__all__ = ["RULES", "block_nodes"]

FAMILIES = (
    text,
    summary,
    changes,
    executive,
    spc,
    comparisons,
    benchmark,
    league,
    tables,
    loops,
)  # imported for the rules they register

check_rules(RULES, t.BLOCK_MODELS)
