"""Tests of placement_ilp.evaluate: numbers checked by hand, violations, paper experts."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from placement_ilp.errors import InputError
from placement_ilp.evaluation.maxload import Evaluation, evaluate
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.data.placement import Placement
from placement_ilp.data.topology import Device, DeviceClass, Topology, paper_topology

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PAPER = SHARED / "instances" / "tarnawski2020"

A0, A1, A2 = Device("acc", 0), Device("acc", 1), Device("acc", 2)
C0 = Device("cpu", 0)


def node(id, acc=1.0, cpu=10.0, *, mem=0.0, backward=False, cc=None, on_acc=True):
    supported = frozenset({"acc", "cpu"} if on_acc else {"cpu"})
    return OpNode(id, {"acc": acc, "cpu": cpu}, supported, mem, backward, cc)


def instance(nodes, edges, k=2, l=1, memory=None):
    graph = OpGraph(tuple(nodes), tuple(OpEdge(*e) for e in edges))
    return Instance(graph, paper_topology(k, l, memory), "tiny")


def test_loads_by_hand():
    # a -> b, a -> c, b -> d, c -> d; a, b on acc:0; c, d on acc:1.
    inst = instance(
        [node("a", 1), node("b", 2), node("c", 4), node("d", 8)],
        [("a", "b", 0.5), ("a", "c", 0.5), ("b", "d", 0.25), ("c", "d", 0.125)],
    )
    ev = evaluate(inst, Placement({"a": A0, "b": A0, "c": A1, "d": A1}))
    r0, r1, rc = ev.devices
    assert (r0.device, r1.device, rc.device) == (A0, A1, C0)
    # acc:0 sends a (0.5) and b (0.25); acc:1 receives a and b.
    assert (r0.nodes, r0.compute, r0.communication, r0.load) == (2, 3.0, 0.75, 3.75)
    assert (r1.nodes, r1.compute, r1.communication, r1.load) == (2, 12.0, 0.75, 12.75)
    assert (rc.nodes, rc.load, rc.memory) == (0, 0.0, 0.0)  # empty devices are listed
    assert ev.max_load == ev.objective_value == ev.different_maxima == 12.75
    assert ev.feasible and ev.violations == ()
    assert r0.forward_load == r0.load and r0.backward_load == 0.0


def test_comm_charged_once_per_node_and_device():
    # a feeds b, c, d on acc:1 and e on acc:2: a is charged once on each device.
    inst = instance(
        [node("a", 1), node("b", 1), node("c", 1), node("d", 1), node("e", 1)],
        [("a", "b", 2.0), ("a", "c", 2.0), ("a", "d", 2.0), ("a", "e", 2.0)],
        k=3,
    )
    ev = evaluate(inst, Placement({"a": A0, "b": A1, "c": A1, "d": A1, "e": A2}))
    assert [r.communication for r in ev.devices] == [2.0, 2.0, 2.0, 0.0]
    assert [r.load for r in ev.devices] == [3.0, 5.0, 3.0, 0.0]
    # a node with one successor on its own device and one elsewhere still pays once
    ev = evaluate(inst, Placement({"a": A0, "b": A0, "c": A0, "d": A0, "e": A1}))
    assert ev.device(A0).communication == 2.0
    assert ev.device(A1).communication == 2.0


def test_cpu_pays_no_communication_and_uses_cpu_time():
    inst = instance([node("a", 1, 10), node("b", 2, 20), node("c", 3, 30)], [("a", "b", 0.5), ("b", "c", 0.25)])
    ev = evaluate(inst, Placement({"a": A0, "b": C0, "c": A0}))
    assert ev.device(C0).compute == 20.0 and ev.device(C0).communication == 0.0
    # acc:0 sends a and receives b
    assert ev.device(A0).compute == 4.0 and ev.device(A0).communication == 0.75
    assert ev.max_load == 20.0


def test_overlap():
    inst = instance([node("a", 1), node("b", 5)], [("a", "b", 3.0)])
    p = Placement({"a": A0, "b": A1})
    seq = evaluate(inst, p)
    ovl = evaluate(inst, p, overlap=True)
    assert [r.load for r in seq.devices] == [4.0, 8.0, 0.0]
    assert [r.load for r in ovl.devices] == [3.0, 5.0, 0.0]
    assert ovl.max_load == 5.0 and ovl.overlap and not seq.overlap
    assert ovl.device(A0).compute == 1.0 and ovl.device(A0).communication == 3.0


def training_instance():
    # forward f1 -> f2, backward b2 -> b1, twins f1/b1 (class 1), f2/b2 (class 2).
    nodes = [
        node("f1", 5, cc=1),
        node("f2", 3, cc=2),
        node("b2", 6, backward=True, cc=2),
        node("b1", 2, backward=True, cc=1),
    ]
    edges = [("f1", "f2", 0.5), ("f1", "b1", 0.5), ("f2", "b2", 0.75), ("b2", "b1", 0.25)]
    return instance(nodes, edges)


def test_training_sum_and_different_maxima():
    inst = training_instance()
    p = Placement({"f1": A0, "b1": A0, "f2": A1, "b2": A1})
    ev = evaluate(inst, p)
    a0, a1 = ev.device(A0), ev.device(A1)
    # acc:0: FW 5 + 0.5 (f1 sent), BW 2 + 0.25 (b2 received); acc:1: FW 3 + 0.5, BW 6 + 0.25
    assert (a0.forward_load, a0.backward_load, a0.load) == (5.5, 2.25, 7.75)
    assert (a1.forward_load, a1.backward_load, a1.load) == (3.5, 6.25, 9.75)
    assert ev.max_load == 9.75 and ev.objective == "sum" and ev.objective_value == 9.75
    assert ev.different_maxima == 5.5 + 6.25
    dm = evaluate(inst, p, objective="different-maxima")
    assert dm.objective_value == 11.75 and dm.max_load == 9.75
    # with overlap: loads max(compute, comm); FW/BW likewise
    ov = evaluate(inst, p, objective="different-maxima", overlap=True)
    assert (ov.device(A0).load, ov.device(A1).load) == (7.0, 9.0)
    assert ov.different_maxima == 5.0 + 6.0 == ov.objective_value
    assert ev.feasible and ev.contiguity.level == "pipeline"


def test_inference_objectives_coincide():
    inst = instance([node("a", 1), node("b", 2), node("c", 3)], [("a", "b", 1.0), ("b", "c", 1.0)])
    p = Placement({"a": A0, "b": A1, "c": A0})
    ev = evaluate(inst, p, objective="different-maxima")
    assert ev.max_load == ev.different_maxima == ev.objective_value


def test_memory_violation_names_largest_node():
    inst = instance([node("a", mem=6), node("b", mem=5), node("c", mem=1)], [("a", "b", 0.0)], memory=10)
    ev = evaluate(inst, Placement({"a": A0, "b": A0, "c": A1}))
    assert not ev.feasible
    (v,) = ev.violations
    assert v.kind == "memory" and v.node == "a" and "acc:0" in v.message and "'a'" in v.message
    assert ev.device(A0).memory == 11 and ev.device(A0).memory_capacity == 10
    assert ev.device(C0).memory_capacity is None
    # CPUs have unlimited memory
    assert evaluate(inst, Placement({"a": C0, "b": C0, "c": A1})).feasible


def test_memory_tolerance():
    inst = instance([node("a", mem=0.1), node("b", mem=0.2)], [], memory=0.3)
    assert 0.1 + 0.2 > 0.3  # floating point
    assert evaluate(inst, Placement({"a": A0, "b": A0})).feasible


def test_support_violation_still_counts_time():
    inst = instance([node("a", 1), node("u", 7, 70, on_acc=False)], [("a", "u", 0.0)])
    ev = evaluate(inst, Placement({"a": A0, "u": A0}))
    (v,) = ev.violations
    assert v.kind == "support" and v.node == "u" and "'u'" in v.message and "acc:0" in v.message
    assert ev.device(A0).compute == 8.0
    assert evaluate(inst, Placement({"a": A0, "u": C0})).feasible


def test_missing_time_is_infinite_and_json_safe():
    topo = Topology(
        (DeviceClass("gpu", "gpu", 1, None, True), DeviceClass("host", "cpu", 1, None, False))
    )
    graph = OpGraph((OpNode("a", {"host": 1.0}), OpNode("b", {"gpu": 1.0, "host": 2.0})), ())
    inst = Instance(graph, topo)
    ev = evaluate(inst, Placement({"a": Device("gpu", 0), "b": Device("gpu", 0)}))
    assert math.isinf(ev.max_load) and [v.kind for v in ev.violations] == ["support"]
    json.dumps(ev.to_dict(), allow_nan=False)


def test_colocation_violation():
    inst = training_instance()
    ev = evaluate(inst, Placement({"f1": A0, "b1": A1, "f2": A1, "b2": A1}))
    (v,) = ev.violations
    assert v.kind == "colocation" and v.node == "b1"
    assert "'f1'" in v.message and "acc:0" in v.message and "acc:1" in v.message


def test_bandwidth_topology():
    topo = Topology(
        (
            DeviceClass("gpu", "gpu", 2, 100.0, True, bandwidth=2.0, latency=0.1),
            DeviceClass("host", "cpu", 1, None, False),
        )
    )
    graph = OpGraph(
        (OpNode("a", {"gpu": 1.0, "host": 3.0}), OpNode("b", {"gpu": 1.0, "host": 3.0})),
        (OpEdge("a", "b", bytes=4.0),),
    )
    inst = Instance(graph, topo)
    ev = evaluate(inst, Placement({"a": Device("gpu", 0), "b": Device("gpu", 1)}))
    assert [r.load for r in ev.devices] == pytest.approx([3.1, 3.1, 0.0])
    ev = evaluate(inst, Placement({"a": Device("gpu", 0), "b": Device("host", 0)}))
    assert [r.load for r in ev.devices] == pytest.approx([3.1, 0.0, 3.0])


def test_bad_input():
    inst = instance([node("a"), node("b")], [("a", "b", 1.0)])
    with pytest.raises(InputError, match="'b'"):
        evaluate(inst, Placement({"a": A0}))
    with pytest.raises(InputError, match="unknown device"):
        evaluate(inst, Placement({"a": A0, "b": Device("acc", 9)}))
    with pytest.raises(InputError, match="objective"):
        evaluate(inst, Placement({"a": A0, "b": A0}), objective="max")


def test_to_dict_and_summary():
    inst = instance([node("a", 1), node("b", 2), node("c", 3)], [("a", "b", 1.0), ("b", "c", 1.0)])
    ev = evaluate(inst, Placement({"a": A0, "b": A1, "c": A0}))
    d = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
    assert [r["device"] for r in d["devices"]] == ["acc:0", "acc:1", "cpu:0"]
    assert d["max_load"] == ev.max_load and d["feasible"] is True
    assert d["contiguity"]["level"] == "none"
    text = ev.summary()
    assert "acc:1" in text and "max-load" in text and "feasible: yes" in text
    assert "contiguity: none" in text and "a -> b (acc:1) -> c" in text
    assert isinstance(ev, Evaluation)


# -- the paper's human-expert splits ---------------------------------------------

EXPERTS = {
    "resnet50_inference": 43.9183,
    "inceptionv3_inference": 102.482,
    "gnmt_inference": 46.2085,
    "gnmt_training": 137.154,
    "bert24_inference": 20.084,
    "bert24_training": 49.4049,
}


def paper_files(name):
    if not PAPER.is_dir():
        pytest.skip(f"shared paper instances not found at {PAPER}")
    inst_path = PAPER / "throughput" / "LayerGraphs" / f"{name}.json"
    expert_path = PAPER / "experts" / f"{name}_expert.json"
    if not inst_path.is_file() or not expert_path.is_file():
        pytest.skip(f"{inst_path.name} or {expert_path.name} missing under {PAPER}")
    return inst_path, expert_path


@pytest.mark.parametrize("name", sorted(EXPERTS))
def test_paper_expert_max_load(name):
    from placement_ilp.io import load_instance, load_placement

    inst_path, expert_path = paper_files(name)
    inst = load_instance(inst_path)
    ev = evaluate(inst, load_placement(expert_path, inst))
    assert ev.max_load == pytest.approx(EXPERTS[name], abs=1e-3)
    assert ev.feasible


@pytest.mark.parametrize("name", ["gnmt_training", "bert24_training"])
def test_expert_forward_only_completed_by_colour(name, tmp_path):
    from placement_ilp.io import load_instance, load_placement

    inst_path, expert_path = paper_files(name)
    inst = load_instance(inst_path)
    backward = {n.id for n in inst.graph.nodes if n.backward}
    assert backward
    data = json.loads(expert_path.read_text())
    for entry in data["fpgas"] + data["cpus"]:
        entry["nodes"] = [v for v in entry["nodes"] if v not in backward]
    reduced = tmp_path / f"{name}_forward_only.json"
    reduced.write_text(json.dumps(data))
    p = load_placement(reduced, inst)
    assert set(p.assignment) == set(inst.graph.ids)
    ev = evaluate(inst, p)
    assert ev.max_load == pytest.approx(EXPERTS[name], abs=1e-3)
    assert ev.feasible


def test_largest_graph_evaluates():
    from placement_ilp.io import load_instance

    path = PAPER / "throughput" / "OperatorGraphs" / "bert_L-12_training.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    inst = load_instance(path)
    rng = random.Random(1)
    devices = inst.topology.devices()
    p = Placement({v: rng.choice(devices) for v in inst.graph.ids})
    ev = evaluate(inst, p)
    assert len(ev.devices) == len(devices) == 7
    assert sum(r.nodes for r in ev.devices) == len(inst.graph) == 2012
