"""The configuration bound (placement_ilp/bounds/configuration.py): never above the
optimum at any contiguity level, checked against exhaustive search on small graphs
(classes, memory that binds, colour classes, the overlap model, CPUs exempt or not),
and tight where its argument is the whole story."""

from __future__ import annotations

import itertools
import json
import os

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp.bounds.configuration import _Pricer, _Sets, configuration_bound
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.data.preprocess import contract
from placement_ilp.data.topology import DeviceClass, Topology
from placement_ilp.cli import main
from placement_ilp.errors import FormulationError, InputError
from placement_ilp.io import load_instance, save_instance
from placement_ilp.solving import solve
from placement_ilp.solving.root_bound import RootBound
from placement_ilp.solving.run import with_root_bound
from placement_ilp.stopping import Budget

from .conftest import paper_path
from .test_bounds import crowded_instances
from .test_heterogeneous import LEVELS, exhaustive_all_levels, heterogeneous_instances
from .test_maxload import small_instances

# examples per random test (15 keeps the default run inside its 10 minutes); raise it
# to search harder (CONFIGURATION_EXAMPLES=500)
EXAMPLES = int(os.environ.get("CONFIGURATION_EXAMPLES", "15"))


def _check(instance: Instance, overlap: bool, cpu_contiguity: bool = True) -> None:
    """At every level: the bound, with and without the optimum as the upper end of
    its bisection, is at most the optimum; and it refutes nothing at the optimum."""
    best = exhaustive_all_levels(instance, overlap=overlap, cpu_contiguity=cpu_contiguity)
    groups = contract(instance)
    for level in LEVELS:
        if best[level] is None:
            continue  # infeasible at this level: no claim to check
        # None: the bisection starts from the crude upper end; best: the first target is
        # just below the optimum; best * 1.001: it is just above and must not be refuted
        for upper in (None, best[level], best[level] * 1.001):
            b = configuration_bound(groups, level, overlap=overlap, cpu_contiguity=cpu_contiguity, upper=upper,
                                    time_limit=60)
            assert b.stopped is None
            assert b.value <= best[level] * (1 + 1e-9) + 1e-9, (level, upper, b.value, best[level], b.tested)
            assert all(T < best[level] * (1 + 1e-9) + 1e-12 for T, verdict in b.tested if verdict == "refuted")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(), st.booleans(), st.booleans())
def test_never_above_the_optimum_on_small_graphs(instance, overlap, cpu_contiguity):
    _check(instance, overlap, cpu_contiguity)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans())
def test_never_above_the_optimum_on_heterogeneous_topologies(instance, overlap):
    _check(instance, overlap)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded_instances(), st.booleans())
def test_never_above_the_optimum_when_crowded(instance, overlap):
    _check(instance, overlap)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans(), st.booleans(), st.data())
def test_pricing_milp_finds_the_best_device_set(instance, overlap, convex, data):
    """The single-device MILP against all subsets: its bound is never below the best
    y(S) over the sets one device may hold at T, and its set attains it."""
    groups = contract(instance)
    G = groups.num_groups
    sets = _Sets(groups, overlap)
    arcs = nx.DiGraph()
    arcs.add_nodes_from(range(G))
    arcs.add_edges_from(zip(groups.fw_src.tolist(), groups.fw_dst.tolist()))
    reach = {g: nx.descendants(arcs, g) for g in range(G)}
    for c, dc in enumerate(instance.topology.classes):
        if dc.count == 0:
            continue
        allowed = groups.supported[:, c] & np.array([dc.memory is None or m <= dc.memory for m in groups.memory])
        pricer = _Pricer(groups, sets, c, allowed, convex)
        subsets = [np.array(bits, dtype=bool) for bits in itertools.product([False, True], repeat=G)]
        loads = [sets.load(S, c) for S in subsets]
        T = data.draw(st.sampled_from(sorted(set(loads))), label="T")
        y = np.array(data.draw(st.lists(st.integers(-4, 4), min_size=G, max_size=G), label="y"), dtype=float) / 4
        pricer.set_target(T)
        bound, found = pricer.price(y, None, Budget())

        def admissible(S, load):
            if (S & ~allowed).any() or load > T * (1 + 1e-9):
                return False
            if dc.memory is not None and groups.memory[S].sum() > dc.memory * (1 + 1e-9):
                return False
            inside = set(np.flatnonzero(S).tolist())
            return not convex or not any(
                w not in inside and any(w in reach[u] for u in inside) and reach[w] & inside for w in range(G)
            )

        best = max(float(y[S].sum()) for S, load in zip(subsets, loads) if admissible(S, load))
        assert bound >= best - 1e-7, (c, T, y, bound, best)
        assert found and all(admissible(S, sets.load(S, c)) for S in found)
        assert float(y[found[0]].sum()) == pytest.approx(best, abs=1e-6)


def _chain(times: list[float], cost: float, accelerators: int) -> Instance:
    nodes = tuple(OpNode(id=i, times={"acc": t}, supported=frozenset({"acc"})) for i, t in enumerate(times))
    edges = tuple(OpEdge(i, i + 1, cost) for i in range(len(times) - 1))
    topology = Topology((DeviceClass("acc", "accelerator", accelerators, None, True),))
    return Instance(OpGraph(nodes, edges), topology, "chain")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans())
def test_segment_loads_equal_the_loads_of_their_sets(instance, overlap):
    """The cheap pricing's table (segments of topological orders, grown one group at
    a time) gives every segment the load that _Sets.load gives its set."""
    from placement_ilp.bounds.configuration import _Segments, _orders

    groups = contract(instance)
    sets = _Sets(groups, overlap)
    segments = _Segments(groups, sets, _orders(groups))
    for o in range(len(segments.orders)):
        for c, dc in enumerate(instance.topology.classes):
            T = float(sets.time[:, c].sum()) + 1.0
            members, load, ok = segments._band(o, c, groups.supported[:, c], T, dc.memory)
            for i, l in zip(*np.nonzero(ok)):
                mask = np.zeros(groups.num_groups, dtype=bool)
                mask[members[i, : l + 1]] = True
                assert load[i, l] == pytest.approx(sets.load(mask, c), rel=1e-12, abs=1e-12)


def test_charges_the_boundary_that_the_work_bound_hides():
    # four unit jobs in a chain, two devices, each cut edge costs 1 at both ends:
    # the work bound is 2, every split pays at least one cut (1 + 1 + ... ), so the
    # optimum is 3 (two jobs and one transfer on each device); the LP sees it
    inst = _chain([1.0] * 4, 1.0, 2)
    best = exhaustive_all_levels(inst)["none"]
    assert best == pytest.approx(3.0)
    b = configuration_bound(contract(inst), "none", lower=2.0, upper=best)
    assert b.value == pytest.approx(3.0, rel=1e-3) and b.value <= 3.0


def test_convex_columns_refute_more_than_free_ones():
    # a chain 1, 2, 1 on two devices: at none the two ends share a device (load 2);
    # at convex a device holding both ends must hold the middle too, so the best is 3
    inst = _chain([1.0, 2.0, 1.0], 0.0, 2)
    best = exhaustive_all_levels(inst)
    assert (best["none"], best["convex"]) == (pytest.approx(2.0), pytest.approx(3.0))
    none = configuration_bound(contract(inst), "none", upper=best["none"])
    convex = configuration_bound(contract(inst), "convex", upper=best["convex"])
    assert none.value <= 2.0 and convex.value <= 3.0
    assert convex.value >= 3.0 * (1 - 1e-3)


def test_unknown_level_is_refused():
    with pytest.raises(InputError, match="contiguity"):
        configuration_bound(contract(_chain([1.0], 0.0, 1)), "diagonal")


def test_paper_bert24_inference_proves_the_none_optimum():
    # docs/benchmarks.md: the none-level optimum is 17.7147 (proven by the MILP); the
    # configuration LP refutes every target up to it within the tolerance
    inst = load_instance(paper_path("throughput/LayerGraphs/bert24_inference.json"))
    b = configuration_bound(contract(inst), "none", upper=17.714718750000003, time_limit=60)
    assert b.stopped is None
    assert 17.714718750000003 * (1 - 1e-4) <= b.value <= 17.714718750000003


# ------------------------------------------------------------------ in the solve path
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(max_devices=3), st.booleans(), st.sampled_from(LEVELS))
def test_the_milp_given_the_bound_still_finds_the_optimum(instance, overlap, level):
    best = exhaustive_all_levels(instance, overlap=overlap)[level]
    result = solve(instance, contiguity=level, overlap=overlap, root_bound="configuration", time_limit=120,
                   threads=1)
    if best is None:
        assert result.placement is None
        return
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, rel=1e-6, abs=1e-9)
    assert result.root_bound is not None and result.root_bound.value <= best * (1 + 1e-9) + 1e-9
    assert result.bound <= result.objective


def test_paper_bert24_inference_none_is_proven_with_the_bound():
    inst = load_instance(paper_path("throughput/LayerGraphs/bert24_inference.json"))
    result = solve(inst, contiguity="none", root_bound="configuration", time_limit=300, threads=1)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(17.714718750000003, rel=1e-9)
    assert result.start == "dp" and result.root_bound.upper == pytest.approx(result.start_value)
    assert result.objective * (1 - 1e-6) <= result.root_bound.value <= result.objective
    assert result.to_dict()["root_bound"]["method"] == "configuration"
    assert "root bound: configuration LP" in result.message


@pytest.mark.parametrize("options, words", [
    ({"objective": "latency"}, "latency"),
    ({"objective": "different-maxima"}, "objective sum"),
    ({"formulation": "maxload"}, "maxload-strong"),
    ({"root_bound": "lagrange"}, "root_bound must be one of"),
])
def test_what_the_bound_cannot_serve_is_refused(options, words):
    inst = _chain([1.0, 2.0, 1.0], 1.0, 2)
    with pytest.raises(InputError, match=words):
        solve(inst, **{"root_bound": "configuration", **options})


def test_a_bound_above_a_placement_is_caught():
    result = solve(_chain([1.0, 2.0, 1.0], 0.0, 2), contiguity="none", time_limit=60)
    wrong = RootBound("configuration", result.objective * 1.01, result.objective * 1.01, None, 0.0)
    with pytest.raises(FormulationError, match="exceeds the evaluator"):
        with_root_bound(result, wrong)


def test_cli_prints_the_bound_and_how_it_was_obtained(tmp_path, capsys):
    path = tmp_path / "chain.json"
    save_instance(_chain([1.0, 1.0, 1.0, 1.0], 1.0, 2), path)
    assert main(["solve", str(path), "--contiguity", "none", "--root-bound", "configuration", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(3.0)
    assert data["root_bound"]["method"] == "configuration" and data["root_bound"]["value"] <= 3.0
    assert main(["solve", str(path), "--root-bound", "configuration"]) == 0
    assert "bound by   root bound: configuration LP" in capsys.readouterr().out


def test_bench_milp_compares_with_and_without_the_bound(tmp_path, capsys):
    path = tmp_path / "chain.json"
    save_instance(_chain([1.0, 1.0, 1.0, 1.0], 1.0, 2), path)
    csv = tmp_path / "t.csv"
    assert main(["bench", "milp", str(path), "--contiguity", "none", "--formulations", "maxload-strong",
                 "--root-bound", "none,configuration", "--time-limit", "60", "--csv", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert list(table["root_bound"]) == ["none", "configuration"]
    assert (table["status"] == "optimal").all() and np.allclose(table["incumbent"], 3.0)
    assert np.isnan(table["root_bound_value"][0]) and table["root_bound_value"][1] <= 3.0


def test_a_highs_run_that_never_started_concludes_nothing(monkeypatch):
    # HiGHS refuses to start a run when its process-wide thread pool was made for
    # another thread count (seen when the whole test suite runs): the model status
    # stays "not set" and the numbers it leaves mean nothing
    import placement_ilp.bounds.configuration as configuration

    inst = _chain([1.0] * 4, 1.0, 2)  # optimum 3 (test above)
    groups = contract(inst)
    monkeypatch.setattr(configuration, "run_highs", lambda h, threads: None)  # no run starts
    b = configuration_bound(groups, "none", upper=3.0)
    assert b.value == 0.0 and {verdict for _, verdict in b.tested} == {"undecided"}

    def master_only(h, threads):  # the master LP runs, no pricing MILP does
        if len(h.getLp().integrality_) == 0:
            h.run()

    monkeypatch.setattr(configuration, "run_highs", master_only)
    b = configuration_bound(groups, "none", upper=3.0)
    assert b.value <= 3.0 and b.pricing_runs > 0


def test_an_interrupt_during_pricing_stops_the_bound_at_once():
    """The pricing MILPs run watched, as the MILP does: an interrupt (here from a
    timer, as the command line's signal handler gives it) ends the bound within
    HiGHS' grace period, with what was proven so far."""
    import threading
    import time

    instance = load_instance(paper_path("throughput/OperatorGraphs/bert_l-12_inference.json"))
    groups = contract(instance)
    budget = Budget(600)
    timer = threading.Timer(4.0, budget.interrupt)
    timer.start()
    began = time.monotonic()
    try:
        found = configuration_bound(groups, "none", upper=147.478, budget=budget)
    finally:
        timer.cancel()
    assert found.stopped == "interrupted"
    assert time.monotonic() - began < 4.0 + 3.0
    assert found.value <= 147.478


@pytest.mark.slow
def test_the_bound_keeps_the_time_limit_where_pricing_presolve_did_not():
    """The reported case: with HiGHS' presolve on, one pricing run on
    OperatorGraphs/bert_l-12_inference at none stayed more than ten minutes in
    presolve on a limit of seconds. The whole solve now ends within its limit."""
    import time

    instance = load_instance(paper_path("throughput/OperatorGraphs/bert_l-12_inference.json"))
    began = time.monotonic()
    result = solve(instance, contiguity="none", root_bound="configuration", time_limit=120, threads=1)
    assert time.monotonic() - began <= 120 * 1.05 + 3
    assert result.placement is not None and result.evaluation.feasible
