"""The latency baselines of the paper: placements built by rule, scored by
:func:`~placement_ilp.evaluation.latency.evaluate_latency` (docs/model.md,
"Latency (single-sample) objective").

:func:`all_on_cpu_cores` (every node on a CPU core of its own: the critical path of
CPU times), :func:`greedy_latency` (the paper's greedy: the blocks of
:func:`greedy_blocks` packed onto accelerators), and :func:`interval_latency`
(the best split of a topological order into one interval per accelerator, by DP).
They start the latency MILP and are methods of their own (``--method greedy``,
``all-cpu``). Inference graphs only.
"""

from __future__ import annotations

import math
from typing import Iterable

import networkx as nx

from ..data.graph import NodeId
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.topology import Device
from ..errors import InputError
from ..evaluation.latency import accelerators, check_latency_instance, cpu_class_names
from ..evaluation.maxload import MEMORY_TOLERANCE

__all__ = ["all_on_cpu_cores", "all_on_cpus", "greedy_blocks", "greedy_latency", "interval_latency"]


def _cpu_class_for(instance: Instance, nodes: Iterable[NodeId]) -> str:
    """First CPU-kind class that supports every node given (else the first one)."""
    names = cpu_class_names(instance)
    if not names:
        raise InputError("the topology has no CPU-kind device class, so nodes cannot go to CPUs")
    nodes = list(nodes)
    for cls in names:
        if all(cls in instance.graph.node(v).supported for v in nodes):
            return cls
    return names[0]


def all_on_cpu_cores(instance: Instance) -> Placement:
    """Every node on a CPU (unlimited CPUs: each node its own core). A colour
    class takes the first CPU-kind class supporting all its nodes; the device index
    is always 0 (the latency evaluator ignores CPU indices). Its latency is the
    critical path of CPU times. O(V).

    Raises InputError when the topology has no CPU-kind class or a node is
    supported on none of them.

    Example: ``evaluate_latency(inst, all_on_cpu_cores(inst)).latency`` is the
    all-CPU critical path (the paper's "latency when using only CPUs").
    """
    check_latency_instance(instance)
    out: dict[NodeId, Device] = {}
    names = cpu_class_names(instance)
    if not names:
        raise InputError("the topology has no CPU-kind device class, so nodes cannot go to CPUs")
    for group in instance.graph.colour_groups():
        cls = _cpu_class_for(instance, group)
        for v in group:
            if cls not in instance.graph.node(v).supported:
                raise InputError(f"node {v!r} is not supported on any CPU class, so it cannot go to CPUs")
            out[v] = Device(cls, 0)
    return Placement({v: out[v] for v in instance.graph.ids})


#: The name before all_on_cpu_cores (kept for one release; it read too much like
#: baselines.all_on_first_cpu, which puts everything on one CPU).
all_on_cpus = all_on_cpu_cores


def greedy_blocks(instance: Instance) -> list[list[NodeId]]:
    """The greedy's inseparable blocks in its topological order.

    A block is a set of colour classes that are strongly connected to each other
    (each reaches the other through edges), so that no split can separate them
    without a call waiting for itself; every other colour class (or uncoloured
    node) is a block by itself. Order: Kahn's algorithm with a stack (depth-first
    flavour, as the paper's ``getTopologicalSort``), sources pushed in reverse
    graph order and successors in reverse order of first appearance, so the
    first source is taken first. O(V + E).

    Example: a chain a -> b -> c gives ``[["a"], ["b"], ["c"]]``.
    """
    graph = instance.graph
    groups = graph.colour_groups()
    group_of = {v: gi for gi, members in enumerate(groups) for v in members}
    h = nx.DiGraph()
    h.add_nodes_from(range(len(groups)))
    for e in graph.edges:
        a, b = group_of[e.source], group_of[e.target]
        if a != b:
            h.add_edge(a, b)
    comps = list(nx.strongly_connected_components(h))
    comp_of = {g: ci for ci, comp in enumerate(comps) for g in comp}
    members: list[list] = [[] for _ in comps]
    for v in graph.ids:
        members[comp_of[group_of[v]]].append(v)
    first = [graph.index_of(m[0]) for m in members]
    succ: list[list[int]] = [[] for _ in comps]
    indeg = [0] * len(comps)
    seen = set()
    for e in graph.edges:  # graph edge order = order of first appearance
        a, b = comp_of[group_of[e.source]], comp_of[group_of[e.target]]
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            succ[a].append(b)
            indeg[b] += 1
    stack = sorted((c for c in range(len(comps)) if indeg[c] == 0), key=lambda c: -first[c])
    order = []
    while stack:
        c = stack.pop()
        order.append(c)
        for b in reversed(succ[c]):
            indeg[b] -= 1
            if indeg[b] == 0:
                stack.append(b)
    return [members[c] for c in order]


def greedy_latency(instance: Instance) -> Placement:
    """The paper's latency greedy (``latency-greedy/greedy.cpp``), generalised.

    Walk the blocks of :func:`greedy_blocks` in order. If the block can start on the
    next unopened accelerator (its class supports every node of the block and the
    block's memory fits that device's capacity) open that accelerator and put on
    it this block and the following ones as long as they fit (supported, memory
    within capacity); otherwise -- the block is larger than an accelerator,
    unsupported, or every accelerator is already open -- put the block on CPUs and
    go on. Each accelerator thus holds a run of consecutive blocks of a topological
    order, which is one convex call that waits only for earlier blocks: the
    placement is always schedulable with q = 1.

    Same as the paper for its topology except support: the paper's greedy ignores
    ``supportedOnFpga``; here an unsupported block goes to CPUs and, like a block
    that does not fit, ends the current accelerator's run (continuing the run past
    it could make the call non-convex). Accelerators are taken in topology order
    (all classes that are not CPU-kind). O(V + E).

    Example: chain a -> b -> c with sizes 2, 2, 2 and one accelerator of memory 4:
    a and b on acc:0, c on a CPU.
    """
    check_latency_instance(instance)
    graph, topo = instance.graph, instance.topology
    accs = accelerators(instance)
    blocks = greedy_blocks(instance)
    size = [sum(graph.node(v).memory for v in b) for b in blocks]

    def fits(i: int, d: Device, used: float) -> bool:
        if any(d.cls not in graph.node(v).supported for v in blocks[i]):
            return False
        cap = topo.class_of(d.cls).memory
        return cap is None or used + size[i] <= cap * (1 + MEMORY_TOLERANCE)

    out: dict[NodeId, Device] = {}
    i, next_acc = 0, 0
    while i < len(blocks):
        if next_acc < len(accs) and fits(i, accs[next_acc], 0.0):
            d = accs[next_acc]
            next_acc += 1
            used = 0.0
            while i < len(blocks) and fits(i, d, used):
                used += size[i]
                for v in blocks[i]:
                    out[v] = d
                i += 1
        else:
            for group in _groups_within(instance, blocks[i]):
                cls = _cpu_class_for(instance, group)
                for v in group:
                    out[v] = Device(cls, 0)
            i += 1
    return Placement({v: out[v] for v in graph.ids})


def interval_latency(instance: Instance) -> Placement:
    """A heuristic (not in the paper): cut the greedy's block order optimally.

    Take the blocks of :func:`greedy_blocks` in order and choose, by dynamic
    programming, at most one interval of consecutive blocks per accelerator
    (accelerators in topology order; an interval must be supported by the
    device's class and fit its memory) and put every other block on CPUs,
    minimising an estimate of the latency: the sum over intervals of their call
    duration (times + the communication crossing the interval's boundary) plus
    the CPU time of the other blocks, as if everything ran one after another.
    Like the greedy, every accelerator then holds one convex call that waits only
    for earlier blocks, so the placement is schedulable with q = 1; unlike the
    greedy it cuts where little data crosses and may leave expensive stretches on
    CPUs. The estimate over-counts CPU work on parallel branches, so the result
    is a good start, not an optimum. O(B * (V + E) + B^2 * k) for B blocks and k
    accelerators.

    Example: ``evaluate_latency(inst, interval_latency(inst), max_subgraphs=1).feasible``
    is True.
    """
    check_latency_instance(instance)
    graph, topo = instance.graph, instance.topology
    accs = accelerators(instance)
    blocks = greedy_blocks(instance)
    B, k = len(blocks), len(accs)
    cpu_names = cpu_class_names(instance)
    cpu_time = []
    for nodes in blocks:
        total = 0.0
        for v in nodes:
            ts = [graph.node(v).times[c] for c in cpu_names if c in graph.node(v).supported]
            total += min(ts) if ts else math.inf
        cpu_time.append(total)
    classes = sorted({d.cls for d in accs}, key=lambda c: topo.class_names.index(c))
    # dur[c][i][j - i]: duration of blocks i..j as one call on class c (inf: not allowed)
    dur: dict[str, list[list[float]]] = {}
    for cls in classes:
        cap = topo.class_of(cls).memory
        comm = {v: instance.comm_time(v, cls) for v in graph.ids}
        rows = []
        for i in range(B):
            row = []
            inside: set = set()
            outside_succ: dict = {}  # inside node -> successors not yet inside
            senders: dict = {}  # outside node -> successors inside
            compute = mem = out_cost = in_cost = 0.0
            for j in range(i, B):
                nodes = blocks[j]
                if any(cls not in graph.node(v).supported for v in nodes):
                    break
                mem += sum(graph.node(v).memory for v in nodes)
                if cap is not None and mem > cap * (1 + MEMORY_TOLERANCE):
                    break
                for v in nodes:
                    inside.add(v)
                for v in nodes:
                    compute += graph.node(v).times[cls]
                    if v in senders:  # was an input, is now inside
                        in_cost -= comm[v]
                        del senders[v]
                    rest = sum(1 for w in graph.successors(v) if w not in inside)
                    outside_succ[v] = rest
                    if rest:
                        out_cost += comm[v]
                    for u in graph.predecessors(v):
                        if u in inside:
                            if u not in nodes and outside_succ.get(u, 0) > 0:
                                outside_succ[u] -= 1
                                if outside_succ[u] == 0:
                                    out_cost -= comm[u]
                        else:
                            if u not in senders:
                                senders[u] = 0
                                in_cost += comm[u]
                            senders[u] += 1
                row.append(compute + max(out_cost, 0.0) + max(in_cost, 0.0))
            rows.append(row)
        dur[cls] = rows
    INF = math.inf
    F = [[INF] * (k + 1) for _ in range(B + 1)]
    back: list[list[tuple | None]] = [[None] * (k + 1) for _ in range(B + 1)]
    F[0][0] = 0.0
    for j in range(B):
        for s in range(k + 1):
            if F[j][s] + cpu_time[j] < F[j + 1][s]:
                F[j + 1][s] = F[j][s] + cpu_time[j]
                back[j + 1][s] = ("cpu", j)
        for s in range(1, k + 1):
            rows = dur[accs[s - 1].cls]
            best, arg = F[j + 1][s], back[j + 1][s]
            for i in range(j + 1):
                row = rows[i]
                if j - i < len(row) and F[i][s - 1] + row[j - i] < best:
                    best, arg = F[i][s - 1] + row[j - i], ("acc", i)
            F[j + 1][s], back[j + 1][s] = best, arg
    s = min(range(k + 1), key=lambda x: F[B][x])
    out: dict[NodeId, Device] = {}
    j = B
    if math.isinf(F[B][s]):  # nothing placeable: fall back to the greedy
        return greedy_latency(instance)
    while j > 0:
        kind, i = back[j][s]
        if kind == "cpu":
            for group in _groups_within(instance, blocks[i]):
                cls = _cpu_class_for(instance, group)
                for v in group:
                    out[v] = Device(cls, 0)
            j = i
        else:
            for b in range(i, j):
                for v in blocks[b]:
                    out[v] = accs[s - 1]
            j, s = i, s - 1
    return Placement({v: out[v] for v in graph.ids})


def _groups_within(instance: Instance, nodes: list) -> list[list]:
    inside = set(nodes)
    return [g for g in instance.graph.colour_groups() if g[0] in inside]


