"""The costed operator graph: nodes (operators or layers) and data edges.

A node carries a time per device class (``times``), the classes it may run on
(``supported``), the memory it takes on a device, whether it belongs to the
backward pass of a training graph, and an optional colour class (nodes of one
colour class must sit on one device). An edge ``(u, v)`` carries the time
``cost`` to move ``u``'s output between devices (the paper's model) and/or its
size in ``bytes`` (for topologies that give bandwidths).

Construction validates everything: an :class:`OpGraph` that exists is a DAG with
unique ids, finite non-negative numbers no larger than
:data:`placement_ilp.data.checks.MAX_VALUE`, equal costs on the out-edges of each node
and no backward-to-forward edge. An empty graph is valid (its max-load is 0). A
colour class made of backward nodes only is accepted (the paper's own training
workloads have them) and rejected by :meth:`OpGraph.check_strict`.
"""

from __future__ import annotations

import math
from collections import abc
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping

import networkx as nx

from .checks import check_number, described, shown
from ..errors import InputError

NodeId = Hashable  # int or str in practice

__all__ = ["NodeId", "OpNode", "OpEdge", "OpGraph", "check_id", "check_number", "make_graph"]


def check_id(value: object, what: str) -> NodeId:
    """Node ids are 64-bit integers or non-empty strings (not booleans)."""
    if (isinstance(value, bool) or not isinstance(value, (int, str)) or value == ""
            or (isinstance(value, int) and not -2**63 <= value < 2**63)):
        raise InputError(f"{what} {shown(value)} is not a valid node id (a 64-bit integer or a non-empty string)")
    return value


def _check_hashable(value: object, what: str) -> None:
    """InputError when ``value`` cannot be a dict key (a list, a dict, ...)."""
    if value is None or type(value) is str or type(value) is int:
        return
    try:
        hash(value)
    except TypeError:
        raise InputError(f"{what} must be a string, a number or None, "
                         f"got {described(value)}") from None


@dataclass(frozen=True)
class OpNode:
    """One operator (or layer) of the graph.

    times: time to run the node on one device of each class, by class name.
    supported: the classes it may be placed on (defaults to the keys of ``times``).
    memory: what it occupies on a device with bounded memory (bytes).
    backward: True for backward-pass nodes of a training graph.
    color_class: nodes with the same non-None colour class share a device.
    name, layer_id: optional labels kept for round trips.
    """

    id: NodeId
    times: Mapping[str, float]
    supported: frozenset[str] | None = None
    memory: float = 0.0
    backward: bool = False
    color_class: Hashable | None = None
    name: str | None = None
    layer_id: Hashable | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "node id")
        if type(self.times) is not dict and not isinstance(self.times, abc.Mapping):
            raise InputError(f"node {self.id!r}: times must map device class names to times, "
                             f"got {type(self.times).__name__} {shown(self.times)}")
        times = {}
        for cls, t in self.times.items():
            if not isinstance(cls, str):
                raise InputError(f"node {self.id!r}: times: device class name {shown(cls)} is not a string")
            times[cls] = check_number(t, f"node {self.id!r}: time on {cls!r}")
        object.__setattr__(self, "times", times)
        supported = frozenset(times)
        if self.supported is not None:
            try:
                if isinstance(self.supported, str):
                    raise TypeError("a single string")
                supported = frozenset(self.supported)
            except TypeError:
                raise InputError(f"node {self.id!r}: supported must be a collection of device class names, "
                                 f"got {shown(self.supported)}") from None
        missing = supported - times.keys()
        if missing:  # a name that is not a string is missing too: every key of times is a string
            raise InputError(f"node {self.id!r} is supported on {shown(min(missing, key=repr))} but has no time for it")
        object.__setattr__(self, "supported", supported)
        object.__setattr__(self, "memory", check_number(self.memory, f"node {self.id!r}: memory"))
        object.__setattr__(self, "backward", bool(self.backward))
        _check_hashable(self.color_class, f"node {self.id!r}: color_class")
        _check_hashable(self.layer_id, f"node {self.id!r}: layer_id")
        if self.name is not None and not isinstance(self.name, str):
            raise InputError(f"node {self.id!r}: name must be a string, got {type(self.name).__name__} "
                             f"{shown(self.name)}")

    def time_on(self, cls: str) -> float:
        """Time on a device of class ``cls``; ``inf`` when not supported there."""
        return self.times[cls] if cls in self.supported else math.inf


@dataclass(frozen=True)
class OpEdge:
    """A data edge: ``source``'s output is an input of ``target``.

    cost: time to move the output across devices (the paper's ``cost``).
    bytes: size of the output (the paper's ``size``), for bandwidth-based topologies.
    """

    source: NodeId
    target: NodeId
    cost: float = 0.0
    bytes: float | None = None

    def __post_init__(self) -> None:
        check_id(self.source, "edge source")
        check_id(self.target, "edge target")
        where = f"edge {self.source!r}->{self.target!r}"
        object.__setattr__(self, "cost", check_number(self.cost, f"{where}: cost"))
        if self.bytes is not None:
            object.__setattr__(self, "bytes", check_number(self.bytes, f"{where}: bytes"))


@dataclass(frozen=True)
class OpGraph:
    """A validated DAG of operators. Nodes keep the order they were given in."""

    nodes: tuple[OpNode, ...]
    edges: tuple[OpEdge, ...]
    _index: dict = field(init=False, repr=False, compare=False)
    _succ: dict = field(init=False, repr=False, compare=False)
    _pred: dict = field(init=False, repr=False, compare=False)
    _out_cost: dict = field(init=False, repr=False, compare=False)
    _out_bytes: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))
        for items, kind in ((self.nodes, OpNode), (self.edges, OpEdge)):
            for item in items:
                if not isinstance(item, kind):
                    raise InputError(f"an OpGraph is made of OpNode and OpEdge values, got {shown(item)}")
        index: dict[NodeId, int] = {}
        for i, node in enumerate(self.nodes):
            if node.id in index:
                raise InputError(f"duplicate node id {node.id!r}")
            index[node.id] = i
        succ: dict[NodeId, list[NodeId]] = {n.id: [] for n in self.nodes}
        pred: dict[NodeId, list[NodeId]] = {n.id: [] for n in self.nodes}
        seen_edges: set[tuple[NodeId, NodeId]] = set()
        out_cost: dict[NodeId, float] = {}
        for e in self.edges:
            for end in (e.source, e.target):
                if end not in index:
                    raise InputError(f"edge {e.source!r}->{e.target!r} names unknown node {end!r}")
            if e.source == e.target:
                raise InputError(f"self-loop on node {e.source!r}")
            if (e.source, e.target) in seen_edges:
                raise InputError(f"duplicate edge {e.source!r}->{e.target!r}")
            seen_edges.add((e.source, e.target))
            if e.source in out_cost and out_cost[e.source] != e.cost:
                raise InputError(
                    f"node {e.source!r}: out-edges carry different costs "
                    f"({out_cost[e.source]!r} and {e.cost!r}); all out-edges of a node must cost the same"
                )
            out_cost.setdefault(e.source, e.cost)
            src, dst = self.nodes[index[e.source]], self.nodes[index[e.target]]
            if src.backward and not dst.backward:
                raise InputError(f"backward-to-forward edge {e.source!r}->{e.target!r}")
            succ[e.source].append(e.target)
            pred[e.target].append(e.source)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_succ", succ)
        object.__setattr__(self, "_pred", pred)
        object.__setattr__(self, "_out_cost", out_cost)
        out_bytes: dict[NodeId, float] = {}
        for e in self.edges:
            out_bytes[e.source] = max(out_bytes.get(e.source, 0.0), e.bytes or 0.0)
        object.__setattr__(self, "_out_bytes", out_bytes)
        self._check_acyclic()

    # -- validation -------------------------------------------------------
    def _check_acyclic(self) -> None:
        indeg = {v: len(p) for v, p in self._pred.items()}
        stack = [v for v, d in indeg.items() if d == 0]
        done = 0
        while stack:
            v = stack.pop()
            done += 1
            for w in self._succ[v]:
                indeg[w] -= 1
                if indeg[w] == 0:
                    stack.append(w)
        if done < len(self.nodes):
            # Walk backwards from a node left over until a node repeats: it lies on a cycle.
            v = next(v for v, d in indeg.items() if d > 0)
            seen: set[NodeId] = set()
            while v not in seen:
                seen.add(v)
                v = next(u for u in self._pred[v] if indeg[u] > 0)
            raise InputError(f"the graph has a cycle through node {v!r}")

    def orphan_backward_classes(self) -> list[Hashable]:
        """Colour classes (given ones only) whose nodes are all backward nodes.

        The paper's own training workloads contain a few (the loss nodes), and its
        tool accepts them, so loading does too; ``check_strict`` rejects them.
        """
        forward: dict[Hashable, bool] = {}
        for n in self.nodes:
            if n.color_class is not None:
                forward[n.color_class] = forward.get(n.color_class, False) or not n.backward
        return [cc for cc, has_forward in forward.items() if not has_forward]

    def check_strict(self) -> None:
        """Raise InputError for input the model allows but a careful author would not
        write: a colour class with only backward nodes."""
        orphans = self.orphan_backward_classes()
        if orphans:
            raise InputError(f"colour class {orphans[0]!r} has only backward nodes")

    # -- queries ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    def node(self, node_id: NodeId) -> OpNode:
        try:
            return self.nodes[self._index[node_id]]
        except KeyError:
            raise InputError(f"unknown node {node_id!r}") from None

    def index_of(self, node_id: NodeId) -> int:
        return self._index[node_id]

    @property
    def ids(self) -> list[NodeId]:
        return [n.id for n in self.nodes]

    def successors(self, node_id: NodeId) -> list[NodeId]:
        return self._succ[node_id]

    def predecessors(self, node_id: NodeId) -> list[NodeId]:
        return self._pred[node_id]

    def out_cost(self, node_id: NodeId) -> float:
        """The transfer time of the node's output (cost of its out-edges; 0 with none)."""
        return self._out_cost.get(node_id, 0.0)

    def out_bytes(self, node_id: NodeId) -> float:
        """The size of the node's output: the largest ``bytes`` of its out-edges (0 with none)."""
        return self._out_bytes.get(node_id, 0.0)

    @property
    def is_training(self) -> bool:
        return any(n.backward for n in self.nodes)

    def topological_order(self) -> list[NodeId]:
        """Kahn's order, ties broken by the order nodes were given in."""
        import heapq

        indeg = {v: len(p) for v, p in self._pred.items()}
        heap = [self._index[v] for v, d in indeg.items() if d == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            v = self.nodes[heapq.heappop(heap)].id
            order.append(v)
            for w in self._succ[v]:
                indeg[w] -= 1
                if indeg[w] == 0:
                    heapq.heappush(heap, self._index[w])
        return order

    def colour_groups(self) -> list[list[NodeId]]:
        """Groups of nodes that must share a device: each colour class, and every
        node without one on its own; in order of first appearance."""
        groups: dict[Hashable, list[NodeId]] = {}
        for n in self.nodes:
            key = ("cc", n.color_class) if n.color_class is not None else ("node", n.id)
            groups.setdefault(key, []).append(n.id)
        return list(groups.values())

    # -- networkx ---------------------------------------------------------
    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` with every node and edge attribute.

        Example: ``g.to_networkx().nodes[v]["times"]["cpu"]``.
        """
        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(
                n.id,
                times=dict(n.times),
                supported=sorted(n.supported),
                memory=n.memory,
                backward=n.backward,
                color_class=n.color_class,
                name=n.name,
                layer_id=n.layer_id,
            )
        for e in self.edges:
            g.add_edge(e.source, e.target, cost=e.cost, bytes=e.bytes)
        return g

    @staticmethod
    def from_networkx(g: nx.DiGraph) -> "OpGraph":
        """Inverse of :meth:`to_networkx`; missing attributes take their defaults
        (``times`` is required)."""
        nodes = []
        for v, a in g.nodes(data=True):
            if "times" not in a:
                raise InputError(f"node {v!r}: missing attribute 'times'")
            nodes.append(
                OpNode(
                    id=v,
                    times=a["times"],
                    supported=a.get("supported"),
                    memory=a.get("memory", 0.0),
                    backward=a.get("backward", False),
                    color_class=a.get("color_class"),
                    name=a.get("name"),
                    layer_id=a.get("layer_id"),
                )
            )
        edges = [OpEdge(u, v, a.get("cost", 0.0), a.get("bytes")) for u, v, a in g.edges(data=True)]
        return OpGraph(tuple(nodes), tuple(edges))


def make_graph(nodes: Iterable[OpNode], edges: Iterable[OpEdge]) -> OpGraph:
    """Build and validate an :class:`OpGraph`."""
    return OpGraph(tuple(nodes), tuple(edges))
