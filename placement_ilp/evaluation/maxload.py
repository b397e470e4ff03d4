"""The solver-independent evaluator: loads, objective values, violations, contiguity.

Every result of every method is checked against :func:`evaluate`, so it is written
as plain, obviously-correct Python over dicts and sets (docs/model.md, section 1):

- compute of device d (class c): sum of ``node.times[c]`` over the nodes on d (an
  unsupported node still counts its time there, ``inf`` when it has none, and is
  reported as a support violation);
- communication, only if class c pays for it: ``instance.comm_time(u, c)`` once for
  every node u on d with a successor off d, and once for every node u off d with a
  successor on d;
- with links (``Topology.links``), the rate depends on the partner device
  (``instance.transfer_time(u, d, e)``): an output leaving d is charged once, at the
  largest cost over the devices e that receive it (one send, as long as its slowest
  link); an output entering d from device e is charged at d's cost towards e;
- a node's compute and communication count towards the forward load if the node is a
  forward node, towards the backward load otherwise;
- load = compute + communication, or max(compute, communication) with ``overlap``;
- objective "sum": max over devices of load; "different-maxima": max_d FW_d + max_d BW_d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..data.checks import check_bool
from .contiguity import ContiguityReport, contiguity_level
from ..errors import InputError
from ..data.graph import NodeId
from ..data.instance import Instance, check_instance
from ..data.placement import Placement, check_placement, check_placement_arg
from ..data.topology import Device

OBJECTIVES: tuple[str, ...] = ("sum", "different-maxima")
VIOLATION_KINDS: tuple[str, ...] = ("memory", "support", "colocation")
MEMORY_TOLERANCE = 1e-9  # relative, on the capacity


def _json_number(x: float | None) -> float | None:
    """Finite floats as they are; None and non-finite values as None (strict JSON)."""
    if x is None or not math.isfinite(x):
        return None
    return x


@dataclass(frozen=True)
class DeviceReport:
    """The numbers of one device.

    nodes: how many nodes it holds. compute, communication: totals (forward +
    backward). memory: sum of node memory; memory_capacity: the class's (None:
    unlimited). load: compute + communication (max of them with overlap).
    forward_load, backward_load: the same for forward / backward nodes only.
    """

    device: Device
    nodes: int
    compute: float
    communication: float
    memory: float
    memory_capacity: float | None
    load: float
    forward_load: float
    backward_load: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: device as ``"cls:index"``, non-finite numbers as None. O(1)."""
        return {
            "device": str(self.device),
            "nodes": self.nodes,
            "compute": _json_number(self.compute),
            "communication": _json_number(self.communication),
            "memory": _json_number(self.memory),
            "memory_capacity": _json_number(self.memory_capacity),
            "load": _json_number(self.load),
            "forward_load": _json_number(self.forward_load),
            "backward_load": _json_number(self.backward_load),
        }


@dataclass(frozen=True)
class Violation:
    """A broken constraint: ``kind`` is "memory", "support" or "colocation";
    ``node`` the node the message names first (None if none)."""

    kind: str
    message: str
    node: NodeId | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict ``{"kind", "message", "node"}``. O(1)."""
        return {"kind": self.kind, "message": self.message, "node": self.node}


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    max_load: the "sum" objective (max over devices of load).
    different_maxima: max_d forward_load + max_d backward_load.
    objective: the selected objective's name; objective_value: its value.
    overlap: whether communication overlapped compute.
    devices: one report per device of the topology, in topology order.
    violations: memory, support and colocation violations.
    contiguity: the placement's contiguity level with witnesses.
    feasible: True when there are no violations (contiguity is not a violation).
    """

    max_load: float
    different_maxima: float
    objective: str
    objective_value: float
    overlap: bool
    devices: tuple[DeviceReport, ...]
    violations: tuple[Violation, ...]
    contiguity: ContiguityReport
    feasible: bool

    def device(self, device: Device) -> DeviceReport:
        """The report of one device (``Device`` or ``(cls, index)``); KeyError if the
        topology has no such device. O(devices). Example: ``ev.device(("acc", 0)).load``."""
        device = Device(*device)
        for r in self.devices:
            if r.device == device:
                return r
        raise KeyError(device)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; devices as ``"cls:index"``, non-finite numbers as None."""
        return {
            "objective": self.objective,
            "objective_value": _json_number(self.objective_value),
            "max_load": _json_number(self.max_load),
            "different_maxima": _json_number(self.different_maxima),
            "overlap": self.overlap,
            "feasible": self.feasible,
            "devices": [r.to_dict() for r in self.devices],
            "violations": [v.to_dict() for v in self.violations],
            "contiguity": self.contiguity.to_dict(),
        }

    def summary(self, max_violations: int = 5) -> str:
        """A few human-readable lines: a device table, the objective values,
        feasibility (with up to ``max_violations`` violations) and contiguity."""
        head = ("device", "nodes", "compute", "comm", "load", "fw load", "bw load", "memory", "capacity")
        rows = [head]
        for r in self.devices:
            cap = "-" if r.memory_capacity is None else f"{r.memory_capacity:.6g}"
            rows.append(
                (
                    str(r.device),
                    str(r.nodes),
                    f"{r.compute:.6g}",
                    f"{r.communication:.6g}",
                    f"{r.load:.6g}",
                    f"{r.forward_load:.6g}",
                    f"{r.backward_load:.6g}",
                    f"{r.memory:.6g}",
                    cap,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows
        ]
        mode = "overlapped" if self.overlap else "sequential"
        lines.append(
            f"max-load: {self.max_load:.6g}   different-maxima: {self.different_maxima:.6g}   "
            f"objective ({self.objective}, {mode} communication): {self.objective_value:.6g}"
        )
        if self.feasible:
            lines.append("feasible: yes")
        else:
            lines.append(f"feasible: no ({len(self.violations)} violation{'s' if len(self.violations) != 1 else ''})")
            for v in self.violations[:max_violations]:
                lines.append(f"  {v.kind}: {v.message}")
            if len(self.violations) > max_violations:
                lines.append(f"  ... and {len(self.violations) - max_violations} more")
        c = self.contiguity
        witness = c.witness
        scope = "" if c.cpu_contiguity else " (CPUs unconstrained)"
        if witness is None:
            lines.append(f"contiguity: {c.level}{scope}")
        else:
            missed = "pipeline" if c.level == "convex" else "convex"
            lines.append(f"contiguity: {c.level}{scope}; not {missed}: {witness}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def evaluate(
    instance: Instance,
    placement: Placement,
    *,
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
) -> Evaluation:
    """Score ``placement`` on ``instance``: per-device loads, both max-load objectives,
    memory / support / colocation violations and the contiguity level.

    objective: "sum" (a device's load is forward + backward load; the training
        default) or "different-maxima" (max_d FW_d + max_d BW_d); both are always
        computed, ``objective_value`` is the selected one. They coincide for
        inference graphs.
    overlap: communication overlaps compute (load = max(compute, communication)).
    cpu_contiguity: whether CPU devices are held to contiguity (see
        :func:`placement_ilp.evaluation.contiguity.contiguity_level`).

    Raises InputError when an argument has the wrong type, when the placement names an
    unknown node or device or leaves a node out, or for an unknown objective.
    Complexity O(devices * (V + E)) (the loads alone are O(V + E)).

    Example: nodes a -> b (acc time 1 and 2, edge cost 0.5), a on acc:0, b on acc:1:
    both devices pay 0.5 of communication, loads 1.5 and 2.5, max-load 2.5.
    With links, a sends its output once at the cost of its slowest link to a
    receiver, and each receiver pays its own link to a's device.
    """
    check_instance(instance)
    check_placement_arg(placement)
    check_bool(overlap, "overlap")
    check_bool(cpu_contiguity, "cpu_contiguity")
    check_placement(instance, placement)
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r} (one of {', '.join(OBJECTIVES)})")
    graph, topo = instance.graph, instance.topology
    assign = placement.assignment
    devices = topo.devices()

    fw_compute = {d: 0.0 for d in devices}
    bw_compute = {d: 0.0 for d in devices}
    fw_comm = {d: 0.0 for d in devices}
    bw_comm = {d: 0.0 for d in devices}
    memory = {d: 0.0 for d in devices}
    count = {d: 0 for d in devices}
    largest: dict[Device, NodeId] = {}
    support: list[Violation] = []

    # Compute, memory and support, node by node.
    for n in graph.nodes:
        d = assign[n.id]
        time = n.times.get(d.cls, math.inf)
        if n.backward:
            bw_compute[d] += time
        else:
            fw_compute[d] += time
        memory[d] += n.memory
        count[d] += 1
        if d not in largest or n.memory > graph.node(largest[d]).memory:
            largest[d] = n.id
        if d.cls not in n.supported:
            support.append(
                Violation("support", f"node {n.id!r} is on {d} but is not supported on class {d.cls!r}", n.id)
            )

    # Communication: each node's output is charged once on its own device (if any
    # successor is elsewhere) and once on every other device holding a successor.
    if not topo.links:  # one rate per class (the paper's model and class links)
        for n in graph.nodes:
            u, d = n.id, assign[n.id]
            comm = bw_comm if n.backward else fw_comm
            receivers = {assign[w] for w in graph.successors(u)}
            receivers.discard(d)
            if receivers:
                comm[d] += instance.comm_time(u, d.cls)
            for r in receivers:
                comm[r] += instance.comm_time(u, r.cls)
    else:  # pairwise links: the sender pays its slowest link, a receiver its link to the sender
        for n in graph.nodes:
            u, d = n.id, assign[n.id]
            comm = bw_comm if n.backward else fw_comm
            receivers = sorted({assign[w] for w in graph.successors(u)} - {d})
            if receivers:
                comm[d] += max(instance.transfer_time(u, d, r) for r in receivers)
            for r in receivers:
                comm[r] += instance.transfer_time(u, r, d)

    reports = []
    memory_violations: list[Violation] = []
    for d in devices:
        compute = fw_compute[d] + bw_compute[d]
        communication = fw_comm[d] + bw_comm[d]
        if overlap:
            load = max(compute, communication)
            fw_load = max(fw_compute[d], fw_comm[d])
            bw_load = max(bw_compute[d], bw_comm[d])
        else:
            load = compute + communication
            fw_load = fw_compute[d] + fw_comm[d]
            bw_load = bw_compute[d] + bw_comm[d]
        capacity = topo.class_of(d.cls).memory
        reports.append(
            DeviceReport(d, count[d], compute, communication, memory[d], capacity, load, fw_load, bw_load)
        )
        if capacity is not None and memory[d] > capacity * (1 + MEMORY_TOLERANCE):
            big = largest[d]
            memory_violations.append(
                Violation(
                    "memory",
                    f"{d} holds {memory[d]:.6g} of memory, over its capacity {capacity:.6g} "
                    f"(largest node {big!r}: {graph.node(big).memory:.6g})",
                    big,
                )
            )

    colocation: list[Violation] = []
    for group in graph.colour_groups():
        first = group[0]
        for v in group[1:]:
            if assign[v] != assign[first]:
                cc = graph.node(first).color_class
                colocation.append(
                    Violation(
                        "colocation",
                        f"colour class {cc!r} is split: node {first!r} is on {assign[first]} "
                        f"but node {v!r} is on {assign[v]}",
                        v,
                    )
                )
                break

    max_load = max((r.load for r in reports), default=0.0)
    different_maxima = max((r.forward_load for r in reports), default=0.0) + max(
        (r.backward_load for r in reports), default=0.0
    )
    violations = tuple(memory_violations + support + colocation)
    return Evaluation(
        max_load=max_load,
        different_maxima=different_maxima,
        objective=objective,
        objective_value=max_load if objective == "sum" else different_maxima,
        overlap=overlap,
        devices=tuple(reports),
        violations=violations,
        contiguity=contiguity_level(instance, placement, cpu_contiguity=cpu_contiguity),
        feasible=not violations,
    )
