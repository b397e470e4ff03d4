"""The ideal DP: equal to the pipeline MILP and to the plain recurrence, the same whatever
its blocks and pruning, clear refusals, a memory guard."""

from __future__ import annotations

import itertools
import json
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp.dp import ideal as dp
from placement_ilp.cli import main
from placement_ilp.workloads.generators import layered_dag
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import load_instance
from placement_ilp.solving import solve
from placement_ilp.data.topology import paper_topology

from .conftest import paper_path
from .test_maxload import exhaustive, small_instances


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(), st.booleans())
def test_dp_equals_pipeline_milp_and_exhaustive_search(instance, overlap):
    by_dp = solve(instance, method="dp", overlap=overlap)
    by_milp = solve(instance, contiguity="pipeline", overlap=overlap)
    assert by_dp.status == by_milp.status
    if by_milp.status == "optimal":
        assert by_dp.objective == pytest.approx(by_milp.objective, rel=1e-6, abs=1e-9)
        assert by_dp.objective == pytest.approx(exhaustive(instance, "pipeline", overlap=overlap), rel=1e-6, abs=1e-9)
        assert by_dp.evaluation.contiguity.level == "pipeline"


def _with_orphans():
    """A training chain whose loss nodes form a colour class of backward nodes only."""
    nodes = [
        OpNode(0, {"cpu": 9.0, "acc": 2.0}, color_class=0, memory=2.0),
        OpNode(1, {"cpu": 9.0, "acc": 3.0}, color_class=1, memory=2.0),
        OpNode(2, {"cpu": 9.0, "acc": 1.0}, color_class=2, memory=2.0),
        OpNode(10, {"cpu": 1.0, "acc": 0.5}, backward=True, color_class="loss"),
        OpNode(11, {"cpu": 1.0, "acc": 0.5}, backward=True, color_class="loss"),
        OpNode(12, {"cpu": 9.0, "acc": 4.0}, backward=True, color_class=2, memory=1.0),
        OpNode(13, {"cpu": 9.0, "acc": 5.0}, backward=True, color_class=1, memory=1.0),
        OpNode(14, {"cpu": 9.0, "acc": 3.0}, backward=True, color_class=0, memory=1.0),
    ]
    edges = [(0, 1, 1.0), (1, 2, 1.5), (2, 10, 0.5), (10, 11, 0.2), (11, 12, 0.7), (12, 13, 1.1), (13, 14, 0.9)]
    edges += [(0, 14, 0.5), (1, 13, 1.5), (2, 12, 0.5)]
    cost = {}
    for u, _, c in edges:
        cost.setdefault(u, c)
    graph = OpGraph(tuple(nodes), tuple(OpEdge(u, v, cost[u]) for u, v, _ in edges))
    return Instance(graph, paper_topology(3, 1, 8.0), "orphans")


def test_orphan_backward_classes_are_placed_the_same_way_by_dp_and_milp():
    instance = _with_orphans()
    assert instance.graph.orphan_backward_classes() == ["loss"]
    by_dp = solve(instance, method="dp")
    by_milp = solve(instance, contiguity="pipeline")
    assert by_dp.status == by_milp.status == "optimal"
    assert by_dp.objective == pytest.approx(by_milp.objective, rel=1e-9)


@pytest.mark.parametrize(
    "relative, optimum",
    [
        ("throughput/LayerGraphs/bert24_inference.json", 17.789906),
        ("throughput/OperatorGraphs/bert_l-3_inference.json", 27.918568),
        ("throughput/LayerGraphs/resnet50_inference.json", None),
    ],
)
def test_dp_equals_milp_on_paper_workloads(relative, optimum):
    instance = load_instance(paper_path(relative))
    by_dp = solve(instance, method="dp")
    by_milp = solve(instance, contiguity="pipeline", time_limit=300)
    assert by_milp.status == "optimal" and by_dp.status == "optimal"
    assert by_dp.objective == pytest.approx(by_milp.objective, rel=1e-6)
    if optimum is not None:
        assert by_dp.objective == pytest.approx(optimum, abs=1e-5)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--non-contiguous"], "the DP solves pipeline contiguity only, not 'none'; use --method milp"),
        (["--contiguity", "convex"], "the DP solves pipeline contiguity only, not 'convex'; use --method milp"),
        (["--objective", "different-maxima"], "the DP does not solve the different-maxima objective"),
        (["--accelerators-only"], "the DP needs contiguity on CPUs too"),
    ],
)
def test_where_the_dp_does_not_apply_it_says_so_in_one_line(argv, message, capsys):
    assert main(["solve", "instances/default.json", "--method", "dp", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_memory_guard_stops_with_the_count_and_points_to_the_milp():
    instance = load_instance("instances/default.json")
    with pytest.raises(dp.DPTooLarge, match=r"more than 1 ideal,.*--method milp"):
        solve(instance, method="dp", memory_budget=1)
    graph = dp.build_dp_graph(instance)
    assert dp.max_ideals_for(graph, 1) == 1
    with pytest.raises(dp.DPTooLarge, match="more than 50 ideals"):
        dp.enumerate_ideals(graph, 50)


def test_dp_on_the_command_line(capsys, tmp_path):
    out = tmp_path / "p.json"
    assert main(["solve", "instances/default.json", "--method", "dp", "--json", "-o", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "dp" and data["status"] == "optimal" and data["gap"] <= 1e-9
    assert main(["evaluate", "instances/default.json", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_load"] == pytest.approx(data["objective"], rel=1e-12)


def test_infeasible_for_the_dp_is_a_status():
    nodes = (OpNode(1, {"cpu": 1.0, "acc": 1.0}, memory=6.0), OpNode(2, {"cpu": 1.0, "acc": 1.0}, memory=6.0))
    instance = Instance(OpGraph(nodes, (OpEdge(1, 2, 0.5),)), paper_topology(1, 0, 10.0), "tight")
    result = solve(instance, method="dp")
    assert result.status == "infeasible" and result.placement is None


def test_milp_warm_started_from_the_dp(capsys):
    assert main(["solve", "instances/default.json", "--warm-start", "dp", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "optimal"
    assert data["objective"] == pytest.approx(solve(load_instance("instances/default.json"), method="dp").objective)


def _reference_dp(graph: dp.DPGraph, overlap: bool) -> float:
    """The recurrence over every pair of ideals, with the loads of the sets themselves
    (Python-int bitsets): slow and plain, to check the vectorised solve_dp against."""
    bits = dp.enumerate_ideals(graph, 10**6).bits
    classes = graph.groups.instance.topology.classes

    def load(c: int, stage: int) -> float:
        nodes = [v for v in range(graph.num_nodes) if stage >> v & 1]
        cap = classes[c].memory
        if any(graph.unsupported[v, c] for v in nodes) or (
            cap is not None and sum(graph.memory[v] for v in nodes) > cap * (1 + 1e-9)
        ):
            return np.inf
        compute = sum(graph.time[v, c] for v in nodes)
        if not classes[c].pays_communication:
            return compute
        inside = [sum(stage >> int(v) & 1 for v in touch) for touch in graph.touch]
        comm = sum(graph.item_cost[k, c] for k, n in enumerate(inside) if 0 < n < len(graph.touch[k]))
        return max(compute, comm) if overlap else compute + comm

    counts = [c.count for c in classes]
    best = {n: [0.0] + [np.inf] * (len(bits) - 1) for n in itertools.product(*(range(k + 1) for k in counts))}
    for n in sorted(best, key=sum):
        for i in range(1, len(bits)):
            for c in range(len(classes)):
                if n[c] == 0:
                    continue
                before = best[tuple(k - (q == c) for q, k in enumerate(n))]
                for j in range(len(bits)):
                    if j != i and bits[j] & ~bits[i] == 0 and before[j] < best[n][i]:
                        best[n][i] = min(best[n][i], max(before[j], load(c, bits[i] & ~bits[j])))
    return best[tuple(counts)][bits.index((1 << graph.num_nodes) - 1)]


@pytest.mark.parametrize(
    "seed, training, overlap", [(1, False, False), (2, True, False), (3, False, True), (4, True, True)]
)
def test_solve_dp_equals_the_plain_recurrence(seed, training, overlap):
    instance = layered_dag(5, 3, seed=seed, training=training, accelerators=2, unsupported_probability=0.2)
    graph = dp.build_dp_graph(instance)
    found = dp.solve_dp(graph, dp.enumerate_ideals(graph, 10**6), overlap=overlap)
    assert found.value == pytest.approx(_reference_dp(graph, overlap), rel=1e-9)


def test_candidates_are_the_sub_ideals_in_the_window():
    graph = dp.build_dp_graph(layered_dag(10, 4, seed=5))
    ideals = dp.enumerate_ideals(graph, 10**6)
    M, bits = ideals.size, ideals.bits
    rng = random.Random(0)
    for share in (0.05, 0.2, 1.0):
        lo = np.searchsorted(ideals.work, ideals.work - share * ideals.work[-1], side="left")
        sub = dp._sub_ideal_bitsets(ideals, lo, 1 << 12)  # small blocks: many of them
        flags = np.array([rng.random() < 0.7 for _ in range(M)])
        allowed = dp._bitset(flags)
        order = np.argsort(ideals.level, kind="stable")
        for level in range(1, graph.num_nodes + 1):
            ids = order[ideals.level[order] == level]
            for a, b in dp._blocks(ids.tolist(), lo[ids].tolist(), 1 << 11):
                block = ids[a:b]
                for mask in (None, allowed):
                    lengths, found = dp._candidates(sub, block, lo[block], mask)
                    runs = np.split(found, np.cumsum(lengths)[:-1])
                    for i, js in zip(block.tolist(), runs):
                        expected = [
                            j for j in range(lo[i], i) if bits[j] & ~bits[i] == 0 and (mask is None or flags[j])
                        ]
                        assert js.tolist() == expected


@pytest.mark.parametrize("training, overlap", [(False, False), (True, True)])
def test_dp_does_not_depend_on_its_blocks_or_its_pruning(monkeypatch, training, overlap):
    graph = dp.build_dp_graph(layered_dag(9, 4, seed=7, training=training, accelerators=3, memory_slack=4.0))
    ideals = dp.enumerate_ideals(graph, 10**6)
    default = dp.solve_dp(graph, ideals, overlap=overlap)
    unbounded = dp.solve_dp(graph, ideals, overlap=overlap, upper_bound=np.inf)  # no window, nothing pruned by UB
    tight = dp.solve_dp(graph, ideals, overlap=overlap, upper_bound=default.value)  # the least window
    assert unbounded.value == tight.value == default.value and tight.pairs < unbounded.pairs
    for blocks, trial, worth in [(1, 1 << 30, 0.0), (1, 0, 0.0), (1 << 30, 1 << 30, 1.0)]:
        monkeypatch.setattr(dp, "_BLOCK_BITS", blocks)
        monkeypatch.setattr(dp, "_SUB_BLOCK_BITS", blocks)
        monkeypatch.setattr(dp, "_PRUNE_TRIAL", trial)
        monkeypatch.setattr(dp, "_PRUNE_WORTH", worth)
        again = dp.solve_dp(graph, ideals, overlap=overlap)
        assert (again.value, again.stages, again.pairs) == (default.value, default.stages, default.pairs)


def test_cli_dp_time_limit_ends_without_a_placement(capsys):
    path = str(paper_path("throughput/LayerGraphs/inceptionv3_inference.json"))
    assert main(["solve", path, "--method", "dp", "--time-limit", "0.01", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "no_solution" and data["placement"] is None
