"""Tests of placement_ilp.contiguity: small examples and a brute-force property test."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placement_ilp.evaluation.contiguity import ContiguityReport, contiguity_level
from placement_ilp.errors import InputError
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.data.placement import Placement
from placement_ilp.data.topology import Device, paper_topology

A0, A1, A2 = Device("acc", 0), Device("acc", 1), Device("acc", 2)
C0 = Device("cpu", 0)


def instance(ids, edges, *, backward=(), colours=None, k=3, l=1):
    colours = colours or {}
    nodes = [
        OpNode(v, {"acc": 1.0, "cpu": 1.0}, backward=v in backward, color_class=colours.get(v)) for v in ids
    ]
    graph = OpGraph(tuple(nodes), tuple(OpEdge(u, v, 1.0) for u, v in edges))
    return Instance(graph, paper_topology(k, l, None))


def test_model_md_example_convex_not_pipeline():
    inst = instance("abcd", [("a", "b"), ("c", "d")])
    rep = contiguity_level(inst, Placement({"a": A0, "d": A0, "b": A1, "c": A1}))
    assert rep.level == "convex" and rep.is_convex and not rep.is_pipeline
    assert rep.convex_witness is None and rep.order is None
    assert rep.witness == rep.pipeline_witness
    w = rep.pipeline_witness
    assert w in ("acc:0 -> acc:1 -> acc:0 (edges a->b, c->d)", "acc:1 -> acc:0 -> acc:1 (edges c->d, a->b)")
    assert rep.meets("convex") and not rep.meets("pipeline")


def test_non_convex_path():
    inst = instance("abc", [("a", "b"), ("b", "c")])
    rep = contiguity_level(inst, Placement({"a": A0, "b": A1, "c": A0}))
    assert rep.level == "none" and not rep.is_convex
    assert rep.witness == rep.convex_witness == "on acc:0: a -> b (acc:1) -> c"
    assert rep.pipeline_witness is not None and rep.pipeline_witness.startswith("acc:")


def test_chain_in_order_is_pipeline():
    inst = instance("abcde", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
    rep = contiguity_level(inst, Placement({"a": A2, "b": A2, "c": A0, "d": C0, "e": C0}))
    assert rep.level == "pipeline" and rep.witness is None
    assert rep.pipeline_witness is None and rep.convex_witness is None
    assert rep.order == (A2, A0, C0)
    assert str(rep) == "pipeline"


def test_backward_nodes_ignored():
    # forward a -> b; backward b' -> a' placed against the forward order.
    inst = instance(
        ["a", "b", "bb", "ba"],
        [("a", "b"), ("b", "bb"), ("bb", "ba"), ("a", "ba")],
        backward={"ba", "bb"},
    )
    rep = contiguity_level(inst, Placement({"a": A0, "b": A1, "bb": A0, "ba": A1}))
    assert rep.level == "pipeline"


def test_cpu_contiguity_false_ignores_cpu_set():
    inst = instance("abc", [("a", "b"), ("b", "c")])
    p = Placement({"a": C0, "b": A0, "c": C0})
    assert contiguity_level(inst, p).level == "none"
    assert contiguity_level(inst, p).convex_witness == "on cpu:0: a -> b (acc:0) -> c"
    rep = contiguity_level(inst, p, cpu_contiguity=False)
    assert rep.level == "pipeline" and rep.order == (A0,) and not rep.cpu_contiguity


def test_cpu_contiguity_false_paths_through_cpu_still_count():
    # acc:0 -> cpu -> acc:1 and acc:1 -> cpu -> acc:0: each accelerator waits for the other.
    inst = instance(["a", "x", "b", "c", "y", "d"], [("a", "x"), ("x", "b"), ("c", "y"), ("y", "d")])
    p = Placement({"a": A0, "d": A0, "b": A1, "c": A1, "x": C0, "y": C0})
    rep = contiguity_level(inst, p, cpu_contiguity=False)
    assert rep.level == "convex"
    assert rep.pipeline_witness in (
        "acc:0 -> acc:1 -> acc:0 (edges a->x(cpu:0)->b, c->y(cpu:0)->d)",
        "acc:1 -> acc:0 -> acc:1 (edges c->y(cpu:0)->d, a->x(cpu:0)->b)",
    )
    # leaving an accelerator for the CPU and coming back is a self-loop: not even convex
    inst = instance("abc", [("a", "b"), ("b", "c")])
    rep = contiguity_level(inst, Placement({"a": A0, "b": C0, "c": A0}), cpu_contiguity=False)
    assert rep.level == "none"
    assert rep.pipeline_witness == "acc:0 -> acc:0 (edges a->b(cpu:0)->c)"
    assert rep.convex_witness == "on acc:0: a -> b (cpu:0) -> c"


def test_colour_classes_are_contracted():
    # p -> c and a -> q with {a, c} one colour class: contracted, p -> {a,c} -> q leaves
    # acc:1 and comes back, though no path p -> q exists between the original nodes.
    inst = instance(["p", "c", "a", "q"], [("p", "c"), ("a", "q")], colours={"a": 7, "c": 7})
    rep = contiguity_level(inst, Placement({"p": A1, "q": A1, "a": A0, "c": A0}))
    assert rep.level == "none"
    assert rep.convex_witness == "on acc:1: p -> c~a (acc:0) -> q"


def test_empty_graph_and_bad_placement():
    inst = instance([], [])
    assert contiguity_level(inst, Placement({})).level == "pipeline"
    inst = instance("ab", [("a", "b")])
    with pytest.raises(InputError):
        contiguity_level(inst, Placement({"a": A0}))


def test_report_to_dict():
    rep = ContiguityReport("convex", pipeline_witness="w", order=None)
    assert rep.to_dict() == {
        "level": "convex",
        "pipeline_witness": "w",
        "convex_witness": None,
        "order": None,
        "cpu_contiguity": True,
    }
    assert rep.witness == "w" and str(rep) == "convex (w)"


# -- property test against brute force -------------------------------------------


@st.composite
def random_case(draw):
    n = draw(st.integers(3, 7))
    k = draw(st.integers(1, 3))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = [e for e in pairs if draw(st.booleans())]
    # backward nodes form a suffix, so no edge goes backward -> forward
    first_backward = draw(st.integers(1, n)) if draw(st.booleans()) else n
    assign = [draw(st.integers(0, k - 1)) for _ in range(n)]
    return n, k, edges, first_backward, assign


def brute_force(n, edges, first_backward, assign):
    forward = [v for v in range(n) if v < first_backward]
    fedges = [(u, v) for u, v in edges if v < first_backward]
    used = sorted({assign[v] for v in forward})
    pipeline = any(
        all(pos[assign[u]] <= pos[assign[v]] for u, v in fedges)
        for perm in itertools.permutations(used)
        for pos in [{d: i for i, d in enumerate(perm)}]
    )
    g = nx.DiGraph()
    g.add_nodes_from(forward)
    g.add_edges_from(fedges)
    convex = True
    for d in used:
        s = [v for v in forward if assign[v] == d]
        for u, v in itertools.permutations(s, 2):
            for path in nx.all_simple_paths(g, u, v):
                if any(assign[w] != d for w in path[1:-1]):
                    convex = False
    return pipeline, convex


@settings(max_examples=300, deadline=None)
@given(random_case())
def test_matches_brute_force(case):
    n, k, edges, first_backward, assign = case
    inst = instance(list(range(n)), edges, backward=set(range(first_backward, n)), k=k, l=0)
    p = Placement({v: Device("acc", assign[v]) for v in range(n)})
    rep = contiguity_level(inst, p)
    pipeline, convex = brute_force(n, edges, first_backward, assign)
    assert (rep.level == "pipeline") == pipeline
    assert (rep.level in ("pipeline", "convex")) == convex
    assert (rep.pipeline_witness is None) == pipeline
    assert (rep.convex_witness is None) == convex
    if pipeline:
        pos = {d: i for i, d in enumerate(rep.order)}
        for u, v in edges:
            if v < first_backward:
                assert pos[p.assignment[u]] <= pos[p.assignment[v]]


@settings(max_examples=300, deadline=None)
@given(random_case(), st.data())
def test_unchecked_cpus_match_brute_force(case, data):
    """cpu_contiguity=False: CPU nodes are unconstrained, but paths through them count."""
    n, k, edges, _, assign = case
    on_cpu = [data.draw(st.booleans()) for _ in range(n)]
    dev = [C0 if on_cpu[v] else Device("acc", assign[v]) for v in range(n)]
    inst = instance(list(range(n)), edges, k=k, l=1)
    rep = contiguity_level(inst, Placement({v: dev[v] for v in range(n)}), cpu_contiguity=False)

    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    checked = [v for v in range(n) if not on_cpu[v]]
    # arcs between checked devices via paths whose intermediates are all on the CPU
    arcs, self_loop = set(), False
    for u, v in itertools.permutations(checked, 2):
        for path in nx.all_simple_paths(g, u, v):
            if all(on_cpu[w] for w in path[1:-1]):
                if dev[u] != dev[v]:
                    arcs.add((dev[u], dev[v]))
                elif len(path) > 2:
                    self_loop = True
    used = sorted({dev[v] for v in checked})
    pipeline = not self_loop and any(
        all(pos[a] <= pos[b] for a, b in arcs)
        for perm in itertools.permutations(used)
        for pos in [{d: i for i, d in enumerate(perm)}]
    )
    convex = True
    for u, v in itertools.permutations(checked, 2):
        if dev[u] == dev[v]:
            for path in nx.all_simple_paths(g, u, v):
                if any(dev[w] != dev[u] for w in path[1:-1]):
                    convex = False
    assert (rep.level == "pipeline") == pipeline
    assert (rep.level in ("pipeline", "convex")) == convex
