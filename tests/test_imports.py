"""The import graph of placement_ilp and formulations: no cycles.

Every ``import`` of the two packages is read from the source (module level and
inside functions alike: an import moved into a function to dodge a cycle is still a
cycle), and the strongly connected components of the graph are checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("placement_ilp", "formulations")

#: Functions whose imports are compatibility shims for names that moved up a layer
#: (answered for one release; see docs/architecture.md), not part of the graph.
SHIMS = ("__getattr__",)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _targets(module: str, node: ast.AST, is_package: bool, modules: dict) -> list[str]:
    """The modules of the two packages that one import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    base = node.module or ""
    if node.level:
        parts = module.split(".")[: len(module.split(".")) - (0 if is_package else 1)]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([base] if base else []))
    submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    if len(submodules) < len(node.names) and base in modules:
        submodules.append(base)
    return submodules


def import_graph(inside_functions: bool = True) -> nx.DiGraph:
    """Module -> module it imports (``inside_functions``: also imports in a function body)."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for shim in [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in SHIMS]:
            tree.body.remove(shim)
        nodes = ast.walk(tree) if inside_functions else tree.body
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, node, path.name == "__init__.py", modules):
                    if target != module:
                        graph.add_edge(module, target)
    return graph


def _cycles(graph: nx.DiGraph) -> list[frozenset]:
    return [frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_module_level_imports_have_no_cycle():
    assert _cycles(import_graph(inside_functions=False)) == []


def test_no_cycle_through_imports_inside_functions_either():
    assert _cycles(import_graph()) == []


def test_the_graph_is_read():
    graph = import_graph()
    assert graph.has_edge("placement_ilp.solve", "placement_ilp.dp")
    assert graph.has_edge("formulations.maxload", "placement_ilp.model")
    assert graph.has_edge("placement_ilp.model", "placement_ilp.backends")
    assert graph.has_edge("placement_ilp.latency_solve", "formulations.latency")
    assert not graph.has_edge("placement_ilp.latency", "placement_ilp.latency_solve")  # the shim is left out
