"""Hostile input: one InputError (CLI: one line 'error: ...', exit 2) naming the field, never a traceback."""

from __future__ import annotations

import copy
import itertools
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement_ilp import InputError, Placement, evaluate, load_instance
from placement_ilp.baselines import all_on_cpu, local_search, partition, pipedream
from placement_ilp.baselines import simple
from placement_ilp.baselines.pipedream import table_bytes
from placement_ilp.baselines.simple import feasible_assignment, group_view
from placement_ilp.data.checks import MAX_DEVICES, MAX_VALUE, check_bool, check_int, check_number
from placement_ilp.data.instance import check_instance
from placement_ilp.data.placement import check_placement_arg
from placement_ilp.cli import main
from placement_ilp.evaluation.feasibility import explain_infeasible
from placement_ilp.workloads.generators import (
    MAX_GENERATED_NODES,
    inception_like,
    layered_dag,
    residual_cnn,
    transformer_encoder,
)
from placement_ilp.data.graph import OpEdge, OpGraph, OpNode
from placement_ilp.data.instance import Instance
from placement_ilp.io import instance_from_dict, instance_to_dict, placement_to_dict
from placement_ilp.data.topology import Device, DeviceClass, Link, Topology, paper_topology


# -- helpers --------------------------------------------------------------------
def _node(i, **changes):
    node = {"id": i, "supportedOnFpga": True, "cpuLatency": 4.0, "fpgaLatency": 1.0, "isBackwardNode": False,
            "size": 1.0}
    node.update(changes)
    return node


def _paper(nodes=None, edges=None, **top):
    data = {"maxSizePerFPGA": 10.0, "maxFPGAs": 2, "maxCPUs": 1,
            "nodes": [_node(1), _node(2), _node(3)] if nodes is None else nodes,
            "edges": [{"sourceId": 1, "destId": 2, "cost": 0.5}, {"sourceId": 2, "destId": 3, "cost": 0.5}]
            if edges is None else edges}
    data.update(top)
    return data


def _native(**changes):
    data = {
        "format": "placement-ilp/instance", "version": 1, "name": "tiny",
        "topology": {"classes": [
            {"name": "gpu", "kind": "gpu", "count": 2, "memory": 10.0, "bandwidth": 100.0, "latency": 1.0},
            {"name": "cpu", "kind": "cpu", "count": 1, "pays_communication": False}]},
        "nodes": [{"id": "a", "times": {"gpu": 1.0, "cpu": 5.0}, "memory": 2.0},
                  {"id": "b", "times": {"gpu": 2.0, "cpu": 6.0}, "memory": 3.0, "color_class": "k"}],
        "edges": [{"source": "a", "target": "b", "cost": 0.5, "bytes": 64.0}],
    }
    data.update(changes)
    return data


def _changed(data, path, value=None, drop=False):
    """A deep copy of ``data`` with the item at ``path`` (keys and indices) replaced or dropped."""
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def _write(tmp_path, data, name="instance.json"):
    path = Path(tmp_path) / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _load_error(tmp_path, data) -> str:
    with pytest.raises(InputError) as err:
        load_instance(_write(tmp_path, data))
    message = str(err.value)
    assert "\n" not in message
    return message


def _cli_process(*args, timeout=120):
    """Run the CLI in a real process; assert exit 2, one stderr line 'error: ...', no traceback."""
    proc = subprocess.run([sys.executable, "-m", "placement_ilp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.strip()


# -- 1. no devices --------------------------------------------------------------------
def test_no_devices_in_the_paper_format_is_refused_at_load(tmp_path):
    path = _write(tmp_path, _paper(maxFPGAs=0, maxCPUs=0))
    err = _cli_process("solve", path, "--time-limit", "5")
    assert "no devices: maxFPGAs and maxCPUs are both 0" in err


@pytest.mark.parametrize("classes, message", [
    ([], "no devices: topology 'classes' is empty"),
    ([{"name": "gpu", "kind": "gpu", "count": 0}, {"name": "cpu", "kind": "cpu", "count": 0.0}],
     "no devices: every device class has count 0"),
])
def test_no_devices_in_the_native_format(tmp_path, classes, message):
    data = _native(topology={"classes": classes}, nodes=[{"id": "a", "times": {}}], edges=[])
    assert message in _load_error(tmp_path, data)


def test_no_devices_in_the_python_api():
    with pytest.raises(InputError, match="no devices"):
        paper_topology(0, 0, 1.0)


# -- 2. the empty graph --------------------------------------------------------------
def test_an_empty_graph_is_a_valid_instance_with_max_load_0(tmp_path, capsys):
    path = _write(tmp_path, _paper(nodes=[], edges=[]))
    instance = load_instance(path)
    assert len(instance.graph) == 0 and instance.arrays.time.shape == (0, 2)
    ev = evaluate(instance, Placement({}))
    assert ev.max_load == 0 and ev.feasible and ev.contiguity.level == "pipeline"
    for baseline in (pipedream, partition, local_search):
        assert baseline(instance).assignment == {}
    assert explain_infeasible(instance, contiguity="pipeline") is None
    assert main(["info", str(path)]) == 0
    placement = _write(tmp_path, {"fpgas": [], "cpus": []}, "placement.json")
    assert main(["evaluate", str(path), str(placement)]) == 0
    capsys.readouterr()


def test_an_empty_graph_solves_to_0(tmp_path, capsys):
    assert main(["solve", str(_write(tmp_path, _paper(nodes=[], edges=[]))), "--time-limit", "5"]) == 0
    capsys.readouterr()


def test_an_empty_graph_has_latency_0(tmp_path, capsys):
    path = _write(tmp_path, _paper(nodes=[], edges=[]))
    assert main(["solve", str(path), "--objective", "latency", "--time-limit", "5"]) == 0
    capsys.readouterr()


# -- 3. numbers beyond what the solvers represent -------------------------------------------
def test_a_huge_size_is_refused_by_the_cli(tmp_path):
    path = _write(tmp_path, _paper(nodes=[_node(1), _node(2, size=1e17), _node(3)]))
    err = _cli_process("solve", path, "--time-limit", "5")
    assert f"node 2: size = 1e+17 is larger than {MAX_VALUE:g}" in err and "scale the units" in err


HUGE_PAPER = {
    "size 1e308": (["nodes", 0, "size"], 1e308, "node 1: size = 1e+308 is larger than 1e+13"),
    "size 1e15": (["nodes", 0, "size"], 1e15, "node 1: size = 1e+15 is larger than 1e+13"),
    "maxSizePerFPGA": (["maxSizePerFPGA"], 1e25, "maxSizePerFPGA = 1e+25 is larger"),
    "fpgaLatency": (["nodes", 1, "fpgaLatency"], 1e21, "node 2: fpgaLatency = 1e+21"),
    "cpuLatency negative huge": (["nodes", 1, "cpuLatency"], -1e21, "node 2: cpuLatency is negative"),
    "edge cost": (["edges", 0, "cost"], 1e21, "edge 1->2: cost = 1e+21"),
    "edge size": (["edges", 0, "size"], 2e13, "edge 1->2: size = 2e+13"),
    "integer beyond floats": (["nodes", 2, "size"], 10**400, "node 3: size = 1000"),
    "nan": (["nodes", 2, "size"], float("nan"), "node 3: size is NaN"),
}


@pytest.mark.parametrize("case", sorted(HUGE_PAPER))
def test_every_paper_number_is_limited(tmp_path, case):
    path, value, message = HUGE_PAPER[case]
    assert message in _load_error(tmp_path, _changed(_paper(), path, value))


HUGE_NATIVE = {
    "time": (["nodes", 0, "times", "gpu"], 1e21, "node 'a': time on 'gpu' = 1e+21"),
    "memory": (["nodes", 1, "memory"], 1e16, "node 'b': memory = 1e+16"),
    "class memory": (["topology", "classes", 0, "memory"], 1e25, "device class 'gpu': memory = 1e+25"),
    "bandwidth": (["topology", "classes", 0, "bandwidth"], 1e16, "device class 'gpu': bandwidth = 1e+16"),
    "zero bandwidth": (["topology", "classes", 0, "bandwidth"], 0, "device class 'gpu': bandwidth must be positive"),
    "latency": (["topology", "classes", 0, "latency"], 1e300, "device class 'gpu': latency = 1e+300"),
    "edge cost": (["edges", 0, "cost"], 1e21, "edge 'a'->'b': cost = 1e+21"),
    "edge bytes": (["edges", 0, "bytes"], 1e21, "edge 'a'->'b': bytes = 1e+21"),
    "link bandwidth": (["topology", "links"], [{"between": ["gpu", "cpu"], "bandwidth": 1e18}],
                       "link 'gpu'-'cpu': bandwidth = 1e+18"),
    "link latency": (["topology", "links"], [{"between": ["gpu", "cpu"], "bandwidth": 1.0, "latency": 2e13}],
                     "link 'gpu'-'cpu': latency = 2e+13"),
    "transfer time": (["topology", "classes", 0, "bandwidth"], 1e-14,
                      "the transfer times over device class 'gpu' (bandwidth 1e-14) add up to 6.4e+15 over the "
                      "graph's 2 nodes, more than 1e+13"),
    "link transfer time": (["topology", "links"], [{"between": ["gpu", "gpu"], "bandwidth": 1e-12}],
                           "the transfer times over link 'gpu'-'gpu' (bandwidth 1e-12) add up to 6.4e+13"),
}


@pytest.mark.parametrize("case", sorted(HUGE_NATIVE))
def test_every_native_number_is_limited(tmp_path, case):
    path, value, message = HUGE_NATIVE[case]
    assert message in _load_error(tmp_path, _changed(_native(), path, value))


@pytest.mark.parametrize("field, total", [("fpgaLatency", "the node times on class 'acc'"),
                                          ("size", "the node memory sizes")])
def test_totals_over_the_graph_are_limited(field, total):
    data = _paper(nodes=[_node(i, **{field: MAX_VALUE / 2}) for i in (1, 2, 3)], maxSizePerFPGA=MAX_VALUE)
    with pytest.raises(InputError) as err:
        instance_from_dict(data)
    assert f"{total} add up to 1.5e+13 over the graph's 3 nodes, more than 1e+13" in str(err.value)
    edges = _changed(_paper(), ["edges", 0, "cost"], MAX_VALUE)
    edges["edges"][1]["cost"] = MAX_VALUE
    with pytest.raises(InputError, match="the communication costs of the node outputs add up to 2e"):
        instance_from_dict(edges)


def test_numbers_up_to_the_limit_load():
    data = _paper(nodes=[_node(1, size=MAX_VALUE), _node(2, size=0.0), _node(3, size=0.0)], maxSizePerFPGA=MAX_VALUE)
    assert instance_from_dict(data).graph.nodes[0].memory == MAX_VALUE


# -- 4. device counts ---------------------------------------------------------------------
def test_a_huge_device_count_is_refused_at_once(tmp_path):
    err = _cli_process("solve", _write(tmp_path, _paper(maxFPGAs=1e30)), "--time-limit", "5", timeout=60)
    assert f"maxFPGAs = 1e+30 is larger than {MAX_DEVICES}" in err


@pytest.mark.parametrize("value, message", [
    (1e9, f"maxFPGAs = 1000000000.0 is larger than {MAX_DEVICES}"),
    (MAX_DEVICES + 1, f"is larger than {MAX_DEVICES}"),
    (2.5, "maxFPGAs must be a whole number >= 0, got float 2.5"),
    ("3", "maxFPGAs must be a whole number >= 0, got str '3'"),
    (True, "maxFPGAs must be a whole number >= 0, got bool True"),
    (-1, "maxFPGAs must be a whole number >= 0, got -1"),
    (None, "maxFPGAs must be a whole number >= 0, got NoneType None"),
    (float("inf"), "maxFPGAs must be a whole number >= 0, got float inf"),
])
def test_paper_counts(tmp_path, value, message):
    assert message in _load_error(tmp_path, _paper(maxFPGAs=value))


@pytest.mark.parametrize("value, message", [
    (1e30, "device class 'gpu': count = 1e+30 is larger than"),
    ("2", "device class 'gpu': count must be a whole number >= 0, got str '2'"),
    (False, "device class 'gpu': count must be a whole number >= 0, got bool False"),
    ([2], "device class 'gpu': count must be a whole number >= 0, got list [2]"),
])
def test_native_counts(tmp_path, value, message):
    assert message in _load_error(tmp_path, _changed(_native(), ["topology", "classes", 0, "count"], value))


def test_a_topology_with_too_many_devices_in_all():
    classes = [DeviceClass(f"c{k}", "gpu", MAX_DEVICES // 2) for k in range(3)]
    with pytest.raises(InputError, match="devices in all, more than"):
        Topology(tuple(classes))


# -- 5. types of the native fields ----------------------------------------------------------
def test_an_unhashable_colour_class_names_the_node_and_field(tmp_path):
    data = _changed(_native(), ["nodes", 1, "color_class"], {"a": 1})
    err = _cli_process("info", _write(tmp_path, data))
    assert "node 'b': color_class must be a string, a 64-bit integer or null, got dict" in err


NATIVE_TYPES = {
    "colour class list": (["nodes", 1, "color_class"], [1], "node 'b': color_class must be a string"),
    "colour class bool": (["nodes", 1, "color_class"], True, "node 'b': color_class must be a string"),
    "layer id object": (["nodes", 0, "layer_id"], {}, "node 'a': layer_id must be a string"),
    "name number": (["nodes", 0, "name"], 5, "node 'a': name must be a string or null"),
    "times list": (["nodes", 0, "times"], [1.0], "node 'a': times must be a JSON object, got list"),
    "time string": (["nodes", 0, "times", "gpu"], "1.0", "node 'a': time on 'gpu' must be a number, got str"),
    "supported string": (["nodes", 0, "supported"], "gpu", "node 'a': 'supported' must be a list of device class"),
    "supported objects": (["nodes", 0, "supported"], [{}], "node 'a': 'supported' must be a list of device class"),
    "memory list": (["nodes", 0, "memory"], [2], "node 'a': memory must be a number, got list"),
    "backward string": (["nodes", 0, "backward"], "no", "node 'a': backward must be a boolean or 0/1"),
    "id float": (["nodes", 0, "id"], 1.5, "node #0 id 1.5 is not a valid node id"),
    "node a list": (["nodes", 0], ["a"], "node #0 must be a JSON object, got list"),
    "nodes an object": (["nodes"], {}, "instance: 'nodes' must be a list, got dict"),
    "edges a string": (["edges"], "a->b", "instance: 'edges' must be a list, got str"),
    "edge source list": (["edges", 0, "source"], ["a"], "edge #0 source ['a'] is not a valid node id"),
    "edge cost string": (["edges", 0, "cost"], "0.5", "edge 'a'->'b': cost must be a number, got str"),
    "classes an object": (["topology", "classes"], {}, "topology: 'classes' must be a list, got dict"),
    "class name number": (["topology", "classes", 0, "name"], 7, "device class #0: name must be a string, got int"),
    "class kind list": (["topology", "classes", 0, "kind"], ["gpu"], "kind ['gpu'] is not one of"),
    "class memory string": (["topology", "classes", 0, "memory"], "10", "device class 'gpu': memory must be a number"),
    "pays string": (["topology", "classes", 0, "pays_communication"], "yes", "pays_communication must be a boolean"),
    "topology a list": (["topology"], [], "topology must be a JSON object, got list"),
    "instance name": (["name"], ["x"], "instance: name must be a string or null"),
}


@pytest.mark.parametrize("case", sorted(NATIVE_TYPES))
def test_native_field_types(tmp_path, case):
    path, value, message = NATIVE_TYPES[case]
    assert message in _load_error(tmp_path, _changed(_native(), path, value))


@pytest.mark.parametrize("key, value, message", [
    ("colorClass", [1, 2], "node 1: colorClass must be a string, a 64-bit integer or null, got list"),
    ("layerId", {"x": 1}, "node 1: layerId must be a string, a 64-bit integer or null, got dict"),
    ("name", 3.5, "node 1: name must be a string or null, got float"),
])
def test_paper_labels(tmp_path, key, value, message):
    assert message in _load_error(tmp_path, _changed(_paper(), ["nodes", 0, key], value))


# -- 6. deep nesting -----------------------------------------------------------------------
def test_a_deeply_nested_file_is_one_error_naming_the_file(tmp_path):
    path = _write(tmp_path, "[" * 200_000 + "]" * 200_000, "deep.json")
    err = _cli_process("info", path)
    assert "deep.json: nested too deeply" in err


def test_deep_nesting_inside_a_field(tmp_path):
    text = json.dumps(_paper()).replace('"size": 1.0', '"size": ' + "[" * 5000 + "]" * 5000, 1)
    assert "nested too deeply" in _load_error(tmp_path, text)


# -- 7. generator sizes ----------------------------------------------------------------------
def test_generate_refuses_a_huge_graph_before_building_it(tmp_path):
    err = _cli_process("generate", "-o", tmp_path / "g.json", "--layers", "100000000", timeout=60)
    assert "layers = 100000000 and width = 3 would make 300000000 nodes" in err
    assert not (tmp_path / "g.json").exists()


@pytest.mark.parametrize("make, message", [
    (lambda: layered_dag(0, 3), "layers must be a whole number >= 1, got 0"),
    (lambda: layered_dag(3, -2), "width must be a whole number >= 1, got -2"),
    (lambda: layered_dag(2.5, 3), "layers must be a whole number >= 1, got float 2.5"),
    (lambda: layered_dag(3, 3, accelerators=-1), "accelerators must be a whole number >= 0, got -1"),
    (lambda: layered_dag(3, 3, cpus=-1), "cpus must be a whole number >= 0, got -1"),
    (lambda: layered_dag(3, 3, accelerators=0, cpus=0), "no devices: accelerators and cpus are both 0"),
    (lambda: layered_dag(3, 3, accelerators=10**6), f"accelerators = 1000000 is larger than {MAX_DEVICES}"),
    (lambda: layered_dag(1000, 1000, training=True), f"would make 2000000 nodes, more than {MAX_GENERATED_NODES}"),
    (lambda: transformer_encoder(10**6), "layers = 1000000 would make"),
    (lambda: residual_cnn(10**6), "blocks = 1000000 would make"),
    (lambda: inception_like(1000, max_branches=1000), "modules = 1000 and max_branches = 1000 would make"),
    (lambda: transformer_encoder(2, cpus=-3), "cpus must be a whole number >= 0, got -3"),
])
def test_generator_arguments(make, message):
    with pytest.raises(InputError) as err:
        make()
    assert message in str(err.value)


def test_generators_still_make_cpu_only_and_accelerator_only_graphs():
    assert layered_dag(2, 2, accelerators=0, cpus=1).topology.num_devices == 1
    assert layered_dag(2, 2, accelerators=2, cpus=0).topology.num_devices == 2


# -- 8. baselines with tables too large for memory --------------------------------------------
def _chain(n, accelerators=6, cpus=1):
    nodes = tuple(OpNode(i, {"acc": 1.0, "cpu": 10.0}, memory=1.0) for i in range(n))
    edges = tuple(OpEdge(i, i + 1, 0.5) for i in range(n - 1))
    return Instance(OpGraph(nodes, edges), paper_topology(accelerators, cpus, float(n)))


def test_pipedream_tables_of_a_280000_node_chain_are_refused_by_size():
    classes = paper_topology(6, 1, 1.0).classes
    assert table_bytes(280_000, classes) > 500 * 2**30  # the 584 GiB the tester saw, and more
    assert table_bytes(1000, classes) < simple.MEMORY_BUDGET


def test_pipedream_and_local_search_refuse_before_allocating(monkeypatch):
    instance = _chain(300)
    monkeypatch.setattr(simple, "MEMORY_BUDGET", 100_000)  # bytes: 300 positions need about 4 MB
    with pytest.raises(InputError, match=r"pipedream: its tables \(300 x 300 segment loads .*MEMORY_BUDGET"):
        pipedream(instance)
    monkeypatch.setattr(simple, "MEMORY_BUDGET", 50_000)  # local search: 300 groups x 7 devices
    with pytest.raises(InputError, match="local-search: its tables"):
        local_search(instance)
    monkeypatch.setattr(simple, "MEMORY_BUDGET", 2_000)
    with pytest.raises(InputError, match="baseline: its tables .*300 colour groups x 7 devices"):
        partition(instance)


def test_partition_places_a_long_chain():
    instance = _chain(5_000)
    assert evaluate(instance, partition(instance)).feasible


def test_exact_packing_of_thousands_of_groups_does_not_recurse():
    # 2,001 unit nodes on two accelerators of 1000.5: first fit fails, the exact search
    # runs thousands of levels deep (it once raised RecursionError)
    nodes = tuple(OpNode(i, {"acc": 1.0}, memory=1.0) for i in range(2001))
    instance = Instance(OpGraph(nodes, ()), paper_topology(2, 0, 1000.5))
    _, status = feasible_assignment(group_view(instance), node_limit=5_000)
    assert status == "unknown"
    _, status = feasible_assignment(group_view(Instance(OpGraph(nodes[:7], ()), paper_topology(2, 0, 3.5))))
    assert status == "infeasible"


# -- 9. the Python API with wrong types ------------------------------------------------------------
def test_evaluate_checks_its_arguments():
    instance = layered_dag(2, 2, seed=1)
    placement = all_on_cpu(instance)
    for args, kwargs, message in [
        (("instances/default.json", placement), {}, "instance must be an Instance (load one with load_instance(path)), "
                                                    "got str 'instances/default.json'"),
        ((instance, None), {}, "placement must be a Placement"),
        ((instance, {0: "cpu:0"}), {}, "placement must be a Placement"),
        ((instance, placement), {"overlap": "yes"}, "overlap must be True or False, got str 'yes'"),
        ((instance, placement), {"cpu_contiguity": 1}, "cpu_contiguity must be True or False, got int 1"),
    ]:
        with pytest.raises(InputError) as err:
            evaluate(*args, **kwargs)
        assert message in str(err.value)


def test_placements_accept_device_names_and_pairs():
    p = Placement({1: "acc:0", 2: ("cpu", 0), 3: Device("acc", 1)})
    assert p.assignment == {1: Device("acc", 0), 2: Device("cpu", 0), 3: Device("acc", 1)}
    for bad, message in [({1: 5}, 'node 1: 5 is not a device; write Device("acc", 0), ("acc", 0) or "acc:0"'),
                         ({1: "acc"}, "node 1: device name 'acc' is not of the form CLASS:INDEX"),
                         ({1: ("acc", "0")}, "node 1: ('acc', '0') is not a device"),
                         ([1, 2], "a Placement maps node ids to devices")]:
        with pytest.raises(InputError) as err:
            Placement(bad)
        assert message in str(err.value)


def test_check_functions():
    assert check_number(3, "x") == 3.0 and check_number(None, "x", allow_none=True) is None
    assert check_number(-2.0, "x", minimum=None) == -2.0
    assert check_int(4.0, "n") == 4 and check_int(None, "n", allow_none=True) is None
    assert check_bool(False, "flag") is False
    for call, message in [
        (lambda: check_number("10", "time_limit"), "time_limit must be a number, got str '10'"),
        (lambda: check_number(True, "gap"), "gap must be a number, got bool True"),
        (lambda: check_number(float("nan"), "gap"), "gap is NaN"),
        (lambda: check_number(math.inf, "time_limit", maximum=None), "time_limit is infinite"),
        (lambda: check_number(0, "time_limit", greater_than=0), "time_limit must be positive, got 0"),
        (lambda: check_number(0.5, "x", minimum=1), "x = 0.5 is below the minimum 1"),
        (lambda: check_number(-1e16, "x", minimum=None), "x = -1e+16 is below -1e+13"),
        (lambda: check_int(2.5, "threads", minimum=1), "threads must be a whole number >= 1, got float 2.5"),
        (lambda: check_int(9, "q", maximum=8, why_maximum="the most"), "q = 9 is larger than 8, the most"),
        (lambda: check_instance(None), "instance must be an Instance"),
        (lambda: check_placement_arg("p.json", "warm_start"), "warm_start must be a Placement"),
        (lambda: check_bool(None, "log"), "log must be True or False, got NoneType None"),
    ]:
        with pytest.raises(InputError) as err:
            call()
        assert message in str(err.value)


def test_messages_show_a_short_value():
    with pytest.raises(InputError) as err:
        check_number(list(range(10_000)), "node 1: size")
    assert len(str(err.value)) < 120


def test_data_model_constructors_refuse_wrong_types():
    for make, message in [
        (lambda: OpNode(1, [1.0]), "node 1: times must map device class names to times"),
        (lambda: OpNode(1, {"acc": 1.0}, supported="acc"), "node 1: supported must be a collection"),
        (lambda: OpNode(1, {"acc": 1.0}, color_class=[1]), "node 1: color_class must be a string, a number or None"),
        (lambda: OpNode(1, {"acc": 1.0}, name=3), "node 1: name must be a string"),
        (lambda: OpEdge([1], 2), "edge source [1] is not a valid node id"),
        (lambda: OpGraph(("a",), ()), "an OpGraph is made of OpNode and OpEdge values"),
        (lambda: Instance(OpGraph((), ()), "topology"), "an Instance is an OpGraph and a Topology"),
        (lambda: DeviceClass("gpu", "gpu", 2, pays_communication="yes"), "pays_communication must be True or False"),
        (lambda: Link("a", "b", "fast"), "link 'a'-'b': bandwidth must be a number"),
    ]:
        with pytest.raises(InputError) as err:
            make()
        assert message in str(err.value)


# -- 10. infeasibility explained -------------------------------------------------------------------
def _paper_instance(nodes, edges=(), k=2, cpus=0, memory=10.0):
    return instance_from_dict(_paper(nodes, [{"sourceId": a, "destId": b, "cost": 1.0} for a, b in edges],
                                     maxFPGAs=k, maxCPUs=cpus, maxSizePerFPGA=memory))


def _native_instance(classes, nodes):
    return instance_from_dict(_native(topology={"classes": classes}, nodes=nodes, edges=[]))


def test_explain_a_node_larger_than_every_device():
    instance = _paper_instance([_node(1), _node(2, size=20.0)])
    assert explain_infeasible(instance) == ("node 2 needs 20 of memory on one device, more than any device that "
                                            "runs it holds (at most 10, on class 'acc')")
    assert explain_infeasible(_paper_instance([_node(1), _node(2, size=20.0)], cpus=1)) is None  # the CPU runs it


def test_explain_a_node_no_class_supports():
    instance = _paper_instance([_node(1), _node(2, supportedOnFpga=False)])
    assert explain_infeasible(instance) == "node 2 runs only on class 'cpu', which has no devices"
    gpu0 = [{"name": "gpu", "kind": "gpu", "count": 0}, {"name": "cpu", "kind": "cpu", "count": 1}]
    assert "node 'x' runs only on class 'gpu'" in explain_infeasible(
        _native_instance(gpu0, [{"id": "x", "times": {"gpu": 1.0}}]))
    assert explain_infeasible(_native_instance(gpu0, [{"id": "x", "times": {}}])) == \
        "node 'x' is supported on no device class (it has a time on none)"


def test_explain_a_colour_class_without_a_common_class():
    classes = [{"name": "gpu", "kind": "gpu", "count": 1}, {"name": "cpu", "kind": "cpu", "count": 1}]
    nodes = [{"id": "x", "times": {"gpu": 1.0}, "color_class": "k"}, {"id": "y", "times": {"cpu": 1.0},
                                                                      "color_class": "k"}]
    reason = explain_infeasible(_native_instance(classes, nodes))
    assert reason.startswith("colour class 'k' (2 nodes that share a device): no device class with devices runs all")
    assert "node 'y' does not run on 'gpu'" in reason


def test_explain_a_colour_class_larger_than_every_device():
    instance = _paper_instance([_node(1, size=6.0, colorClass=7), _node(2, size=6.0, colorClass=7), _node(3)])
    assert explain_infeasible(instance).startswith(
        "colour class 7 (2 nodes that share a device) needs 12 of memory on one device")


def test_explain_total_memory():
    instance = _paper_instance([_node(i, size=8.0) for i in (1, 2, 3)])
    assert explain_infeasible(instance) == ("the 3 nodes that can run only on class 'acc' (memory-limited) need 24 "
                                            "of memory in all, more than the 20 that its 2 devices hold")
    # three nodes of 6 on two devices of 10: infeasible by packing, which is not examined
    assert explain_infeasible(_paper_instance([_node(i, size=6.0) for i in (1, 2, 3)])) is None


def test_explain_a_cycle_through_a_colour_class():
    nodes = [_node("a", size=4.0, colorClass=1), _node("b", size=4.0, colorClass=2), _node("c", size=4.0, colorClass=1)]
    instance = _paper_instance(nodes, [("a", "b"), ("b", "c")])
    assert explain_infeasible(instance) is None  # {a, c} on one device and b on the other
    for level in ("convex", "pipeline"):
        reason = explain_infeasible(instance, contiguity=level)
        assert reason.startswith("the cycle of forward edges through the colour groups of nodes 'a', 'b' "
                                 f"(with {level} contiguity they share one device) needs 12 of memory")
    with_cpu = _paper_instance(nodes, [("a", "b"), ("b", "c")], cpus=1)
    assert explain_infeasible(with_cpu, contiguity="pipeline") is None  # the CPU holds all three
    assert explain_infeasible(with_cpu, contiguity="pipeline", cpu_contiguity=False) is None


def test_explain_infeasible_checks_its_arguments():
    with pytest.raises(InputError, match="instance must be an Instance"):
        explain_infeasible("x.json")
    with pytest.raises(InputError, match="contiguity must be one of"):
        explain_infeasible(layered_dag(2, 2), contiguity="ideal")


def test_explain_infeasible_finds_nothing_on_a_feasible_instance():
    assert explain_infeasible(layered_dag(4, 3, seed=2), contiguity="pipeline") is None


@st.composite
def _small_instances(draw):
    """Up to 4 nodes, up to 3 devices in up to 2 classes, random support, memory and colours."""
    n = draw(st.integers(1, 4))
    classes = []
    for name, kind in (("acc", "accelerator"), ("cpu", "cpu")):
        count = draw(st.integers(0, 2))
        memory = draw(st.sampled_from([None, 2.0, 3.0, 5.0]))
        classes.append(DeviceClass(name, kind, count, memory))
    if sum(c.count for c in classes) == 0 or sum(c.count for c in classes) > 3:
        classes[0] = DeviceClass("acc", "accelerator", 1, classes[0].memory)
        classes[1] = DeviceClass("cpu", "cpu", min(classes[1].count, 2), classes[1].memory)
    nodes = []
    for v in range(n):
        supported = draw(st.sets(st.sampled_from(["acc", "cpu"]), max_size=2))
        nodes.append(OpNode(v, {c: 1.0 for c in supported}, memory=float(draw(st.integers(0, 4))),
                            color_class=draw(st.sampled_from([None, "p", "q"]))))
    edges = [OpEdge(u, v, 1.0) for u, v in itertools.combinations(range(n), 2) if draw(st.booleans())]
    return Instance(OpGraph(tuple(nodes), tuple(edges)), Topology(tuple(classes)))


_LEVEL_RANK = {"none": 0, "convex": 1, "pipeline": 2}


@settings(max_examples=60, deadline=None)
@given(_small_instances(), st.sampled_from(["none", "convex", "pipeline"]), st.booleans())
def test_every_explanation_is_a_proof(instance, level, cpu_contiguity):
    reason = explain_infeasible(instance, contiguity=level, cpu_contiguity=cpu_contiguity)
    if reason is None:
        return
    devices = instance.devices
    for choice in itertools.product(devices, repeat=len(instance.graph)):
        ev = evaluate(instance, Placement(dict(zip(instance.graph.ids, choice))), cpu_contiguity=cpu_contiguity)
        assert not (ev.feasible and _LEVEL_RANK[ev.contiguity.level] >= _LEVEL_RANK[level]), reason


# -- the fuzz: mutated files through the CLI, in-process ------------------------------------------------
HOSTILE = [None, True, False, "x", "3", "", [], {}, [1, 2], {"a": 1}, 0, 0, 1, -1, 2.5, 1e-300, 1e300, -1e300,
           1e16, MAX_VALUE, 10**30, 10**400, "NaN", 5000, MAX_DEVICES, MAX_DEVICES + 1]
NUMBERS = [0, 0.0, 1, 2.5, 1e-300, 1e-9, 1e9, MAX_VALUE, 5000]
_NESTED = "__nested__"


def _bases():
    instance = layered_dag(2, 2, seed=3, accelerators=2, cpus=1)
    placement = all_on_cpu(instance)
    return [(instance_to_dict(instance, fmt), placement_to_dict(instance, placement, fmt=fmt))
            for fmt in ("paper", "native")]


BASES = _bases()


def _mutate(draw, data) -> str:
    """The JSON text of ``data`` with 1 or 2 items dropped, replaced by hostile values or other
    numbers, or nested 3000 deep (``data`` is changed)."""
    for _ in range(draw(st.integers(1, 2))):
        parent, key = None, None
        target = data
        # descend from the root, going one level deeper four times in five (leaves are where the numbers are)
        while isinstance(target, (dict, list)) and target and (parent is None or draw(st.integers(0, 4)) > 0):
            keys = sorted(target, key=str) if isinstance(target, dict) else list(range(len(target)))
            parent, key = target, draw(st.sampled_from(keys))
            target = parent[key]
        if parent is None:
            continue
        action = draw(st.sampled_from(["drop"] * 3 + ["replace"] * 6 + ["nest"]))
        if action == "drop":
            del parent[key]
        elif action == "nest":
            parent[key] = _NESTED
        elif isinstance(target, (int, float)) and not isinstance(target, bool) and draw(st.booleans()):
            parent[key] = draw(st.sampled_from(NUMBERS))  # a number for a number: the instance may stay valid
        else:
            value = copy.deepcopy(draw(st.sampled_from(HOSTILE)))  # a copy: later mutations may change it
            parent[key] = float("nan") if value == "NaN" else value
    return json.dumps(data).replace(json.dumps(_NESTED), "[" * 3000 + "]" * 3000)


@st.composite
def _mutated(draw):
    """A small valid instance and a placement for it, in one of the two formats, one of them
    mutated (the instance three times in four)."""
    instance, placement = copy.deepcopy(draw(st.sampled_from(BASES)))
    if draw(st.integers(0, 3)):
        return _mutate(draw, instance), json.dumps(placement)
    return json.dumps(instance), _mutate(draw, placement)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_mutated())
def test_mutated_files_never_escape_the_cli(capsys, case):
    text, placement = case
    with tempfile.TemporaryDirectory() as folder:
        instance_path = _write(folder, text)
        placement_path = _write(folder, placement, "placement.json")
        for argv in (["info", instance_path], ["solve", instance_path, "--time-limit", "5", "--no-progress"],
                     ["evaluate", instance_path, placement_path]):
            code = main([str(a) for a in argv])
            err = capsys.readouterr().err
            assert code in (0, 1, 2), (argv, text[:300])
            if code == 2:
                assert err.startswith("error: ") and err.count("\n") == 1, (argv, err, text[:300])
