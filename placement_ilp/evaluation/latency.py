"""Single-sample latency (docs/model.md, "Latency (single-sample) objective").

The model, as this module implements it:

- **CPUs** are unlimited: every node on a CPU-kind class runs on its own core
  (the device index is ignored, ``maxCPUs`` does not matter). It starts when all
  its predecessors are done and lasts its time on that class. CPU nodes pay no
  communication.
- **Accelerators** are the devices of every other class (the paper's ``acc``).
  Each runs its nodes as at most ``q`` *subgraphs* ("calls"), one after another
  in a fixed order. A subgraph starts when every input it needs is ready (every
  node outside it with a successor inside it is done) and, for the second and
  later subgraphs of a device, when the previous one has finished. It lasts the
  sum of its nodes' times plus its communication: ``instance.comm_time(u, cls)``
  once for every node ``u`` inside with a successor outside (output leaves once)
  and once for every node ``u`` outside with a successor inside (input arrives
  once) -- the max-load charge, per subgraph instead of per device. Every node of
  a subgraph is done when the subgraph finishes.
- **Memory** is per accelerator (all its subgraphs together), not per subgraph.
- **Colour classes**: a class sits on one device; on an accelerator it sits in
  one subgraph (a stricter reading than the paper's IP, which lets a class spread
  over the subgraphs of one FPGA; identical for q = 1). On CPUs its nodes still
  run as separate nodes.
- **Feasibility**: subgraphs that would wait for each other (a cycle through
  subgraphs and CPU nodes; a non-convex subgraph is the special case of a cycle
  through one subgraph), more than ``q`` subgraphs on a device, memory, support
  and colocation violations make a placement infeasible (latency ``inf``).
- **Latency** is the time at which the last node is done.

Inference graphs only: every function here raises InputError for a training graph.

Public API: :func:`evaluate_latency` (a placement; the evaluator splits each
accelerator into the fewest subgraphs) and :func:`evaluate_latency_with_subgraphs`
(a placement with an explicit split, e.g. the MILP's). The latency baselines are in
:mod:`placement_ilp.baselines.latency`; the latency MILP is solved by
:func:`placement_ilp.solving.solve` with ``objective="latency"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Mapping

import networkx as nx

from ..errors import InputError
from .maxload import MEMORY_TOLERANCE, Violation
from ..data.graph import NodeId
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.topology import Device

__all__ = [
    "LatencyReport",
    "SubgraphReport",
    "AcceleratorReport",
    "evaluate_latency",
    "evaluate_latency_with_subgraphs",
    "check_latency_instance",
    "cpu_class_names",
    "accelerators",
    "LATENCY_VIOLATION_KINDS",
]

#: kinds of :class:`~placement_ilp.evaluation.maxload.Violation` a latency report may hold.
LATENCY_VIOLATION_KINDS: tuple[str, ...] = ("memory", "support", "colocation", "subgraphs", "cycle")

#: how many branches the exact fewest-subgraphs search may explore (see evaluate_latency).
SEARCH_BUDGET = 5000

def _json_number(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return x


# ---------------------------------------------------------------------- reports
@dataclass(frozen=True)
class SubgraphReport:
    """One call of an accelerator.

    device: the accelerator; index: its position in the device's order (0-based);
    nodes: its node ids (graph order); start, finish: times; compute: sum of its
    nodes' times; communication: its in- and out-boundary charge; memory: sum of
    its nodes' memory.

    A plain record (O(1) to build and read). Example: a chain a -> b on acc:0
    (times 1 and 2, no other device) is
    ``SubgraphReport(Device("acc", 0), 0, ("a", "b"), 0.0, 3.0, 3.0, 0.0, ...)``.
    """

    device: Device
    index: int
    nodes: tuple
    start: float
    finish: float
    compute: float
    communication: float
    memory: float

    @property
    def label(self) -> str:
        """``"acc:0#1"``: device and position."""
        return f"{self.device}#{self.index}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (device as ``"cls:index"``, non-finite numbers as None). O(size)."""
        return {
            "device": str(self.device),
            "index": self.index,
            "nodes": list(self.nodes),
            "start": _json_number(self.start),
            "finish": _json_number(self.finish),
            "compute": _json_number(self.compute),
            "communication": _json_number(self.communication),
            "memory": _json_number(self.memory),
        }


@dataclass(frozen=True)
class AcceleratorReport:
    """Totals of one accelerator: how many subgraphs it runs, its memory use and
    capacity (None: unlimited) and its busy time (sum of its subgraphs' durations).

    A plain record (O(1)). Example: ``report.accelerators[0].subgraphs <= q`` for a
    feasible report.
    """

    device: Device
    subgraphs: int
    memory: float
    memory_capacity: float | None
    busy: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict. O(1)."""
        return {
            "device": str(self.device),
            "subgraphs": self.subgraphs,
            "memory": _json_number(self.memory),
            "memory_capacity": _json_number(self.memory_capacity),
            "busy": _json_number(self.busy),
        }


@dataclass(frozen=True)
class LatencyReport:
    """What :func:`evaluate_latency` / :func:`evaluate_latency_with_subgraphs` return.

    latency: time at which the last node is done; ``inf`` when infeasible.
    feasible: no violation (see ``violations``).
    violations: memory, support, colocation, subgraphs (more than ``max_subgraphs``
        on a device) and cycle (subgraphs waiting for each other / not convex)
        violations, each naming a device or node.
    max_subgraphs: the q the placement was checked against (None: no limit).
    subgraphs: every accelerator call, device by device in order (empty when the
        calls cannot be scheduled).
    accelerators: one report per accelerator of the topology.
    cpu_nodes: the nodes that run on CPUs.
    node_finish: node id -> time it is done (empty when there is no schedule).
    schedule_latency: the latency of the schedule even when memory, support or
        the subgraph limit is violated (``inf`` when there is no schedule).
    critical_path: labels of the chain of calls and CPU nodes that ends last
        (``"acc:0#1"`` for a subgraph, ``"node 'x'"`` for a CPU node).
    split: how the subgraphs were made: "given" (by the caller), "levels" (the
        per-device level split, fewest possible) or "search" (cross-device waiting
        forced a search; see :func:`evaluate_latency`).
    split_optimal: the split has the fewest subgraphs (max over devices, then
        total) a schedulable split can have; None for a given split.

    Built in O(V + E) by the evaluators; ``to_dict``/``summary`` are O(V).
    Example: ``evaluate_latency(inst, placement, max_subgraphs=1).latency``.
    """

    latency: float
    feasible: bool
    violations: tuple[Violation, ...]
    max_subgraphs: int | None
    subgraphs: tuple[SubgraphReport, ...]
    accelerators: tuple[AcceleratorReport, ...]
    cpu_nodes: tuple
    node_finish: Mapping[NodeId, float]
    schedule_latency: float
    critical_path: tuple[str, ...]
    split: str
    split_optimal: bool | None

    @property
    def objective_value(self) -> float:
        """The latency: the value the solve reports, named as in the max-load
        :class:`~placement_ilp.evaluation.maxload.Evaluation`."""
        return self.latency

    @property
    def reason(self) -> str | None:
        """The first violation's message (None when feasible)."""
        return self.violations[0].message if self.violations else None

    def subgraphs_of(self, device: Device) -> tuple[SubgraphReport, ...]:
        """The calls of one accelerator, in order. O(subgraphs)."""
        device = Device(*device)
        return tuple(s for s in self.subgraphs if s.device == device)

    def assignment(self) -> dict[NodeId, tuple[Device, int | None]]:
        """node -> (device, subgraph index); CPU nodes get ``(Device(cls, 0), None)``.
        Feeds :func:`evaluate_latency_with_subgraphs`; needs a schedule (else only
        the CPU nodes are listed). O(n)."""
        out: dict[NodeId, tuple[Device, int | None]] = {}
        for s in self.subgraphs:
            for v in s.nodes:
                out[v] = (s.device, s.index)
        for v, d in self._cpu_devices:
            out[v] = (d, None)
        return out

    # internal: (node, CPU device) pairs for assignment(); kept out of repr and ==
    _cpu_devices: tuple = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: devices as ``"cls:index"``, non-finite numbers as None. O(n)."""
        return {
            "latency": _json_number(self.latency),
            "feasible": self.feasible,
            "max_subgraphs": self.max_subgraphs,
            "split": self.split,
            "split_optimal": self.split_optimal,
            "schedule_latency": _json_number(self.schedule_latency),
            "critical_path": list(self.critical_path),
            "subgraphs": [s.to_dict() for s in self.subgraphs],
            "accelerators": [a.to_dict() for a in self.accelerators],
            "cpu_nodes": list(self.cpu_nodes),
            "violations": [v.to_dict() for v in self.violations],
        }

    def summary(self, max_violations: int = 5, max_nodes: int = 8) -> str:
        """A few human-readable lines: one per subgraph, then latency and feasibility."""
        head = ("subgraph", "nodes", "start", "finish", "compute", "comm", "memory")
        rows = [head]
        for s in self.subgraphs:
            rows.append(
                (
                    s.label,
                    str(len(s.nodes)),
                    f"{s.start:.6g}",
                    f"{s.finish:.6g}",
                    f"{s.compute:.6g}",
                    f"{s.communication:.6g}",
                    f"{s.memory:.6g}",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows
        ]
        for s in self.subgraphs:
            shown = ", ".join(repr(v) for v in s.nodes[:max_nodes])
            more = f", ... (+{len(s.nodes) - max_nodes})" if len(s.nodes) > max_nodes else ""
            lines.append(f"  {s.label}: {shown}{more}")
        used = [a for a in self.accelerators if a.subgraphs]
        lines.append(
            f"cpu nodes: {len(self.cpu_nodes)}   accelerators used: {len(used)} of {len(self.accelerators)}   "
            f"split: {self.split}" + ("" if self.split_optimal in (None, True) else " (not proven fewest)")
        )
        q = "unlimited" if self.max_subgraphs is None else str(self.max_subgraphs)
        lines.append(f"latency: {self.latency:.6g}   (subgraphs per accelerator allowed: {q})")
        if self.critical_path:
            lines.append("critical path: " + " -> ".join(self.critical_path))
        if self.feasible:
            lines.append("feasible: yes")
        else:
            n = len(self.violations)
            lines.append(f"feasible: no ({n} violation{'s' if n != 1 else ''})")
            for v in self.violations[:max_violations]:
                lines.append(f"  {v.kind}: {v.message}")
            if n > max_violations:
                lines.append(f"  ... and {n - max_violations} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------- helpers
def check_latency_instance(instance: Instance) -> None:
    """InputError for what the latency model does not cover: training graphs and
    pairwise links. O(nodes) at most."""
    if instance.graph.is_training:
        first = next(n.id for n in instance.graph.nodes if n.backward)
        raise InputError(
            f"the latency objective is for inference graphs only; node {first!r} is a backward node"
        )
    # the schedule charges each accelerator its own class's link (arrays.comm)
    instance.refuse_links("the latency objective", hint="pairwise links work with the max-load objective")


def cpu_class_names(instance: Instance) -> list[str]:
    """The names of the CPU-kind classes, in topology order."""
    return [c.name for c in instance.topology.classes if c.kind == "cpu"]


def _is_cpu(instance: Instance, cls: str) -> bool:
    return instance.topology.class_of(cls).kind == "cpu"


def accelerators(instance: Instance) -> list[Device]:
    """Every device of a non-CPU-kind class, in topology order."""
    return [Device(c.name, i) for c in instance.topology.classes if c.kind != "cpu" for i in range(c.count)]


def _as_device(value: Any, where: str) -> Device:
    if isinstance(value, Device):
        return value
    if isinstance(value, str):
        return Device.parse(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return Device(*value)
    raise InputError(f"{where}: {value!r} is not a device (use Device(cls, index) or 'cls:index')")


def _check_device(instance: Instance, d: Device, v: NodeId) -> None:
    names = instance.topology.class_names
    if d.cls not in names:
        raise InputError(f"node {v!r} is placed on unknown device class {d.cls!r} ({d})")
    if isinstance(d.index, bool) or not isinstance(d.index, int) or d.index < 0:
        raise InputError(f"node {v!r}: device index of {d} must be a whole number >= 0")
    if not _is_cpu(instance, d.cls) and d.index >= instance.topology.class_of(d.cls).count:
        raise InputError(f"placement names unknown device {d} (node {v!r})")


def _check_nodes(instance: Instance, keys: Iterable[NodeId]) -> None:
    graph = instance.graph
    keys = set(keys)
    for v in keys:
        if v not in graph:
            raise InputError(f"placement names unknown node {v!r}")
    for n in graph.nodes:
        if n.id not in keys:
            raise InputError(f"placement leaves node {n.id!r} out")


def _basic_violations(
    instance: Instance, device_of: Mapping[NodeId, Device], piece_key: Mapping[NodeId, Hashable], per_call: bool
):
    """Support, memory (per accelerator) and colocation violations.

    ``piece_key[v]`` is what a colour class must share: the device for a given
    placement, (device, subgraph) for a given split; CPU nodes use their class."""
    graph, topo = instance.graph, instance.topology
    support, memory, colocation = [], [], []
    used: dict[Device, float] = {}
    largest: dict[Device, NodeId] = {}
    for n in graph.nodes:
        d = device_of[n.id]
        if d.cls not in n.supported:
            msg = f"node {n.id!r} is on {d} but is not supported on class {d.cls!r}"
            support.append(Violation("support", msg, n.id))
        if not _is_cpu(instance, d.cls):
            used[d] = used.get(d, 0.0) + n.memory
            if d not in largest or n.memory > graph.node(largest[d]).memory:
                largest[d] = n.id
    for d, mem in used.items():
        cap = topo.class_of(d.cls).memory
        if cap is not None and mem > cap * (1 + MEMORY_TOLERANCE):
            big = largest[d]
            memory.append(
                Violation(
                    "memory",
                    f"{d} holds {mem:.6g} of memory, over its capacity {cap:.6g} "
                    f"(largest node {big!r}: {graph.node(big).memory:.6g})",
                    big,
                )
            )
    for group in graph.colour_groups():
        first = group[0]
        for v in group[1:]:
            if piece_key[v] != piece_key[first]:
                cc = graph.node(first).color_class
                where = "subgraph" if per_call else "device"
                colocation.append(
                    Violation(
                        "colocation",
                        f"colour class {cc!r} is split: node {first!r} is on {_describe_key(piece_key[first])} "
                        f"but node {v!r} is on {_describe_key(piece_key[v])} (a class sits in one {where})",
                        v,
                    )
                )
                break
    return memory + support + colocation


def _describe_key(key: Hashable) -> str:
    if isinstance(key, Device):
        return str(key)
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], Device):
        return f"{key[0]}#{key[1]}" if key[1] is not None else str(key[0])
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "cpu-class":
        return f"CPU class {key[1]!r}"
    return str(key)


# -------------------------------------------------------------------- schedule
@dataclass
class _Schedule:
    subgraphs: list[SubgraphReport]
    node_finish: dict
    latency: float
    critical: tuple[str, ...]
    cycle: Violation | None


def _label(vertex, pieces) -> str:
    kind, x = vertex
    if kind == "p":
        d, j, _ = pieces[x]
        return f"{d}#{j}"
    return f"node {x!r}"


def _schedule(
    instance: Instance, pieces: list[tuple[Device, int, list]], cpu_device: Mapping[NodeId, Device]
) -> _Schedule:
    """Times of a split: ``pieces`` = (device, position, nodes) with positions
    0, 1, ... per device; every other node runs on its own CPU. O(V + E).

    Returns the subgraph reports and node finish times, or a cycle violation when
    the calls cannot be ordered (quotient graph of subgraphs + CPU nodes, with each
    device's order, has a cycle)."""
    graph = instance.graph
    piece_of: dict[NodeId, int] = {}
    for k, (_, _, nodes) in enumerate(pieces):
        for v in nodes:
            piece_of[v] = k

    def vertex(v):
        k = piece_of.get(v)
        return ("p", k) if k is not None else ("n", v)

    succ: dict = {}
    indeg: dict = {}
    witness: dict = {}  # quotient edge -> node edge (or "order")
    vertices = [("p", k) for k in range(len(pieces))] + [("n", v) for v in graph.ids if v not in piece_of]
    for x in vertices:
        succ[x] = []
        indeg[x] = 0

    def add(a, b, why):
        if (a, b) not in witness:
            witness[(a, b)] = why
            succ[a].append(b)
            indeg[b] += 1

    for e in graph.edges:
        a, b = vertex(e.source), vertex(e.target)
        if a != b:
            add(a, b, (e.source, e.target))
    last: dict[Device, int] = {}
    for k, (d, j, _) in enumerate(pieces):
        if d in last:
            add(("p", last[d]), ("p", k), "order")
        last[d] = k

    order = []
    stack = [x for x in vertices if indeg[x] == 0]
    deg = dict(indeg)
    while stack:
        x = stack.pop()
        order.append(x)
        for y in succ[x]:
            deg[y] -= 1
            if deg[y] == 0:
                stack.append(y)
    if len(order) < len(vertices):
        return _Schedule([], {}, math.inf, (), _cycle_violation(vertices, succ, deg, witness, pieces))

    done: dict[NodeId, float] = {}
    vdone: dict = {}
    binding: dict = {}
    reports: list[SubgraphReport | None] = [None] * len(pieces)
    preds: dict = {x: [] for x in vertices}
    for a, bs in succ.items():
        for b in bs:
            preds[b].append(a)
    for x in order:
        kind, k = x
        ready, arg = 0.0, None
        for p in preds[x]:
            if vdone[p] > ready or arg is None and vdone[p] >= ready:
                ready, arg = vdone[p], p
        if kind == "n":
            v = k
            d = cpu_device[v]
            t = graph.node(v).times.get(d.cls, math.inf)
            vdone[x] = ready + t
            done[v] = vdone[x]
        else:
            d, j, nodes = pieces[k]
            inside = set(nodes)
            cls = d.cls
            compute = sum(graph.node(v).times.get(cls, math.inf) for v in nodes)
            comm = 0.0
            senders = set()
            for v in nodes:
                if any(w not in inside for w in graph.successors(v)):
                    comm += instance.comm_time(v, cls)
                for u in graph.predecessors(v):
                    if u not in inside:
                        senders.add(u)
            comm += sum(instance.comm_time(u, cls) for u in senders)
            memory = sum(graph.node(v).memory for v in nodes)
            finish = ready + compute + comm
            vdone[x] = finish
            for v in nodes:
                done[v] = finish
            reports[k] = SubgraphReport(d, j, tuple(nodes), ready, finish, compute, comm, memory)
        binding[x] = arg
    latency = max(vdone.values(), default=0.0)
    critical: list[str] = []
    if vertices:
        x = max(order, key=lambda y: vdone[y])
        while x is not None:
            critical.append(_label(x, pieces))
            x = binding[x]
    return _Schedule(list(reports), done, latency, tuple(reversed(critical)), None)


def _cycle_violation(vertices, succ, deg, witness, pieces) -> Violation:
    """Describe one cycle among the vertices Kahn's algorithm could not order."""
    left = {x for x in vertices if deg[x] > 0}
    h = nx.DiGraph()
    for a in left:
        for b in succ[a]:
            if b in left:
                h.add_edge(a, b)
    cyc = nx.find_cycle(h)
    piece_vertices = {a for a, _ in cyc if a[0] == "p"}
    has_order = any(witness[(a, b)] == "order" for a, b in cyc)
    steps = []
    first_node = None
    for a, b in cyc:
        why = witness[(a, b)]
        if why == "order":
            steps.append(f"{_label(a, pieces)} runs before {_label(b, pieces)} on the same device")
        else:
            u, v = why
            first_node = u if first_node is None else first_node
            steps.append(f"{u!r} ({_label(a, pieces)}) -> {v!r} ({_label(b, pieces)})")
    if len(piece_vertices) == 1 and not has_order:
        (p,) = piece_vertices
        msg = f"subgraph {_label(p, pieces)} is not convex: a path leaves and re-enters it: " + "; ".join(steps)
    else:
        names = ", ".join(sorted(_label(p, pieces) for p in piece_vertices))
        msg = f"cyclic waiting between {names}: " + "; ".join(steps)
    return Violation("cycle", msg, first_node)


# ----------------------------------------------------------------------- split
@dataclass
class _Blocks:
    """Units that must share a subgraph (colour classes on one accelerator, fused
    when strongly connected) and CPU nodes, as a DAG."""

    members: list[list]  # block -> node ids (graph order)
    device: list  # block -> Device (accelerator) or None (CPU node)
    preds: list[list[int]]
    order: list[int]  # topological


def _make_blocks(instance: Instance, device_of: Mapping[NodeId, Device]):
    """Blocks, or a cycle violation when a strongly connected set of units spans
    several devices or CPU nodes (those calls would wait for each other)."""
    graph = instance.graph
    unit_of: dict[NodeId, Hashable] = {}
    for gi, group in enumerate(graph.colour_groups()):
        for v in group:
            d = device_of[v]
            unit_of[v] = ("u", gi, d) if not _is_cpu(instance, d.cls) else ("n", v)
    h = nx.DiGraph()
    h.add_nodes_from(dict.fromkeys(unit_of[v] for v in graph.ids))
    for e in graph.edges:
        a, b = unit_of[e.source], unit_of[e.target]
        if a != b:
            h.add_edge(a, b, edge=(e.source, e.target))
    comp_of: dict = {}
    comps = list(nx.strongly_connected_components(h))
    for ci, comp in enumerate(comps):
        for x in comp:
            comp_of[x] = ci
        if len(comp) > 1:
            devices = {x[2] if x[0] == "u" else None for x in comp}
            if len(devices) > 1:
                cyc = nx.find_cycle(h.subgraph(comp))
                steps = []
                for a, b in cyc:
                    u, v = h.edges[a, b]["edge"]
                    steps.append(f"{u!r} ({device_of[u]}) -> {v!r} ({device_of[v]})")
                first = h.edges[cyc[0]]["edge"][0]
                return None, Violation(
                    "cycle",
                    "cyclic waiting: colour classes force these nodes into calls that wait for each other: "
                    + "; ".join(steps),
                    first,
                )
    members: list[list] = [[] for _ in comps]
    device: list = [None] * len(comps)
    for v in graph.ids:
        ci = comp_of[unit_of[v]]
        members[ci].append(v)
        x = unit_of[v]
        device[ci] = x[2] if x[0] == "u" else None
    preds: list[set] = [set() for _ in comps]
    for e in graph.edges:
        a, b = comp_of[unit_of[e.source]], comp_of[unit_of[e.target]]
        if a != b:
            preds[b].add(a)
    # topological order of blocks, ties by first node in graph order
    first = {ci: graph.index_of(m[0]) for ci, m in enumerate(members)}
    cond = nx.DiGraph()
    cond.add_nodes_from(range(len(comps)))
    cond.add_edges_from((a, b) for b, ps in enumerate(preds) for a in ps)
    order = list(nx.lexicographical_topological_sort(cond, key=lambda c: first[c]))
    return _Blocks(members, device, [sorted(p) for p in preds], order), None


def _levels(blocks: _Blocks, d: Device) -> tuple[dict[int, int], dict[int, int | None]]:
    """The paper's level DP for one accelerator d: level[b] = the largest number
    of separate stays on d along a path ending at b (1 for a first stay), for
    blocks on d; for other blocks the largest level seen so far. O(V + E)."""
    val: dict[int, int] = {}
    arg: dict[int, int | None] = {}
    for b in blocks.order:
        on = blocks.device[b] == d
        best, who = (1 if on else 0), None
        for p in blocks.preds[b]:
            cand = val[p] + (1 if on and blocks.device[p] != d else 0)
            if cand > best:
                best, who = cand, p
        val[b], arg[b] = best, who
    return val, arg


def _level_witness(blocks: _Blocks, d: Device, val, arg) -> list:
    """Nodes of a path that leaves d and comes back (for the top level)."""
    on = [b for b in blocks.order if blocks.device[b] == d]
    top = max(on, key=lambda b: val[b])
    path = [top]
    b = top
    while True:
        p = arg[b]
        if p is None:
            break
        path.append(p)
        if blocks.device[p] == d and val[p] == val[top] - 1:
            break
        b = p
    return [blocks.members[b][0] for b in reversed(path)]


def _split_levels(blocks: _Blocks) -> dict[Device, list[list[int]]]:
    out: dict[Device, list[list[int]]] = {}
    devices = sorted({d for d in blocks.device if d is not None})
    for d in devices:
        val, _ = _levels(blocks, d)
        by_level: dict[int, list[int]] = {}
        for b in blocks.order:
            if blocks.device[b] == d:
                by_level.setdefault(val[b], []).append(b)
        out[d] = [by_level[k] for k in sorted(by_level)]
    return out


def _split_search(blocks: _Blocks, budget: int = SEARCH_BUDGET) -> tuple[dict[Device, list[list[int]]], bool]:
    """Fewest calls by search over the order in which devices run.

    A state is the set of finished blocks. CPU blocks run as soon as they can; a
    device run takes its *ready closure* (every remaining block of the device whose
    unfinished predecessors are all in the closure) -- taking the whole closure is
    never worse, since finishing more never delays anything. A device whose whole
    remainder is ready runs at once (it must run at least once more anyway). Only
    the choice among devices with a partial closure branches. Minimises (max
    calls per device, total calls); returns (split, proven optimal)."""
    B = len(blocks.members)
    devices = sorted({d for d in blocks.device if d is not None})
    on = {d: [b for b in blocks.order if blocks.device[b] == d] for d in devices}
    cpu_blocks = [b for b in blocks.order if blocks.device[b] is None]

    def closure(done: set, d: Device) -> list[int]:
        ready: set = set()
        for b in on[d]:
            if b in done:
                continue
            if all(p in done or p in ready for p in blocks.preds[b]):
                ready.add(b)
        return [b for b in on[d] if b in ready]

    def eager(done: set, runs: list, counts: dict):
        done = set(done)
        runs = list(runs)
        counts = dict(counts)
        changed = True
        while changed:
            changed = False
            for b in cpu_blocks:
                if b not in done and all(p in done for p in blocks.preds[b]):
                    done.add(b)
                    changed = True
            for d in devices:
                rest = [b for b in on[d] if b not in done]
                if rest:
                    r = closure(done, d)
                    if len(r) == len(rest):
                        done.update(r)
                        runs.append((d, r))
                        counts[d] += 1
                        changed = True
        return done, runs, counts

    best: list = [None, None]  # key, runs
    calls = [0]
    exhausted = [False]

    def key(counts):
        return (max(counts.values(), default=0), sum(counts.values()))

    def dfs(done, runs, counts):
        calls[0] += 1
        done, runs, counts = eager(done, runs, counts)
        if len(done) == B:
            k = key(counts)
            if best[0] is None or k < best[0]:
                best[0], best[1] = k, runs
            return
        lower = dict(counts)
        for d in devices:
            if any(b not in done for b in on[d]):
                lower[d] += 1
        if best[0] is not None and key(lower) >= best[0]:
            return
        options = []
        for d in devices:
            r = closure(done, d)
            if r:
                options.append((len(r), d, r))
        options.sort(key=lambda t: -t[0])
        for _, d, r in options:
            if calls[0] >= budget and best[0] is not None:
                exhausted[0] = True
                return
            c = dict(counts)
            c[d] += 1
            dfs(done | set(r), runs + [(d, r)], c)

    dfs(set(), [], {d: 0 for d in devices})
    out: dict[Device, list[list[int]]] = {d: [] for d in devices}
    for d, r in best[1]:
        out[d].append(r)
    return out, not exhausted[0]


# ------------------------------------------------------------------ evaluators
def _finish_report(
    instance, device_of, cpu_nodes, pieces, violations, max_subgraphs, split, split_optimal
) -> LatencyReport:
    sched = _schedule(instance, pieces, {v: device_of[v] for v in cpu_nodes}) if pieces is not None else None
    violations = list(violations)
    if sched is not None and sched.cycle is not None:
        violations.append(sched.cycle)
    subgraphs = tuple(sched.subgraphs) if sched is not None and sched.cycle is None else ()
    accel = []
    for d in accelerators(instance):
        mine = [s for s in subgraphs if s.device == d]
        mem = sum(instance.graph.node(v).memory for v, dd in device_of.items() if dd == d)
        accel.append(
            AcceleratorReport(
                d,
                0 if pieces is None else sum(1 for p in pieces if p[0] == d),
                mem,
                instance.topology.class_of(d.cls).memory,
                sum(s.finish - s.start for s in mine),
            )
        )
    schedule_latency = sched.latency if sched is not None and sched.cycle is None else math.inf
    feasible = not violations
    return LatencyReport(
        latency=schedule_latency if feasible else math.inf,
        feasible=feasible,
        violations=tuple(violations),
        max_subgraphs=max_subgraphs,
        subgraphs=subgraphs,
        accelerators=tuple(accel),
        cpu_nodes=tuple(cpu_nodes),
        node_finish=dict(sched.node_finish) if sched is not None and sched.cycle is None else {},
        schedule_latency=schedule_latency,
        critical_path=sched.critical if sched is not None and sched.cycle is None else (),
        split=split,
        split_optimal=split_optimal,
        _cpu_devices=tuple((v, device_of[v]) for v in cpu_nodes),
    )


def _check_q(max_subgraphs) -> int | None:
    if max_subgraphs is None:
        return None
    if isinstance(max_subgraphs, bool) or not isinstance(max_subgraphs, int) or max_subgraphs < 1:
        raise InputError(f"max_subgraphs must be a whole number >= 1, got {max_subgraphs!r}")
    return max_subgraphs


def evaluate_latency(instance: Instance, placement: Placement, *, max_subgraphs: int | None = None) -> LatencyReport:
    """Latency of ``placement`` (node -> device): split each accelerator into the
    fewest calls, schedule them and check feasibility for ``max_subgraphs`` (q;
    None: no limit).

    The split. Units are the colour classes on each accelerator (a class sits in one
    call); units that are strongly connected through other nodes must share a call,
    so they are fused into *blocks* (if such a strongly connected set spans several
    devices or a CPU node, its calls would wait for each other: infeasible, reason
    "cycle"). Then, per accelerator d, the paper's level DP (its ``greedy.cpp``
    rework of a split into contiguous pieces): the level of a block on d is the
    largest number of separate stays on d along a path ending at it, other devices
    and CPU nodes being transparent. Blocks of one level form a convex call, calls
    run in level order, and the number of levels is the fewest calls d can have
    (a path that leaves d and comes back k-1 times needs k calls), so the split is
    exact per device. If these calls, put together with the other devices' calls and
    the CPU nodes, still wait on each other (only possible across devices, e.g.
    a -> d and c -> b with {a, b} on one device and {c, d} on another), a search
    over the order in which devices run finds the fewest calls (max over devices,
    then total; exact unless it exceeds ``SEARCH_BUDGET`` branches, which
    ``split_optimal`` reports). The split minimises the number of calls, not the
    latency: with q >= 2 a split into more calls can finish earlier, which the
    MILP exploits; score a given split with :func:`evaluate_latency_with_subgraphs`.

    The schedule: CPU nodes start when their predecessors are done; a call starts
    when all its inputs are done and the previous call of its device has finished,
    and lasts compute + communication (module docstring). O(V + E) per accelerator
    for the split (plus the search in the cross-device case) and O(V + E) for the
    schedule.

    Raises InputError for a training graph, an unknown node or device or a node
    left out; every other problem is a violation (feasible False, latency inf).

    Example: a -> b -> c with a, c on acc:0 and b on a CPU needs two calls on
    acc:0: ``evaluate_latency(inst, p, max_subgraphs=1).feasible`` is False
    (reason names acc:0 and the path a -> b -> c), with ``max_subgraphs=2`` it is
    True and the latency is the sum of the three steps.
    """
    check_latency_instance(instance)
    q = _check_q(max_subgraphs)
    assignment = {v: _as_device(d, f"node {v!r}") for v, d in dict(placement.assignment).items()}
    _check_nodes(instance, assignment)
    for v, d in assignment.items():
        _check_device(instance, d, v)
    key = {v: (("cpu-class", d.cls) if _is_cpu(instance, d.cls) else d) for v, d in assignment.items()}
    violations = _basic_violations(instance, assignment, key, per_call=False)
    graph = instance.graph
    cpu_nodes = [v for v in graph.ids if _is_cpu(instance, assignment[v].cls)]
    blocks, cycle = _make_blocks(instance, assignment)
    if cycle is not None:
        violations.append(cycle)
        return _finish_report(instance, assignment, cpu_nodes, None, violations, q, "levels", None)
    split = _split_levels(blocks)
    method, optimal = "levels", True
    pieces = _pieces(instance, blocks, split)
    sched = _schedule(instance, pieces, {v: assignment[v] for v in cpu_nodes})
    level_cycle = sched.cycle
    if level_cycle is not None:
        split, optimal = _split_search(blocks)
        method = "search"
        pieces = _pieces(instance, blocks, split)
    if q is not None:
        for d, calls in split.items():
            if len(calls) > q:
                if method == "levels":
                    val, arg = _levels(blocks, d)
                    path = " -> ".join(repr(v) for v in _level_witness(blocks, d, val, arg))
                    why = f"path {path} leaves {d} and comes back"
                else:
                    why = f"with fewer calls they would wait for each other ({level_cycle.message})"
                violations.append(
                    Violation(
                        "subgraphs",
                        f"{d} needs {len(calls)} subgraphs, more than max_subgraphs={q}: {why}",
                        blocks.members[calls[-1][0]][0],
                    )
                )
    return _finish_report(instance, assignment, cpu_nodes, pieces, violations, q, method, optimal)


def _device_order(instance: Instance):
    """Sort key: devices in topology order (class position, then index)."""
    names = instance.topology.class_names
    return lambda d: (names.index(d.cls), d.index)


def _pieces(
    instance: Instance, blocks: _Blocks, split: dict[Device, list[list[int]]]
) -> list[tuple[Device, int, list]]:
    """(device, position, node ids in graph order) for every call, devices in topology order."""
    out = []
    for d in sorted(split, key=_device_order(instance)):
        for j, bs in enumerate(split[d]):
            nodes = [v for b in bs for v in blocks.members[b]]
            out.append((d, j, nodes))
    return out


def _parse_slot(value: Any, v: NodeId) -> tuple[Device, int | None]:
    """``Device`` | ``"cls:i"`` | ``(device, subgraph)`` | ``(cls, i)`` -> (Device, subgraph or None)."""
    if isinstance(value, Device):
        return value, None
    if isinstance(value, str):
        return Device.parse(value), None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a, b = value
        if isinstance(a, (Device, tuple, list)) or (isinstance(a, str) and ":" in a):
            if b is not None and (isinstance(b, bool) or not isinstance(b, int) or b < 0):
                raise InputError(f"node {v!r}: subgraph index {b!r} must be a whole number >= 0 or None")
            return _as_device(a, f"node {v!r}"), b
        return Device(a, b), None
    raise InputError(f"node {v!r}: {value!r} is not a device or a (device, subgraph) pair")


def evaluate_latency_with_subgraphs(
    instance: Instance,
    assignment: Mapping[NodeId, Any],
    *,
    max_subgraphs: int | None = None,
) -> LatencyReport:
    """Latency of an explicit split: ``assignment[node] = (device, subgraph)``.

    For an accelerator node ``subgraph`` is any whole number: the device's calls
    run in increasing order of it (gaps are fine; None means 0). For a CPU node the
    value may be just the device (or ``(device, None)``). Nodes with the same
    (device, subgraph) form one call, which must be convex and must not wait for
    itself; a colour class must sit in one call. Checks memory per accelerator,
    support, colocation, at most ``max_subgraphs`` calls per accelerator (None: no
    limit) and that the calls can be scheduled (violation "cycle" otherwise:
    a non-convex call, or calls that wait for each other, including through the
    fixed order on a device). O(V + E) after an O(V log V) sort.

    Example: ``evaluate_latency_with_subgraphs(inst, {"a": (Device("acc", 0), 0),
    "b": Device("cpu", 0), "c": (Device("acc", 0), 1)}, max_subgraphs=2).latency``.
    """
    check_latency_instance(instance)
    q = _check_q(max_subgraphs)
    parsed = {v: _parse_slot(x, v) for v, x in dict(assignment).items()}
    _check_nodes(instance, parsed)
    for v, (d, _) in parsed.items():
        _check_device(instance, d, v)
    device_of = {v: d for v, (d, _) in parsed.items()}
    key: dict[NodeId, Hashable] = {}
    for v, (d, j) in parsed.items():
        key[v] = ("cpu-class", d.cls) if _is_cpu(instance, d.cls) else (d, 0 if j is None else j)
    violations = _basic_violations(instance, device_of, key, per_call=True)
    graph = instance.graph
    cpu_nodes = [v for v in graph.ids if _is_cpu(instance, device_of[v].cls)]
    calls: dict[Device, dict[int, list]] = {}
    for v in graph.ids:
        k = key[v]
        if isinstance(k, tuple) and isinstance(k[0], Device):
            calls.setdefault(k[0], {}).setdefault(k[1], []).append(v)
    pieces = []
    for d in sorted(calls, key=_device_order(instance)):
        for j, idx in enumerate(sorted(calls[d])):
            pieces.append((d, j, calls[d][idx]))
        if q is not None and len(calls[d]) > q:
            violations.append(
                Violation(
                    "subgraphs",
                    f"{d} runs {len(calls[d])} subgraphs, more than max_subgraphs={q}",
                    calls[d][sorted(calls[d])[-1]][0],
                )
            )
    return _finish_report(instance, device_of, cpu_nodes, pieces, violations, q, "given", None)
