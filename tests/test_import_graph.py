"""scripts/import_graph.py on the real tree (no cycle, nothing imported up the layers) and on broken ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_real_tree_has_no_cycle_and_no_upward_import(graph: ModuleType) -> None:
    edges = graph.edges(ROOT)
    assert graph.cycles(edges, frozenset({"module"})) == []  # nothing Python meets at import
    assert graph.cycles(edges) == []  # lazy imports too: none is used to dodge a cycle
    assert [(e.source, e.target) for e in graph.upward(edges)] == []
    packs = [e for e in edges if e.source.startswith("reporting.packs") and e.target.startswith("reporting.packs")]
    assert graph.cycles(packs) == []  # build -> batch -> assemble -> blocks -> assembly, lazy imports included


def test_packs_flow_one_way(graph: ModuleType) -> None:
    edges = {(e.source, e.target) for e in graph.edges(ROOT)}
    assert ("reporting.packs.batch", "reporting.packs.assemble") in edges
    assert ("reporting.packs.assemble", "reporting.packs.blocks") in edges
    assert ("reporting.packs.blocks.registry", "reporting.packs.assembly") in edges
    for lower in ("reporting.packs.assemble", "reporting.packs.assembly", "reporting.packs.blocks"):
        assert (lower, "reporting.packs.batch") not in edges


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "reporting" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [root / "reporting", *(p for p in (root / "reporting").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return root


def test_check_fails_on_a_lazy_cycle_and_on_an_upward_import(graph: ModuleType, tmp_path: Path) -> None:
    clean = _tree(tmp_path / "clean", {"packs/a.py": "from reporting.packs import b\n", "packs/b.py": "import os\n"})
    assert graph.main(["--check", "--root", str(clean)]) == 0
    lazy = _tree(
        tmp_path / "lazy",
        {
            "packs/a.py": "from reporting.packs.b import x\n",
            "packs/b.py": "x = 1\ndef f():\n    from reporting.packs.a import y\n",
        },
    )
    assert graph.cycles(graph.edges(lazy)) == [["reporting.packs.a", "reporting.packs.b"]]
    assert graph.cycles(graph.edges(lazy), frozenset({"module"})) == []
    assert graph.main(["--check", "--root", str(lazy)]) == 1
    assert graph.main(["--check", "--runtime", "--root", str(lazy)]) == 0
    up = _tree(tmp_path / "up", {"stats/s.py": "from ..packs import p\n", "packs/p.py": "x = 1\n"})
    found = graph.upward(graph.edges(up))
    assert [(e.source, e.target, e.kind) for e in found] == [("reporting.stats.s", "reporting.packs.p", "module")]
    assert graph.main(["--check", "--runtime", "--root", str(up)]) == 1
