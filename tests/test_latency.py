"""Latency objective: evaluator on hand-computed cases, MILP = exhaustive search, baselines."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formulations.base import get_builder
from formulations.latency import LatencyMILP
from placement_ilp.milp.backends import solve_model
from placement_ilp.errors import InputError
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import load_instance
from placement_ilp.baselines.latency import all_on_cpus, greedy_blocks, greedy_latency, interval_latency
from placement_ilp.evaluation.latency import evaluate_latency, evaluate_latency_with_subgraphs
from placement_ilp.solving import solve_latency
from placement_ilp.data.placement import Placement
from placement_ilp.milp.result import Status
from placement_ilp.data.topology import Device, paper_topology

from .conftest import paper_files, paper_path

ACC0, ACC1, CPU = Device("acc", 0), Device("acc", 1), Device("cpu", 0)


def make(nodes, edges, k=1, memory=None, cpus=1):
    """nodes: {id: (cpu time, acc time or None, memory[, colour])}; edges: {(u, v): cost}."""
    ns = []
    for v, spec in nodes.items():
        cpu, acc, mem = spec[:3]
        colour = spec[3] if len(spec) > 3 else None
        times = {"cpu": cpu} if acc is None else {"cpu": cpu, "acc": acc}
        ns.append(OpNode(v, times, memory=mem, color_class=colour))
    es = [OpEdge(u, v, c) for (u, v), c in edges.items()]
    return Instance(OpGraph(tuple(ns), tuple(es)), paper_topology(k, cpus, memory))


def milp_latency(instance, q, **options):
    """Solve the latency MILP, decode, and score the decoded split with the evaluator."""
    b = LatencyMILP(instance, max_subgraphs=q, **options)
    r = solve_model(b.build(), "highs", time_limit=60)
    if not r.has_solution:
        return None, r
    rep = evaluate_latency_with_subgraphs(instance, b.decode_subgraphs(r.values), max_subgraphs=q)
    assert rep.feasible, rep.summary()
    assert rep.latency <= r.objective + 1e-5 * max(1.0, abs(r.objective))  # solver tolerances
    if r.status == Status.OPTIMAL:
        assert rep.latency == pytest.approx(r.objective, rel=1e-5, abs=1e-6)  # within the MIP gap
    # the placement view agrees with the split view
    placement = b.decode(r.values)
    assert all(placement.device_of(v) == d for v, (d, _) in b.decode_subgraphs(r.values).items())
    return rep.latency, r


# --------------------------------------------------------------- hand-made cases
def test_chain_on_one_accelerator():
    inst = make({"a": (10, 1, 0), "b": (10, 2, 0), "c": (10, 3, 0)}, {("a", "b"): 0.5, ("b", "c"): 0.5})
    rep = evaluate_latency(inst, Placement({"a": ACC0, "b": ACC0, "c": ACC0}), max_subgraphs=1)
    assert rep.feasible and rep.latency == 6.0  # one call, nothing crosses its boundary
    (s,) = rep.subgraphs
    got = (s.device, s.index, s.nodes, s.start, s.finish, s.compute, s.communication)
    assert got == (ACC0, 0, ("a", "b", "c"), 0, 6, 6, 0)
    # c moved to a CPU: the call pays b's output leaving (0.5), then c runs 10 on the CPU
    rep = evaluate_latency(inst, Placement({"a": ACC0, "b": ACC0, "c": CPU}), max_subgraphs=1)
    assert rep.latency == pytest.approx(3 + 0.5 + 10)
    assert rep.node_finish == {"a": 3.5, "b": 3.5, "c": 13.5}
    assert rep.critical_path == ("acc:0#0", "node 'c'")
    assert "latency: 13.5" in rep.summary()
    d = rep.to_dict()
    assert d["latency"] == 13.5 and d["subgraphs"][0]["nodes"] == ["a", "b"] and d["cpu_nodes"] == ["c"]


def test_fork_join_split_across_cpu_and_accelerator():
    # s -> a -> t, s -> b -> t; s, b, t on CPUs, a on the accelerator
    nodes = {"s": (1, 1, 0), "a": (10, 2, 0), "b": (4, 1, 0), "t": (1, 1, 0)}
    edges = {("s", "a"): 0.5, ("s", "b"): 0.5, ("a", "t"): 0.25, ("b", "t"): 0.1}
    inst = make(nodes, edges)
    p = Placement({"s": CPU, "a": ACC0, "b": CPU, "t": CPU})
    rep = evaluate_latency(inst, p, max_subgraphs=1)
    # call {a}: starts when s is done (1), lasts 2 + in 0.5 + out 0.25 -> 3.75; b done at 5; t at 6
    (s,) = rep.subgraphs
    assert (s.start, s.finish, s.communication) == (1.0, 3.75, 0.75)
    assert rep.latency == pytest.approx(6.0)
    assert rep.critical_path == ("node 's'", "node 'b'", "node 't'")
    # b faster: the accelerator branch becomes critical
    inst2 = make({**nodes, "b": (2, 1, 0)}, edges)
    assert evaluate_latency(inst2, p).latency == pytest.approx(4.75)
    # CPU indices do not matter (unlimited CPUs)
    p3 = Placement({"s": Device("cpu", 0), "a": ACC0, "b": Device("cpu", 5), "t": Device("cpu", 0)})
    assert evaluate_latency(inst, p3).latency == pytest.approx(6.0)


def test_two_subgraphs_on_one_accelerator():
    # a -> w -> b with w unsupported on accelerators
    inst = make({"a": (10, 1, 0), "w": (2, None, 0), "b": (10, 1, 0)}, {("a", "w"): 0.5, ("w", "b"): 0.25})
    p = Placement({"a": ACC0, "w": CPU, "b": ACC0})
    one = evaluate_latency(inst, p, max_subgraphs=1)
    assert not one.feasible and math.isinf(one.latency)
    assert one.violations[0].kind == "subgraphs" and "acc:0" in one.reason and "'a' -> 'w' -> 'b'" in one.reason
    two = evaluate_latency(inst, p, max_subgraphs=2)
    # call 0 {a}: 0 .. 1 + 0.5 (out); w: 1.5 .. 3.5; call 1 {b}: 3.5 .. 3.5 + 1 + 0.25 (in)
    assert two.feasible and two.latency == pytest.approx(4.75)
    calls = [(s.index, s.nodes, s.start, s.finish) for s in two.subgraphs]
    assert calls == [(0, ("a",), 0, 1.5), (1, ("b",), 3.5, 4.75)]
    assert two.split == "levels" and two.split_optimal
    assert two.accelerators[0].subgraphs == 2
    # the same split given explicitly, and its assignment() round trip
    given_split = {"a": (ACC0, 0), "w": CPU, "b": (ACC0, 7)}
    rep = evaluate_latency_with_subgraphs(inst, given_split, max_subgraphs=2)
    assert rep.latency == pytest.approx(4.75) and rep.split == "given"
    assert evaluate_latency_with_subgraphs(inst, two.assignment(), max_subgraphs=2).latency == pytest.approx(4.75)
    # the wrong order on the device waits for itself
    bad = evaluate_latency_with_subgraphs(inst, {"a": (ACC0, 1), "w": CPU, "b": (ACC0, 0)}, max_subgraphs=2)
    assert not bad.feasible and bad.violations[0].kind == "cycle" and "same device" in bad.reason
    # one call holding a and b is not convex
    nc = evaluate_latency_with_subgraphs(inst, {"a": (ACC0, 0), "w": CPU, "b": (ACC0, 0)})
    assert not nc.feasible and "not convex" in nc.reason
    # the MILP: q = 1 has to leave one of them on a CPU (best 10 + 2 + 1 + 0.25); q = 2 reaches 4.75
    assert milp_latency(inst, 1)[0] == pytest.approx(13.25)
    assert milp_latency(inst, 2)[0] == pytest.approx(4.75)


def test_cyclic_waiting_is_infeasible():
    # a -> d and c -> b; {a, b} on acc:0 and {c, d} on acc:1: both sets are convex,
    # yet each call waits for the other
    nodes = {v: (10, 1, 0) for v in "abcd"}
    inst = make(nodes, {("a", "d"): 1, ("c", "b"): 1}, k=2)
    split = {"a": (ACC0, 0), "b": (ACC0, 0), "c": (ACC1, 0), "d": (ACC1, 0)}
    rep = evaluate_latency_with_subgraphs(inst, split, max_subgraphs=1)
    assert not rep.feasible and rep.violations[0].kind == "cycle"
    assert "cyclic waiting" in rep.reason and "acc:0#0" in rep.reason and "acc:1#0" in rep.reason
    p = Placement({v: d for v, (d, _) in split.items()})
    one = evaluate_latency(inst, p, max_subgraphs=1)
    assert not one.feasible and one.violations[0].kind == "subgraphs" and math.isinf(one.latency)
    # with two calls one device splits: {a} on acc:0, then {c, d} on acc:1, then {b} on acc:0
    two = evaluate_latency(inst, p, max_subgraphs=2)
    assert two.feasible and two.split == "search" and two.split_optimal
    assert sorted(a.subgraphs for a in two.accelerators) == [1, 2]
    # acc:0#0 {a}: 0..2 (1 + out 1); acc:1#0 {c, d}: 2..6 (2 + in 1 + out 1); acc:0#1 {b}: 6..8
    assert two.latency == pytest.approx(8.0)


def test_memory_is_per_accelerator_not_per_subgraph():
    inst = make({"a": (10, 1, 3), "w": (2, None, 0), "b": (10, 1, 3)}, {("a", "w"): 0.5, ("w", "b"): 0.25}, memory=5)
    p = Placement({"a": ACC0, "w": CPU, "b": ACC0})
    rep = evaluate_latency(inst, p, max_subgraphs=2)
    assert not rep.feasible and rep.violations[0].kind == "memory" and "acc:0" in rep.reason
    assert rep.schedule_latency == pytest.approx(4.75)  # the schedule itself exists
    # the MILP cannot use the two-call split on one device: a and b need two devices
    assert milp_latency(inst, 2)[0] == pytest.approx(13.25)
    nodes = {"a": (10, 1, 3), "w": (2, None, 0), "b": (10, 1, 3)}
    inst2 = make(nodes, {("a", "w"): 0.5, ("w", "b"): 0.25}, k=2, memory=5)
    assert milp_latency(inst2, 1)[0] == pytest.approx(4.75)


def test_colour_class_sits_in_one_call():
    nodes = {"a": (10, 1, 0, 1), "w": (2, None, 0), "b": (10, 1, 0, 1)}
    inst = make(nodes, {("a", "w"): 0.5, ("w", "b"): 0.25})
    p = Placement({"a": ACC0, "w": CPU, "b": ACC0})
    rep = evaluate_latency(inst, p, max_subgraphs=2)
    assert not rep.feasible and rep.violations[0].kind == "cycle"  # the class waits for itself through w
    split = evaluate_latency_with_subgraphs(inst, {"a": (ACC0, 0), "w": CPU, "b": (ACC0, 1)}, max_subgraphs=2)
    assert any(v.kind == "colocation" for v in split.violations)
    # on CPUs a colour class is fine (each node its own core)
    assert evaluate_latency(inst, all_on_cpus(inst)).latency == pytest.approx(22.0)
    assert milp_latency(inst, 2)[0] == pytest.approx(22.0)


def test_colour_class_on_cpus_around_an_accelerator_node():
    # a -> b -> c with a and c in one colour class on CPUs: each CPU node runs on its own,
    # so b can run on the accelerator in between (the contracted graph has a cycle)
    inst = make({"a": (1, None, 0, "X"), "b": (5, 1, 0), "c": (1, None, 0, "X")}, {("a", "b"): 0, ("b", "c"): 0})
    rep = evaluate_latency(inst, Placement({"a": CPU, "b": ACC0, "c": CPU}), max_subgraphs=1)
    assert rep.feasible and rep.latency == pytest.approx(3.0)
    for options in ({}, {"convexity": True}):
        assert milp_latency(inst, 1, **options)[0] == pytest.approx(3.0)


def test_support_and_input_errors():
    inst = make({"a": (1, None, 0), "b": (1, 1, 0)}, {("a", "b"): 1})
    rep = evaluate_latency(inst, Placement({"a": ACC0, "b": CPU}))
    assert not rep.feasible and rep.violations[0].kind == "support" and "'a'" in rep.reason
    with pytest.raises(InputError, match="unknown device"):
        evaluate_latency(inst, Placement({"a": CPU, "b": Device("acc", 3)}))
    with pytest.raises(InputError, match="leaves node 'b' out"):
        evaluate_latency(inst, Placement({"a": CPU}))
    with pytest.raises(InputError, match="max_subgraphs"):
        evaluate_latency(inst, Placement({"a": CPU, "b": CPU}), max_subgraphs=0)
    with pytest.raises(InputError, match="max_subgraphs"):
        LatencyMILP(inst, max_subgraphs=0)
    training = Instance(
        OpGraph(
            (OpNode("f", {"cpu": 1, "acc": 1}), OpNode("g", {"cpu": 1, "acc": 1}, backward=True)),
            (OpEdge("f", "g", 1),),
        ),
        paper_topology(1, 1, None),
    )
    for call in (
        lambda: evaluate_latency(training, Placement({"f": CPU, "g": CPU})),
        lambda: greedy_latency(training),
        lambda: all_on_cpus(training),
        lambda: LatencyMILP(training),
    ):
        with pytest.raises(InputError, match="inference"):
            call()


def test_registered_and_warm_start():
    assert get_builder("latency") is LatencyMILP
    inst = make({"a": (10, 1, 0), "w": (2, None, 0), "b": (10, 1, 0)}, {("a", "w"): 0.5, ("w", "b"): 0.25}, k=2)
    b = LatencyMILP(inst, max_subgraphs=1)
    m = b.build()
    start = b.encode(greedy_latency(inst))
    assert start is not None and m.max_violation(start) <= 1e-6
    r = solve_latency(inst, max_subgraphs=2, time_limit=30)
    assert r.status == "optimal" and r.latency == pytest.approx(4.75) and r.gap == pytest.approx(0.0, abs=1e-6)
    assert r.to_dict()["subgraphs"]


# -------------------------------------------------------- exhaustive comparisons
def exhaustive(instance, q):
    """Best latency over every node -> CPU / (accelerator, call) choice, scored by the
    evaluator (explicit splits, so q = 2 covers every split, not just the fewest calls)."""
    accs = [d for d in instance.devices if d.cls == "acc"]
    ids = instance.graph.ids
    choices = [(CPU, None)] + [(d, j) for d in accs for j in range(q)]
    best = math.inf
    for combo in itertools.product(choices, repeat=len(ids)):
        used = {c for c in combo if c[1] is not None}
        # identical accelerators and call positions: skip relabelled duplicates
        if any((Device("acc", d.index - 1), 0) not in used for d, j in used if d.index > 0 and j == 0):
            continue
        if any((d, j - 1) not in used for d, j in used if j > 0):
            continue
        rep = evaluate_latency_with_subgraphs(instance, dict(zip(ids, combo)), max_subgraphs=q)
        if rep.feasible:
            best = min(best, rep.latency)
    return best


def fewest_calls_best(instance, q):
    """Best evaluate_latency over plain placements (the evaluator's own split)."""
    devices = [CPU] + [d for d in instance.devices if d.cls == "acc"]
    ids = instance.graph.ids
    best = math.inf
    for combo in itertools.product(devices, repeat=len(ids)):
        rep = evaluate_latency(instance, Placement(dict(zip(ids, combo))), max_subgraphs=q)
        if rep.feasible:
            best = min(best, rep.latency)
    return best


@st.composite
def small_instances(draw, max_nodes=6):
    n = draw(st.integers(3, max_nodes))
    edges = {}
    for u in range(n):
        for v in range(u + 1, n):
            if draw(st.integers(0, 2)) == 0:
                edges[(u, v)] = None
    out_cost = [float(draw(st.integers(0, 3))) for _ in range(n)]
    edges = {(u, v): out_cost[u] for (u, v) in edges}
    k = draw(st.integers(1, 2))
    tight = draw(st.booleans())
    nodes = {}
    colours = draw(st.booleans())
    for v in range(n):
        cpu = float(draw(st.integers(0, 8)))
        acc = None if draw(st.integers(0, 4)) == 0 else float(draw(st.integers(0, 3)))
        mem = float(draw(st.integers(0, 3)))
        colour = (v % 2 if draw(st.integers(0, 3)) == 0 else None) if colours else None
        nodes[v] = (cpu, acc, mem) + ((colour,) if colour is not None else ())
    memory = float(draw(st.integers(2, 5))) if tight else None
    return make(nodes, edges, k=k, memory=memory)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(max_nodes=6))
def test_milp_equals_exhaustive_q1(inst):
    best = exhaustive(inst, 1)
    assert best == fewest_calls_best(inst, 1)  # with one call per device the split is forced
    got, raw = milp_latency(inst, 1)
    assert raw.status == Status.OPTIMAL
    assert got == pytest.approx(best, rel=1e-5, abs=1e-6)
    # the heuristics are feasible and no better than the optimum
    for make_placement in (greedy_latency, all_on_cpus, interval_latency):
        rep = evaluate_latency(inst, make_placement(inst), max_subgraphs=1)
        assert rep.feasible and rep.latency >= best - 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(max_nodes=5))
def test_milp_equals_exhaustive_q2(inst):
    best = exhaustive(inst, 2)
    got, raw = milp_latency(inst, 2)
    assert raw.status == Status.OPTIMAL
    assert got == pytest.approx(best, rel=1e-5, abs=1e-6)
    # the evaluator's fewest-calls split is one of the splits: never better than the optimum
    assert fewest_calls_best(inst, 2) >= best - 1e-9


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(max_nodes=6))
def test_milp_options_agree(inst):
    base, _ = milp_latency(inst, 2)
    for options in ({"convexity": True}, {"symmetry": "none"}, {"symmetry": "start"}, {"path_cuts": False}):
        assert milp_latency(inst, 2, **options)[0] == pytest.approx(base, rel=1e-5, abs=1e-6)


def test_more_calls_can_be_faster_than_fewest_calls():
    # acc:0 holds a (a source feeding c on a CPU) and b (waiting for a slow CPU chain p);
    # one call {a, b} waits for p, two calls let c run while p does
    nodes = {"p": (10, None, 0), "a": (5, 1, 0), "b": (5, 1, 0), "c": (10, None, 0)}
    inst = make(nodes, {("p", "b"): 0, ("a", "c"): 0})
    p = Placement({"p": CPU, "a": ACC0, "b": ACC0, "c": CPU})
    assert evaluate_latency(inst, p, max_subgraphs=2).latency == pytest.approx(22.0)  # {a, b} after p, then c
    split = {"p": CPU, "a": (ACC0, 0), "b": (ACC0, 1), "c": CPU}
    assert evaluate_latency_with_subgraphs(inst, split, max_subgraphs=2).latency == pytest.approx(11.0)
    assert milp_latency(inst, 2)[0] == pytest.approx(11.0)


# ------------------------------------------------------------------- baselines
def test_greedy_follows_the_paper():
    # chain a -> b -> c -> d, sizes 2 each, accelerators of memory 4: {a, b}, {c, d}
    nodes = {v: (10, 1, 2) for v in "abcd"}
    edges = {("a", "b"): 1, ("b", "c"): 1, ("c", "d"): 1}
    inst = make(nodes, edges, k=2, memory=4)
    assert greedy_blocks(inst) == [["a"], ["b"], ["c"], ["d"]]
    g = greedy_latency(inst)
    assert [g.device_of(v) for v in "abcd"] == [ACC0, ACC0, ACC1, ACC1]
    # one accelerator: the rest goes to CPUs
    inst1 = make(nodes, edges, k=1, memory=4)
    assert [greedy_latency(inst1).device_of(v).cls for v in "abcd"] == ["acc", "acc", "cpu", "cpu"]
    # a block larger than an accelerator goes to a CPU and closes the current run
    big = make({**nodes, "b": (10, 1, 5)}, edges, k=2, memory=4)
    assert [greedy_latency(big).device_of(v) for v in "abcd"] == [ACC0, CPU, ACC1, ACC1]
    # an unsupported block too
    uns = make({**nodes, "b": (10, None, 2)}, edges, k=2, memory=4)
    assert [greedy_latency(uns).device_of(v) for v in "abcd"] == [ACC0, CPU, ACC1, ACC1]
    # strongly connected colour classes form one block
    cc = make({"a": (1, 1, 1, "x"), "b": (1, 1, 1), "c": (1, 1, 1, "x")}, {("a", "b"): 1, ("b", "c"): 1})
    assert greedy_blocks(cc) == [["a", "b", "c"]]


@pytest.mark.parametrize("relative", paper_files("latency/LayerGraphs", "latency/OperatorGraphs"))
def test_baselines_feasible_on_paper_instances(relative):
    inst = load_instance(paper_path(relative))
    for make_placement in (greedy_latency, all_on_cpus, interval_latency):
        rep = evaluate_latency(inst, make_placement(inst), max_subgraphs=1)
        assert rep.feasible, (make_placement.__name__, rep.reason)
        assert rep.split == "levels" and all(a.subgraphs <= 1 for a in rep.accelerators)
        assert math.isfinite(rep.latency) and rep.latency > 0


def test_paper_bert24_milp_not_worse_than_greedy():
    inst = load_instance(paper_path("latency/LayerGraphs/bert24_inference.json"))
    greedy = evaluate_latency(inst, greedy_latency(inst), max_subgraphs=1).latency
    r = solve_latency(inst, max_subgraphs=1, time_limit=120, threads=1)
    assert r.has_placement and r.report.feasible
    assert r.latency <= greedy + 1e-6
    assert r.bound is not None and r.bound <= r.latency + 1e-6
