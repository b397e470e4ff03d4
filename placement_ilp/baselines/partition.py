"""A graph-partitioning baseline (the paper used Scotch): recursive Kernighan-Lin bisection.

What it does, on colour groups (so colour classes and backward twins stay together):

1. **Graph.** The undirected contracted graph: one vertex per group, an edge between
   groups that exchange data, weighted by the communication cost an accelerator
   would pay for it (for each node with a successor in another group, its transfer
   time is added once per receiving group; an approximation of the evaluator's
   "once per device" rule, as any edge-cut partitioner makes). Vertex weight: the
   group's time on an accelerator (mean over accelerator classes that support it).
2. **Which groups are partitioned.** Groups that no accelerator supports go to the
   CPUs from the start. The others are split into one part per accelerator.
3. **Recursive bisection.** To split a set of groups into ``k`` parts, order it by
   PipeDream's linear order (a topological order of the groups,
   :func:`placement_ilp.baselines.pipedream.linear_order`) and cut it into a prefix
   for ``k1 = floor(k/2)`` parts and a suffix for ``k2 = k - k1`` parts, at the cut
   point minimising the estimate ``max(time_A / k1, time_B / k2) + cut`` (the time
   per part of the larger side plus the weighted edge cut; all cut points are
   scored in O(V + E) with cumulative sums and a difference array): a
   time-balanced initial bisection along the data flow that avoids cutting
   expensive edges. networkx's ``kernighan_lin_bisection`` then refines it by
   swapping vertices to reduce the weighted cut; KL keeps the sides' vertex
   *counts*, not their times, so its result is kept only if it lowers the same
   estimate. Each side is split recursively; part ``i`` goes to accelerator ``i``.
4. **Repair.** While an accelerator is over its memory, the group on it with the
   least CPU time per unit of memory moves to the least-loaded CPU that supports it
   (or, without one, to the accelerator with the most room that can take it). CPU
   groups are spread over the CPUs least-loaded first (largest first). If the repair
   still leaves a violation, :func:`placement_ilp.baselines.simple.feasible_assignment`
   replaces the result.

Without accelerators, the groups are spread over the CPUs (largest first, least
loaded first). The result need not be contiguous (KL swaps can break the
segments of the initial split).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from ..data.instance import Instance
from ..data.placement import Placement
from .pipedream import linear_order
from .simple import GroupView, assignment_is_feasible, fallback_assignment, fits, group_view



def _graph(view: GroupView, acc_classes: list[int]) -> nx.Graph:
    cg = view.cg
    g = nx.Graph()
    g.add_nodes_from(range(view.num_groups))
    if len(cg.succ_item) and acc_classes:
        cost = cg.comm_cost[:, acc_classes].mean(axis=1)
        for k, h in zip(cg.succ_item.tolist(), cg.succ_group.tolist()):
            a = int(cg.comm_group[k])
            w = float(cost[k])
            if g.has_edge(a, h):
                g[a][h]["weight"] += w
            else:
                g.add_edge(a, h, weight=w)
    return g


def _estimate(graph: nx.Graph, weight: dict[int, float], a: set[int], b: set[int], k1: int, k2: int) -> float:
    """max(time_A / k1, time_B / k2) + weighted cut: the bisection's max-load estimate."""
    ta = sum(weight[x] for x in a)
    tb = sum(weight[x] for x in b)
    return max(ta / k1, tb / k2) + nx.cut_size(graph, a, b, weight="weight")


def _split(
    graph: nx.Graph, groups: list[int], k: int, weight: dict[int, float], pos: np.ndarray, seed: int
) -> list[list[int]]:
    if k <= 1 or len(groups) <= 1:
        return [groups] + [[] for _ in range(k - 1)]
    k1 = k // 2
    k2 = k - k1
    order = sorted(groups, key=lambda x: (pos[x], x))
    n = len(order)
    cum = np.cumsum([weight[x] for x in order])
    total = float(cum[-1])
    # Cut c puts order[:c] first (1 <= c <= n-1). The time per part of each side
    # and the weighted edge cut (a difference array over the order) give the
    # estimate max(time_A / k1, time_B / k2) + cut of the max-load.
    ta = cum[:-1]
    tb = total - ta
    rank = {x: r for r, x in enumerate(order)}
    diff = np.zeros(n + 1)
    for x, y, w in graph.subgraph(order).edges(data="weight"):
        lo, hi = sorted((rank[x], rank[y]))
        diff[lo + 1] += w
        diff[hi + 1] -= w
    cut = np.cumsum(diff)[1:n]  # cut[c-1]: weight of edges across cut c
    estimate = np.maximum(ta / k1, tb / k2) + cut
    c = int(np.argmin(estimate)) + 1
    a, b = order[:c], order[c:]
    sub = graph.subgraph(order)
    if sub.number_of_edges():
        ra, rb = nx.community.kernighan_lin_bisection(sub, partition=(set(a), set(b)), weight="weight", seed=seed)
        if len(ra & set(a)) < len(rb & set(a)):
            ra, rb = rb, ra
        if _estimate(sub, weight, ra, rb, k1, k2) < float(estimate[c - 1]):
            a = sorted(ra, key=lambda x: (pos[x], x))
            b = sorted(rb, key=lambda x: (pos[x], x))
    return _split(graph, a, k1, weight, pos, seed) + _split(graph, b, k2, weight, pos, seed)


def partition(instance: Instance, *, seed: int = 0) -> Placement:
    """Graph-partitioning baseline: recursive Kernighan-Lin bisection (module docstring).

    Problem: split the colour groups into one part per accelerator with balanced
    accelerator time and a small weighted cut (communication), then repair memory
    and support by moving groups to the CPUs. A heuristic for the max-load
    objective; memory and support hold whenever a feasible placement exists.

    seed: handed to networkx's KL (which uses it only when it draws its own initial
    split; here the initial split is given, so the result is deterministic).

    Complexity: O(log k) levels of KL, each O(iterations * E log V) in networkx's
    implementation, plus O(G log G) for the ordering and repair.

    Example::

        >>> p = partition(inst)
        >>> evaluate(inst, p).feasible
        True
    """
    view = group_view(instance)
    G, D = view.num_groups, view.num_devices
    if G == 0:
        return Placement({})
    gt = view.group_time_on_devices()
    acc_devs = [d for d in range(D) if not view.is_cpu[d]]
    cpu_devs = [d for d in range(D) if view.is_cpu[d]]
    acc_classes = sorted({int(view.dev_class[d]) for d in acc_devs})
    dev = np.full(G, -1, dtype=np.int64)
    load = np.zeros(D)
    used = np.zeros(D)

    def put(g: int, d: int) -> None:
        dev[g] = d
        load[d] += gt[g, d]
        used[d] += view.memory[g]

    def to_cpu(g: int) -> bool:
        cands = [d for d in cpu_devs if math.isfinite(gt[g, d]) and fits(used[d], view.memory[g], view.capacity[d])]
        if not cands:
            return False
        put(g, min(cands, key=lambda d: (load[d] + gt[g, d], d)))
        return True

    if acc_devs:
        acc_time = view.time[:, acc_classes]
        on_acc = np.isfinite(acc_time).any(axis=1)
        weight = {
            g: float(np.mean(acc_time[g][np.isfinite(acc_time[g])])) if on_acc[g] else 0.0 for g in range(G)
        }
        _, pos = linear_order(view)
        graph = _graph(view, acc_classes)
        parts = _split(graph, [g for g in range(G) if on_acc[g]], len(acc_devs), weight, pos, seed)
        for part, d in zip(parts, acc_devs):
            for g in part:
                if math.isfinite(gt[g, d]):
                    put(g, d)
        rest = [g for g in range(G) if dev[g] < 0]
    else:
        rest = list(range(G))
    # Groups for the CPUs (unsupported on accelerators, or no accelerator), largest first.
    for g in sorted(rest, key=lambda g: -min((gt[g, d] for d in cpu_devs), default=0.0)):
        if not to_cpu(g):
            cands = [d for d in acc_devs if math.isfinite(gt[g, d])]
            if not cands:
                return view.placement(fallback_assignment(view, "partition"))
            put(g, max(cands, key=lambda d: (view.capacity[d] - used[d], -d)))
    # Memory repair.
    for d in acc_devs:
        while not fits(0.0, used[d], view.capacity[d]):
            on = [g for g in range(G) if dev[g] == d and view.memory[g] > 0]
            if not on:
                break

            def price(g: int) -> tuple[float, int]:
                cpu = min((gt[g, c] for c in cpu_devs if math.isfinite(gt[g, c])), default=math.inf)
                return (cpu / view.memory[g], g)

            moved = False
            for g in sorted(on, key=price):
                load[d] -= gt[g, d]
                used[d] -= view.memory[g]
                if to_cpu(g):
                    moved = True
                    break
                others = [
                    e for e in acc_devs
                    if e != d and math.isfinite(gt[g, e]) and fits(used[e], view.memory[g], view.capacity[e])
                ]
                if others:
                    put(g, max(others, key=lambda e: (view.capacity[e] - used[e], -e)))
                    moved = True
                    break
                load[d] += gt[g, d]
                used[d] += view.memory[g]
            if not moved:
                break
    if not assignment_is_feasible(view, dev):
        dev = fallback_assignment(view, "partition")
    return view.placement(dev)
