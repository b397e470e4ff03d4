"""Formats: the paper's JSON and the native JSON, detection, round trips, networkx."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from placement_ilp.errors import InputError
from placement_ilp.workloads.generators import layered_dag
from placement_ilp.data.graph import OpGraph
from placement_ilp.io import (
    instance_from_dict,
    instance_to_dict,
    load_instance,
    load_placement,
    save_instance,
    save_placement,
)
from placement_ilp.data.placement import Placement
from placement_ilp.data.topology import Device

from .conftest import REPO, paper_files, paper_path

ALL_PAPER_INSTANCES = paper_files("throughput", "latency")


def test_the_paper_workloads_are_there_or_skipped():
    if not ALL_PAPER_INSTANCES:
        pytest.skip("../shared/instances/tarnawski2020 is absent")
    assert len(ALL_PAPER_INSTANCES) == 24


@pytest.mark.parametrize("relative", ALL_PAPER_INSTANCES)
def test_paper_instance_round_trip(relative, tmp_path):
    path = paper_path(relative)
    instance = load_instance(path)
    raw = json.loads(path.read_text())
    assert len(instance.graph) == len(raw["nodes"])
    assert len(instance.graph.edges) == len(raw["edges"])
    assert instance.topology.class_of("acc").count == raw["maxFPGAs"]
    assert instance.topology.class_of("cpu").count == raw["maxCPUs"]
    # paper format -> file -> instance
    out = tmp_path / "copy.json"
    save_instance(instance, out)
    again = load_instance(out)
    assert again.graph == instance.graph and again.topology == instance.topology
    # native format -> file -> instance
    native = tmp_path / "native.json"
    save_instance(instance, native, fmt="native")
    assert json.loads(native.read_text())["format"] == "placement-ilp/instance"
    third = load_instance(native)
    assert third.graph == instance.graph and third.topology == instance.topology


def test_paper_fields_are_read_exactly():
    instance = load_instance(paper_path("throughput/LayerGraphs/bert24_training.json"))
    raw = json.loads(paper_path("throughput/LayerGraphs/bert24_training.json").read_text())
    node = raw["nodes"][1]
    ours = instance.graph.node(node["id"])
    assert ours.times == {"cpu": node["cpuLatency"], "acc": node["fpgaLatency"]}
    assert ours.memory == node["size"]
    assert ours.color_class == node["colorClass"]
    assert ours.backward == bool(node["isBackwardNode"])
    assert ours.name == node["name"]
    edge = raw["edges"][0]
    assert instance.graph.out_cost(edge["sourceId"]) == edge["cost"]
    assert instance.topology.class_of("acc").memory == raw["maxSizePerFPGA"]


def test_flags_as_booleans_or_numbers_and_optional_fields():
    base = {
        "maxSizePerFPGA": 10,
        "maxFPGAs": 2,
        "maxCPUs": 1,
        "nodes": [
            {"id": 1, "supportedOnFpga": True, "cpuLatency": 2, "fpgaLatency": 1, "isBackwardNode": False},
            {"id": 2, "supportedOnFpga": 0, "cpuLatency": 3, "fpgaLatency": 1, "isBackwardNode": 0, "size": 4},
        ],
        "edges": [{"sourceId": 1, "destId": 2, "cost": 0.5}],
    }
    instance = instance_from_dict(base)
    assert instance.graph.node(1).supported == {"cpu", "acc"}
    assert instance.graph.node(2).supported == {"cpu"}
    assert instance.graph.node(1).memory == 0.0 and instance.graph.node(1).color_class is None
    again = instance_from_dict(instance_to_dict(instance))
    assert again == instance


def test_expert_placement_reads_and_writes(tmp_path):
    instance = load_instance(paper_path("throughput/LayerGraphs/gnmt_inference.json"))
    placement = load_placement(paper_path("experts/gnmt_inference_expert.json"), instance)
    assert set(placement.assignment) == set(instance.graph.ids)
    for fmt in ("paper", "native"):
        out = tmp_path / f"{fmt}.json"
        save_placement(instance, placement, out, objective=1.5, fmt=fmt)
        assert load_placement(out, instance).assignment == placement.assignment


def test_forward_only_split_is_completed_by_colour(tmp_path):
    instance = load_instance(paper_path("throughput/LayerGraphs/gnmt_training.json"))
    raw = json.loads(paper_path("experts/gnmt_training_expert.json").read_text())
    forward = {n.id for n in instance.graph.nodes if not n.backward}
    for dev in raw["fpgas"] + raw["cpus"]:
        dev["nodes"] = [v for v in dev["nodes"] if v in forward]
    path = tmp_path / "forward_only.json"
    path.write_text(json.dumps(raw))
    placement = load_placement(path, instance)
    assert set(placement.assignment) == set(instance.graph.ids)
    for n in instance.graph.nodes:
        if n.backward:
            twins = [m.id for m in instance.graph.nodes if m.color_class == n.color_class and not m.backward]
            assert placement.device_of(n.id) == placement.device_of(twins[0])


def test_native_round_trip_of_a_generated_training_instance(tmp_path):
    instance = layered_dag(5, 3, seed=3, training=True)
    out = tmp_path / "t.json"
    save_instance(instance, out, fmt="native")
    assert load_instance(out) == instance  # the native format keeps the name too


def test_networkx_round_trip():
    instance = layered_dag(5, 3, seed=4, training=True)
    g = instance.graph.to_networkx()
    assert isinstance(g, nx.DiGraph) and g.number_of_nodes() == len(instance.graph)
    back = OpGraph.from_networkx(g)
    assert back.nodes == instance.graph.nodes  # networkx keeps node order
    assert set(back.edges) == set(instance.graph.edges)  # but lists edges by source


def test_saving_refuses_to_overwrite(tmp_path):
    instance = layered_dag(2, 2, seed=0)
    out = tmp_path / "i.json"
    save_instance(instance, out)
    with pytest.raises(InputError, match="refusing to overwrite"):
        save_instance(instance, out)
    save_instance(instance, out, overwrite=True)


def test_format_detection_rejects_the_wrong_kind_of_file(tmp_path):
    instance = layered_dag(2, 2, seed=0)
    placement = Placement({v: Device("acc", 0) for v in instance.graph.ids})
    p = tmp_path / "p.json"
    save_placement(instance, placement, p)
    with pytest.raises(InputError, match="placement, not an instance"):
        load_instance(p)
    i = tmp_path / "i.json"
    save_instance(instance, i)
    with pytest.raises(InputError, match="instance, not a placement"):
        load_placement(i, instance)


def test_default_instance_is_shipped_and_loads():
    instance = load_instance(REPO / "instances" / "default.json")
    assert len(instance.graph) == 24
