"""The strong formulation, warm starts and `bench milp` (exhaustive checks are in test_maxload.py)."""

from __future__ import annotations

import pytest

from formulations import MaxLoad, StrongMaxLoad, SymmetricMaxLoad
from placement_ilp.cli import main
from placement_ilp.errors import InputError
from placement_ilp.io import load_instance
from placement_ilp.data.placement import Placement
from placement_ilp.solving import find_start, prepare, solve
from placement_ilp.data.topology import Device

from .conftest import paper_path

DEFAULT = "instances/default.json"


def test_auto_start_is_the_dp_and_bounds_every_level():
    instance = load_instance(DEFAULT)
    start = find_start(instance)
    assert start.source == "dp" and start.contiguity == "pipeline"
    assert start.value == pytest.approx(solve(instance, method="dp").objective)
    for level in ("pipeline", "convex", "none"):
        problem, found = prepare(instance, contiguity=level)
        assert isinstance(problem.builder, StrongMaxLoad)
        assert problem.builder.upper_bound == pytest.approx(start.value)
        # the start is a feasible point of the model, so HiGHS gets an incumbent
        assert problem.builder.encode(found.placement) is not None


def test_no_start_means_no_upper_bound_rows():
    instance = load_instance(DEFAULT)
    assert find_start(instance, "none") is None
    problem, start = prepare(instance, warm_start="none")
    assert start is None and problem.builder.upper_bound is None
    assert "target_cap" not in problem.model.families
    problem, _ = prepare(instance)
    assert "target_cap" in problem.model.families and "stage_capacity_load_0" in problem.model.families


def test_a_start_below_the_requested_level_gives_no_upper_bound():
    instance = load_instance(DEFAULT)
    best_none = solve(instance, contiguity="none")
    assert best_none.evaluation.contiguity.level != "pipeline"  # this instance gains from breaking contiguity
    problem, start = prepare(instance, warm_start=best_none.placement, contiguity="pipeline")
    assert start.source == "given" and problem.builder.upper_bound is None
    result = solve(instance, warm_start=best_none.placement)
    assert result.status == "optimal" and result.objective == pytest.approx(find_start(instance).value)


def test_an_infeasible_given_start_is_refused():
    instance = load_instance(DEFAULT)
    everything_on_one = Placement({v: Device("acc", 0) for v in instance.graph.ids})
    with pytest.raises(InputError, match="warm start is infeasible"):
        find_start(instance, everything_on_one)
    with pytest.raises(InputError, match="unknown warm start"):
        find_start(instance, "magic")


def test_formulations_agree_with_and_without_starts():
    from placement_ilp.workloads.generators import layered_dag

    instance = layered_dag(4, 2, seed=5, accelerators=2, cpus=1)
    for level in ("pipeline", "convex", "none"):
        values = [
            solve(instance, formulation=builder, contiguity=level, warm_start=start).objective
            for builder in (MaxLoad, StrongMaxLoad, SymmetricMaxLoad)
            for start in ("none", "auto")
        ]
        assert values == pytest.approx([values[0]] * len(values), rel=1e-6)


def test_symmetric_start_is_renamed_into_device_order():
    instance = load_instance(DEFAULT)
    start = find_start(instance)
    # the same placement with the accelerators' names reversed
    count = instance.topology.class_of("acc").count
    flipped = Placement({v: Device(d.cls, count - 1 - d.index) if d.cls == "acc" else d
                         for v, d in start.placement.assignment.items()})
    problem, _ = prepare(instance, SymmetricMaxLoad, warm_start=flipped, contiguity="none")
    assert problem.builder.encode(flipped) is not None


def test_strong_rows_lift_the_root_bound_on_a_paper_workload():
    from placement_ilp.milp.backends.highs import solve_relaxation

    instance = load_instance(paper_path("throughput/LayerGraphs/bert24_training.json"))
    plain, _ = prepare(instance, "maxload", warm_start="none")
    strong, _ = prepare(instance, "maxload-strong", warm_start="none")
    assert solve_relaxation(strong.model) > solve_relaxation(plain.model) + 1.0


def test_strong_pipeline_proves_the_dp_optimum_on_a_paper_workload():
    instance = load_instance(paper_path("throughput/LayerGraphs/gnmt_inference.json"))
    result = solve(instance, time_limit=300)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(solve(instance, method="dp").objective, rel=1e-6)
    assert result.start == "dp"


def test_bench_milp_writes_its_table(tmp_path, capsys):
    csv, md = tmp_path / "t.csv", tmp_path / "t.md"
    argv = ["bench", "milp", DEFAULT, "--contiguity", "pipeline", "--time-limit", "60",
            "--csv", str(csv), "--markdown", str(md)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "root_lp" in out and "maxload-strong" in out
    import pandas as pd

    table = pd.read_csv(csv)
    assert list(table["formulation"]) == ["maxload", "maxload-strong"]
    assert (table["status"] == "optimal").all()
    assert table["incumbent"].tolist() == pytest.approx([60.68, 60.68])
    assert (table["root_lp"] <= table["bound"] + 1e-6).all()
    assert md.read_text().startswith("| instance |")
    assert main(argv) == 2  # the files exist: refused without --force
    assert "refusing to overwrite" in capsys.readouterr().err


def test_cli_solve_reports_its_start(capsys):
    assert main(["solve", DEFAULT]) == 0
    assert "start      dp's placement" in capsys.readouterr().out
    assert main(["solve", DEFAULT, "--warm-start", "none", "--formulation", "maxload"]) == 0
    out = capsys.readouterr().out
    assert "maxload" in out and "start " not in out


def test_regression_presolve_case_found_by_hypothesis():
    """A 7-node case on which an earlier row set (stage_nonempty with class_capacity)
    made HiGHS' presolve report 12 as optimal; the optimum is 11."""
    from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
    from placement_ilp.data.instance import Instance
    from placement_ilp.data.topology import paper_topology

    times = {0: (6, 0), 1: (7, 6), 2: (7, 4), 3: (3, 0), 4: (1, 5), 5: (2, 1), 6: (7, 1)}
    memory = {0: 1, 1: 0, 2: 3, 3: 3, 4: 1, 5: 0, 6: 2}
    nodes = tuple(
        OpNode(id=v, times={"cpu": float(c), "acc": float(a)}, supported=frozenset({"acc", "cpu"}),
               memory=float(memory[v]))
        for v, (c, a) in times.items()
    )
    arcs = [(0, 5, 0), (0, 6, 0), (1, 5, 2.5), (1, 6, 2.5), (2, 5, 1), (3, 4, 1.5), (3, 5, 1.5), (3, 6, 1.5)]
    graph = OpGraph(nodes, tuple(OpEdge(u, v, float(c)) for u, v, c in arcs))
    instance = Instance(graph, paper_topology(1, 1, 5.0), "regression")
    for formulation in ("maxload", "maxload-strong"):
        result = solve(instance, formulation=formulation, overlap=True, warm_start="none")
        assert result.status == "optimal" and result.objective == pytest.approx(11.0)


def test_dp_start_on_an_infeasible_instance_is_none():
    from placement_ilp.workloads.generators import layered_dag

    instance = layered_dag(3, 2, seed=1, accelerators=1, cpus=0, memory_slack=0.2)
    assert solve(instance, method="dp").status == "infeasible"
    assert find_start(instance, "dp") is None
    assert find_start(instance) is None
    assert solve(instance).status == "infeasible"


def test_none_and_convex_build_the_plain_model_unless_ordering_is_asked():
    instance = load_instance(DEFAULT)
    for level in ("none", "convex"):
        plain, _ = prepare(instance, "maxload", contiguity=level)
        strong, _ = prepare(instance, "maxload-strong", contiguity=level)
        ordered, _ = prepare(instance, "maxload-symmetric", contiguity=level)
        assert (strong.model.num_rows, strong.model.num_cols) == (plain.model.num_rows, plain.model.num_cols)
        assert ordered.model.num_rows > plain.model.num_rows


def test_bench_milp_keeps_the_rows_measured_before_it_stopped(tmp_path, monkeypatch):
    """Each finished run is in the CSV at once: a benchmark stopped in its second run
    (here an interrupt raised by the second solve) keeps the first row."""
    import pandas as pd

    from placement_ilp.experiments import bench_milp
    from placement_ilp.solving.problem import Problem

    real, calls = Problem.solve, []

    def solve_then_stop(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Problem, "solve", solve_then_stop)
    csv = tmp_path / "t.csv"
    assert main(["bench", "milp", DEFAULT, "--contiguity", "pipeline", "--time-limit", "60", "--csv", str(csv)]) == 130
    table = pd.read_csv(csv)
    assert list(table["formulation"]) == ["maxload"] and table["status"].tolist() == ["optimal"]
    assert list(table.columns) == bench_milp.COLUMNS


def test_the_benchmarks_default_to_the_16_paper_workloads():
    """Without instance arguments, bench reads ../shared beside the repository (its
    path broke once when the module moved into placement_ilp/experiments)."""
    from placement_ilp.experiments.bench import paper_throughput_files

    paper_path("throughput/LayerGraphs/bert24_inference.json")  # skips when ../shared is absent
    files = paper_throughput_files()
    assert len(files) == 16 and {f.parent.name for f in files} == {"LayerGraphs", "OperatorGraphs"}
