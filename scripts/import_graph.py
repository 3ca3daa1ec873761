"""The import graph of reporting/, read from the source with ast (nothing is imported), and its checks.

    python scripts/import_graph.py            # every module and what it imports from reporting/
    python scripts/import_graph.py --check    # exit 1 on a cycle or on an import up the layers
    python scripts/import_graph.py --check --runtime   # cycles among module-level imports only

Layers, top to bottom (a module may import its own layer and any layer below it, never one above):

    cli -> commands (and portal) -> schedule -> delivery -> packs -> charts -> stats -> data -> leaves

`cli` holds reporting.cli and reporting.__main__; `commands` holds reporting.commands, reporting.portal and the command-like
top-level modules validate and schemas; `leaves` are the small shared modules (errors, formatting, _yaml,
project, cells, limits, redact, validation_errors, the package itself), which import nothing but leaves.

What counts as an import:
- Module-level imports (at the top of the module, also inside a top-level `if`/`try`) run when the module is
  imported: a cycle among them is a real import cycle.
- Function-level (lazy) imports run only when the function is called, but they count like module-level ones,
  for cycles and for layers: a lazy import that closes a circle is the circle dodged, not removed (this is how
  packs.assemble and packs.batch imported each other). `--runtime` leaves them out of the cycle check, to see
  only the cycles Python itself would meet at import; they are still checked against the layers.
- Imports under `if TYPE_CHECKING:` never run: they are edges for the layer check (a type from above is
  still knowledge of the layer above) but not for cycles.
- `from reporting.x import y` is an edge to the module reporting.x.y when there is one, else to reporting.x
  (the package's __init__). The parent packages a submodule import also runs are not counted as edges.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "reporting"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli", "__main__"),
    ("commands", "validate", "schemas", "portal"),
    ("schedule",),
    ("delivery",),
    ("packs",),
    ("charts",),
    ("stats",),
    ("data",),
)
LEAVES = "leaves"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    kind: str  # "module", "type" (under TYPE_CHECKING) or "lazy" (inside a function)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    out: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement with its kind: module level, type-checking only, or inside a function."""

    def walk(nodes: list[ast.stmt], kind: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield node, kind
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk_any(node, "lazy")
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, kind)
            elif isinstance(node, ast.If):
                yield from walk(node.body, "type" if _is_type_checking(node.test) else kind)
                yield from walk(node.orelse, kind)
            elif isinstance(node, ast.Try):
                for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                    yield from walk(block, kind)
            elif isinstance(node, ast.With | ast.For | ast.While):
                yield from walk(node.body, kind)

    def walk_any(node: ast.AST, kind: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        for child in ast.walk(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, kind

    yield from walk(tree.body, "module")


def edges(root: Path = ROOT) -> list[Edge]:
    known = modules(root)
    out: list[Edge] = []
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            for target in dict.fromkeys(targets):
                while target and target not in known and target.startswith(PACKAGE + "."):
                    target = target.rpartition(".")[0]  # `import reporting.x.y.attr` forms
                if target in known and target != name:
                    out.append(Edge(name, target, node.lineno, kind))
    return out


def layer(module: str) -> tuple[int, str]:
    """(depth, name) of a module's layer: 0 is the top (cli); leaves are the bottom."""
    top = module.split(".")[1] if "." in module else ""
    for depth, names in enumerate(LAYERS):
        if top in names:
            return depth, names[0]
    return len(LAYERS), LEAVES


def upward(all_edges: list[Edge]) -> list[Edge]:
    """Imports from a lower layer into a higher one (module, type-only and lazy alike)."""
    return [e for e in all_edges if layer(e.target)[0] < layer(e.source)[0]]


def cycles(all_edges: list[Edge], kinds: frozenset[str] = frozenset({"module", "lazy"})) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    graph: dict[str, set[str]] = {}
    for e in all_edges:
        if e.kind in kinds:
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 on a cycle or an upward import")
    parser.add_argument(
        "--runtime", action="store_true", help="cycles among module-level imports only (not function-level ones)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (the folder holding reporting/)")
    args = parser.parse_args(argv)
    all_edges = edges(args.root)
    kinds = frozenset({"module"} if args.runtime else {"module", "lazy"})
    if not args.check:
        by_source: dict[str, list[Edge]] = {}
        for e in all_edges:
            by_source.setdefault(e.source, []).append(e)
        for name in modules(args.root):
            print(f"{name}  [{layer(name)[1]}]")
            shown = {(e.target, e.kind) for e in by_source.get(name, [])}
            for target, kind in sorted(shown, key=lambda tk: (tk[1] != "module", tk[0])):
                print(f"    -> {target}" + ("" if kind == "module" else f"  ({kind})"))
    found = cycles(all_edges, kinds)
    up = upward(all_edges)
    for component in found:
        print("cycle: " + " <-> ".join(component))
    for e in up:
        print(
            f"upward: {e.source} ({layer(e.source)[1]}) imports {e.target} ({layer(e.target)[1]}) "
            f"at line {e.line}" + ("" if e.kind == "module" else f" ({e.kind})")
        )
    if args.check:
        print(f"{len(modules(args.root))} modules, {len(all_edges)} imports: {len(found)} cycles, {len(up)} upward")
        return 1 if found or up else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
