"""Heterogeneous topologies: several device classes with their own counts, memory,
support and link bandwidth/latency.

- random small instances with two or three classes (two GPU generations, a DSA that
  runs only some nodes, CPUs; classes in any order): the MILP at every contiguity
  level equals exhaustive search scored by the evaluator, and the DP equals the
  pipeline MILP;
- the paper's throughput workloads keep their DP optimum when written in the
  native format, when their edge costs become bytes over a bandwidth, and when
  their accelerators are split into two identical classes;
- the shipped heterogeneous examples are what ``placement_ilp.examples`` makes
  today, and the DP equals the pipeline MILP on them; two_servers charges the
  network only between its servers (class-pair links; tests/test_links.py has the rest).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp.workloads import examples
from placement_ilp.evaluation.maxload import evaluate
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import instance_to_dict, load_instance, save_instance
from placement_ilp.data.placement import Placement
from placement_ilp.solving import solve
from placement_ilp.data.topology import Device, DeviceClass, Topology

from .conftest import REPO, paper_files, paper_path
from .test_maxload import exhaustive as exhaustive_unpruned

LEVELS = ("pipeline", "convex", "none")
RANK = {"none": 0, "convex": 1, "pipeline": 2}
# examples per random test; raise it to search harder (HETEROGENEOUS_EXAMPLES=1000)
EXAMPLES = int(os.environ.get("HETEROGENEOUS_EXAMPLES", "50"))


# --------------------------------------------------------------------------- helpers
def exhaustive_all_levels(instance, objective="sum", overlap=False, cpu_contiguity=True):
    """The best evaluator-scored value at each contiguity level, by exhaustive search.

    Two reductions keep it small and lose nothing: a colour class is placed as one
    unit (a split class is infeasible anyway), and within a device class devices are
    opened in order (device i+1 only once device i holds something), because devices
    of one class are identical: renaming them changes no load, no violation and no
    contiguity level. Returns ``{level: value or None}``; ``None`` when no feasible
    placement reaches that level. Cost: (number of devices)^(number of groups)
    evaluations at most.
    """
    groups = instance.graph.colour_groups()
    classes = instance.topology.classes

    def assignments(k, used):
        if k == len(groups):
            yield []
            return
        for c, dc in enumerate(classes):
            for index in range(min(dc.count, used[c] + 1)):
                more = list(used)
                more[c] = max(used[c], index + 1)
                for rest in assignments(k + 1, more):
                    yield [Device(dc.name, index)] + rest

    return best_per_level(instance, groups, assignments(0, [0] * len(classes)), objective, overlap, cpu_contiguity)


def best_per_level(instance, groups, choices, objective="sum", overlap=False, cpu_contiguity=True):
    """Score every choice (one device per colour group, in ``groups`` order) with the
    evaluator and keep the best value at each contiguity level it reaches:
    ``{level: value or None}``. O(len(choices)) evaluations."""
    best: dict[str, float | None] = {level: None for level in LEVELS}
    for choice in choices:
        placement = Placement({v: d for group, d in zip(groups, choice) for v in group})
        ev = evaluate(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
        if not ev.feasible:
            continue
        for level in LEVELS:
            if RANK[ev.contiguity.level] >= RANK[level] and (best[level] is None or ev.objective_value < best[level]):
                best[level] = ev.objective_value
    return best


def close(a, b):
    return a == pytest.approx(b, rel=1e-6, abs=1e-9)


# roles a device class can play in a random instance: (kind, counts to draw from)
ROLES = {
    "new": ("gpu", (1, 2)),
    "old": ("gpu", (1, 2)),
    "dsa": ("dsa", (1,)),
    "cpu": ("cpu", (0, 1, 1, 2)),
}
HALVES = st.integers(0, 8).map(lambda k: k / 2)


@st.composite
def heterogeneous_instances(draw, max_devices: int = 4):
    """2 or 3 device classes (GPUs of two generations, a DSA, CPUs; in a random
    order) with at most ``max_devices`` devices, and 3 to 6 nodes; sometimes a
    training graph with colour classes, sometimes memory that binds.

    Each class may have a memory, and either a bandwidth and latency (a transfer
    costs bytes / bandwidth + latency) or none (the edge's cost is paid). The DSA
    runs only some nodes; a CPU class pays communication only sometimes. Numbers
    are multiples of 1/4 so that sums are exact.
    """
    names = draw(st.lists(st.sampled_from(sorted(ROLES)), min_size=2, max_size=3, unique=True))
    classes = []
    budget = max_devices
    for k, name in enumerate(names):
        kind, counts = ROLES[name]
        left = len(names) - k - 1
        count = min(draw(st.sampled_from(counts)), budget - left)
        budget -= count
        bandwidth = draw(st.sampled_from([None, 0.5, 1.0, 2.0, 4.0]))
        classes.append(
            DeviceClass(
                name=name,
                kind=kind,
                count=count,
                memory=None if kind == "cpu" or draw(st.booleans()) else float(draw(st.integers(2, 8))),
                pays_communication=kind != "cpu" or draw(st.integers(0, 3)) == 0,
                bandwidth=bandwidth,
                latency=0.0 if bandwidth is None else draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
            )
        )
    topology = Topology(tuple(classes))

    training = draw(st.booleans())
    n_forward = draw(st.integers(2, 3) if training else st.integers(3, 6))
    forward = list(range(n_forward))
    pairs = [(u, v) for u in forward for v in forward if u < v and draw(st.integers(0, 2)) == 0]
    backward: list[tuple[int, int]] = []
    if training:
        twins = draw(st.lists(st.sampled_from(forward), unique=True, min_size=1, max_size=6 - n_forward))
        backward = [(n_forward + k, f) for k, f in enumerate(sorted(twins))]
        twin_of = {f: b for b, f in backward}
        pairs += [(twin_of[v], twin_of[u]) for u, v in pairs if u in twin_of and v in twin_of]
        pairs += [(f, b) for b, f in backward if draw(st.booleans())]
    colour = {f: f for f in forward}
    colour.update({b: f for b, f in backward})

    nodes = []
    for v in forward + [b for b, _ in backward]:
        times, supported = {}, set()
        for name in names:
            if name == "cpu":
                times[name] = draw(HALVES) + 1.0
                supported.add(name)
            elif name == "dsa":  # fast, but only on some nodes ("matmul-like")
                times[name] = draw(st.integers(0, 2)) / 2
                if draw(st.booleans()):
                    supported.add(name)
            else:
                times[name] = draw(HALVES)
                if draw(st.integers(0, 7)):
                    supported.add(name)
        nodes.append(
            OpNode(
                id=v,
                times=times,
                supported=frozenset(supported),
                memory=float(draw(st.integers(0, 3))),
                backward=v >= n_forward,
                color_class=colour[v] if training else None,
            )
        )
    cost = {v: draw(HALVES) / 2 for v in colour}
    size = {v: draw(st.one_of(st.none(), st.integers(0, 6).map(float))) for v in colour}
    graph = OpGraph(tuple(nodes), tuple(OpEdge(u, v, cost[u], size[u]) for u, v in pairs))
    return Instance(graph, topology, "random-heterogeneous")


VARIANTS = [("maxload", "none"), ("maxload", "auto"), ("maxload-strong", "none"), ("maxload-strong", "auto")]


# --------------------------------------------------------------------------- random instances
def test_the_exhaustive_helper_agrees_with_the_unpruned_search():
    """Both reductions of ``exhaustive_all_levels`` lose nothing on a few instances
    (the unpruned search tries every device for every node)."""
    inst = _three_class_chain()
    best = exhaustive_all_levels(inst)
    for level in LEVELS:
        assert close(best[level], exhaustive_unpruned(inst, level))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(max_devices=3), st.booleans())
def test_pruned_exhaustive_search_equals_the_unpruned_one(instance, overlap):
    best = exhaustive_all_levels(instance, overlap=overlap)
    for level in LEVELS:
        plain = exhaustive_unpruned(instance, level, overlap=overlap)
        assert (best[level] is None) == (plain is None)
        if plain is not None:
            assert close(best[level], plain)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans(), st.sampled_from(["sum", "different-maxima"]), st.booleans())
def test_milp_equals_exhaustive_search_on_heterogeneous_topologies(instance, overlap, objective, cpu_contiguity):
    expected = exhaustive_all_levels(instance, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    for formulation, start in VARIANTS:
        for level in LEVELS:
            result = solve(instance, contiguity=level, formulation=formulation, warm_start=start,
                           objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
            where = f"{formulation} warm start {start} at {level}"
            if expected[level] is None:
                assert result.status == "infeasible" and result.placement is None, where
                continue
            assert result.status == "optimal", where
            assert close(result.objective, expected[level]), where
            # HiGHS meets its rows to 1e-6 (absolute below 1), as solve() allows
            assert result.solver_objective == pytest.approx(result.objective, rel=1e-6, abs=2e-6), where
            assert RANK[result.evaluation.contiguity.level] >= RANK[level], where


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heterogeneous_instances(), st.booleans())
def test_dp_equals_pipeline_milp_on_heterogeneous_topologies(instance, overlap):
    by_dp = solve(instance, method="dp", overlap=overlap)
    by_milp = solve(instance, contiguity="pipeline", formulation="maxload", warm_start="none", overlap=overlap)
    assert by_dp.status == by_milp.status
    if by_milp.status == "optimal":
        assert close(by_dp.objective, by_milp.objective)
        assert by_dp.evaluation.contiguity.level == "pipeline"


# --------------------------------------------------------------------------- hand-made cases
def _three_class_chain() -> Instance:
    """a -> b -> c -> d on one new GPU (fast link), one old GPU (slow link with a
    latency, small memory), a DSA that runs only b and c, and a CPU."""
    topo = Topology((
        DeviceClass("new", "gpu", 1, memory=6.0, bandwidth=4.0, latency=0.0),
        DeviceClass("old", "gpu", 1, memory=3.0, bandwidth=1.0, latency=0.5),
        DeviceClass("dsa", "dsa", 1, memory=None, bandwidth=2.0, latency=0.25),
        DeviceClass("cpu", "cpu", 1, pays_communication=False),
    ))
    nodes = (
        OpNode("a", {"new": 2.0, "old": 3.0, "dsa": 9.0, "cpu": 8.0}, supported=frozenset({"new", "old", "cpu"}),
               memory=2.0),
        OpNode("b", {"new": 3.0, "old": 4.0, "dsa": 1.0, "cpu": 12.0}, memory=3.0),
        OpNode("c", {"new": 3.0, "old": 4.0, "dsa": 1.0, "cpu": 12.0}, memory=3.0),
        OpNode("d", {"new": 1.0, "old": 1.5, "cpu": 2.0}, memory=1.0),
    )
    edges = (OpEdge("a", "b", 1.0, 4.0), OpEdge("b", "c", 1.0, 2.0), OpEdge("c", "d", 1.0, 8.0))
    return Instance(OpGraph(nodes, edges), topo, "three-classes")


def test_transfer_cost_is_bytes_over_bandwidth_plus_latency_per_class():
    inst = _three_class_chain()
    assert inst.comm_time("a", "new") == pytest.approx(4.0 / 4.0)
    assert inst.comm_time("a", "old") == pytest.approx(4.0 / 1.0 + 0.5)
    assert inst.comm_time("c", "dsa") == pytest.approx(8.0 / 2.0 + 0.25)
    assert inst.comm_time("c", "cpu") == 0.0  # CPUs do not pay here
    assert inst.comm_time("d", "new") == 0.0  # no successor, nothing leaves
    # a on new:0, b and c on dsa:0, d on cpu:0: new pays a's output (1), the DSA pays
    # a's output in (2 + 0.25) and c's output out (4 + 0.25)
    ev = evaluate(inst, Placement({"a": ("new", 0), "b": ("dsa", 0), "c": ("dsa", 0), "d": ("cpu", 0)}))
    assert ev.feasible and ev.contiguity.level == "pipeline"
    assert ev.device(("new", 0)).load == pytest.approx(2.0 + 1.0)
    assert ev.device(("dsa", 0)).load == pytest.approx(2.0 + 2.25 + 4.25)
    assert ev.device(("cpu", 0)).load == pytest.approx(2.0)
    assert ev.max_load == pytest.approx(8.5)


def test_three_class_chain_every_method_agrees_with_exhaustive_search():
    inst = _three_class_chain()
    best = exhaustive_all_levels(inst)
    assert close(solve(inst, method="dp").objective, best["pipeline"])
    for level in LEVELS:
        assert close(solve(inst, contiguity=level).objective, best[level])


def test_memory_is_checked_per_class():
    inst = _three_class_chain()
    # b and c (6 units) fit the new GPU (6) but not the old one (3)
    on_new = Placement({"a": ("cpu", 0), "b": ("new", 0), "c": ("new", 0), "d": ("cpu", 0)})
    on_old = Placement({"a": ("cpu", 0), "b": ("old", 0), "c": ("old", 0), "d": ("cpu", 0)})
    assert evaluate(inst, on_new).feasible
    assert [v.kind for v in evaluate(inst, on_old).violations] == ["memory"]


def test_a_class_without_devices_is_never_used():
    inst = _three_class_chain()
    classes = tuple(DeviceClass(c.name, c.kind, 0 if c.name == "dsa" else c.count, c.memory,
                                c.pays_communication, c.bandwidth, c.latency) for c in inst.topology.classes)
    no_dsa = Instance(inst.graph, Topology(classes), "no-dsa")
    best = exhaustive_all_levels(no_dsa)
    by_dp = solve(no_dsa, method="dp")
    assert close(by_dp.objective, best["pipeline"])
    assert all(d.cls != "dsa" for d in by_dp.placement.assignment.values())
    for level in LEVELS:
        result = solve(no_dsa, contiguity=level)
        assert close(result.objective, best[level])
        assert all(d.cls != "dsa" for d in result.placement.assignment.values())


# --------------------------------------------------------------------------- the paper's workloads
SMALL_PAPER = [
    "throughput/LayerGraphs/bert24_inference.json",
    "throughput/LayerGraphs/bert24_training.json",
    "throughput/LayerGraphs/resnet50_inference.json",
    "throughput/LayerGraphs/resnet50_training.json",
    "throughput/OperatorGraphs/resnet50_inference.json",
]
ALL_PAPER = paper_files("throughput") or SMALL_PAPER


def _as_bandwidth(instance: Instance, bandwidth: float = 2.0**30) -> Instance:
    """The same instance with each edge cost turned into bytes over one bandwidth:
    every out-edge of u carries ``cost(u) * bandwidth`` bytes, the accelerator class
    gets ``bandwidth`` (and no latency), so every transfer costs what it did."""
    edges = tuple(OpEdge(e.source, e.target, 0.0, e.cost * bandwidth) for e in instance.graph.edges)
    classes = tuple(
        DeviceClass(c.name, c.kind, c.count, c.memory, c.pays_communication,
                    bandwidth if c.pays_communication else None, 0.0)
        for c in instance.topology.classes
    )
    return Instance(OpGraph(instance.graph.nodes, edges), Topology(classes), instance.name)


def _split_accelerators(instance: Instance) -> Instance:
    """The accelerators split into two identical classes ``acc_a`` (half, rounded up)
    and ``acc_b``, put after the CPUs: the same devices, so the same optimum."""
    acc, cpu = instance.topology.class_of("acc"), instance.topology.class_of("cpu")
    first = (acc.count + 1) // 2
    classes = (
        cpu,
        DeviceClass("acc_a", acc.kind, first, acc.memory, acc.pays_communication, acc.bandwidth, acc.latency),
        DeviceClass("acc_b", acc.kind, acc.count - first, acc.memory, acc.pays_communication, acc.bandwidth,
                    acc.latency),
    )
    nodes = []
    for n in instance.graph.nodes:
        times = {"cpu": n.times["cpu"], "acc_a": n.times["acc"], "acc_b": n.times["acc"]}
        supported = {"cpu"} | ({"acc_a", "acc_b"} if "acc" in n.supported else set())
        nodes.append(OpNode(n.id, times, frozenset(supported), n.memory, n.backward, n.color_class, n.name,
                            n.layer_id))
    return Instance(OpGraph(tuple(nodes), instance.graph.edges), Topology(classes), instance.name)


def _check_paper_workload(relative: str, tmp_path: Path) -> None:
    original = load_instance(paper_path(relative))
    reference = solve(original, method="dp")
    assert reference.status == "optimal"
    path = tmp_path / "native.json"
    save_instance(original, path, fmt="native")
    native = load_instance(path)
    assert json.loads(path.read_text())["format"] == "placement-ilp/instance"
    assert native.graph == original.graph and native.topology == original.topology
    for variant in (native, _as_bandwidth(native), _split_accelerators(native)):
        again = solve(variant, method="dp")
        assert again.status == "optimal"
        assert again.objective == pytest.approx(reference.objective, rel=1e-6)


@pytest.mark.parametrize("relative", SMALL_PAPER)
def test_paper_workload_in_native_format_keeps_its_dp_optimum(relative, tmp_path):
    _check_paper_workload(relative, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("relative", ALL_PAPER)
def test_every_paper_workload_in_native_format_keeps_its_dp_optimum(relative, tmp_path):
    _check_paper_workload(relative, tmp_path)


# --------------------------------------------------------------------------- shipped examples
SHIPPED = REPO / "instances" / "heterogeneous"


@pytest.mark.parametrize("name", sorted(examples.EXAMPLES))
def test_shipped_example_is_what_the_module_makes(name):
    shipped = json.loads((SHIPPED / f"{name}.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(instance_to_dict(examples.EXAMPLES[name](), fmt="native")))


def test_examples_have_what_their_docstrings_say():
    sizes = {name: len(make().graph) for name, make in examples.EXAMPLES.items()}
    assert all(40 <= n <= 150 for n in sizes.values()), sizes
    for make in examples.EXAMPLES.values():
        classes = make().topology.classes
        assert len(classes) == 3 and sum(c.kind == "cpu" for c in classes) == 1
        topology = make().topology
        rates = {(c.bandwidth, c.latency) for c in classes if c.pays_communication}
        rates |= {(link.bandwidth, link.latency) for link in topology.links}
        assert len(rates) >= 2
    generations = examples.gpu_generations().topology
    assert generations.class_of("a100").memory > generations.class_of("v100").memory
    dsa = examples.gpu_dsa()
    on_dsa = {n.name for n in dsa.graph.nodes if "dsa" in n.supported}
    assert on_dsa == {"matmul", "attention"}
    assert all(n.times["dsa"] < n.times["gpu"] for n in dsa.graph.nodes if "dsa" in n.supported)
    servers = examples.two_servers()
    assert servers.graph.is_training
    local, remote = servers.topology.class_of("local"), servers.topology.class_of("remote")
    network = servers.topology.class_link("local", "remote")
    assert local.bandwidth == remote.bandwidth  # NVLink inside each server
    assert network.bandwidth < local.bandwidth and network.latency > local.latency
    assert servers.links_change_costs and not servers.device_links_change_costs
    # every residual block is one colour class: the groups form a chain, so the DP applies
    assert len(servers.graph.colour_groups()) == 21


# the MILP proves gpu_generations in 30 to 60 s on a busy 2-core machine: slow
@pytest.mark.parametrize(
    "name", [pytest.param("gpu_generations", marks=pytest.mark.slow), "gpu_dsa", "two_servers"]
)
def test_dp_equals_pipeline_milp_on_shipped_example(name):
    instance = load_instance(SHIPPED / f"{name}.json")
    by_dp = solve(instance, method="dp")
    # started from the DP's placement with its value as an upper bound: the MILP must
    # still prove that nothing is better, so a DP that missed the optimum fails here
    by_milp = solve(instance, contiguity="pipeline", time_limit=300)
    assert by_dp.status == by_milp.status == "optimal"
    assert close(by_dp.objective, by_milp.objective)


def test_examples_command_writes_refuses_and_forces(tmp_path, capsys):
    out = tmp_path / "made"
    assert examples.main([str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.json" for n in examples.EXAMPLES)
    assert examples.main([str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "--force" in err
    assert examples.main([str(out), "--force"]) == 0
    (tmp_path / "file").write_text("x")
    assert examples.main([str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_two_servers_pays_the_network_only_between_the_servers():
    """The shipped two_servers example: a transfer inside a server costs both GPUs
    NVLink, one between the servers costs both the network (class-pair link), and the
    DP (the chain DP: its colour classes form a chain) prices the same as the evaluator."""
    servers = examples.two_servers()
    groups = servers.graph.colour_groups()
    cut = len(groups) // 2
    first = [v for group in groups[:cut] for v in group]
    for a, b in ((("remote", 0), ("remote", 1)), (("local", 0), ("remote", 0))):
        placement = Placement({v: (a if v in first else b) for v in servers.graph.ids})
        ev = evaluate(servers, placement)
        crossing = [u for u in servers.graph.ids
                    if any((u in first) != (w in first) for w in servers.graph.successors(u))]
        link = servers.topology.link_between(Device(*a), Device(*b))
        own = servers.topology.class_of(a[0])
        rate = (own.bandwidth, own.latency) if link is None else (link.bandwidth, link.latency)
        expected = sum(servers.graph.out_bytes(u) / rate[0] + rate[1] for u in crossing)
        assert close(ev.device(a).communication, expected)
        assert close(ev.device(b).communication, expected)
        assert (link is None) == (a[0] == b[0])
    by_dp = solve(servers, method="dp")
    assert by_dp.status == "optimal" and by_dp.evaluation.contiguity.level == "pipeline"
