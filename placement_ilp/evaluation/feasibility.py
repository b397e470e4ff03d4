"""Why no placement exists: simple, certain reasons, one line each.

When a solver reports an instance infeasible, :func:`explain_infeasible` looks for
a short certificate in the terms of the model (docs/model.md; the evaluator's rules in
:mod:`placement_ilp.evaluation.maxload`):

1. **Support.** A node runs only on device classes that have no devices (or on no
   class at all); or the nodes of a colour class, which must share a device, have
   no class with devices in common.
2. **Memory of one device.** A node, or a whole colour class, needs more memory
   than any device that runs it holds (within the evaluator's tolerance
   ``MEMORY_TOLERANCE``).
3. **Total memory.** The nodes that can run only on memory-limited classes need
   more memory in all than the devices of those classes hold together.
4. **Contiguity** (``contiguity`` "pipeline" or "convex"). Colour groups on a cycle
   of forward edges (a cycle through a colour class: {a, c} with a -> b -> c) must
   share one device at both levels, unless they can all sit on devices exempt from
   contiguity (CPUs with ``cpu_contiguity=False``); no device can take them all.

Each reason proves infeasibility. None of them found does not prove feasibility
(bin packing, for one, is not examined): the function then returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..data.checks import check_bool, shown
from .contiguity import LEVELS
from ..errors import InputError
from .maxload import MEMORY_TOLERANCE
from ..data.graph import OpNode
from ..data.instance import Instance, check_instance
from ..data.topology import DeviceClass

#: At most this many distinct sets of supporting classes are combined in the
#: total-memory check (pairs of sets are compared); beyond it only their union is.
MAX_SUPPORT_SETS = 64


@dataclass(frozen=True)
class _Group:
    """Nodes that must share a device: a colour class, or a node without one."""

    label: str
    nodes: tuple[OpNode, ...]

    @property
    def memory(self) -> float:
        return sum(n.memory for n in self.nodes)


def _fits(memory: float, cls: DeviceClass) -> bool:
    """Whether ``memory`` fits one device of ``cls`` (the evaluator's tolerance)."""
    return cls.memory is None or memory <= cls.memory * (1 + MEMORY_TOLERANCE)


def _names(classes: list[DeviceClass] | list[str]) -> str:
    names = [c if isinstance(c, str) else c.name for c in classes]
    return ("class " if len(names) == 1 else "classes ") + ", ".join(repr(n) for n in names)


def _groups(instance: Instance) -> list[_Group]:
    """The colour groups in the order of :meth:`OpGraph.colour_groups` (so group k is
    ``instance.arrays.group == k``)."""
    graph = instance.graph
    out = []
    for members in graph.colour_groups():
        nodes = tuple(graph.node(v) for v in members)
        if len(nodes) == 1:
            label = f"node {nodes[0].id!r}"
        else:
            label = f"colour class {nodes[0].color_class!r} ({len(nodes)} nodes that share a device)"
        out.append(_Group(label, nodes))
    return out


def _running(nodes: tuple[OpNode, ...], classes: list[DeviceClass]) -> list[DeviceClass]:
    """The classes (of ``classes``) that run every node of ``nodes``."""
    return [c for c in classes if all(c.name in n.supported for n in nodes)]


def _support_reason(group: _Group, classes: list[DeviceClass]) -> str | None:
    """Check 1 for one group."""
    if _running(group.nodes, classes):
        return None
    if len(group.nodes) == 1:
        node = group.nodes[0]
        if not node.supported:
            return f"node {node.id!r} is supported on no device class (it has a time on none)"
        which = "which has" if len(node.supported) == 1 else "which have"
        return f"node {node.id!r} runs only on {_names(sorted(node.supported))}, {which} no devices"
    missing = [f"node {next(n.id for n in group.nodes if c.name not in n.supported)!r} does not run on {c.name!r}"
               for c in classes]
    return f"{group.label}: no device class with devices runs all of them ({'; '.join(missing)})"


def _memory_reason(label: str, nodes: tuple[OpNode, ...], memory: float, classes: list[DeviceClass]) -> str | None:
    """Check 2: ``nodes`` (needing ``memory``) fit no device that runs them all."""
    running = _running(nodes, classes)
    if not running or any(_fits(memory, c) for c in running):
        return None
    roomiest = max(running, key=lambda c: c.memory)
    return (f"{label} needs {memory:.6g} of memory on one device, more than any device that runs it holds "
            f"(at most {roomiest.memory:.6g}, on {_names([roomiest])})")


def _total_memory_reason(groups: list[_Group], classes: list[DeviceClass]) -> str | None:
    """Check 3: for a set T of memory-limited classes, the groups that only T runs
    need more memory than the devices of T hold. T ranges over the distinct sets of
    classes that run a group (at most MAX_SUPPORT_SETS of them) and their union."""
    demand: dict[frozenset, tuple[float, int]] = {}  # running set -> (memory, nodes)
    for group in groups:
        running = _running(group.nodes, classes)
        if running and all(c.memory is not None for c in running):
            key = frozenset(c.name for c in running)
            memory, count = demand.get(key, (0.0, 0))
            demand[key] = (memory + group.memory, count + len(group.nodes))
    if not demand:
        return None
    union = frozenset().union(*demand)
    candidates = list(demand) if len(demand) <= MAX_SUPPORT_SETS else []
    by_name = {c.name: c for c in classes}
    for target in sorted(set(candidates) | {union}, key=lambda s: (len(s), sorted(s))):
        inside = [value for key, value in demand.items() if key <= target]
        need = sum(memory for memory, _ in inside)
        count = sum(n for _, n in inside)
        members = [by_name[name] for name in sorted(target)]
        capacity = sum(c.count * c.memory for c in members)
        if need > capacity * (1 + MEMORY_TOLERANCE):
            devices = sum(c.count for c in members)
            return (f"the {count} nodes that can run only on {_names(members)} (memory-limited) need {need:.6g} "
                    f"of memory in all, more than the {capacity:.6g} that its {devices} device"
                    f"{'s' if devices != 1 else ''} hold")
    return None


def _forward_cycles(instance: Instance) -> list[list[int]]:
    """The strongly connected sets (two groups or more) of the contracted forward
    graph: groups joined by edges between two forward nodes. O(n + m)."""
    a = instance.arrays
    g = nx.DiGraph()
    g.add_nodes_from(range(a.num_groups))
    keep = a.forward_edge & (a.group[a.src] != a.group[a.dst])
    g.add_edges_from(zip(a.group[a.src[keep]].tolist(), a.group[a.dst[keep]].tolist()))
    return [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


def _cycle_reason(cycle: list[int], groups: list[_Group], classes: list[DeviceClass], contiguity: str,
                  cpu_contiguity: bool) -> str | None:
    """Check 4 for one cycle of groups: they share one constrained device unless
    every one of them can sit on an exempt (CPU) device."""
    exempt = [c for c in classes if not cpu_contiguity and c.kind == "cpu"]
    constrained = [c for c in classes if c not in exempt]
    members = [groups[k] for k in cycle]
    if exempt and all(any(_fits(m.memory, c) for c in _running(m.nodes, exempt)) for m in members):
        return None
    nodes = tuple(n for m in members for n in m.nodes)
    firsts = ", ".join(repr(m.nodes[0].id) for m in members[:5]) + (", ..." if len(members) > 5 else "")
    label = (f"the cycle of forward edges through the colour groups of nodes {firsts} (with {contiguity} "
             "contiguity they share one device)")
    if not _running(nodes, constrained):
        where = "device" if cpu_contiguity else "non-CPU device"
        return f"{label}: no {where} class with devices runs all of its nodes"
    return _memory_reason(label, nodes, sum(m.memory for m in members), constrained)


def explain_infeasible(instance: Instance, *, contiguity: str = "none", cpu_contiguity: bool = True) -> str | None:
    """One line saying why ``instance`` has no feasible placement, or None when
    none of the simple reasons of the module docstring applies.

    ``contiguity``: "none" (support and memory only), "convex" or "pipeline" (the
    cycles of check 4 count too); ``cpu_contiguity``: whether CPU devices are held to
    contiguity, as in :func:`placement_ilp.evaluation.maxload.evaluate`. Every reason
    returned is a proof; None proves nothing. InputError for a bad argument.
    Complexity: O(n * C + m) plus O(P^2) for P <= MAX_SUPPORT_SETS distinct sets of
    supporting classes.

    Example: a node of size 20 on the paper's topology with maxCPUs 0 and
    maxSizePerFPGA 10 gives ``"node 3 needs 20 of memory on one device, more than
    any device that runs it holds (at most 10, on class 'acc')"``.
    """
    check_instance(instance)
    if contiguity not in LEVELS:
        raise InputError(f"contiguity must be one of {', '.join(LEVELS)}, got {shown(contiguity)}")
    check_bool(cpu_contiguity, "cpu_contiguity")
    classes = [c for c in instance.topology.classes if c.count > 0]
    groups = _groups(instance)
    for group in groups:
        reason = _support_reason(group, classes) or _memory_reason(group.label, group.nodes, group.memory, classes)
        if reason:
            return reason
    reason = _total_memory_reason(groups, classes)
    if reason or contiguity == "none":
        return reason
    for cycle in _forward_cycles(instance):
        reason = _cycle_reason(cycle, groups, classes, contiguity, cpu_contiguity)
        if reason:
            return reason
    return None
