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
    assert graph.has_edge("placement_ilp.solving.direct", "placement_ilp.dp")
    assert graph.has_edge("formulations.maxload", "placement_ilp.milp.model")
    assert graph.has_edge("placement_ilp.milp.model", "placement_ilp.milp.backends")
    assert graph.has_edge("placement_ilp.solving.problem", "formulations")


#: The layers, lowest first (docs/architecture.md): a module imports modules of its
#: own layer or of lower ones, never of a higher one. The package's own __init__ (the
#: facade, which loads its names lazily) stands above them all.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("placement_ilp.errors", "placement_ilp.stopping", "placement_ilp._old_paths"),
    ("placement_ilp.data",),
    ("placement_ilp.io", "placement_ilp.importers", "placement_ilp.workloads"),
    ("placement_ilp.evaluation",),
    ("placement_ilp.milp",),
    ("placement_ilp.bounds", "placement_ilp.dp", "placement_ilp.baselines"),
    ("formulations",),
    ("placement_ilp.solving",),
    ("placement_ilp.experiments",),
    ("placement_ilp.cli",),
)


def layer_of(module: str) -> int:
    """The index in LAYERS of the layer that holds ``module`` (the facade: above all)."""
    if module == "placement_ilp":
        return len(LAYERS)
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def test_every_module_has_a_layer():
    for module in import_graph():
        layer_of(module)


def test_no_module_imports_from_a_higher_layer():
    upward = [(a, b) for a, b in import_graph().edges if layer_of(b) > layer_of(a)]
    assert upward == []


def test_the_layer_check_can_fail():
    graph = import_graph()
    graph.add_edge("placement_ilp.data.graph", "placement_ilp.solving.run")
    assert [(a, b) for a, b in graph.edges if layer_of(b) > layer_of(a)] == [
        ("placement_ilp.data.graph", "placement_ilp.solving.run")]


def test_only_optional_extras_are_imported_inside_functions():
    """Imports of the two packages sit at module level: one inside a function would
    hide a cycle or an upward import. The exceptions: the importers of the optional
    extras (torch, onnx), loaded when a model of theirs is imported; the command
    line's look at HiGHS' left-behind runs, only when a solve already loaded HiGHS;
    the command modules, loaded inside main's interrupt guard (Ctrl-C while they load
    is one line, not a traceback); the benchmarks, which alone need pandas."""
    allowed = {("placement_ilp.cli", "placement_ilp.milp.backends.highs"),
               ("placement_ilp.cli", "placement_ilp.cli.parser"),
               ("placement_ilp.cli.commands", "placement_ilp.experiments.bench"),
               ("placement_ilp.cli.commands", "placement_ilp.experiments.bench_milp"),
               ("placement_ilp.importers", "placement_ilp.importers.torch_import"),
               ("placement_ilp.importers", "placement_ilp.importers.onnx_import")}
    inner = set(import_graph().edges) - set(import_graph(inside_functions=False).edges)
    assert inner <= allowed


def test_old_import_paths_answer_for_one_release():
    import importlib
    import warnings

    from placement_ilp import _old_paths

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert importlib.import_module("placement_ilp.solve").solve is importlib.import_module(
            "placement_ilp.solving.run").solve
        assert importlib.import_module("placement_ilp.latency").greedy_latency is importlib.import_module(
            "placement_ilp.baselines.latency").greedy_latency
        assert importlib.import_module("placement_ilp.latency").LatencyResult is importlib.import_module(
            "placement_ilp.solving.result").Result
        for old, new in _old_paths.OLD_PATHS.items():
            stand_in = importlib.import_module(f"placement_ilp.{old}")
            target = importlib.import_module(f"placement_ilp.{new[0]}")
            public = [n for n in vars(target) if not n.startswith("_")][:5]
            for name in public:
                assert getattr(stand_in, name) is getattr(target, name), (old, name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module("placement_ilp.evaluate").evaluate
    assert "placement_ilp.evaluation.maxload" in str(caught[0].message)
