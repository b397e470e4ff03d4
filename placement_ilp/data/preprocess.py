"""Colour-class contraction: the form in which the exact methods see an instance.

Nodes of one colour class must share a device, so the MILPs and the DP place
*groups* (a colour class, or a node without one). This module computes, as numpy
arrays, everything a formulation needs about the groups, and maps a group
assignment back to the original node ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .instance import Instance
from .placement import Placement
from .topology import Device


@dataclass(frozen=True)
class Contracted:
    """An instance seen as groups. ``G`` groups, ``C`` device classes.

    members[g]: node positions in group g.
    node_group[i]: the group of node position i.
    time_fw[g, c], time_bw[g, c]: summed forward / backward time of g on class c
        (``inf`` where some member is unsupported on c).
    supported[g, c]: every member may run on class c.
    memory[g]: summed memory.
    has_forward[g]: g holds a forward node (only those are constrained by contiguity).
    fw_src, fw_dst: distinct forward arcs between different groups (contracted
        forward graph; a DAG for every workload of the paper).
    order_src, order_dst: the arcs that order a pipeline: the forward arcs, plus,
        for an orphan group (a colour class of backward nodes only), the mirror
        image ``b -> a`` of each backward edge ``a -> b`` that touches it, as if it
        had a zero-cost forward twin (what the paper's tool does).
    comm_node[k], comm_group[k], comm_backward[k]: the k-th communication item is
        node position comm_node[k] of group comm_group[k]; it is backward or not.
    comm_cost[k, c]: its transfer time on class c (0 where c does not pay).
    succ_item[j], succ_group[j]: item succ_item[j] has a successor in group
        succ_group[j] != its own group (distinct pairs).
    """

    instance: Instance
    members: list[np.ndarray]
    node_group: np.ndarray
    time_fw: np.ndarray
    time_bw: np.ndarray
    supported: np.ndarray
    memory: np.ndarray
    has_forward: np.ndarray
    fw_src: np.ndarray
    fw_dst: np.ndarray
    order_src: np.ndarray
    order_dst: np.ndarray
    comm_node: np.ndarray
    comm_group: np.ndarray
    comm_backward: np.ndarray
    comm_cost: np.ndarray
    succ_item: np.ndarray
    succ_group: np.ndarray

    @property
    def num_groups(self) -> int:
        return len(self.members)

    @property
    def time(self) -> np.ndarray:
        """Total (forward + backward) time of each group on each class."""
        return self.time_fw + self.time_bw

    def placement(self, group_device: list[Device]) -> Placement:
        """Map ``group_device[g]`` back to a placement of the original nodes."""
        ids = self.instance.arrays.ids
        return Placement({ids[i]: group_device[self.node_group[i]] for i in range(len(ids))})

    def group_devices(self, placement: Placement) -> list[Device]:
        """The device of each group under ``placement`` (that of its first member)."""
        ids = self.instance.arrays.ids
        return [placement.device_of(ids[m[0]]) for m in self.members]

    def follows_pipeline_order(self, placement: Placement, cpu_contiguity: bool = True) -> bool:
        """Whether the exact pipeline methods (the ideal DP, the MILP) can represent
        ``placement``: its devices can be ordered so that every ordering arc
        (``order_src -> order_dst``) between two groups on different devices goes
        forward. The evaluator's pipeline level asks this of the forward arcs only
        and leaves backward-only groups free, so a placement can be pipeline to the
        evaluator and still not be one the DP or the MILP can hold. With
        ``cpu_contiguity=False`` each group on a CPU is a vertex of its own (paths
        through CPUs still count). O(G + arcs).

        Example: ``contract(inst).follows_pipeline_order(solve(inst, method="dp").placement)``.
        """
        devices = self.group_devices(placement)
        cpu_classes = {c.name for c in self.instance.topology.classes if c.kind == "cpu"}

        def vertex(g: int):
            d = devices[g]
            return ("group", g) if not cpu_contiguity and d.cls in cpu_classes else ("device", d)

        graph = nx.DiGraph()
        for u, v in zip(self.order_src.tolist(), self.order_dst.tolist()):
            a, b = vertex(u), vertex(v)
            if a != b:
                graph.add_edge(a, b)
        return nx.is_directed_acyclic_graph(graph)


def contract(instance: Instance) -> Contracted:
    """Contract colour classes into groups. O(n * C + m log m).

    Example: ``contract(inst).num_groups <= len(inst.graph)``.
    """
    a = instance.arrays
    n, C = a.time.shape
    G = a.num_groups
    group = a.group
    # members of every group in one stable sort (ascending positions in each), O(n log n)
    by_group = np.argsort(group, kind="stable")
    members = np.split(by_group, np.cumsum(np.bincount(group, minlength=G))[:-1]) if n else []
    fw_time = np.where(a.backward[:, None], 0.0, a.time)
    bw_time = np.where(a.backward[:, None], a.time, 0.0)
    time_fw = np.zeros((G, C))
    time_bw = np.zeros((G, C))
    np.add.at(time_fw, group, fw_time)
    np.add.at(time_bw, group, bw_time)
    supported = np.ones((G, C), dtype=bool)
    np.logical_and.at(supported, group, np.isfinite(a.time))
    time_fw[~supported] = np.inf
    time_bw[~supported] = np.inf
    memory = np.zeros(G)
    np.add.at(memory, group, a.memory)
    has_forward = np.zeros(G, dtype=bool)
    np.logical_or.at(has_forward, group, ~a.backward)

    gs, gd = group[a.src], group[a.dst]
    keep = a.forward_edge & (gs != gd)
    arcs = np.unique(np.stack([gs[keep], gd[keep]], axis=1), axis=0) if keep.any() else np.zeros((0, 2), int)

    orphan = ~has_forward
    mirror = a.backward[a.src] & a.backward[a.dst] & (gs != gd) & (orphan[gs] | orphan[gd]) if len(gs) else keep
    order = np.concatenate([arcs, np.stack([gd[mirror], gs[mirror]], axis=1)]) if mirror.any() else arcs
    order = np.unique(order, axis=0) if len(order) else np.zeros((0, 2), int)

    cross = gs != gd
    pairs = np.unique(np.stack([a.src[cross], gd[cross]], axis=1), axis=0) if cross.any() else np.zeros((0, 2), int)
    comm_node, item_of_pair = np.unique(pairs[:, 0], return_inverse=True)
    comm_node = comm_node.astype(np.int64)
    return Contracted(
        instance=instance,
        members=members,
        node_group=group,
        time_fw=time_fw,
        time_bw=time_bw,
        supported=supported,
        memory=memory,
        has_forward=has_forward,
        fw_src=arcs[:, 0].astype(np.int64),
        fw_dst=arcs[:, 1].astype(np.int64),
        order_src=order[:, 0].astype(np.int64),
        order_dst=order[:, 1].astype(np.int64),
        comm_node=comm_node,
        comm_group=group[comm_node],
        comm_backward=a.backward[comm_node],
        comm_cost=a.comm[comm_node],
        succ_item=item_of_pair.reshape(-1).astype(np.int64),
        succ_group=pairs[:, 1].astype(np.int64),
    )
