"""Baselines: validity on small random graphs, PipeDream's exactness on chains,
its value against the evaluator, and the paper's LayerGraphs workloads."""

from __future__ import annotations

import importlib
import itertools
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp.baselines import (
    BASELINES,
    all_on_cpu,
    expert,
    feasible_assignment,
    group_loads,
    group_view,
    linear_order,
    local_search,
    one_accelerator,
    partition,
    pipedream,
    pipedream_with_value,
)
from placement_ilp.errors import InputError
from placement_ilp.evaluation.maxload import MEMORY_TOLERANCE, evaluate
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.data.placement import Placement, check_placement
from placement_ilp.data.topology import Device, paper_topology

from .conftest import PAPER, paper_files

# BASELINES_EXAMPLES=1000 for a longer run
SETTINGS = settings(max_examples=int(os.environ.get("BASELINES_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------


@st.composite
def devices(draw):
    """(accelerators, cpus) with 1 to 3 devices in all."""
    total = draw(st.integers(1, 3))
    k = draw(st.integers(0, total))
    return k, total - k


@st.composite
def small_instances(draw, chain: bool = False):
    """3-8 node DAGs (chains of 3-7 nodes with ``chain``) on 1-3 devices; training
    graphs (mirrored backward twins sharing a colour class) sometimes."""
    n = draw(st.integers(3, 7 if chain else 8))
    if chain:
        edges = [(i, i + 1) for i in range(n - 1)]
    else:
        edges = [(i, j) for i in range(n) for j in range(i + 1, n) if draw(st.integers(0, 9)) < 3]
    training = not chain and draw(st.booleans())
    colour = {}
    if not chain and draw(st.integers(0, 3)) == 0:  # a forward colour class
        members = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=3, unique=True))
        colour = {v: "c" for v in members}
    times = st.floats(0.5, 20.0, allow_nan=False).map(lambda x: round(x, 2))
    nodes = []
    cost = {}
    for v in range(n):
        supported = draw(st.sampled_from(["both"] * 10 + ["cpu", "acc"]))
        sup = {"both": {"acc", "cpu"}, "cpu": {"cpu"}, "acc": {"acc"}}[supported]
        nodes.append(
            OpNode(
                v,
                {"acc": draw(times), "cpu": draw(times)},
                supported=frozenset(sup),
                memory=float(draw(st.integers(0, 5))),
                color_class=colour.get(v, f"t{v}" if training else None),
            )
        )
        cost[v] = round(draw(st.floats(0.0, 6.0, allow_nan=False)), 2)
    all_edges = [OpEdge(u, v, cost[u]) for u, v in edges]
    if training:
        for v in range(n):
            f = nodes[v]
            nodes.append(
                OpNode(
                    n + v,
                    {c: 2 * t for c, t in f.times.items()},
                    supported=f.supported,
                    memory=0.0,
                    backward=True,
                    color_class=f.color_class,
                )
            )
        bcost = {n + v: round(draw(st.floats(0.0, 6.0, allow_nan=False)), 2) for v in range(n)}
        if edges:
            last = max(v for _, v in edges)
            all_edges.append(OpEdge(last, n + last, cost[last]))
        all_edges += [OpEdge(n + v, n + u, bcost[n + v]) for u, v in edges]
        # out-edge costs must agree per node: rebuild with one cost per source
        per_source = {}
        for e in all_edges:
            per_source.setdefault(e.source, e.cost)
        all_edges = [OpEdge(e.source, e.target, per_source[e.source]) for e in all_edges]
    k, l = draw(devices())
    memory = None if draw(st.booleans()) else float(draw(st.integers(2, 16)))
    return Instance(OpGraph(tuple(nodes), tuple(all_edges)), paper_topology(k, l, memory))


def feasible_exists(instance: Instance) -> bool:
    """Exhaustive: does some assignment of colour groups respect support and memory?"""
    graph = instance.graph
    groups = graph.colour_groups()
    devs = instance.topology.devices()
    for combo in itertools.product(devs, repeat=len(groups)):
        used = {d: 0.0 for d in devs}
        ok = True
        for group, d in zip(groups, combo):
            for v in group:
                node = graph.node(v)
                if d.cls not in node.supported:
                    ok = False
                    break
                used[d] += node.memory
            if not ok:
                break
        if not ok:
            continue
        if all(
            instance.topology.class_of(d.cls).memory is None
            or used[d] <= instance.topology.class_of(d.cls).memory * (1 + MEMORY_TOLERANCE)
            for d in devs
        ):
            return True
    return False


# ---------------------------------------------------------------------------
# Validity on small random graphs
# ---------------------------------------------------------------------------

SEARCHERS = {
    "pipedream": pipedream,
    "local-search": lambda inst: local_search(inst, restarts=2, seed=3),
    "local-search-pipeline": lambda inst: local_search(inst, restarts=2, seed=3, contiguity="pipeline"),
    "partition": partition,
}


@SETTINGS
@given(small_instances())
def test_baselines_are_feasible_when_possible(inst):
    feasible = feasible_exists(inst)
    _, value = pipedream_with_value(inst) if feasible else (None, math.inf)
    for name, f in SEARCHERS.items():
        if not feasible:
            with pytest.raises(InputError):
                f(inst)
            continue
        p = f(inst)
        check_placement(inst, p)
        ev = evaluate(inst, p)
        assert ev.feasible, (name, ev.summary())
        if name in ("pipedream", "local-search-pipeline") and math.isfinite(value):
            assert ev.contiguity.level == "pipeline", (name, ev.summary())
    for name, f in (("one-accelerator", one_accelerator), ("all-on-cpu", all_on_cpu)):
        try:
            p = f(inst)
        except InputError:
            continue
        check_placement(inst, p)
        assert evaluate(inst, p).feasible, name


@SETTINGS
@given(small_instances())
def test_pipedream_value_is_the_evaluators(inst):
    try:
        p, value = pipedream_with_value(inst)
    except InputError:
        assert not feasible_exists(inst)
        return
    ev = evaluate(inst, p)
    assert ev.feasible
    if math.isfinite(value):
        assert math.isclose(value, ev.max_load, rel_tol=1e-9, abs_tol=1e-12)
        assert ev.contiguity.level == "pipeline"


@SETTINGS
@given(small_instances(), st.data())
def test_group_loads_match_evaluator(inst, data):
    """On assignments that respect support (elsewhere the evaluator still counts the
    unsupported node's time, group_loads gives inf)."""
    view = group_view(inst)
    ok = np.isfinite(view.group_time_on_devices())
    if not ok.any(axis=1).all():
        return
    dev = np.array([data.draw(st.sampled_from(np.flatnonzero(ok[g]).tolist())) for g in range(view.num_groups)])
    loads = group_loads(view, dev)
    ev = evaluate(inst, view.placement(dev))
    assert np.allclose(loads, [r.load for r in ev.devices], rtol=1e-12, atol=1e-12)


def test_local_search_incremental_state_is_exact():
    """Single moves from PipeDream's (pipeline) placement: the search state's loads
    equal a recomputation, and its acyclicity test agrees with contiguity_level."""
    import random

    from placement_ilp.evaluation.contiguity import contiguity_level
    from placement_ilp.workloads.generators import layered_dag

    ls = importlib.import_module("placement_ilp.baselines.local_search")
    inst = layered_dag(5, 4, seed=2, training=True, accelerators=3, cpus=2, memory_slack=10.0)
    view = group_view(inst)
    start = view.cg.group_devices(pipedream(inst))
    state = ls._State(view, np.array([view.devices.index(d) for d in start]), pipeline=True)
    ok = np.isfinite(view.group_time_on_devices())
    rng = random.Random(1)
    seen = set()
    for step in range(150):
        g, b = rng.randrange(view.num_groups), rng.randrange(view.num_devices)
        a = state.dev[g]
        if b == a or not ok[g, b]:
            continue
        state.move(g, b)
        dev = np.array(state.dev)
        assert np.allclose(state.load, group_loads(view, dev))
        level = contiguity_level(inst, view.placement(dev)).level
        assert state.acyclic() == (level == "pipeline")
        seen.add(level == "pipeline")
        if step % 3:
            state.move(g, a)  # mostly stay near the pipeline start
    assert seen == {True, False}


# ---------------------------------------------------------------------------
# PipeDream is exact on chains
# ---------------------------------------------------------------------------


def best_pipeline_by_exhaustion(inst: Instance) -> float:
    """Min evaluator max-load over feasible pipeline placements of a chain (inf if none)."""
    ids = inst.graph.ids  # a chain, in order
    devs = inst.topology.devices()
    best = math.inf
    for combo in itertools.product(devs, repeat=len(ids)):
        runs = [d for i, d in enumerate(combo) if i == 0 or combo[i - 1] != d]
        if len(runs) != len(set(runs)):
            continue  # a device in two runs cannot be pipeline on a chain
        ev = evaluate(inst, Placement(dict(zip(ids, combo))))
        assert ev.contiguity.level == "pipeline"
        if ev.feasible:
            best = min(best, ev.max_load)
    return best


@SETTINGS
@given(small_instances(chain=True))
def test_pipedream_is_exact_on_chains(inst):
    best = best_pipeline_by_exhaustion(inst)
    try:
        _, value = pipedream_with_value(inst)
    except InputError:
        assert best == math.inf and not feasible_exists(inst)
        return
    if best == math.inf:
        assert value == math.inf
    else:
        assert math.isclose(value, best, rel_tol=1e-9, abs_tol=1e-12)


# ---------------------------------------------------------------------------
# Small examples
# ---------------------------------------------------------------------------


def chain_instance(acc_times, cpu_times, costs, k=2, l=1, memory=None, mems=None):
    n = len(acc_times)
    mems = mems or [1.0] * n
    nodes = [OpNode(i, {"acc": acc_times[i], "cpu": cpu_times[i]}, memory=mems[i]) for i in range(n)]
    edges = [OpEdge(i, i + 1, costs[i]) for i in range(n - 1)]
    return Instance(OpGraph(tuple(nodes), tuple(edges)), paper_topology(k, l, memory))


def test_pipedream_splits_a_chain_evenly():
    inst = chain_instance([4, 4, 4, 4], [100] * 4, [0.5, 0.5, 0.5], k=2, l=1)
    p, value = pipedream_with_value(inst)
    assert value == pytest.approx(8.5)  # two nodes per accelerator, one crossing
    assert evaluate(inst, p).max_load == pytest.approx(8.5)


def test_one_accelerator_and_all_on_cpu():
    inst = chain_instance([1, 1, 1], [5, 5, 5], [1, 1], k=2, l=1, memory=10.0)
    p = one_accelerator(inst)
    assert set(p.assignment.values()) == {Device("acc", 0)}
    assert set(all_on_cpu(inst).assignment.values()) == {Device("cpu", 0)}
    tight = chain_instance([1, 1, 1], [5, 5, 5], [1, 1], k=2, l=1, memory=2.0)
    with pytest.raises(InputError, match="memory"):
        one_accelerator(tight)


def test_unsupported_group_goes_to_cpu():
    nodes = [
        OpNode("a", {"acc": 1.0, "cpu": 9.0}),
        OpNode("b", {"cpu": 3.0}),  # CPU only
        OpNode("c", {"acc": 1.0, "cpu": 9.0}),
    ]
    inst = Instance(OpGraph(tuple(nodes), (OpEdge("a", "b", 1.0), OpEdge("b", "c", 1.0))), paper_topology(2, 1, None))
    for f in (pipedream, partition, one_accelerator, lambda i: local_search(i, restarts=2)):
        p = f(inst)
        assert p.device_of("b") == Device("cpu", 0)
        assert evaluate(inst, p).feasible


def test_pipedream_falls_back_when_no_segmentation_fits():
    """a and c only run on the accelerator, b only on the CPU: feasible, but with one
    accelerator and one CPU no pipeline placement exists."""
    nodes = [OpNode("a", {"acc": 1.0}), OpNode("b", {"cpu": 1.0}), OpNode("c", {"acc": 1.0})]
    inst = Instance(OpGraph(tuple(nodes), (OpEdge("a", "b", 1.0), OpEdge("b", "c", 1.0))), paper_topology(1, 1, None))
    p, value = pipedream_with_value(inst)
    assert value == math.inf
    ev = evaluate(inst, p)
    assert ev.feasible and ev.contiguity.level != "pipeline"
    assert evaluate(inst, local_search(inst, contiguity="pipeline", restarts=2)).feasible


def test_infeasible_instance_raises():
    nodes = [OpNode("a", {"acc": 1.0}, memory=5.0), OpNode("b", {"acc": 1.0}, memory=5.0)]
    inst = Instance(OpGraph(tuple(nodes), (OpEdge("a", "b", 1.0),)), paper_topology(1, 1, 6.0))
    for f in SEARCHERS.values():
        with pytest.raises(InputError):
            f(inst)
    view = group_view(inst)
    assert feasible_assignment(view)[1] == "infeasible"


def test_local_search_is_seeded_and_checks_options():
    from placement_ilp.workloads.generators import layered_dag

    inst = layered_dag(4, 3, seed=5, training=True)
    assert local_search(inst, restarts=2, seed=7).assignment == local_search(inst, restarts=2, seed=7).assignment
    with pytest.raises(InputError):
        local_search(inst, contiguity="convex")
    with pytest.raises(InputError):
        local_search(inst, restarts=0)


def test_linear_order_attaches_backward_only_groups():
    from placement_ilp.workloads.generators import layered_dag

    inst = layered_dag(3, 2, seed=1, training=True)
    graph = inst.graph
    loss = OpNode("loss", {"acc": 1.0, "cpu": 2.0}, backward=True)
    last = graph.nodes[5].id  # a node of the last forward layer
    twin = graph.nodes[11].id
    edges = graph.edges + (OpEdge(last, "loss", graph.out_cost(last)), OpEdge("loss", twin, 1.0))
    inst = Instance(OpGraph(graph.nodes + (loss,), edges), inst.topology)
    view = group_view(inst)
    positions, pos = linear_order(view)
    g_loss = int(view.cg.node_group[inst.graph.index_of("loss")])
    assert sorted(g for p in positions for g in p) == list(range(view.num_groups))
    assert len(positions) == int(view.cg.has_forward.sum())  # attached, not a position of its own
    assert not view.cg.has_forward[g_loss]
    p, value = pipedream_with_value(inst)
    assert math.isclose(value, evaluate(inst, p).max_load, rel_tol=1e-9)


def test_registry():
    assert set(BASELINES) == {"pipedream", "local-search", "partition", "one-accelerator", "expert"}
    for f in BASELINES.values():
        assert f.__doc__


# ---------------------------------------------------------------------------
# The paper's LayerGraphs throughput workloads
# ---------------------------------------------------------------------------

LAYER_GRAPHS = paper_files("throughput/LayerGraphs")


@pytest.mark.parametrize("relative", LAYER_GRAPHS or ["throughput/LayerGraphs (absent)"])
def test_paper_layer_graphs(relative):
    from placement_ilp.io import load_instance

    path = PAPER / relative
    if not path.exists():
        pytest.skip(f"{path} is absent")
    inst = load_instance(path)
    p, value = pipedream_with_value(inst)
    ev = evaluate(inst, p)
    assert ev.feasible and ev.contiguity.level == "pipeline"
    assert math.isclose(value, ev.max_load, rel_tol=1e-9)
    for f in (lambda i: local_search(i, restarts=1), partition):
        assert evaluate(inst, f(inst)).feasible
    try:
        assert evaluate(inst, one_accelerator(inst)).feasible
    except InputError as exc:
        assert "memory" in str(exc)
    expert_file = PAPER / "experts" / f"{Path(relative).stem}_expert.json"
    if expert_file.exists():
        assert evaluate(inst, expert(inst, expert_file)).feasible
