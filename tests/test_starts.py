"""Starts of the max-load MILP found without the DP (``warm_start="heuristics"``):
feasible and pipeline-contiguous, never below the optimum, never worse than
PipeDream's split, the local search never worse than the placement it starts from,
and the DP never called; with device-pair links the partition baseline's start."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from placement_ilp.baselines import local_search, pipedream_with_value
from placement_ilp.data.instance import Instance
from placement_ilp.data.placement import Placement
from placement_ilp.data.topology import Link
from placement_ilp.errors import InputError
from placement_ilp.evaluation.maxload import evaluate
from placement_ilp.io import load_instance
from placement_ilp.solving import solve
from placement_ilp.solving import starts as starts_module
from placement_ilp.solving.starts import find_start, heuristic_start

from .conftest import paper_path
from .test_baselines import small_instances
from .test_links import _fan_out, _servers

SETTINGS = settings(max_examples=int(os.environ.get("STARTS_EXAMPLES", "20")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DEFAULT = "instances/default.json"


def _no_dp(*args, **kwargs):
    raise AssertionError("the heuristics start ran the DP")


@SETTINGS
@given(small_instances())
def test_the_heuristics_start_is_a_pipeline_placement_never_below_the_dp_optimum(instance):
    start = heuristic_start(instance)
    try:
        optimum = solve(instance, method="dp").objective
    except InputError:
        optimum = None
    if start is None:  # tight memory: the heuristics may find nothing (the DP may)
        return
    report = evaluate(instance, start.placement)
    assert report.feasible and report.objective_value == pytest.approx(start.value)
    if start.source != "partition":
        assert start.contiguity == "pipeline"
    if optimum is not None and start.contiguity == "pipeline":
        assert start.value >= optimum * (1 - 1e-9) - 1e-9
    try:
        _, split_value = pipedream_with_value(instance)
    except InputError:
        return
    if split_value == split_value and split_value < float("inf"):
        assert start.value <= split_value * (1 + 1e-9) + 1e-9


@SETTINGS
@given(small_instances())
def test_local_search_from_a_start_is_never_worse_than_the_start(instance):
    try:
        split, value = pipedream_with_value(instance)
    except InputError:
        return
    if not (value < float("inf")) or not evaluate(instance, split).feasible:
        return
    found = local_search(instance, contiguity="pipeline", start=split, restarts=1)
    report = evaluate(instance, found)
    assert report.feasible and report.contiguity.level == "pipeline"
    assert report.objective_value <= evaluate(instance, split).objective_value * (1 + 1e-9) + 1e-9


def test_local_search_refuses_a_start_that_misses_a_node():
    instance = load_instance(DEFAULT)
    with pytest.raises(InputError, match="local-search: the start"):
        local_search(instance, contiguity="pipeline", start=Placement({}))


def test_find_start_heuristics_never_runs_the_dp(monkeypatch):
    monkeypatch.setattr(starts_module, "solve_dp_method", _no_dp)
    instance = load_instance(DEFAULT)
    start = find_start(instance, "heuristics")
    assert start.source in ("pipedream", "local-search") and start.contiguity == "pipeline"
    assert start.seconds > 0
    result = solve(instance, warm_start="heuristics", time_limit=60)
    assert result.status == "optimal" and result.start in ("pipedream", "local-search")


@pytest.mark.slow
def test_the_heuristics_start_is_within_half_a_percent_on_a_paper_workload():
    """inceptionv3_training: PipeDream's split is 1.1 % above the DP's optimum, the
    polished start 0.49 % (docs/benchmarks.md, "Starts without the DP")."""
    instance = load_instance(paper_path("throughput/LayerGraphs/inceptionv3_training.json"))
    start = heuristic_start(instance)
    optimum = solve(instance, method="dp").objective
    _, split = pipedream_with_value(instance)
    assert optimum <= start.value <= optimum * 1.005 and start.value < split


def test_with_device_pair_links_the_start_is_the_partition_baselines():
    instance = Instance(_fan_out(), _servers([Link("s0", "s1", 1.0, 0.5)]))
    start = heuristic_start(instance)
    assert start is not None and start.source == "partition"
    assert evaluate(instance, start.placement).feasible
    assert find_start(instance, "auto").source == "partition"


def test_the_cli_takes_warm_start_heuristics(capsys):
    from placement_ilp.cli import main

    assert main(["solve", DEFAULT, "--warm-start", "heuristics"]) == 0
    out = capsys.readouterr().out
    assert "start " in out and ("pipedream" in out or "local-search" in out)
    assert main(["solve", DEFAULT, "--warm-start", "sometimes"]) == 2


# -- backward-only groups: what the evaluator calls pipeline and what the exact methods hold --
def _orphan_instance() -> Instance:
    """Forward a -> b with backward twins b' -> a' (classes A, B), and a loss
    gradient L, a colour class of backward nodes only, feeding b'. The DP and the
    MILP order L after B (as the paper's tool does); the evaluator leaves it free.
    Two accelerators, no communication cost."""
    from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
    from placement_ilp.data.topology import paper_topology

    def node(i, t, backward, colour):
        return OpNode(i, {"acc": t, "cpu": 100.0}, supported=frozenset({"acc"}), backward=backward, color_class=colour)

    nodes = (node("a", 3.0, False, "A"), node("b", 6.0, False, "B"), node("L", 3.0, True, "L"),
             node("b'", 0.0, True, "B"), node("a'", 0.0, True, "A"))
    edges = (OpEdge("a", "b", 0.0), OpEdge("b", "L", 0.0), OpEdge("L", "b'", 0.0), OpEdge("b'", "a'", 0.0))
    return Instance(OpGraph(nodes, edges), paper_topology(2, 0, None))


def test_a_free_backward_only_group_is_pipeline_to_the_evaluator_but_not_to_the_exact_methods():
    from placement_ilp.data.preprocess import contract
    from placement_ilp.data.topology import Device

    instance = _orphan_instance()
    a0, a1 = Device("acc", 0), Device("acc", 1)
    free = Placement({"a": a0, "a'": a0, "L": a0, "b": a1, "b'": a1})
    report = evaluate(instance, free)
    assert report.feasible and report.contiguity.level == "pipeline" and report.objective_value == 6.0
    assert not contract(instance).follows_pipeline_order(free)
    dp = solve(instance, method="dp")
    assert dp.objective == 9.0 and contract(instance).follows_pipeline_order(dp.placement)
    # given that start, the pipeline MILP must not take its 6 as an upper bound (it
    # answered "infeasible" when it did): it answers the optimum it can represent
    result = solve(instance, warm_start=free, time_limit=60)
    assert result.status == "optimal" and result.objective == pytest.approx(9.0)
    # the heuristics' start is one the exact methods can hold
    start = heuristic_start(instance)
    assert contract(instance).follows_pipeline_order(start.placement) and start.value == pytest.approx(9.0)


def test_the_heuristics_start_on_a_workload_with_backward_only_groups_is_proven():
    """OperatorGraphs/bert_l-3_training has 14 backward-only groups: the local search
    once found a placement the evaluator calls pipeline at 65.30309 (below the DP's
    65.30315), the MILP took it as its upper bound and answered "infeasible"."""
    instance = load_instance(paper_path("throughput/OperatorGraphs/bert_l-3_training.json"))
    result = solve(instance, warm_start="heuristics", time_limit=300, threads=1)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(solve(instance, method="dp").objective, rel=1e-6)


@SETTINGS
@given(small_instances())
def test_the_dp_and_the_pipeline_local_search_keep_the_pipeline_order(instance):
    from placement_ilp.data.preprocess import contract

    groups = contract(instance)
    try:
        dp = solve(instance, method="dp")
    except InputError:
        return
    if dp.placement is not None:
        assert groups.follows_pipeline_order(dp.placement)
    try:
        found = local_search(instance, contiguity="pipeline", restarts=2, seed=1)
    except InputError:
        return
    if evaluate(instance, found).contiguity.level == "pipeline":
        assert groups.follows_pipeline_order(found)
