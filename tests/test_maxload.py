"""Max-load MILPs: exhaustive search on small graphs, HiGHS = CBC, the paper's workloads."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formulations import Builder, MaxLoad, register
from placement_ilp.milp.backends.highs import read_file_and_solve, write_model
from placement_ilp.cli import main
from placement_ilp.evaluation.maxload import evaluate
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import load_instance, save_instance
from placement_ilp.data.placement import Placement
from placement_ilp.solving import build, solve
from placement_ilp.data.topology import paper_topology

from .conftest import paper_path

LEVEL_RANK = {"none": 0, "convex": 1, "pipeline": 2}


def exhaustive(instance, contiguity, objective="sum", overlap=False, cpu_contiguity=True):
    """The best evaluator-scored placement over all assignments (None if none is feasible)."""
    devices = instance.topology.devices()
    ids = instance.graph.ids
    best = None
    for combo in itertools.product(devices, repeat=len(ids)):
        p = Placement(dict(zip(ids, combo)))
        ev = evaluate(instance, p, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
        if not ev.feasible or LEVEL_RANK[ev.contiguity.level] < LEVEL_RANK[contiguity]:
            continue
        if best is None or ev.objective_value < best:
            best = ev.objective_value
    return best


@st.composite
def small_instances(draw):
    """3 to 7 nodes, 1 to 3 devices; sometimes a training graph; sometimes tight memory."""
    training = draw(st.booleans())
    n_forward = draw(st.integers(2, 4) if training else st.integers(3, 7))
    forward = list(range(n_forward))
    edges = [(u, v) for u in forward for v in forward if u < v and draw(st.integers(0, 2)) == 0]
    backward = []
    if training:
        twins = draw(st.lists(st.sampled_from(forward), unique=True, min_size=1, max_size=min(3, 7 - n_forward)))
        backward = [(n_forward + k, f) for k, f in enumerate(sorted(twins))]
        twin_of = {f: b for b, f in backward}
        edges += [(twin_of[v], twin_of[u]) for u, v in edges if u in twin_of and v in twin_of]
        edges += [(f, b) for b, f in backward if draw(st.booleans())]
    num = st.integers(0, 8).map(float)
    nodes = []
    colour = {f: f for f in forward}
    colour.update({b: f for b, f in backward})
    for v in forward + [b for b, _ in backward]:
        nodes.append(
            OpNode(
                id=v,
                times={"cpu": draw(num) + 1.0, "acc": draw(num)},
                supported=frozenset({"cpu", "acc"} if draw(st.integers(0, 5)) else {"cpu"}),
                memory=float(draw(st.integers(0, 3))),
                backward=v >= n_forward,
                color_class=colour[v] if training else None,
            )
        )
    cost = {v: draw(num) / 2 for v in colour}
    graph = OpGraph(tuple(nodes), tuple(OpEdge(u, v, cost[u]) for u, v in edges))
    accs = draw(st.integers(0, 2))
    cpus = draw(st.integers(0 if accs else 1, 3 - accs))
    memory = float(draw(st.integers(2, 8)))
    return Instance(graph, paper_topology(accs, cpus, memory), "random")


# (formulation, warm start): the plain one cold, the strong one with the DP's start and
# upper bound, the strong one cold, and the strong one with device-ordering rows.
VARIANTS = [
    ("maxload", "none"),
    ("maxload-strong", "auto"),
    ("maxload-strong", "none"),
    ("maxload-symmetric", "auto"),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    small_instances(),
    st.sampled_from(["sum", "different-maxima"]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(VARIANTS),
)
def test_milp_equals_exhaustive_search(instance, objective, overlap, cpu_contiguity, variant):
    formulation, start = variant
    optima = {}
    for level in ("pipeline", "convex", "none"):
        expected = exhaustive(instance, level, objective, overlap, cpu_contiguity)
        result = solve(
            instance, contiguity=level, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity,
            formulation=formulation, warm_start=start,
        )
        if expected is None:
            assert result.status == "infeasible" and result.placement is None
            continue
        assert result.status == "optimal"
        assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-9)
        assert result.solver_objective == pytest.approx(result.objective, rel=1e-6, abs=1e-9)
        optima[level] = result.objective
    if len(optima) == 3:
        assert optima["pipeline"] >= optima["convex"] - 1e-9 >= optima["none"] - 2e-9


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(), st.sampled_from(["pipeline", "convex", "none"]))
def test_highs_and_cbc_agree(instance, level):
    highs = solve(instance, contiguity=level)
    cbc = solve(instance, contiguity=level, backend="cbc")
    assert highs.status == cbc.status
    if highs.objective is not None:
        assert cbc.objective == pytest.approx(highs.objective, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    "relative", ["throughput/LayerGraphs/bert24_inference.json", "throughput/OperatorGraphs/bert_l-3_inference.json"]
)
def test_pipeline_milp_proves_optimality_on_paper_workloads(relative):
    instance = load_instance(paper_path(relative))
    result = solve(instance, contiguous=True, time_limit=300)
    assert result.status == "optimal"
    assert result.evaluation.contiguity.level == "pipeline"
    assert result.objective == pytest.approx(result.solver_objective, rel=1e-6)


def _tiny(accelerators=1, cpus=1, memory=10.0, supported=True):
    nodes = (
        OpNode(1, {"cpu": 4.0, "acc": 1.0}, memory=6.0),
        OpNode(2, {"cpu": 4.0, "acc": 1.0}, supported=frozenset({"cpu", "acc"} if supported else {"cpu"}), memory=6.0),
    )
    return Instance(OpGraph(nodes, (OpEdge(1, 2, 0.5),)), paper_topology(accelerators, cpus, memory), "tiny")


@pytest.mark.parametrize(
    "instance",
    [_tiny(accelerators=2, cpus=0, memory=5.0), _tiny(accelerators=2, cpus=0, supported=False)],
    ids=["memory too small", "unsupported node and no CPU"],
)
def test_infeasible_is_a_status_and_exit_code_1(instance, tmp_path, capsys):
    result = solve(instance, contiguity="none")
    assert result.status == "infeasible" and result.placement is None and result.objective is None
    path = tmp_path / "i.json"
    save_instance(instance, path)
    assert main(["solve", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "infeasible"


def test_cli_solve_json_keys_and_output(tmp_path, capsys):
    out = tmp_path / "placement.json"
    code = main(["solve", "instances/default.json", "--json", "--non-contiguous", "-o", str(out)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "objective", "status", "bound", "gap", "build_seconds", "solve_seconds", "method", "formulation", "message",
        "placement",
    }
    assert data["status"] == "optimal"
    # the written placement evaluates to the reported objective
    assert main(["evaluate", "instances/default.json", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_load"] == pytest.approx(data["objective"], rel=1e-9)
    # and is not overwritten without --force
    assert main(["solve", "instances/default.json", "-o", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_export_reads_back_to_the_same_optimum(suffix, tmp_path):
    instance = load_instance("instances/default.json")
    problem = build(instance, contiguity="convex")
    path = tmp_path / f"model{suffix}"
    write_model(problem.model, path)
    direct = problem.solve()
    again = read_file_and_solve(path)
    assert again.status.value == "optimal"
    assert again.objective == pytest.approx(direct.solver_objective, rel=1e-6)


def test_model_can_be_changed_and_solved_again():
    instance = load_instance("instances/default.json")
    problem = build(instance, contiguity="none")
    first = problem.solve()
    # forbid the optimum: the max-load must be at least 10% higher
    target = problem.model.blocks["T"].start
    problem.model.add_rows("experiment", [0], [target], [1.0], lower=first.objective * 1.1)
    second = problem.solve()
    assert second.solver_objective >= first.objective * 1.1 - 1e-6
    assert second.objective <= second.solver_objective + 1e-6


def test_warm_start_is_accepted_and_keeps_the_optimum():
    instance = load_instance("instances/default.json")
    cold = solve(instance, contiguity="pipeline")
    problem = build(instance, contiguity="pipeline")
    start = problem.builder.encode(cold.placement)
    assert start is not None and problem.model.max_violation(start) <= 1e-6
    assert problem.model.objective_value(start) == pytest.approx(cold.objective, rel=1e-9)
    warm = problem.solve(warm_start=cold.placement)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-6)


def test_a_users_builder_plugs_in_without_editing_the_package():
    @register("maxload-two-accelerators-at-most")
    class AtMostTwo(MaxLoad):
        """Max-load with node 0 forced onto a CPU: a user's own variation."""

        def build(self):
            model = super().build()
            cpu = self.instance.topology.class_names.index("cpu")
            g = int(self.groups.node_group[self.instance.graph.index_of(0)])
            cols = self.X[g, :, cpu]
            cols = cols[cols >= 0]
            model.add_rows("user_cpu_pin", np.zeros(len(cols), int), cols, 1.0, lower=1.0, upper=1.0)
            return model

    assert issubclass(AtMostTwo, Builder)
    instance = load_instance("instances/default.json")
    result = solve(instance, formulation="maxload-two-accelerators-at-most", contiguity="none")
    assert result.placement.device_of(0).cls == "cpu"
    plain = solve(instance, contiguity="none")
    assert result.objective >= plain.objective - 1e-9


@pytest.mark.parametrize("level", ["pipeline", "convex", "none"])
@pytest.mark.parametrize("objective", ["sum", "different-maxima"])
def test_warm_start_with_overlap_when_communication_dominates(level, objective):
    nodes = (OpNode("a", {"cpu": 5.0, "acc": 1.0}), OpNode("b", {"cpu": 5.0, "acc": 1.0}))
    instance = Instance(OpGraph(nodes, (OpEdge("a", "b", 3.0),)), paper_topology(2, 0, None), "comm-heavy")
    placement = Placement({"a": ("acc", 0), "b": ("acc", 1)})
    problem = build(instance, contiguity=level, objective=objective, overlap=True)
    start = problem.builder.encode(placement)
    assert start is not None
    ev = evaluate(instance, placement, objective=objective, overlap=True)
    assert problem.model.objective_value(start) == pytest.approx(ev.objective_value)


def test_cbc_reports_infeasible_when_its_bound_tightening_proves_it():
    """Found by hypothesis: with preprocessing off, the bundled CBC proves this model
    infeasible while tightening bounds and writes no answer; the backend must still
    report "infeasible", as HiGHS does (node 1 needs 3 units, an accelerator has 2)."""
    def node(i, memory, backward, colour):
        return OpNode(id=i, times={"cpu": 1.0, "acc": 0.0}, supported=frozenset({"acc", "cpu"}),
                      memory=memory, backward=backward, color_class=colour)

    graph = OpGraph((node(0, 0.0, False, 0), node(1, 3.0, False, 1), node(2, 0.0, True, 0),
                     node(3, 0.0, True, 1)), (OpEdge(0, 1, 0.0), OpEdge(3, 2, 0.0)))
    instance = Instance(graph, paper_topology(2, 0, 2.0), "regression")
    for backend in ("highs", "cbc"):
        assert solve(instance, backend=backend, warm_start="none").status == "infeasible"
