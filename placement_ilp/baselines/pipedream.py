"""PipeDream's baseline: linearise the graph, then an exact chain DP over segments.

PipeDream (Narayanan et al., SOSP 2019) places a layer *chain*. The paper
(Tarnawski et al., NeurIPS 2020) applies it to general graphs by first linearising
them in a topological order; this module does the same on colour groups:

1. **Linearise.** The contracted forward graph (groups holding a forward node, arcs
   from forward edges) is condensed into strongly connected components (a cycle
   among groups, possible only through colour classes, must share one device in any
   pipeline placement) and ordered by Kahn's algorithm, ties to the smallest group
   index (the order of the input file). Groups without a forward node (a loss
   node's class, backward nodes without a colour class) are not constrained by
   contiguity; each is *attached* to the position of the neighbouring group it
   exchanges the most communication with (found breadth first from the forward
   groups, so chains of backward-only groups attach too), and so always shares that
   position's device. Backward-only groups with no path to any forward group get
   positions of their own at the end, in index order.
2. **Chain DP.** The sequence of positions is split into contiguous segments, each
   on its own device (at most ``count`` segments per device class), minimising the
   largest segment load. The load of segment ``[i, j)`` on class ``c`` is exactly
   the evaluator's device load: the time of its nodes plus, on classes that pay
   communication, each node's transfer time once if it is in the segment and has a
   successor outside, and once if it is outside and has a successor inside.
   Segments over memory or holding a node the class does not support are
   forbidden.

All segment loads come from prefix sums: compute and memory as 1-D prefix sums;
communication as a 2-D table ``comm[i, j]`` built from a 2-D difference array in
which each communication item adds a few rectangles of ``(i, j)`` pairs (the pairs
where it is charged), then two cumulative sums. The DP is then
O(P^2 * S * C) with P positions, C classes and S = prod(count_c + 1) device-count
states, vectorised per segment end; on the paper's largest graph (BERT-12
training, 456 groups, 7 devices) it takes well under a second.

Segments in sequence order give a pipeline-contiguous placement (every forward arc
goes from a position to the same or a later one), so ``contiguity_level`` reports
"pipeline". On a chain the DP is exact over all pipeline placements.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque

import networkx as nx
import numpy as np

from ..evaluation.maxload import MEMORY_TOLERANCE
from ..data.instance import Instance
from ..data.placement import Placement
from .simple import GroupView, fallback_assignment, group_view, refuse_large_tables


def linear_order(view: GroupView, rng: random.Random | None = None) -> tuple[list[list[int]], np.ndarray]:
    """The positions of PipeDream's linear order (module docstring, step 1).

    Returns ``(positions, pos)``: ``positions[p]`` lists the groups at position p
    (an SCC of forward groups plus attached backward-only groups), ``pos[g]`` the
    position of group g. With ``rng``, Kahn's ties are broken at random instead
    (a random topological order; local search uses it for random pipeline starts).
    O(G + arcs log G).

    Example: on a chain a -> b -> c without colour classes, ``positions == [[0], [1], [2]]``.
    """
    cg = view.cg
    G = cg.num_groups
    fw = np.flatnonzero(cg.has_forward)
    dg = nx.DiGraph()
    dg.add_nodes_from(int(g) for g in fw)
    dg.add_edges_from(zip(cg.fw_src.tolist(), cg.fw_dst.tolist()))
    cond = nx.condensation(dg)
    comp_groups = {c: sorted(cond.nodes[c]["members"]) for c in cond.nodes}
    key = {c: (rng.random() if rng is not None else comp_groups[c][0]) for c in cond.nodes}
    indeg = {c: cond.in_degree(c) for c in cond.nodes}
    heap = [(key[c], c) for c in cond.nodes if indeg[c] == 0]
    heapq.heapify(heap)
    positions: list[list[int]] = []
    pos = np.full(G, -1, dtype=np.int64)
    while heap:
        _, c = heapq.heappop(heap)
        for g in comp_groups[c]:
            pos[g] = len(positions)
        positions.append(list(comp_groups[c]))
        for c2 in cond.successors(c):
            indeg[c2] -= 1
            if indeg[c2] == 0:
                heapq.heappush(heap, (key[c2], c2))

    # Attach backward-only groups to their heaviest-communicating placed neighbour.
    if (pos < 0).any():
        weight: dict[tuple[int, int], float] = {}
        cost = cg.comm_cost.max(axis=1) if cg.comm_cost.size else np.zeros(len(cg.comm_node))
        for j in range(len(cg.succ_item)):
            k = int(cg.succ_item[j])
            a, b = int(cg.comm_group[k]), int(cg.succ_group[j])
            key2 = (a, b) if a < b else (b, a)
            weight[key2] = weight.get(key2, 0.0) + float(cost[k])
        nbrs: dict[int, list[tuple[int, float]]] = {g: [] for g in range(G)}
        for (a, b), w in weight.items():
            nbrs[a].append((b, w))
            nbrs[b].append((a, w))
        frontier = deque(g for g in range(G) if pos[g] >= 0)
        while frontier:
            layer = sorted({h for g in frontier for h, _ in nbrs[g] if pos[h] < 0})
            frontier = deque()
            chosen = {}
            for h in layer:
                best = max(
                    ((w, -g) for g, w in nbrs[h] if pos[g] >= 0),
                )
                chosen[h] = pos[-best[1]]
            for h, p in chosen.items():
                pos[h] = p
                positions[p].append(h)
                frontier.append(h)
        for g in range(G):
            if pos[g] < 0:
                pos[g] = len(positions)
                positions.append([g])
    return positions, pos


def _segment_tables(view: GroupView, positions: list[list[int]], pos: np.ndarray):
    """Per class c: load[c] of shape (P+1, P+1), ``load[c][i, j]`` the evaluator's load
    of segment [i, j) on a device of class c (``inf`` when unsupported or over memory)."""
    cg = view.cg
    P = len(positions)
    C = view.time.shape[1]
    topo = cg.instance.topology
    # Compute: prefix sums of finite times, and of unsupported counts.
    pos_time = np.zeros((P, C))
    pos_bad = np.zeros((P, C))
    pos_mem = np.zeros(P)
    t = view.time
    finite = np.isfinite(t)
    np.add.at(pos_time, pos, np.where(finite, t, 0.0))
    np.add.at(pos_bad, pos, (~finite).astype(float))
    np.add.at(pos_mem, pos, view.memory)
    T = np.vstack([np.zeros((1, C)), np.cumsum(pos_time, axis=0)])
    B = np.vstack([np.zeros((1, C)), np.cumsum(pos_bad, axis=0)])
    M = np.concatenate([[0.0], np.cumsum(pos_mem)])

    # Communication items at the position level: item k at position p[k] with the
    # distinct positions q != p of its successor groups.
    comm = _comm_tables(cg, pos, P)

    loads = []
    for c, dc in enumerate(topo.classes):
        L = T[None, :, c] - T[:, None, c]  # L[i, j] = T[j] - T[i]
        if comm[c] is not None:
            L = L + comm[c]
        bad = (B[None, :, c] - B[:, None, c]) > 0.5
        if dc.memory is not None:
            bad |= (M[None, :] - M[:, None]) > dc.memory * (1 + MEMORY_TOLERANCE)
        L = np.where(bad, np.inf, L)
        loads.append(L)
    return loads


def _comm_tables(cg, pos: np.ndarray, P: int) -> list[np.ndarray | None]:
    """``comm[c][i, j]``: communication a device of class c pays for segment [i, j),
    via a 2-D difference array of rectangles (module docstring). None for classes
    that pay nothing. O(P^2 + items) per class."""
    C = len(cg.instance.topology.classes)
    out: list[np.ndarray | None] = [None] * C
    if len(cg.succ_item) == 0:
        return out
    p_item = pos[cg.comm_group]
    q = pos[cg.succ_group]
    item = cg.succ_item
    keep = q != p_item[item]
    if not keep.any():
        return out
    key = np.unique(item[keep] * (P + 1) + q[keep])  # sorted by item, then q
    it, qq = key // (P + 1), key % (P + 1)
    p = p_item[it]
    first = np.ones(len(it), dtype=bool)
    first[1:] = it[1:] != it[:-1]
    last = np.ones(len(it), dtype=bool)
    last[:-1] = it[1:] != it[:-1]
    prev = np.where(first, -1, np.concatenate([[-1], qq[:-1]]))
    lo = qq[first]
    hi = qq[last]
    items = it[first]
    pi = p_item[items]
    n = P
    # rectangles: (i0, i1, j0, j1, sign, item)
    rect_i0, rect_i1, rect_j0, rect_j1, rect_s, rect_k = [], [], [], [], [], []

    def add(i0, i1, j0, j1, s, k):
        rect_i0.append(i0)
        rect_i1.append(i1)
        rect_j0.append(j0)
        rect_j1.append(j1)
        rect_s.append(np.full(len(i0), s, dtype=float))
        rect_k.append(k)

    # out-charge: p in [i, j) unless every q is in [i, j)
    add(np.zeros_like(pi), pi, pi + 1, np.full_like(pi, n), 1.0, items)
    add(np.zeros_like(pi), np.minimum(pi, lo), np.maximum(pi, hi) + 1, np.full_like(pi, n), -1.0, items)
    # in-charge: some q in [i, j) (the first one is qq), p not in [i, j)
    add(prev + 1, qq, qq + 1, np.full_like(qq, n), 1.0, it)
    i1 = np.minimum(qq, p)
    sel = prev + 1 <= i1
    add((prev + 1)[sel], i1[sel], (np.maximum(qq, p) + 1)[sel], np.full(int(sel.sum()), n), -1.0, it[sel])
    i0 = np.concatenate(rect_i0)
    i1 = np.concatenate(rect_i1)
    j0 = np.concatenate(rect_j0)
    j1 = np.concatenate(rect_j1)
    s = np.concatenate(rect_s)
    k = np.concatenate(rect_k)
    for c in range(C):
        w = cg.comm_cost[k, c] * s
        if not np.any(w):
            continue
        diff = np.zeros((n + 2, n + 2))
        np.add.at(diff, (i0, j0), w)
        np.add.at(diff, (i0, j1 + 1), -w)
        np.add.at(diff, (i1 + 1, j0), -w)
        np.add.at(diff, (i1 + 1, j1 + 1), w)
        table = np.cumsum(np.cumsum(diff, axis=0), axis=1)[: n + 1, : n + 1]
        out[c] = table
    return out


def _chain_dp(loads: list[np.ndarray], counts: list[int]):
    """min over segmentations of max segment load; returns (value, segments) with
    segments as (i, j, class)."""
    P = loads[0].shape[0] - 1 if loads else 0
    C = len(counts)
    radix = [1] * C
    for c in range(1, C):
        radix[c] = radix[c - 1] * (counts[c - 1] + 1)
    S = radix[-1] * (counts[-1] + 1) if C else 1
    states = np.arange(S)
    used = [(states // radix[c]) % (counts[c] + 1) for c in range(C)]
    dst = [states[used[c] >= 1] for c in range(C)]
    src = [d - radix[c] for c, d in enumerate(dst)]
    dp = np.full((P + 1, S), np.inf)
    dp[0, 0] = 0.0
    arg_i = np.zeros((P + 1, S), dtype=np.int64)
    arg_c = np.full((P + 1, S), -1, dtype=np.int64)
    for j in range(1, P + 1):
        best = np.full(S, np.inf)
        bi = np.zeros(S, dtype=np.int64)
        bc = np.full(S, -1, dtype=np.int64)
        for c in range(C):
            if len(dst[c]) == 0:
                continue
            L = loads[c][:j, j]
            cand = np.maximum(dp[:j][:, src[c]], L[:, None])
            idx = np.argmin(cand, axis=0)
            val = cand[idx, np.arange(len(idx))]
            better = val < best[dst[c]]
            tgt = dst[c][better]
            best[tgt] = val[better]
            bi[tgt] = idx[better]
            bc[tgt] = c
        dp[j] = best
        arg_i[j] = bi
        arg_c[j] = bc
    s = int(np.argmin(dp[P]))
    value = float(dp[P, s])
    if not math.isfinite(value):
        return value, None
    segments = []
    j = P
    while j > 0:
        i, c = int(arg_i[j, s]), int(arg_c[j, s])
        segments.append((i, j, c))
        s -= radix[c]
        j = i
    segments.reverse()
    return value, segments


def table_bytes(positions: int, classes: list) -> int:
    """Bytes of the largest arrays PipeDream allocates at once for ``positions``
    positions on device classes ``classes`` (:class:`~placement_ilp.data.topology.DeviceClass`):
    a (P+2) x (P+2) float table per class, per class that pays communication, and
    about three of working space while they are built; then the DP's
    (P+1) x S tables (values, arguments, candidates; S = prod(count_c + 1) device-count
    states). O(C).

    Example: 280,000 positions on the paper's topology (6 accelerators, 1 CPU) would
    need about 3.4 TiB; 6,000 fit in 2 GiB.
    """
    square = 8 * (positions + 2) ** 2
    paying = sum(1 for c in classes if c.pays_communication)
    states = math.prod(c.count + 1 for c in classes)
    return (len(classes) + paying + 3) * square + 5 * 8 * (positions + 1) * states


def pipedream_with_value(instance: Instance) -> tuple[Placement, float]:
    """PipeDream's placement and the DP's max-load (module docstring).

    Problem: split PipeDream's linear order of the colour groups into at most
    ``count`` contiguous segments per device class, one device each, minimising the
    largest device load (the evaluator's "sum" objective, communication added to
    compute), within memory and support.

    Returns ``(placement, value)``. ``value`` equals the evaluator's max-load of
    ``placement`` (up to rounding) and the placement is pipeline-contiguous. When no
    segmentation of the order respects memory and support, ``value`` is ``inf`` and
    the placement is a feasible non-contiguous fallback
    (:func:`placement_ilp.baselines.simple.feasible_assignment`); InputError when no
    feasible placement exists at all.

    Complexity: O(P^2 * S * C + items) with P positions (at most the number of groups),
    C device classes and S = prod(count_c + 1) device-count states.

    Example::

        >>> placement, value = pipedream_with_value(inst)
        >>> math.isclose(evaluate(inst, placement).max_load, value, rel_tol=1e-9)
        True

    InputError when links make costs depend on the partner device (one rate per
    class is all its segment loads know), and, before allocating them, when its
    tables would exceed the baselines' memory budget (:func:`table_bytes`,
    :data:`placement_ilp.baselines.simple.MEMORY_BUDGET`): above about 6,600
    positions on the paper's topology.
    """
    instance.refuse_links("pipedream")
    view = group_view(instance)
    if view.num_groups == 0:
        return Placement({}), 0.0
    positions, pos = linear_order(view)
    classes = instance.topology.classes
    refuse_large_tables("pipedream", table_bytes(len(positions), classes),
                        f"{len(positions)} x {len(positions)} segment loads for {len(classes)} device classes")
    loads = _segment_tables(view, positions, pos)
    counts = [c.count for c in classes]
    value, segments = _chain_dp(loads, counts)
    if segments is None:
        dev = fallback_assignment(view, "pipedream")
        return view.placement(dev), math.inf
    class_devices = {}
    for d, dv in enumerate(view.devices):
        class_devices.setdefault(int(view.dev_class[d]), []).append(d)
    taken = {c: 0 for c in class_devices}
    dev = np.zeros(view.num_groups, dtype=np.int64)
    for i, j, c in segments:
        d = class_devices[c][taken[c]]
        taken[c] += 1
        for p in range(i, j):
            for g in positions[p]:
                dev[g] = d
    return view.placement(dev), value


def pipedream(instance: Instance) -> Placement:
    """PipeDream's baseline: linearise, then the exact chain DP (module docstring).

    Problem: the best pipeline placement whose device sets are contiguous segments of
    one fixed topological order of the colour groups (max-load objective, memory and
    support respected). When no segmentation is feasible, a feasible non-contiguous
    placement is returned instead (see :func:`pipedream_with_value`).

    Complexity: O(P^2 * S * C + items); under a second on the paper's graphs.

    Example::

        >>> inst = load_instance(".../throughput/LayerGraphs/bert24_inference.json")
        >>> evaluate(inst, pipedream(inst)).contiguity.level
        'pipeline'
    """
    return pipedream_with_value(instance)[0]
