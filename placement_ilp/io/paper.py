"""The paper's JSON formats (Tarnawski et al., NeurIPS 2020).

Instance::

    {"maxSizePerFPGA": M, "maxFPGAs": k, "maxCPUs": l,
     "nodes": [{"id", "supportedOnFpga", "cpuLatency", "fpgaLatency", "isBackwardNode",
                "colorClass"?, "size"?, "layerId"?, "name"?}, ...],
     "edges": [{"sourceId", "destId", "cost", "size"?}, ...]}

Flags may be booleans or 0/1. The instance maps to the topology
``paper_topology(k, l, M)``: class ``acc`` (accelerators) and class ``cpu``.

Placement::

    {"maxLoad": x, "fpgas": [{"nodes": [...]}, ...], "cpus": [{"nodes": [...]}, ...]}
"""

from __future__ import annotations

from typing import Any

from ..data.checks import MAX_DEVICES, check_int, check_number
from ..errors import InputError
from ..data.graph import OpEdge, OpGraph, OpNode, check_id
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.topology import PAPER_ACCELERATOR, PAPER_CPU, TOO_MANY_DEVICES, Device, paper_topology
from .fields import flag, json_list, json_object, label, required, text

_NODE_FIELDS = ("id", "supportedOnFpga", "cpuLatency", "fpgaLatency", "isBackwardNode")
_EDGE_FIELDS = ("sourceId", "destId", "cost")


def _count(value: Any, what: str) -> int:
    return check_int(value, what, maximum=MAX_DEVICES, why_maximum=TOO_MANY_DEVICES)


def is_paper_instance(data: Any) -> bool:
    return isinstance(data, dict) and "maxFPGAs" in data and "nodes" in data


def is_paper_placement(data: Any) -> bool:
    return isinstance(data, dict) and "fpgas" in data


def instance_from_paper(data: dict, name: str = "instance") -> Instance:
    """Build an :class:`Instance` from the paper's instance JSON (already parsed).

    Raises InputError naming the offending node, edge or field. O(n + m).
    """
    k = _count(required(data, "maxFPGAs", "instance"), "maxFPGAs")
    cpus = _count(required(data, "maxCPUs", "instance"), "maxCPUs")
    if k == 0 and cpus == 0:
        raise InputError("no devices: maxFPGAs and maxCPUs are both 0")
    memory = check_number(required(data, "maxSizePerFPGA", "instance"), "maxSizePerFPGA")
    raw_nodes = json_list(required(data, "nodes", "instance"), "instance: 'nodes'")
    raw_edges = json_list(required(data, "edges", "instance"), "instance: 'edges'")
    nodes = []
    for pos, raw in enumerate(raw_nodes):
        where = f"node #{pos}"
        json_object(raw, where)
        node_id = check_id(required(raw, "id", where), where + " id")
        where = f"node {node_id!r}"
        for key in _NODE_FIELDS:
            required(raw, key, where)
        supported = {PAPER_CPU}
        if flag(raw["supportedOnFpga"], f"{where}: supportedOnFpga"):
            supported.add(PAPER_ACCELERATOR)
        nodes.append(
            OpNode(
                id=node_id,
                times={
                    PAPER_CPU: check_number(raw["cpuLatency"], f"{where}: cpuLatency"),
                    PAPER_ACCELERATOR: check_number(raw["fpgaLatency"], f"{where}: fpgaLatency"),
                },
                supported=frozenset(supported),
                memory=check_number(raw.get("size", 0.0), f"{where}: size"),
                backward=flag(raw["isBackwardNode"], f"{where}: isBackwardNode"),
                color_class=label(raw.get("colorClass"), f"{where}: colorClass"),
                name=text(raw.get("name"), f"{where}: name"),
                layer_id=label(raw.get("layerId"), f"{where}: layerId"),
            )
        )
    edges = []
    for pos, raw in enumerate(raw_edges):
        where = f"edge #{pos}"
        json_object(raw, where)
        for key in _EDGE_FIELDS:
            required(raw, key, where)
        src = check_id(raw["sourceId"], f"{where} sourceId")
        dst = check_id(raw["destId"], f"{where} destId")
        where = f"edge {src!r}->{dst!r}"
        size = raw.get("size")
        edges.append(
            OpEdge(
                src,
                dst,
                check_number(raw["cost"], f"{where}: cost"),
                None if size is None else check_number(size, f"{where}: size"),
            )
        )
    return Instance(OpGraph(tuple(nodes), tuple(edges)), paper_topology(k, cpus, memory), name)


def instance_to_paper(instance: Instance) -> dict:
    """The paper's instance JSON for an instance on the paper's topology."""
    topo = instance.topology
    if not topo.is_paper():
        raise InputError(
            "this instance's topology is not the paper's {accelerator, cpu} pair; write it in the native format"
        )
    acc, cpu = topo.classes
    nodes = []
    for n in instance.graph.nodes:
        raw: dict[str, Any] = {}
        if n.name is not None:
            raw["name"] = n.name
        raw.update(
            id=n.id,
            supportedOnFpga=PAPER_ACCELERATOR in n.supported,
            cpuLatency=n.times.get(PAPER_CPU, 0.0),
            fpgaLatency=n.times.get(PAPER_ACCELERATOR, 0.0),
            isBackwardNode=n.backward,
        )
        if n.color_class is not None:
            raw["colorClass"] = n.color_class
        if n.layer_id is not None:
            raw["layerId"] = n.layer_id
        raw["size"] = n.memory
        nodes.append(raw)
    edges = []
    for e in instance.graph.edges:
        raw = {"sourceId": e.source, "destId": e.target, "cost": e.cost}
        if e.bytes is not None:
            raw["size"] = e.bytes
        edges.append(raw)
    return {
        "maxSizePerFPGA": acc.memory,
        "maxFPGAs": acc.count,
        "maxCPUs": cpu.count,
        "nodes": nodes,
        "edges": edges,
    }


def placement_from_paper(data: dict) -> Placement:
    """Read ``{"fpgas": [{"nodes": [...]}...], "cpus": [...]}``; the i-th entry of
    "fpgas" is device ``acc:i``, of "cpus" ``cpu:i``. O(n)."""
    lists: dict[Device, list] = {}
    for key, cls in (("fpgas", PAPER_ACCELERATOR), ("cpus", PAPER_CPU)):
        entries = data.get(key, [])
        if not isinstance(entries, list):
            raise InputError(f"placement: {key!r} must be a list")
        for i, entry in enumerate(entries):
            nodes = required(entry, "nodes", f"placement {key}[{i}]")
            if not isinstance(nodes, list):
                raise InputError(f"placement {key}[{i}]: 'nodes' must be a list")
            lists[Device(cls, i)] = [check_id(v, f"placement {key}[{i}] node") for v in nodes]
    return Placement.from_device_lists(lists)


def placement_to_paper(instance: Instance, placement: Placement, max_load: float | None = None) -> dict:
    """The paper's placement JSON; every device of the topology gets an entry."""
    if not instance.topology.is_paper():
        raise InputError("this placement's topology is not the paper's; write it in the native format")
    acc, cpu = instance.topology.classes
    by_device = placement.by_device()
    return {
        "maxLoad": -1 if max_load is None else max_load,
        "fpgas": [{"nodes": by_device.get(Device(acc.name, i), [])} for i in range(acc.count)],
        "cpus": [{"nodes": by_device.get(Device(cpu.name, i), [])} for i in range(cpu.count)],
    }
