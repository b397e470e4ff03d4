"""A placement: which device each node runs on.

Every method of the toolkit (MILP, DP, baselines, files) ends in a
:class:`Placement`, and every placement is scored by :mod:`placement_ilp.evaluation.maxload`.
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from typing import Iterable, Mapping

from .checks import described, shown
from ..errors import InputError
from .graph import NodeId
from .instance import Instance
from .topology import Device, as_device


@dataclass(frozen=True)
class Placement:
    """``assignment[node_id]`` is the device of that node: a :class:`Device`, a
    ``(class, index)`` pair or a ``"class:index"`` string (stored as a Device).

    Example: ``Placement({1: "acc:0", 2: ("cpu", 0)}).device_of(1) == Device("acc", 0)``.
    """

    assignment: Mapping[NodeId, Device]

    def __post_init__(self) -> None:
        if not isinstance(self.assignment, abc.Mapping):
            raise InputError(f'a Placement maps node ids to devices, e.g. Placement({{1: "acc:0"}}), '
                             f"got {type(self.assignment).__name__} {shown(self.assignment)}")
        assignment = {}
        for v, d in self.assignment.items():
            try:
                assignment[v] = as_device(d)
            except InputError as exc:
                raise InputError(f"node {shown(v)}: {exc}") from None
        object.__setattr__(self, "assignment", assignment)

    def device_of(self, node_id: NodeId) -> Device:
        return self.assignment[node_id]

    def nodes_on(self, device: Device) -> list[NodeId]:
        return [v for v, d in self.assignment.items() if d == device]

    def by_device(self) -> dict[Device, list[NodeId]]:
        """Nodes of each device that holds any, in assignment order."""
        out: dict[Device, list[NodeId]] = {}
        for v, d in self.assignment.items():
            out.setdefault(d, []).append(v)
        return out

    @staticmethod
    def from_device_lists(lists: Mapping[Device, Iterable[NodeId]]) -> "Placement":
        """Build from ``{device: [node ids]}``; a node listed twice is an error."""
        assignment: dict[NodeId, Device] = {}
        for device, nodes in lists.items():
            for v in nodes:
                if v in assignment:
                    raise InputError(f"node {v!r} is placed twice ({assignment[v]} and {device})")
                assignment[v] = device
        return Placement(assignment)


def complete_by_colour(instance: Instance, placement: Placement) -> Placement:
    """Place every unplaced node with the placed members of its colour class.

    Expert splits of training graphs list forward nodes only; backward nodes follow
    their colour class (docs/model.md). Nodes whose class has no placed member stay
    unplaced (``check_placement`` then names them). Colour classes whose placed
    members disagree are left for the evaluator to report. O(n).
    """
    assignment = dict(placement.assignment)
    graph = instance.graph
    for group in graph.colour_groups():
        placed = [assignment[v] for v in group if v in assignment]
        if placed:
            for v in group:
                assignment.setdefault(v, placed[0])
    # keep the graph's node order for readability
    ordered = {n.id: assignment[n.id] for n in graph.nodes if n.id in assignment}
    ordered.update({v: d for v, d in assignment.items() if v not in ordered})
    return Placement(ordered)


def check_placement(instance: Instance, placement: Placement, unlimited_cpus: bool = False) -> None:
    """Raise InputError if the placement names an unknown node or device or
    leaves a node out. Support, memory and colocation are the evaluator's to report.
    ``unlimited_cpus``: any index of a CPU class is a device (the latency model)."""
    graph, topo = instance.graph, instance.topology
    cpu_classes = {c.name for c in topo.classes if c.kind == "cpu"} if unlimited_cpus else set()
    for v, d in placement.assignment.items():
        if v not in graph:
            raise InputError(f"placement names unknown node {v!r}")
        if d.cls in cpu_classes and d.index >= 0:
            continue
        if not topo.has_device(d):
            raise InputError(f"placement names unknown device {d} (node {v!r})")
    for n in graph.nodes:
        if n.id not in placement.assignment:
            raise InputError(f"placement leaves node {n.id!r} out")


def check_placement_arg(value: object, argument: str = "placement") -> Placement:
    """``value`` if it is a :class:`~placement_ilp.data.placement.Placement`, else InputError
    saying how to make one. O(1).

    Example::

        >>> check_placement_arg(None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        placement_ilp.errors.InputError: placement must be a Placement (...), got NoneType None
    """
    if not isinstance(value, Placement):
        raise InputError(
            f'{argument} must be a Placement (Placement({{node: "acc:0", ...}}) or load_placement(path, instance)), '
            f"got {described(value)}"
        )
    return value
