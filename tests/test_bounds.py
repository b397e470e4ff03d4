"""The pigeonhole floor (placement_ilp/bounds.py): never above the optimum, and
tight where the argument is the whole story."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp.bounds.combinatorial import pigeonhole_floor
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import load_instance
from placement_ilp.data.preprocess import contract
from placement_ilp.data.topology import DeviceClass, Topology, paper_topology

from .conftest import paper_path
from .test_heterogeneous import exhaustive_all_levels, heterogeneous_instances
from .test_maxload import small_instances


def _independent(times: list[float], accelerators: int, cpus: int, cpu_factor: float = 10.0) -> Instance:
    nodes = tuple(
        OpNode(id=i, times={"acc": t, "cpu": cpu_factor * t}, supported=frozenset({"acc", "cpu"}))
        for i, t in enumerate(times)
    )
    return Instance(OpGraph(nodes, ()), paper_topology(accelerators, cpus, None), "independent")


def test_five_equal_jobs_on_two_devices_need_three_on_one():
    inst = _independent([1.0] * 5, accelerators=2, cpus=0)
    floor = pigeonhole_floor(contract(inst))
    assert floor == pytest.approx(3.0, rel=1e-8) and floor <= 3.0


def test_a_cpu_takes_a_job_only_once_the_target_allows_it():
    # the CPU runs a job in 2.5: below 2.5 it takes none and some device holds 3 jobs;
    # from 2.5 on it takes one and 2 per device fit. The optimum is 2.5 (CPU 2.5, devices 2).
    inst = _independent([1.0] * 5, accelerators=2, cpus=1, cpu_factor=2.5)
    floor = pigeonhole_floor(contract(inst))
    assert floor == pytest.approx(2.5, rel=1e-8) and floor <= 2.5


def test_nothing_is_refuted_without_pieces():
    assert pigeonhole_floor(contract(_independent([0.0, 0.0], 2, 1))) == 0.0


def test_paper_bert24_inference_floor_is_near_its_optimum():
    # 24 layers of about 3.58 and one of 5.655 must share 6 accelerators (the CPU is
    # ten times slower); some accelerator holds 5: the five smallest layers sum to 17.703
    inst = load_instance(paper_path("throughput/LayerGraphs/bert24_inference.json"))
    floor = pigeonhole_floor(contract(inst), upper=17.7147)
    assert floor == pytest.approx(17.703, abs=1e-6)
    assert floor <= 17.714718750000003  # the none-level optimum (proven with this floor)


def _check_below_optimum(instance: Instance, overlap: bool) -> None:
    best = exhaustive_all_levels(instance, overlap=overlap)["none"]
    floor = pigeonhole_floor(contract(instance))
    if best is None:
        return  # infeasible: no claim
    assert floor <= best * (1 + 1e-9) + 1e-9, (floor, best)
    if best > 0:  # and with the optimum as the bisection's upper end
        assert pigeonhole_floor(contract(instance), upper=best) <= best * (1 + 1e-9) + 1e-9


@st.composite
def crowded_instances(draw):
    """Several similar jobs (a chain or independent), few devices, a slow CPU: the
    cases where the floor bites."""
    n = draw(st.integers(3, 7))
    times = [float(draw(st.integers(2, 6))) for _ in range(n)]
    chain = draw(st.booleans())
    accs = draw(st.integers(1, 2))
    cpus = draw(st.integers(0, 1))
    factor = draw(st.sampled_from([1.0, 2.0, 4.0]))
    memory = draw(st.sampled_from([None, 2.0, 3.0]))
    nodes = tuple(
        OpNode(id=i, times={"acc": t, "cpu": factor * t}, supported=frozenset({"acc", "cpu"}), memory=1.0)
        for i, t in enumerate(times)
    )
    edges = tuple(OpEdge(i, i + 1, draw(st.integers(0, 2)) / 2) for i in range(n - 1)) if chain else ()
    topology = Topology(
        (DeviceClass("acc", "accelerator", accs, memory, True), DeviceClass("cpu", "cpu", cpus, None, False))
    )
    return Instance(OpGraph(nodes, edges), topology, "crowded")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded_instances(), st.booleans())
def test_floor_never_exceeds_the_none_level_optimum_when_crowded(instance, overlap):
    _check_below_optimum(instance, overlap)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(), st.booleans())
def test_floor_never_exceeds_the_none_level_optimum(instance, overlap):
    _check_below_optimum(instance, overlap)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans())
def test_floor_never_exceeds_the_none_level_optimum_heterogeneous(instance, overlap):
    _check_below_optimum(instance, overlap)


def test_work_bound_is_the_root_lp_of_the_none_model():
    from placement_ilp.milp.backends.highs import solve_relaxation
    from placement_ilp.bounds.combinatorial import work_bound
    from placement_ilp.solving import build

    inst = load_instance(paper_path("throughput/LayerGraphs/resnet50_inference.json"))
    lp = solve_relaxation(build(inst, "maxload", contiguity="none").model, time_limit=60)
    assert work_bound(contract(inst)) == pytest.approx(lp, rel=1e-7)


def test_strong_model_adds_the_floor_only_where_it_lifts_the_lp():
    from formulations.strong import StrongMaxLoad

    for name, expected in (("bert24_inference", True), ("resnet50_inference", False)):
        inst = load_instance(paper_path(f"throughput/LayerGraphs/{name}.json"))
        for level in ("none", "convex"):
            b = StrongMaxLoad(inst, contiguity=level)
            model = b.build()
            assert ("pigeonhole_floor" in model.families) is expected
            assert (b.floor is not None) is expected
        pipeline = StrongMaxLoad(inst, contiguity="pipeline")
        assert "pigeonhole_floor" not in pipeline.build().families
        assert pipeline.highs_options == {"mip_allow_restart": False}
