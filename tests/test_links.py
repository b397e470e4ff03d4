"""Links between pairs of device classes and pairs of devices (``Topology.links``).

- random small instances (2 or 3 classes, class-pair and device-pair links, training
  graphs, overlap, both objectives): the MILP at none and convex, and at pipeline
  when only class-pair links change costs, equals exhaustive search scored by the
  evaluator; with device-pair links the pipeline MILP refuses in one line;
- the evaluator by hand: an output leaves once at its slowest link, an output
  enters at the receiver's link to the sender; instances without links, or with
  links that repeat the class rates, cost bit for bit what they did;
- the native format reads and writes links; every bad link is one InputError line;
- the DP refuses partner-dependent links on graphs that are not chains, runs when
  links change no cost, and on chains (``chain_dp``) equals the pipeline MILP;
- ``maxload-symmetric`` orders only the devices no device-pair link names;
- baselines that read one rate per class refuse partner-dependent links.
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formulations import MaxLoad, SymmetricMaxLoad
from placement_ilp.dp import chain as chain_dp
from placement_ilp.baselines import BASELINES, group_loads, group_view
from placement_ilp.cli import main
from placement_ilp.dp.ideal import DPNotApplicable, build_dp_graph
from placement_ilp.errors import InputError
from placement_ilp.evaluation.maxload import evaluate
from placement_ilp.workloads.examples import two_servers
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import instance_from_dict, instance_to_dict, load_instance, save_instance
from placement_ilp.data.placement import Placement
from placement_ilp.solving import solve
from placement_ilp.data.topology import Device, DeviceClass, Link, Topology

from .test_heterogeneous import RANK, best_per_level, close, exhaustive_all_levels, heterogeneous_instances

LEVELS = ("pipeline", "convex", "none")
# examples per random test; raise it to search harder (LINKS_EXAMPLES=500)
EXAMPLES = int(os.environ.get("LINKS_EXAMPLES", "25"))
RATES = st.sampled_from([0.25, 0.5, 1.0, 2.0, 8.0])
LATENCIES = st.sampled_from([0.0, 0.25, 0.5, 1.0])


# --------------------------------------------------------------------------- helpers
def exhaustive_every_device(instance, objective="sum", overlap=False, cpu_contiguity=True):
    """The best evaluator-scored value at each contiguity level, over every device
    for every colour group (no renaming of devices: with device-pair links, devices
    of a class are not interchangeable). ``{level: value or None}``. Cost:
    devices^groups evaluations."""
    groups = instance.graph.colour_groups()
    choices = itertools.product(instance.topology.devices(), repeat=len(groups))
    return best_per_level(instance, groups, choices, objective, overlap, cpu_contiguity)


@st.composite
def linked_instances(draw, device_links: bool = True, max_devices: int = 4):
    """A random heterogeneous instance (test_heterogeneous: 2 or 3 classes, 3 to 6
    nodes, training graphs, memory, support) with random class-pair links (a class
    with itself too) and, if ``device_links``, random device-pair links."""
    base = draw(heterogeneous_instances(max_devices=max_devices))
    classes = base.topology.classes
    links = []
    for i, a in enumerate(classes):
        for b in classes[i:]:
            if draw(st.integers(0, 2)) == 0:
                links.append(Link(a.name, b.name, draw(RATES), draw(LATENCIES)))
    if device_links:
        for d, e in itertools.combinations(base.topology.devices(), 2):
            if draw(st.integers(0, 3)) == 0:
                links.append(Link(str(d), str(e), draw(RATES), draw(LATENCIES)))
    return Instance(base.graph, Topology(classes, tuple(links)), "random-links")


def _servers(links=(), count=2) -> Topology:
    """Two GPU classes s0, s1 (own links 4 bytes per time unit, no latency) and a CPU."""
    return Topology(
        (
            DeviceClass("s0", "gpu", count, bandwidth=4.0),
            DeviceClass("s1", "gpu", count, bandwidth=4.0),
            DeviceClass("cpu", "cpu", 1, pays_communication=False),
        ),
        tuple(links),
    )


def _fan_out() -> OpGraph:
    """a -> b, a -> c, b -> d, c -> d: a's output is 8 bytes, b's and c's 4."""
    nodes = tuple(OpNode(v, {"s0": 1.0, "s1": 1.0, "cpu": 4.0}) for v in "abcd")
    edges = (OpEdge("a", "b", 0.0, 8.0), OpEdge("a", "c", 0.0, 8.0), OpEdge("b", "d", 0.0, 4.0),
             OpEdge("c", "d", 0.0, 4.0))
    return OpGraph(nodes, edges)


def _chain(n=4, training=False) -> OpGraph:
    """v0 -> v1 -> ... (and, for training, backward twins in the same colour classes)."""
    nodes = [OpNode(f"v{i}", {"s0": 1.0 + i % 2, "s1": 1.5, "cpu": 6.0}, color_class=f"v{i}") for i in range(n)]
    edges = [OpEdge(f"v{i}", f"v{i + 1}", 0.0, 4.0) for i in range(n - 1)]
    if training:
        nodes += [OpNode(f"g{i}", {"s0": 2.0, "s1": 3.0, "cpu": 12.0}, backward=True, color_class=f"v{i}")
                  for i in range(n)]
        edges += [OpEdge(f"v{n - 1}", f"g{n - 1}", 0.0, 4.0)]
        edges += [OpEdge(f"g{i + 1}", f"g{i}", 0.0, 2.0) for i in range(n - 1)]
    return OpGraph(tuple(nodes), tuple(edges))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# --------------------------------------------------------------------------- topology API
def test_link_between_prefers_the_device_pair_then_the_class_pair_then_none():
    topo = _servers([Link("s0", "s1", 1.0, 0.5), Link("s0:1", "s1:0", 2.0), Link("s1", "s1", 8.0)])
    s0, s0b, s1, s1b, cpu = Device("s0", 0), Device("s0", 1), Device("s1", 0), Device("s1", 1), Device("cpu", 0)
    assert topo.link_between(s0b, s1) == Link("s0:1", "s1:0", 2.0)
    assert topo.link_between(s1, s0b) == Link("s0:1", "s1:0", 2.0)  # undirected
    assert topo.link_between(s0, s1) == Link("s0", "s1", 1.0, 0.5)
    assert topo.link_between(s1b, s0) == Link("s0", "s1", 1.0, 0.5)
    assert topo.link_between(s1, s1b) == Link("s1", "s1", 8.0)  # two devices of one class
    assert topo.link_between(s0, s0b) is None  # s0's own link
    assert topo.link_between(s0, cpu) is None
    assert topo.link_between(s1, s1) is None  # the same device: no transfer
    assert topo.named_devices == {s0b, s1}
    assert not topo.is_paper()


def test_transfer_time_uses_the_link_or_the_class_rate():
    inst = Instance(_fan_out(), _servers([Link("s0", "s1", 2.0, 0.5)]))
    s0, s0b, s1, cpu = Device("s0", 0), Device("s0", 1), Device("s1", 0), Device("cpu", 0)
    assert inst.transfer_time("a", s0, s1) == 8.0 / 2.0 + 0.5
    assert inst.transfer_time("a", s1, s0) == 8.0 / 2.0 + 0.5
    assert inst.transfer_time("a", s0, s0b) == 8.0 / 4.0  # own class link
    assert inst.transfer_time("a", s0, cpu) == 8.0 / 4.0
    assert inst.transfer_time("a", cpu, s0) == 0.0  # the CPU does not pay
    assert inst.transfer_time("d", s0, s1) == 0.0  # no successor: nothing leaves
    assert inst.links_change_costs and not inst.device_links_change_costs


# --------------------------------------------------------------------------- evaluator
def test_an_output_leaves_once_at_its_slowest_link():
    """a on s0:0 sends 8 bytes to b on s0:1 (own link: 8/4 = 2) and to c on s1:0
    (network: 8/1 + 0.5 = 8.5): s0:0 pays max(2, 8.5) = 8.5 once, not 10.5."""
    inst = Instance(_fan_out(), _servers([Link("s0", "s1", 1.0, 0.5)]))
    p = Placement({"a": ("s0", 0), "b": ("s0", 1), "c": ("s1", 0), "d": ("s0", 1)})
    ev = evaluate(inst, p)
    # s0:0: a (1) + a out 8.5
    assert ev.device(("s0", 0)).communication == 8.5
    # s0:1: b, d (2) + a in (own link 2) + c's output in from s1:0 (network 4/1 + 0.5); b -> d stays
    assert ev.device(("s0", 1)).communication == 2.0 + 4.5
    # s1:0: c (1) + a in over the network (8.5) + c out to s0:1 (4.5)
    assert ev.device(("s1", 0)).communication == 8.5 + 4.5
    assert ev.max_load == pytest.approx(1.0 + 13.0)


def test_an_output_enters_at_the_receivers_link_to_the_sender():
    """A device-pair link between s0:0 and s1:1 overrides the class pair for them."""
    topo = _servers([Link("s0", "s1", 1.0, 0.5), Link("s0:0", "s1:1", 8.0, 0.0)])
    inst = Instance(_fan_out(), topo)
    p = Placement({"a": ("s0", 0), "b": ("s1", 1), "c": ("s1", 0), "d": ("cpu", 0)})
    ev = evaluate(inst, p)
    assert ev.device(("s1", 1)).communication == 8.0 / 8.0 + 4.0 / 4.0  # a in (pair link), b out to the CPU
    assert ev.device(("s1", 0)).communication == 8.0 / 1.0 + 0.5 + 4.0 / 4.0  # a in (class pair), c out
    assert ev.device(("s0", 0)).communication == max(1.0, 8.5)  # one send, at the slowest link
    assert ev.device(("cpu", 0)).communication == 0.0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.data())
def test_no_links_and_links_that_repeat_the_class_rates_cost_what_they_did(instance, data):
    """Bit for bit: without links the evaluator charges ``comm_time`` as always; links
    with a class's own bandwidth and latency (between classes that have one) change no
    float, although they take the pairwise path."""
    devices = instance.topology.devices()
    placement = Placement({v: data.draw(st.sampled_from(devices)) for v in instance.graph.ids})
    before = evaluate(instance, placement)
    # the reference: comm_time once per device, as before links existed
    assign = placement.assignment
    for report in before.devices:
        d = report.device
        expected = 0.0
        for n in instance.graph.nodes:
            receivers = {assign[w] for w in instance.graph.successors(n.id)} - {assign[n.id]}
            if (assign[n.id] == d and receivers) or d in receivers:
                expected += instance.comm_time(n.id, d.cls)
        assert report.communication == pytest.approx(expected, rel=1e-12, abs=0)
    same = [Link(c.name, c.name, c.bandwidth, c.latency) for c in instance.topology.classes
            if c.bandwidth is not None]
    relinked = Instance(instance.graph, Topology(instance.topology.classes, tuple(same)), instance.name)
    assert not relinked.links_change_costs
    after = evaluate(relinked, placement)
    assert after.devices == before.devices
    assert after.max_load == before.max_load and after.different_maxima == before.different_maxima


def test_milp_without_links_builds_the_model_it_always_built():
    inst = Instance(_fan_out(), _servers())
    b = MaxLoad(inst, contiguity="none")
    m = b.build()
    assert b.excess is None and not any(name.startswith("excess") for name in m.families)
    assert np.array_equal(b.comm_coef, b.groups.comm_cost[:, b.comm_pairs[:, 1]])


# --------------------------------------------------------------------------- the MILP
def _check_milp(instance, objective, overlap, cpu_contiguity, expected):
    for formulation, start in (("maxload", "none"), ("maxload-strong", "auto"), ("maxload-symmetric", "none")):
        for level in LEVELS:
            where = f"{formulation} warm start {start} at {level}"
            if level == "pipeline" and instance.device_links_change_costs:
                with pytest.raises(InputError) as err:
                    solve(instance, contiguity=level, formulation=formulation, warm_start=start,
                          objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
                assert "device-pair links need contiguity none or convex" in str(err.value)
                assert "\n" not in str(err.value)
                continue
            result = solve(instance, contiguity=level, formulation=formulation, warm_start=start,
                           objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
            if expected[level] is None:
                assert result.status == "infeasible" and result.placement is None, where
                continue
            assert result.status == "optimal", where
            assert close(result.objective, expected[level]), (where, result.objective, expected[level])
            assert result.solver_objective == pytest.approx(result.objective, rel=1e-6, abs=2e-6), where
            assert RANK[result.evaluation.contiguity.level] >= RANK[level], where


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_instances(), st.booleans(), st.sampled_from(["sum", "different-maxima"]), st.booleans())
def test_milp_equals_exhaustive_search_with_links(instance, overlap, objective, cpu_contiguity):
    expected = exhaustive_every_device(instance, objective=objective, overlap=overlap,
                                       cpu_contiguity=cpu_contiguity)
    _check_milp(instance, objective, overlap, cpu_contiguity, expected)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_instances(device_links=False, max_devices=5), st.booleans(), st.booleans())
def test_milp_equals_exhaustive_search_with_class_pair_links(instance, overlap, cpu_contiguity):
    """Class-pair links only: devices of a class stay interchangeable, so the pruned
    search of test_heterogeneous applies, and the pipeline MILP is exact too."""
    expected = exhaustive_all_levels(instance, overlap=overlap, cpu_contiguity=cpu_contiguity)
    _check_milp(instance, "sum", overlap, cpu_contiguity, expected)


def test_warm_start_keeps_the_excess_consistent():
    """encode fills the excess columns: every feasible placement is a MIP start whose
    target equals the evaluator's max-load."""
    topo = _servers([Link("s0", "s1", 1.0, 0.5), Link("s0:0", "s1:1", 8.0)])
    inst = Instance(_fan_out(), topo)
    for level in ("none", "convex"):
        b = MaxLoad(inst, contiguity=level)
        b.build()
        for combo in itertools.product(topo.devices(), repeat=4):
            p = Placement(dict(zip("abcd", combo)))
            ev = evaluate(inst, p)
            vals = b.encode(p)
            if level == "convex" and ev.contiguity.level == "none":
                assert vals is None
                continue
            assert vals is not None
            assert vals[b.model.blocks["T"].start] == pytest.approx(ev.max_load, rel=1e-9)
    # pipeline, class-pair links only: every pipeline placement encodes, class_of included
    topo = _servers([Link("s0", "s1", 1.0, 0.5), Link("s1", "s1", 8.0), Link("s0", "cpu", 2.0)])
    inst = Instance(_fan_out(), topo)
    b = MaxLoad(inst, contiguity="pipeline")
    b.build()
    assert b.class_of is not None
    encoded = 0
    for combo in itertools.product(topo.devices(), repeat=4):
        p = Placement(dict(zip("abcd", combo)))
        ev = evaluate(inst, p)
        if ev.contiguity.level != "pipeline":
            continue
        vals = b.encode(p)
        assert vals is not None, p
        assert vals[b.model.blocks["T"].start] == pytest.approx(ev.max_load, rel=1e-9)
        encoded += 1
    assert encoded > 100


# --------------------------------------------------------------------------- symmetry
def test_symmetry_orders_only_the_devices_no_device_link_names():
    """s0 has three devices; s0:1 and s0:2 share a fast link. Ordering all three (as
    if interchangeable) would force the first group onto s0:0 and so forbid the pair;
    the ordering must leave the named devices alone and still reach the optimum."""
    topo = Topology(
        (DeviceClass("s0", "gpu", 3, bandwidth=1.0), DeviceClass("cpu", "cpu", 1, pays_communication=False)),
        (Link("s0:1", "s0:2", 64.0),),
    )
    nodes = tuple(OpNode(v, {"s0": 2.0, "cpu": 20.0}) for v in "abc")
    edges = (OpEdge("a", "b", 0.0, 8.0), OpEdge("b", "c", 0.0, 8.0))
    inst = Instance(OpGraph(nodes, edges), topo)
    b = SymmetricMaxLoad(inst, contiguity="none")
    b.build()
    assert all(Device("s0", 1) not in [b.fixed_devices[s] for s in slots] for slots, _, _ in b.order_blocks)
    assert all(Device("s0", 2) not in [b.fixed_devices[s] for s in slots] for slots, _, _ in b.order_blocks)
    p = Placement({"a": ("s0", 1), "b": ("s0", 2), "c": ("s0", 1)})
    assert b._canonical(p) == p  # named devices keep their names
    expected = exhaustive_every_device(inst)
    for level in ("none", "convex"):
        result = solve(inst, contiguity=level, formulation="maxload-symmetric", warm_start="none")
        assert close(result.objective, expected[level])
    # the unnamed devices are still ordered and renamed among themselves
    topo4 = Topology((DeviceClass("s0", "gpu", 4, bandwidth=1.0),), (Link("s0:0", "s0:3", 64.0),))
    plain = tuple(OpNode(v, {"s0": 2.0}) for v in "abc")
    b4 = SymmetricMaxLoad(Instance(OpGraph(plain, edges), topo4), contiguity="none")
    b4.build()
    (slots, _, _), = b4.order_blocks
    assert [b4.fixed_devices[s] for s in slots] == [Device("s0", 1), Device("s0", 2)]
    moved = b4._canonical(Placement({"a": ("s0", 2), "b": ("s0", 1), "c": ("s0", 3)}))
    assert moved == Placement({"a": ("s0", 1), "b": ("s0", 2), "c": ("s0", 3)})


# --------------------------------------------------------------------------- the DP
def test_dp_refuses_partner_dependent_links_on_a_graph_that_is_not_a_chain(tmp_path, capsys):
    inst = Instance(_fan_out(), _servers([Link("s0", "s1", 1.0, 0.5)]))
    with pytest.raises(DPNotApplicable) as err:
        solve(inst, method="dp")
    message = str(err.value)
    assert "\n" not in message and "does not know which device sent" in message and "--method milp" in message
    path = tmp_path / "fan.json"
    save_instance(inst, path)
    assert main(["solve", str(path), "--method", "dp"]) == 2
    assert "does not know which device sent" in _one_line_error(capsys)
    # the MILP solves it, and its automatic warm start quietly does without the DP
    result = solve(inst, contiguity="pipeline")
    assert result.status == "optimal"


def test_dp_refuses_device_pair_links():
    inst = Instance(_chain(), _servers([Link("s0:0", "s1:0", 1.0)]))
    with pytest.raises(DPNotApplicable, match="device-pair links"):
        solve(inst, method="dp")


def test_dp_runs_when_the_links_change_no_cost():
    """Links at the classes' own rates, or between classes that do not pay: the DP runs."""
    topo = Topology(
        (DeviceClass("s0", "gpu", 2, bandwidth=4.0), DeviceClass("s1", "gpu", 1, bandwidth=4.0),
         DeviceClass("cpu", "cpu", 1, pays_communication=False),
         DeviceClass("cpu2", "cpu", 1, pays_communication=False)),
        (Link("s0", "s1", 4.0), Link("s0:0", "s0:1", 4.0), Link("cpu", "cpu2", 0.5)),
    )
    graph = _fan_out()
    graph = OpGraph(tuple(OpNode(n.id, {**n.times, "cpu2": 4.0}) for n in graph.nodes), graph.edges)
    inst = Instance(graph, topo)
    assert not inst.links_change_costs
    by_dp = solve(inst, method="dp")
    by_milp = solve(inst, contiguity="pipeline", formulation="maxload", warm_start="none")
    assert by_dp.status == by_milp.status == "optimal"
    assert close(by_dp.objective, by_milp.objective)


def test_the_chain_dp_on_a_hand_made_chain():
    """v0 -> v1 -> v2 -> v3 on one GPU of each server and a CPU, the network between
    the servers slow: the optimum is the exhaustive one, and the stages are intervals."""
    inst = Instance(_chain(), _servers([Link("s0", "s1", 0.5, 1.0)], count=1))
    dpg = build_dp_graph(inst)
    chain = chain_dp.chain_of(dpg)
    assert chain is not None and chain.boundary.shape == (5, 3, 3)
    assert chain.boundary[2, 0, 1] == 4.0 / 0.5 + 1.0 and chain.boundary[2, 0, 0] == 4.0 / 4.0
    result = solve(inst, method="dp")
    assert close(result.objective, exhaustive_every_device(inst)["pipeline"])
    assert result.evaluation.contiguity.level == "pipeline"


@st.composite
def linked_chains(draw):
    """A chain of 2 to 6 groups (sometimes a training chain with backward twins; the
    backward twins also cost on other classes) on two GPU classes and a CPU, with
    random class-pair links (a class with itself too), memory and support."""
    n = draw(st.integers(2, 4) if draw(st.booleans()) else st.integers(3, 6))
    training = n <= 4 and draw(st.booleans())
    counts = [draw(st.integers(1, 2)), draw(st.integers(0, 2)), draw(st.integers(0, 1))]
    classes = (
        DeviceClass("s0", "gpu", counts[0], memory=draw(st.sampled_from([None, 4.0, 6.0])),
                    bandwidth=draw(st.sampled_from([None, 2.0, 4.0]))),
        DeviceClass("s1", "gpu", counts[1], bandwidth=draw(st.sampled_from([None, 1.0, 4.0])),
                    latency=draw(LATENCIES)),
        DeviceClass("cpu", "cpu", max(counts[2], 1 if counts[1] == 0 else 0),
                    pays_communication=draw(st.integers(0, 3)) == 0),
    )
    links = []
    for a, b in itertools.combinations_with_replacement(("s0", "s1", "cpu"), 2):
        if draw(st.integers(0, 1)):
            links.append(Link(a, b, draw(RATES), draw(LATENCIES)))
    half = st.integers(0, 8).map(lambda k: k / 2)
    nodes, edges = [], []
    size = {}
    for i in range(n):
        supported = {"s0", "s1", "cpu"} if draw(st.integers(0, 5)) else {"s1", "cpu"}
        nodes.append(OpNode(f"v{i}", {"s0": draw(half), "s1": draw(half), "cpu": draw(half) + 2},
                            frozenset(supported), memory=float(draw(st.integers(0, 3))), color_class=f"v{i}"))
        size[f"v{i}"] = float(draw(st.integers(0, 8)))
        if training:
            nodes.append(OpNode(f"g{i}", {"s0": draw(half), "s1": draw(half), "cpu": draw(half) + 2},
                                frozenset(supported), backward=True, color_class=f"v{i}"))
            size[f"g{i}"] = float(draw(st.integers(0, 8)))
    for i in range(n - 1):
        edges.append(OpEdge(f"v{i}", f"v{i + 1}", draw(half), size[f"v{i}"]))
    if training:
        edges.append(OpEdge(f"v{n - 1}", f"g{n - 1}", 0.0, size[f"v{n - 1}"]))
        for i in range(n - 1):
            edges.append(OpEdge(f"g{i + 1}", f"g{i}", 0.0, size[f"g{i + 1}"]))
    # out-edges of a node share one cost: take the first one's
    cost = {}
    edges = [OpEdge(e.source, e.target, cost.setdefault(e.source, e.cost), e.bytes) for e in edges]
    return Instance(OpGraph(tuple(nodes), tuple(edges)), Topology(classes, tuple(links)), "random-chain")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_chains(), st.booleans())
def test_chain_dp_equals_the_pipeline_milp(instance, overlap):
    assert chain_dp.chain_of(build_dp_graph(instance)) is not None
    by_milp = solve(instance, contiguity="pipeline", formulation="maxload", warm_start="none", overlap=overlap)
    by_dp = solve(instance, method="dp", overlap=overlap)
    assert by_dp.status == by_milp.status
    if by_milp.status == "optimal":
        assert close(by_dp.objective, by_milp.objective)
        assert by_dp.evaluation.contiguity.level == "pipeline"
    if len(instance.graph.colour_groups()) <= 4:
        expected = exhaustive_all_levels(instance, overlap=overlap)["pipeline"]
        assert (expected is None) == (by_dp.status == "infeasible")
        if expected is not None:
            assert close(by_dp.objective, expected)


def test_two_servers_example_is_a_chain_with_class_pair_links():
    inst = two_servers()
    chain_dp.check_links(inst)  # no refusal
    assert chain_dp.chain_of(build_dp_graph(inst)) is not None
    network = inst.topology.class_link("local", "remote")
    a = inst.graph.ids[0]
    assert inst.transfer_time(a, Device("local", 0), Device("remote", 0)) == network.cost(inst.graph.out_bytes(a))
    assert inst.transfer_time(a, Device("remote", 0), Device("remote", 1)) == inst.comm_time(a, "remote")


# --------------------------------------------------------------------------- baselines
def test_baselines_that_read_one_rate_per_class_refuse_partner_dependent_links():
    inst = Instance(_fan_out(), _servers([Link("s0", "s1", 1.0, 0.5)]))
    for method in ("pipedream", "local-search"):
        with pytest.raises(InputError) as err:
            BASELINES[method](inst)
        assert method in str(err.value) and "--method milp" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="group_loads"):
        group_loads(group_view(inst), np.zeros(4, dtype=np.int64))
    # partition only weighs its cut with the costs; its placement is scored by the evaluator
    assert solve(inst, method="partition").status == "feasible"
    # links that change no cost leave them alone
    same = Instance(_fan_out(), _servers([Link("s0", "s1", 4.0)]))
    assert solve(same, method="pipedream").status == "feasible"


# --------------------------------------------------------------------------- format
def test_native_format_round_trip_with_links(tmp_path):
    topo = _servers([Link("s0", "s1", 1.0, 0.5), Link("s0:0", "s1:1", 8.0), Link("s1", "s1", 2.0, 0.25)])
    inst = Instance(_fan_out(), topo, "fan")
    data = instance_to_dict(inst)  # auto: native, links are not in the paper's format
    assert data["format"] == "placement-ilp/instance"
    assert data["topology"]["links"][0] == {"between": ["s0", "s1"], "bandwidth": 1.0, "latency": 0.5}
    assert instance_from_dict(json.loads(json.dumps(data))).topology == topo
    path = tmp_path / "fan.json"
    save_instance(inst, path)
    again = load_instance(path)
    assert again.topology == topo and again.graph == inst.graph
    # without links the native topology has no "links" key (files written before are unchanged)
    assert "links" not in instance_to_dict(Instance(_fan_out(), _servers()))["topology"]
    with pytest.raises(InputError, match="native format"):
        instance_to_dict(inst, fmt="paper")
    # the CLI solves and evaluates it
    assert main(["solve", str(path), "--contiguity", "none", "-o", str(tmp_path / "p.json")]) == 0
    assert main(["evaluate", str(path), str(tmp_path / "p.json")]) == 0


def _native(links):
    return {
        "format": "placement-ilp/instance", "version": 1,
        "topology": {"classes": [
            {"name": "gpu", "kind": "gpu", "count": 2, "bandwidth": 4.0},
            {"name": "cpu", "kind": "cpu", "count": 1, "pays_communication": False}],
            "links": links},
        "nodes": [{"id": "a", "times": {"gpu": 1.0, "cpu": 2.0}}, {"id": "b", "times": {"gpu": 1.0, "cpu": 2.0}}],
        "edges": [{"source": "a", "target": "b", "bytes": 8.0}],
    }


BAD_LINKS = {
    "unknown class": ([{"between": ["gpu", "tpu"], "bandwidth": 1.0}], "unknown device class 'tpu'"),
    "unknown device": ([{"between": ["gpu:0", "gpu:2"], "bandwidth": 1.0}], "no device 'gpu:2'"),
    "unknown device class": ([{"between": ["gpu:0", "tpu:0"], "bandwidth": 1.0}], "unknown device class 'tpu'"),
    "mixed kinds": ([{"between": ["gpu", "cpu:0"], "bandwidth": 1.0}], "mixes a class and a device"),
    "device with itself": ([{"between": ["gpu:1", "gpu:1"], "bandwidth": 1.0}], "joins a device to itself"),
    "duplicate class pair": ([{"between": ["gpu", "cpu"], "bandwidth": 1.0},
                              {"between": ["cpu", "gpu"], "bandwidth": 2.0}], "linked twice"),
    "duplicate device pair": ([{"between": ["gpu:0", "gpu:1"], "bandwidth": 1.0},
                               {"between": ["gpu:1", "gpu:0"], "bandwidth": 2.0}], "linked twice"),
    "zero bandwidth": ([{"between": ["gpu", "cpu"], "bandwidth": 0}], "bandwidth must be positive"),
    "negative bandwidth": ([{"between": ["gpu", "cpu"], "bandwidth": -1.0}], "bandwidth is negative"),
    "missing bandwidth": ([{"between": ["gpu", "cpu"]}], "missing field 'bandwidth'"),
    "negative latency": ([{"between": ["gpu", "cpu"], "bandwidth": 1.0, "latency": -1.0}], "latency is negative"),
    "infinite latency": ([{"between": ["gpu", "cpu"], "bandwidth": 1.0, "latency": 1e999}], "latency is infinite"),
    "nan latency": ([{"between": ["gpu", "cpu"], "bandwidth": 1.0, "latency": float("nan")}], "latency is NaN"),
    "not a pair": ([{"between": ["gpu"], "bandwidth": 1.0}], "list of two class or device names"),
    "bad device name": ([{"between": ["gpu:x", "gpu:0"], "bandwidth": 1.0}], "not of the form CLASS:INDEX"),
    "unknown field": ([{"between": ["gpu", "cpu"], "bandwidth": 1.0, "bandwith": 2.0}], "unknown field 'bandwith'"),
    "links not a list": ({"between": ["gpu", "cpu"]}, "'links' must be a list"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINKS))
def test_every_bad_link_is_one_input_error_line(case, tmp_path, capsys):
    links, message = BAD_LINKS[case]
    with pytest.raises(InputError) as err:
        instance_from_dict(_native(links))
    assert message in str(err.value) and "\n" not in str(err.value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_native(links)))
    assert main(["info", str(path)]) == 2
    assert message in _one_line_error(capsys)


def test_bad_links_in_the_python_api():
    classes = _servers().classes
    for make, message in (
        (lambda: Link("s0", "s1:0", 1.0), "mixes a class and a device"),
        (lambda: Link("s0", "s1", float("inf")), "finite"),
        (lambda: Link("s0", "s1", 1.0, -0.5), ">= 0"),
        (lambda: Topology(classes, (Link("s0", "s9", 1.0),)), "unknown device class 's9'"),
        (lambda: Topology(classes, ("s0-s1",)), "must be Link values"),
    ):
        with pytest.raises(InputError, match=message):
            make()


def test_server_scaling_instances_have_the_documented_sizes(tmp_path):
    # docs/formulations.md, "How the model grows with the number of devices": D = 8
    from placement_ilp.cli import main
    from placement_ilp.workloads.examples import server_scaling, write_scaling
    from placement_ilp.io import load_instance as load
    from placement_ilp.solving import build

    base = tmp_path / "base.json"
    assert main(["generate", "-o", str(base), "--layers", "16", "--width", "4", "--seed", "1"]) == 0
    made = server_scaling(load(base), 8)
    sizes = {name: build(inst, "maxload", contiguity="none").model for name, inst in made.items()}
    assert (sizes["nolinks"].num_rows, sizes["nolinks"].num_cols, sizes["nolinks"].num_entries) == (2129, 1033, 8025)
    assert (sizes["servers"].num_rows, sizes["servers"].num_cols, sizes["servers"].num_entries) == (4049, 1489, 20001)
    assert (sizes["devpairs"].num_rows, sizes["devpairs"].num_entries) == (4049, 20001)
    pipeline = build(made["servers"], "maxload", contiguity="pipeline").model
    assert (pipeline.num_rows, pipeline.num_cols, pipeline.num_entries) == (12541, 4576, 56287)
    with pytest.raises(InputError, match="multiple of 4"):
        server_scaling(load(base), 6)
    paths = write_scaling(base, tmp_path / "scaling", sizes=(4,))
    assert sorted(p.name for p in paths) == ["classes_4.json", "devpairs_4.json", "nolinks_4.json", "servers_4.json"]
    with pytest.raises(InputError, match="refusing to overwrite"):
        write_scaling(base, tmp_path / "scaling", sizes=(4,))
