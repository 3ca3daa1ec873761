"""Every renderer draws every node type of the neutral tree (packs.tree.Block).

The renderers dispatch on node types with functools.singledispatch. They are found by what they register, not
by a function's name or file: each renderer is a module or package named below, and every singledispatch
function in it (or in its submodules) that registers a tree node type counts. So the check keeps working when
a renderer is split into a package. The PDF is drawn from the Word document, so it has no dispatch of its own.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from functools import singledispatch
from types import ModuleType
from typing import Any, get_args

import pytest

from reporting.packs import tree

RENDERERS = (
    "reporting.packs.render.pptx",
    "reporting.packs.render.docx",
    "reporting.packs.render.xlsx",
    "reporting.packs.render.html",
)
NODE_TYPES: tuple[type, ...] = get_args(tree.Block)


def _modules(name: str) -> Iterator[ModuleType]:
    module = importlib.import_module(name)
    yield module
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
        yield importlib.import_module(info.name)


def dispatchers(name: str, node_types: tuple[type, ...] = NODE_TYPES) -> list[Any]:
    """The singledispatch functions of a renderer that register at least one tree node type."""
    found: dict[int, Any] = {}
    for module in _modules(name):
        for value in vars(module).values():
            registry = getattr(value, "registry", None)
            if callable(getattr(value, "dispatch", None)) and registry is not None:
                if any(isinstance(k, type) and issubclass(k, node_types) for k in registry):
                    found[id(value)] = value
    return list(found.values())


def missing(functions: list[Any], node_types: tuple[type, ...] = NODE_TYPES) -> list[str]:
    """Node types that no dispatch function of the renderer handles (the fallback for `object` does not count)."""
    return [t.__name__ for t in node_types if not any(f.dispatch(t) is not f.registry[object] for f in functions)]


@pytest.mark.parametrize("renderer", RENDERERS)
def test_every_renderer_handles_every_tree_node(renderer: str) -> None:
    functions = dispatchers(renderer)
    assert functions, f"{renderer}: no singledispatch over tree nodes found"
    assert missing(functions) == [], f"{renderer} has no handler for these node types"


def test_the_check_fails_for_a_node_type_without_a_handler() -> None:
    class Gauge:  # a throwaway node type no renderer knows
        pass

    for renderer in RENDERERS:
        assert missing(dispatchers(renderer), (*NODE_TYPES, Gauge)) == ["Gauge"]


def test_the_check_fails_for_a_renderer_missing_a_handler() -> None:
    @singledispatch
    def draw(block: object) -> None:
        raise TypeError(block)

    handler: Callable[[object], None] = lambda block: None  # noqa: E731
    for node in NODE_TYPES:
        if node is not tree.PageBreak:
            draw.register(node, handler)
    assert missing([draw]) == ["PageBreak"]
