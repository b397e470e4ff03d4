"""How contiguous a placement is: "pipeline", "convex" or "none" (docs/model.md, "Contiguity").

Only forward nodes and forward edges (both ends forward) are judged; backward nodes
follow their colour class and are not constrained. Colour classes are contracted
first: the forward nodes of one colour class on one device act as a single node
(when colocation holds that is the whole class; when it does not, each device's part
of the class is contracted on its own, i.e. nodes are judged as placed).

A device is *checked* unless ``cpu_contiguity=False`` and its class is of kind
``"cpu"``; unchecked devices are not constrained themselves, but paths through their
nodes still count.

- *pipeline*: the quotient digraph on checked devices is acyclic. It has an arc
  d1 -> d2 when some forward path runs from a node on d1 to a node on d2 with every
  intermediate node on an unchecked device (with ``cpu_contiguity=True``: just a
  forward edge between two devices). A path d -> (unchecked nodes) -> d is a
  self-loop, i.e. a cycle: d would need two calls.
- *convex*: no checked device S has a forward path u -> w -> ... -> v with u, v in S
  and some node of the path outside S.

Pipeline implies convex, so the level is the strictest one that holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from ..data.graph import NodeId
from ..data.instance import Instance
from ..data.placement import Placement, check_placement
from ..data.topology import Device

Level = Literal["pipeline", "convex", "none"]
LEVELS: tuple[str, ...] = ("pipeline", "convex", "none")

Edge = tuple[NodeId, NodeId]


@dataclass(frozen=True)
class ContiguityReport:
    """The contiguity level of a placement and why stricter levels fail.

    level: "pipeline", "convex" or "none" (the strictest level that holds).
    pipeline_witness: None when pipeline holds; otherwise a device cycle such as
        ``"acc:0 -> acc:1 -> acc:0 (edges 5->7, 9->3)"`` naming one edge (or path
        through unchecked devices, intermediates annotated with their device) per arc.
    convex_witness: None when convex holds; otherwise a path such as
        ``"on acc:0: 3 -> 8 (acc:1) -> 4"`` (ends on the device, intermediates
        outside it, each annotated with its device).
    order: when pipeline holds, an order of the checked devices that hold forward
        nodes in which every forward edge stays or goes later; None otherwise.
    cpu_contiguity: whether CPU devices were checked.

    In witnesses, ``a~b`` stands for two nodes of one colour class on one device
    (contracted), entered at ``a`` and left at ``b``.
    """

    level: str
    pipeline_witness: str | None = None
    convex_witness: str | None = None
    order: tuple[Device, ...] | None = None
    cpu_contiguity: bool = True

    @property
    def witness(self) -> str | None:
        """Why the next stricter level fails: the pipeline witness when the level is
        "convex", the convex witness when it is "none", None for "pipeline"."""
        if self.level == "convex":
            return self.pipeline_witness
        if self.level == "none":
            return self.convex_witness
        return None

    @property
    def is_pipeline(self) -> bool:
        """True for pipeline placements."""
        return self.level == "pipeline"

    @property
    def is_convex(self) -> bool:
        """True for convex and pipeline placements."""
        return self.level in ("pipeline", "convex")

    def meets(self, level: str) -> bool:
        """True when this placement is at least as contiguous as ``level``.

        Example: a "pipeline" report ``meets("convex")``; a "convex" one does not
        ``meets("pipeline")``.
        """
        if level not in LEVELS:
            raise ValueError(f"unknown contiguity level {level!r} (one of {', '.join(LEVELS)})")
        return LEVELS.index(self.level) <= LEVELS.index(level)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (devices as ``"cls:index"`` strings)."""
        return {
            "level": self.level,
            "pipeline_witness": self.pipeline_witness,
            "convex_witness": self.convex_witness,
            "order": None if self.order is None else [str(d) for d in self.order],
            "cpu_contiguity": self.cpu_contiguity,
        }

    def __str__(self) -> str:
        w = self.witness
        return self.level if w is None else f"{self.level} ({w})"


@dataclass
class _Quotient:
    """Forward graph with colour classes contracted per device.

    Contracted node k holds ``members[k]`` (forward node ids), all on ``device[k]``;
    ``succ[k]`` maps each successor k2 to one original edge (u, v) realising k -> k2.
    """

    members: list[list[NodeId]]
    device: list[Device]
    succ: list[dict[int, Edge]]


def _contract(instance: Instance, placement: Placement) -> _Quotient:
    graph = instance.graph
    assign = placement.assignment
    group_of: dict[NodeId, int] = {}
    for gi, group in enumerate(graph.colour_groups()):
        for v in group:
            group_of[v] = gi
    index: dict[tuple[int, Device], int] = {}
    members: list[list[NodeId]] = []
    device: list[Device] = []
    key_of: dict[NodeId, int] = {}
    for n in graph.nodes:
        if n.backward:
            continue
        key = (group_of[n.id], assign[n.id])
        k = index.get(key)
        if k is None:
            k = index[key] = len(members)
            members.append([])
            device.append(key[1])
        members[k].append(n.id)
        key_of[n.id] = k
    succ: list[dict[int, Edge]] = [{} for _ in members]
    for e in graph.edges:
        ku, kv = key_of.get(e.source), key_of.get(e.target)
        if ku is None or kv is None or ku == kv:
            continue  # backward edge, or inside one contracted node
        succ[ku].setdefault(kv, (e.source, e.target))
    return _Quotient(members, device, succ)


def _path_back(parent: dict[int, tuple[int, Edge]], k: int) -> list[Edge]:
    """Original edges of the BFS path ending at contracted node k (sources have no parent)."""
    edges: list[Edge] = []
    while k in parent:
        k, e = parent[k][0], parent[k][1]
        edges.append(e)
    edges.reverse()
    return edges


def _format_path(
    edges: list[Edge], device_of: dict[NodeId, Device], sep: str, annotate: str
) -> str:
    """``u0 <sep> v1[~u1] (dev) <sep> ... <sep> vm``; intermediates get ``annotate``
    formatted with their device."""
    tokens = [str(edges[0][0])]
    for i, (_, v) in enumerate(edges):
        if i + 1 < len(edges):
            nxt = edges[i + 1][0]
            tok = str(v) if nxt == v else f"{v}~{nxt}"
            tokens.append(tok + annotate.format(device_of[v]))
        else:
            tokens.append(str(v))
    return sep.join(tokens)


def _checked_devices(instance: Instance, cpu_contiguity: bool) -> list[Device]:
    if cpu_contiguity:
        return instance.topology.devices()
    return [Device(c.name, i) for c in instance.topology for i in range(c.count) if c.kind != "cpu"]


def _device_arcs(
    q: _Quotient, checked: list[Device]
) -> tuple[list[Device], dict[tuple[Device, Device], list[Edge]]]:
    """Used checked devices (topology order) and the arcs of the quotient digraph,
    each with the original edges of one path realising it. O(devices * (V + E))."""
    checked_set = set(checked)
    groups_on: dict[Device, list[int]] = {}
    for k, d in enumerate(q.device):
        groups_on.setdefault(d, []).append(k)
    used = [d for d in checked if d in groups_on]
    arcs: dict[tuple[Device, Device], list[Edge]] = {}
    for d in used:
        parent: dict[int, tuple[int, Edge]] = {}  # only unchecked groups get parents
        queue: deque[int] = deque()
        for k in groups_on[d]:
            for k2, e in q.succ[k].items():
                d2 = q.device[k2]
                if d2 in checked_set:
                    if d2 != d and (d, d2) not in arcs:
                        arcs[(d, d2)] = [e]
                elif k2 not in parent:
                    parent[k2] = (k, e)
                    queue.append(k2)
        while queue:
            k = queue.popleft()
            for k2, e in q.succ[k].items():
                d2 = q.device[k2]
                if d2 in checked_set:
                    if (d, d2) not in arcs:  # d2 == d here is a self-loop through unchecked nodes
                        arcs[(d, d2)] = _path_back(parent, k) + [e]
                elif k2 not in parent:
                    parent[k2] = (k, e)
                    queue.append(k2)
    return used, arcs


def _order_or_cycle(
    used: list[Device], arcs: dict[tuple[Device, Device], list[Edge]]
) -> tuple[list[Device] | None, list[Device] | None]:
    """(topological order, None) if the device digraph is acyclic, else (None, cycle)
    with the cycle as devices d0, d1, ..., d0."""
    for (a, b) in arcs:
        if a == b:
            return None, [a, a]
    preds: dict[Device, list[Device]] = {d: [] for d in used}
    succs: dict[Device, list[Device]] = {d: [] for d in used}
    for (a, b) in arcs:
        succs[a].append(b)
        preds[b].append(a)
    indeg = {d: len(preds[d]) for d in used}
    ready = [d for d in used if indeg[d] == 0]
    order: list[Device] = []
    while ready:
        d = ready.pop(0)
        order.append(d)
        for b in succs[d]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    if len(order) == len(used):
        return order, None
    # Every device left over has a predecessor left over: walk back until one repeats.
    left = {d for d in used if indeg[d] > 0}
    d = next(x for x in used if x in left)
    walk: list[Device] = []
    seen: dict[Device, int] = {}
    while d not in seen:
        seen[d] = len(walk)
        walk.append(d)
        d = next(p for p in preds[d] if p in left)
    cycle = walk[seen[d]:]  # each is a successor of the next one
    cycle.reverse()
    return None, cycle + [cycle[0]]


def _convex_violation(q: _Quotient, checked: list[Device]) -> tuple[Device, list[Edge]] | None:
    """First checked device S (topology order) with a forward path leaving S and
    returning, and that path's original edges (intermediates all outside S).
    O(devices * (V + E))."""
    groups_on: dict[Device, list[int]] = {}
    for k, d in enumerate(q.device):
        groups_on.setdefault(d, []).append(k)
    for s in checked:
        if s not in groups_on:
            continue
        parent: dict[int, tuple[int, Edge]] = {}  # groups outside s reached from s
        queue: deque[int] = deque()
        for k in groups_on[s]:
            for k2, e in q.succ[k].items():
                if q.device[k2] != s and k2 not in parent:
                    parent[k2] = (k, e)
                    queue.append(k2)
        while queue:
            k = queue.popleft()
            for k2, e in q.succ[k].items():
                if q.device[k2] == s:
                    return s, _path_back(parent, k) + [e]
                if k2 not in parent:
                    parent[k2] = (k, e)
                    queue.append(k2)
    return None


def contiguity_level(
    instance: Instance, placement: Placement, *, cpu_contiguity: bool = True
) -> ContiguityReport:
    """The strictest contiguity level ("pipeline", "convex", "none") ``placement`` meets.

    See the module docstring for the exact definitions. ``cpu_contiguity=False``
    leaves devices of kind "cpu" unconstrained (paths through them still count).
    Raises InputError for a placement that names unknown nodes/devices or misses one.

    Complexity: O(devices * (V + E)) (one BFS per device for each level).

    Example: edges a->b, c->d with {a, d} on acc:0 and {b, c} on acc:1 are
    convex but not pipeline::

        >>> contiguity_level(inst, Placement({"a": A0, "d": A0, "b": A1, "c": A1})).level
        'convex'
    """
    check_placement(instance, placement)
    q = _contract(instance, placement)
    checked = _checked_devices(instance, cpu_contiguity)
    device_of = dict(placement.assignment)

    used, arcs = _device_arcs(q, checked)
    order, cycle = _order_or_cycle(used, arcs)
    pipeline_witness = None
    if cycle is not None:
        paths = [
            _format_path(arcs[(a, b)], device_of, "->", "({})") for a, b in zip(cycle, cycle[1:])
        ]
        pipeline_witness = " -> ".join(str(d) for d in cycle) + f" (edges {', '.join(paths)})"

    violation = _convex_violation(q, checked)
    convex_witness = None
    if violation is not None:
        s, edges = violation
        convex_witness = f"on {s}: " + _format_path(edges, device_of, " -> ", " ({})")

    if order is not None and convex_witness is None:
        level = "pipeline"
    elif convex_witness is None:
        level = "convex"
    else:
        level = "none"
    if order is not None and convex_witness is not None:  # cannot happen: pipeline implies convex
        raise AssertionError("internal error: pipeline order found for a non-convex placement")
    return ContiguityReport(
        level=level,
        pipeline_witness=pipeline_witness,
        convex_witness=convex_witness,
        order=None if order is None else tuple(order),
        cpu_contiguity=cpu_contiguity,
    )
