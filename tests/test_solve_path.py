"""The one solve path: every method of both objectives through solve(), into one Result."""

from __future__ import annotations

import json
import math

import pytest

from placement_ilp import InputError, Result, evaluate, solve, solve_latency
from placement_ilp.evaluation.latency import LatencyReport, evaluate_latency
from placement_ilp.evaluation.maxload import Evaluation
from placement_ilp.solving import method_names, prepare
from placement_ilp.workloads.generators import layered_dag

KEYS = ["objective", "status", "bound", "gap", "build_seconds", "solve_seconds", "method", "formulation", "message",
        "placement"]


@pytest.fixture(scope="module")
def instance():
    return layered_dag(4, 2, seed=3, accelerators=2, cpus=1)


@pytest.mark.parametrize("method", [m for m in method_names("latency")])
def test_every_latency_method_gives_a_scored_result(instance, method):
    result = solve(instance, objective="latency", method=method, time_limit=60, threads=1)
    assert isinstance(result, Result) and result.kind == "latency" and result.method == method
    assert result.placement is not None and isinstance(result.evaluation, LatencyReport)
    assert result.objective == pytest.approx(evaluate_latency(instance, result.placement).latency
                                             if method != "milp" else result.evaluation.latency)
    data = result.to_dict()
    assert list(data) == KEYS + ["subgraphs"]
    json.dumps(data)  # JSON-ready
    if method == "milp":
        assert result.status == "optimal" and result.subgraphs is not None and result.start is not None


@pytest.mark.parametrize("method", ["milp", "dp", "pipedream", "partition", "local-search"])
def test_every_maxload_method_gives_the_same_record(instance, method):
    result = solve(instance, method=method, time_limit=60, threads=1)
    assert result.kind == "maxload" and isinstance(result.evaluation, Evaluation)
    assert result.objective == evaluate(instance, result.placement).objective_value
    assert list(result.to_dict()) == KEYS


def test_a_heuristic_without_a_feasible_placement_says_why(instance):
    result = solve(instance, method="one-accelerator")  # the graph is larger than one accelerator's memory
    assert result.status == "infeasible" and result.placement is None and "memory" in result.message


def test_the_exact_methods_agree_and_bound_the_heuristics(instance):
    milp = solve(instance, objective="latency", time_limit=60, threads=1)
    for method in ("dp", "greedy", "all-cpu"):
        assert milp.objective <= solve(instance, objective="latency", method=method).objective + 1e-6
    assert solve(instance, method="dp").objective == pytest.approx(solve(instance, threads=1).objective)


def test_solve_latency_is_solve_with_the_latency_objective(instance):
    old = solve_latency(instance, max_subgraphs=2, symmetry="none", time_limit=60, threads=1)
    new = solve(instance, objective="latency", max_subgraphs=2, builder_options={"symmetry": "none"},
                time_limit=60, threads=1)
    assert old.objective == pytest.approx(new.objective) and old.stats["max_subgraphs"] == 2
    # the attribute names of the latency result of earlier releases
    assert old.latency == old.objective and old.report is old.evaluation and old.warm_start == old.start


def test_a_method_of_the_other_objective_is_refused_naming_it(instance):
    with pytest.raises(InputError, match="unknown method 'greedy' for the sum objective"):
        solve(instance, method="greedy")
    with pytest.raises(InputError, match="unknown method 'pipedream' for the latency objective"):
        solve(instance, objective="latency", method="pipedream")
    with pytest.raises(InputError, match="max_subgraphs"):
        solve(instance, objective="latency", max_subgraphs=0)


def test_a_formulation_of_the_other_objective_is_refused(instance):
    with pytest.raises(InputError, match="minimises latency, not the sum objective"):
        prepare(instance, "latency")
    with pytest.raises(InputError, match="minimises maxload, not the latency objective"):
        solve(instance, objective="latency", formulation="maxload")


def test_a_latency_start_by_method_name_or_placement(instance):
    greedy = solve(instance, objective="latency", method="greedy")
    by_name = solve(instance, objective="latency", warm_start="greedy", time_limit=60, threads=1)
    by_placement = solve(instance, objective="latency", warm_start=greedy.placement, time_limit=60, threads=1)
    assert by_name.objective == pytest.approx(by_placement.objective)
    assert by_name.objective <= greedy.objective + 1e-6
    assert math.isfinite(by_name.start_value) and by_name.start_value <= greedy.objective + 1e-9
    with pytest.raises(InputError, match="warm_start must be one of"):
        solve(instance, objective="latency", warm_start="pipedream")
