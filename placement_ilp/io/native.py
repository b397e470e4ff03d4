"""placement-ilp's native JSON formats (documented in docs/formats.md).

Instance::

    {"format": "placement-ilp/instance", "version": 1, "name": "...",
     "topology": {"classes": [{"name", "kind", "count", "memory"?, "pays_communication"?,
                               "bandwidth"?, "latency"?}, ...],
                  "links"?: [{"between": [A, B], "bandwidth", "latency"?}, ...]},
     "nodes": [{"id", "times": {class: t}, "supported"?, "memory"?, "backward"?,
                "color_class"?, "name"?, "layer_id"?}, ...],
     "edges": [{"source", "target", "cost"?, "bytes"?}, ...]}

Placement::

    {"format": "placement-ilp/placement", "version": 1, "objective"?: x,
     "devices": {"CLASS:INDEX": [node ids], ...}}
"""

from __future__ import annotations

from typing import Any

from ..data.checks import check_number, described, shown
from ..errors import InputError
from ..data.graph import OpEdge, OpGraph, OpNode, check_id
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.topology import Device, DeviceClass, Link, Topology
from .fields import flag, json_list, json_object, label, required, text

INSTANCE_FORMAT = "placement-ilp/instance"
PLACEMENT_FORMAT = "placement-ilp/placement"
VERSION = 1


def _check_version(data: dict, what: str) -> None:
    version = data.get("version", VERSION)
    if version != VERSION:
        raise InputError(f"{what}: version {version!r} is not supported (this tool reads version {VERSION})")


def is_native_instance(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == INSTANCE_FORMAT


def is_native_placement(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == PLACEMENT_FORMAT


def topology_from_native(data: Any) -> Topology:
    topo = json_object(data, "topology")
    classes = json_list(required(topo, "classes", "topology"), "topology: 'classes'")
    if not classes:
        raise InputError("no devices: topology 'classes' is empty")
    out = []
    for pos, raw in enumerate(classes):
        where = f"device class #{pos}"
        json_object(raw, where)
        name = required(raw, "name", where)
        if not isinstance(name, str):
            raise InputError(f"{where}: name must be a string, got {described(name)}")
        where = f"device class {name!r}"
        # DeviceClass checks count, memory, bandwidth and latency, naming the field
        out.append(
            DeviceClass(
                name=name,
                kind=required(raw, "kind", where),
                count=required(raw, "count", where),
                memory=raw.get("memory"),
                pays_communication=flag(raw.get("pays_communication", True), f"{where}: pays_communication"),
                bandwidth=raw.get("bandwidth"),
                latency=raw.get("latency", 0.0),
            )
        )
    return Topology(tuple(out), _links_from_native(topo.get("links", [])))


def _links_from_native(raw_links: Any) -> tuple[Link, ...]:
    """The ``links`` list of a native topology: each ``{"between": [A, B], "bandwidth":
    x, "latency": y}`` with A and B two class names or two device names."""
    json_list(raw_links, "topology: 'links'")
    links = []
    for pos, raw in enumerate(raw_links):
        where = f"link #{pos}"
        json_object(raw, where)
        between = required(raw, "between", where)
        if (not isinstance(between, list) or len(between) != 2
                or not all(isinstance(end, str) and end for end in between)):
            raise InputError(f"{where}: 'between' must be a list of two class or device names, got {shown(between)}")
        where = f"link {between[0]!r}-{between[1]!r}"
        unknown = sorted(set(raw) - {"between", "bandwidth", "latency"})
        if unknown:
            raise InputError(f"{where}: unknown field {unknown[0]!r} (between, bandwidth, latency)")
        links.append(Link(between[0], between[1], required(raw, "bandwidth", where), raw.get("latency", 0.0)))
    return tuple(links)


def topology_to_native(topology: Topology) -> dict:
    classes = []
    for c in topology.classes:
        raw: dict[str, Any] = {"name": c.name, "kind": c.kind, "count": c.count}
        if c.memory is not None:
            raw["memory"] = c.memory
        raw["pays_communication"] = c.pays_communication
        if c.bandwidth is not None:
            raw["bandwidth"] = c.bandwidth
            raw["latency"] = c.latency
        classes.append(raw)
    out: dict[str, Any] = {"classes": classes}
    if topology.links:
        out["links"] = [
            {"between": [link.a, link.b], "bandwidth": link.bandwidth, "latency": link.latency}
            for link in topology.links
        ]
    return out


def instance_from_native(data: dict, name: str = "instance") -> Instance:
    """Build an :class:`Instance` from the native instance JSON (already parsed). O(n + m)."""
    _check_version(data, "instance")
    topology = topology_from_native(required(data, "topology", "instance"))
    raw_nodes = json_list(required(data, "nodes", "instance"), "instance: 'nodes'")
    raw_edges = json_list(required(data, "edges", "instance"), "instance: 'edges'")
    nodes = []
    for pos, raw in enumerate(raw_nodes):
        json_object(raw, f"node #{pos}")
        node_id = check_id(required(raw, "id", f"node #{pos}"), f"node #{pos} id")
        where = f"node {node_id!r}"
        times = json_object(required(raw, "times", where), f"{where}: times")
        supported = raw.get("supported")
        if supported is not None and not (isinstance(supported, list) and all(isinstance(c, str) for c in supported)):
            raise InputError(f"{where}: 'supported' must be a list of device class names, got {shown(supported)}")
        nodes.append(
            OpNode(
                id=node_id,
                times={cls: check_number(t, f"{where}: time on {cls!r}") for cls, t in times.items()},
                supported=supported,
                memory=check_number(raw.get("memory", 0.0), f"{where}: memory"),
                backward=flag(raw.get("backward", False), f"{where}: backward"),
                color_class=label(raw.get("color_class"), f"{where}: color_class"),
                name=text(raw.get("name"), f"{where}: name"),
                layer_id=label(raw.get("layer_id"), f"{where}: layer_id"),
            )
        )
    edges = []
    for pos, raw in enumerate(raw_edges):
        json_object(raw, f"edge #{pos}")
        src = check_id(required(raw, "source", f"edge #{pos}"), f"edge #{pos} source")
        dst = check_id(required(raw, "target", f"edge #{pos}"), f"edge #{pos} target")
        where = f"edge {src!r}->{dst!r}"
        size = raw.get("bytes")
        edges.append(
            OpEdge(
                src,
                dst,
                check_number(raw.get("cost", 0.0), f"{where}: cost"),
                check_number(size, f"{where}: bytes", allow_none=True),
            )
        )
    label_name = text(data.get("name", name), "instance: name")
    return Instance(OpGraph(tuple(nodes), tuple(edges)), topology, name if label_name is None else label_name)


def instance_to_native(instance: Instance) -> dict:
    nodes = []
    for n in instance.graph.nodes:
        raw: dict[str, Any] = {"id": n.id, "times": dict(n.times)}
        if n.supported != frozenset(n.times):
            raw["supported"] = sorted(n.supported)
        raw["memory"] = n.memory
        if n.backward:
            raw["backward"] = True
        for key, value in (("color_class", n.color_class), ("name", n.name), ("layer_id", n.layer_id)):
            if value is not None:
                raw[key] = value
        nodes.append(raw)
    edges = []
    for e in instance.graph.edges:
        raw = {"source": e.source, "target": e.target, "cost": e.cost}
        if e.bytes is not None:
            raw["bytes"] = e.bytes
        edges.append(raw)
    return {
        "format": INSTANCE_FORMAT,
        "version": VERSION,
        "name": instance.name,
        "topology": topology_to_native(instance.topology),
        "nodes": nodes,
        "edges": edges,
    }


def placement_from_native(data: dict) -> Placement:
    _check_version(data, "placement")
    devices = json_object(required(data, "devices", "placement"), "placement: devices")
    lists = {}
    for name, nodes in devices.items():
        if not isinstance(nodes, list):
            raise InputError(f"placement: device {shown(name)} must map to a list of node ids, got {shown(nodes)}")
        lists[Device.parse(name)] = [check_id(v, f"placement device {name} node") for v in nodes]
    return Placement.from_device_lists(lists)


def placement_to_native(placement: Placement, objective: float | None = None) -> dict:
    out: dict[str, Any] = {"format": PLACEMENT_FORMAT, "version": VERSION}
    if objective is not None:
        out["objective"] = objective
    out["devices"] = {str(d): nodes for d, nodes in sorted(placement.by_device().items())}
    return out
