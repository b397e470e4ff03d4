"""An instance: an operator graph and the device topology to place it on.

``Instance.arrays`` gives the numbers every algorithm needs as numpy arrays
(indexed by node position and device-class position), computed once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .graph import NodeId, OpGraph
from .topology import Device, Topology


@dataclass(frozen=True)
class InstanceArrays:
    """Array view of an instance. ``n`` nodes, ``C`` device classes.

    ids[i]: the node id at position i.
    time[i, c]: time of node i on class c (``inf`` where unsupported).
    comm[i, c]: what a device of class c pays when node i's output enters or
        leaves it (0 for classes that do not pay communication).
    memory[i], backward[i]: per node.
    src, dst: edge endpoints as positions; ``forward_edge`` marks edges whose two
        ends are forward nodes.
    group[i]: colour group of node i (0..num_groups-1, in first-appearance order).
    """

    ids: list
    time: np.ndarray
    comm: np.ndarray
    memory: np.ndarray
    backward: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    forward_edge: np.ndarray
    group: np.ndarray
    num_groups: int


@dataclass(frozen=True)
class Instance:
    """A placement problem: ``graph`` on ``topology``; ``name`` is a label."""

    graph: OpGraph
    topology: Topology
    name: str = "instance"

    def __post_init__(self) -> None:
        known = set(self.topology.class_names)
        for node in self.graph.nodes:
            for cls in node.times:
                if cls not in known:
                    raise InputError(f"node {node.id!r} has a time for unknown device class {cls!r}")

    @property
    def devices(self) -> list[Device]:
        return self.topology.devices()

    def comm_time(self, node_id: NodeId, cls: str) -> float:
        """What a device of class ``cls`` pays when ``node_id``'s output crosses its boundary."""
        dc = self.topology.class_of(cls)
        if not dc.pays_communication or not self.graph.successors(node_id):
            return 0.0
        if dc.bandwidth is None:
            return self.graph.out_cost(node_id)
        return self.graph.out_bytes(node_id) / dc.bandwidth + dc.latency

    @functools.cached_property
    def arrays(self) -> InstanceArrays:
        g = self.graph
        classes = self.topology.class_names
        n, C = len(g), len(classes)
        time = np.full((n, C), np.inf)
        comm = np.zeros((n, C))
        memory = np.zeros(n)
        backward = np.zeros(n, dtype=bool)
        for i, node in enumerate(g.nodes):
            for c, cls in enumerate(classes):
                if cls in node.supported:
                    time[i, c] = node.times[cls]
                comm[i, c] = self.comm_time(node.id, cls)
            memory[i] = node.memory
            backward[i] = node.backward
        src = np.array([g.index_of(e.source) for e in g.edges], dtype=np.int64)
        dst = np.array([g.index_of(e.target) for e in g.edges], dtype=np.int64)
        forward_edge = ~backward[src] & ~backward[dst] if len(src) else np.zeros(0, dtype=bool)
        group = np.zeros(n, dtype=np.int64)
        groups = g.colour_groups()
        for k, members in enumerate(groups):
            for v in members:
                group[g.index_of(v)] = k
        return InstanceArrays(g.ids, time, comm, memory, backward, src, dst, forward_edge, group, len(groups))
