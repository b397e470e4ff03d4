"""An instance: an operator graph and the device topology to place it on.

``Instance.arrays`` gives the numbers every algorithm needs as numpy arrays
(indexed by node position and device-class position), computed once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .checks import MAX_VALUE, described, shown
from ..errors import InputError
from .graph import NodeId, OpGraph
from .topology import Device, Link, Topology


@dataclass(frozen=True)
class InstanceArrays:
    """Array view of an instance. ``n`` nodes, ``C`` device classes.

    ids[i]: the node id at position i.
    time[i, c]: time of node i on class c (``inf`` where unsupported).
    comm[i, c]: what a device of class c pays when node i's output enters or
        leaves it over its own class link (0 for classes that do not pay
        communication); with ``Topology.links`` the rate also depends on the
        partner device: see :meth:`Instance.transfer_time`.
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
        if not isinstance(self.graph, OpGraph) or not isinstance(self.topology, Topology):
            raise InputError(f"an Instance is an OpGraph and a Topology, got {shown(self.graph)} and "
                             f"{shown(self.topology)}")
        if not isinstance(self.name, str):
            raise InputError(f"instance name must be a string, got {shown(self.name)}")
        known = set(self.topology.class_names)
        for node in self.graph.nodes:
            for cls in node.times:
                if cls not in known:
                    raise InputError(f"node {node.id!r} has a time for unknown device class {cls!r}")
        self.check_totals()

    def check_totals(self) -> None:
        """InputError when a total over the graph exceeds :data:`~placement_ilp.data.checks.MAX_VALUE`:
        each number is within the limit, but the models use sums of them as one
        coefficient (a colour group's time or memory) or bound (the latency MILP's
        big-M values reach the sum of all times). Checked: the node times on each
        class, the node memory sizes, the communication costs of the node outputs,
        and the transfer times (``bytes / bandwidth + latency`` per node with a
        successor) over each paying class's own link with a bandwidth and over each
        link. O(n * C + m).

        Example: 10 nodes of time 2e12 on class "acc" add up to 2e13, and are refused.
        """
        graph, topo = self.graph, self.topology
        times: dict[str, float] = {}
        for node in graph.nodes:
            for cls in node.supported:
                times[cls] = times.get(cls, 0.0) + node.times[cls]
        totals = {f"the node times on class {cls!r}": total for cls, total in times.items()}
        totals["the node memory sizes"] = sum(n.memory for n in graph.nodes)
        senders = [v for v in graph.ids if graph.successors(v)]
        totals["the communication costs of the node outputs"] = sum(graph.out_cost(v) for v in senders)
        rated = [(f"device class {c.name!r}", c.bandwidth, c.latency) for c in topo.classes
                 if c.bandwidth is not None and c.pays_communication]
        rated += [(f"link {k.a!r}-{k.b!r}", k.bandwidth, k.latency) for k in topo.links]
        if rated:
            sent = sum(graph.out_bytes(v) for v in senders)
            for where, bandwidth, latency in rated:
                totals[f"the transfer times over {where} (bandwidth {bandwidth:g})"] = \
                    sent / bandwidth + latency * len(senders)
        for what, total in totals.items():
            if total > MAX_VALUE:
                raise InputError(
                    f"{what} add up to {total:g} over the graph's {len(graph)} nodes, more than {MAX_VALUE:g}, "
                    "the largest number the solvers represent exactly enough; scale the units"
                )

    @property
    def devices(self) -> list[Device]:
        return self.topology.devices()

    def comm_time(self, node_id: NodeId, cls: str) -> float:
        """What a device of class ``cls`` pays when ``node_id``'s output crosses its
        boundary over the class's own link (without links, the whole story; with
        links see :meth:`transfer_time`). O(1)."""
        dc = self.topology.class_of(cls)
        if not dc.pays_communication or not self.graph.successors(node_id):
            return 0.0
        if dc.bandwidth is None:
            return self.graph.out_cost(node_id)
        return self.graph.out_bytes(node_id) / dc.bandwidth + dc.latency

    def transfer_time(self, node_id: NodeId, device: Device, partner: Device) -> float:
        """What ``device`` pays to move ``node_id``'s output to or from ``partner``.

        0 when ``device``'s class does not pay communication, when the node has no
        successor or when the two are the same device. Otherwise the link that
        :meth:`Topology.link_between` picks: ``out_bytes / bandwidth + latency``, or,
        without a device-pair or class-pair link, :meth:`comm_time` (the device's
        own class link). O(1).

        Example: with a link ``Link("s0", "s1", 2.0)`` and 8 bytes out of ``u``,
        ``inst.transfer_time("u", Device("s0", 0), Device("s1", 0)) == 4.0``.
        """
        device, partner = Device(*device), Device(*partner)
        dc = self.topology.class_of(device.cls)
        if device == partner or not dc.pays_communication or not self.graph.successors(node_id):
            return 0.0
        link = self.topology.link_between(device, partner)
        if link is None:
            return self.comm_time(node_id, device.cls)
        return link.cost(self.graph.out_bytes(node_id))

    def link_costs(self, link: Link | None, cls: str) -> np.ndarray:
        """Per node position, what a device of class ``cls`` pays to move the node's
        output over ``link`` (None: over its own class link, ``arrays.comm``). 0 for
        a class that does not pay and for nodes without successors. O(n).

        Example: ``inst.link_costs(None, "acc")`` equals ``inst.arrays.comm[:, 0]``
        on the paper's topology.
        """
        c = self.topology.class_names.index(cls)
        if link is None:
            return self.arrays.comm[:, c]
        if not self.topology.classes[c].pays_communication:
            return np.zeros(len(self.graph))
        return np.where(self._has_successor, self._out_bytes / link.bandwidth + link.latency, 0.0)

    @functools.cached_property
    def _out_bytes(self) -> np.ndarray:
        return np.array([self.graph.out_bytes(v) for v in self.graph.ids], dtype=float)

    @functools.cached_property
    def _has_successor(self) -> np.ndarray:
        return np.array([bool(self.graph.successors(v)) for v in self.graph.ids], dtype=bool)

    @functools.cached_property
    def _crossing_nodes(self) -> np.ndarray:
        """Positions of the nodes with a successor outside their colour group: the
        only outputs that can ever cross a device boundary."""
        a = self.arrays
        cross = a.group[a.src] != a.group[a.dst]
        return np.unique(a.src[cross])

    def _link_changes(self, link: Link, side: str, fallback: Link | None) -> bool:
        """Whether a device of class ``side`` pays something else over ``link`` than
        over ``fallback`` (None: its own class link) for some crossing node."""
        nodes = self._crossing_nodes
        if not len(nodes):
            return False
        return bool((self.link_costs(link, side)[nodes] != self.link_costs(fallback, side)[nodes]).any())

    @functools.cached_property
    def links_change_costs(self) -> bool:
        """True when some link makes a transfer cost other than the paying device's
        own class link would, i.e. when costs depend on the partner device. Without
        links, or with links that repeat the class rates (or join only classes that
        do not pay), False: then every method that reads ``arrays.comm`` is exact.
        A class-pair link counts only if its classes have the devices to use it (two
        devices for a link of a class with itself). O(links * n).

        Example: ``Instance(g, paper_topology(2, 1, None)).links_change_costs is False``.
        """
        topo = self.topology
        for link in topo.links:
            if link.is_device_pair:
                sides = [d.cls for d in link.key]
            else:
                a, b = topo.class_of(link.a), topo.class_of(link.b)
                usable = a.count >= (2 if a.name == b.name else 1) and b.count >= 1
                sides = [a.name, b.name] if usable else []
            if any(self._link_changes(link, side, None) for side in sides):
                return True
        return False

    @functools.cached_property
    def device_links_change_costs(self) -> bool:
        """True when some device-pair link makes a transfer cost other than the class
        level would (the class-pair link of the two classes, or the paying device's
        own class link): then costs depend on which devices, not only which classes,
        talk. O(links * n).

        Example: a device-pair link with the rates of its class-pair link gives False.
        """
        topo = self.topology
        for link in topo.device_links:
            first, second = sorted(link.key)
            fallback = topo.class_link(first.cls, second.cls)
            if any(self._link_changes(link, d.cls, fallback) for d in (first, second)):
                return True
        return False

    def refuse_links(self, method: str, hint: str = "use --method milp") -> None:
        """Raise InputError when links make costs depend on the partner device
        (:attr:`links_change_costs`), for a method that reads ``arrays.comm`` (one
        rate per class) and so cannot honour them; ``hint`` ends the message.
        O(1) after the first call.

        Example: ``instance.refuse_links("pipedream")`` at the top of a baseline.
        """
        if self.links_change_costs:
            raise InputError(
                f"{method} charges each device its own class's link and cannot honour the pairwise links of "
                f"this topology (their rates depend on the partner device); {hint}"
            )

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


def check_instance(value: object, argument: str = "instance") -> Instance:
    """``value`` if it is an :class:`~placement_ilp.data.instance.Instance`, else InputError
    saying how to get one. O(1).

    Example::

        >>> check_instance("path.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        placement_ilp.errors.InputError: instance must be an Instance (load one with ...), got str 'path.json'
    """
    if not isinstance(value, Instance):
        raise InputError(f"{argument} must be an Instance (load one with load_instance(path)), got {described(value)}")
    return value
