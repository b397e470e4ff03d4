"""The dynamic program over ideals: exact pipeline-contiguous max-load.

Problem (docs/model.md): place the groups of an instance on the devices so that the
devices form a pipeline (the forward sets of devices 1..j are an ideal of the
forward graph for every j) and the largest load is smallest.

Method. A pipeline stage holds ``I \\ J`` for two ideals ``J ⊆ I``, so with
``dp[n][I]`` = the best max-load of covering ideal ``I`` with ``n[c]`` devices
of each class ``c``::

    dp[n][∅] = 0
    dp[n][I] = min over c with n[c] > 0, over ideals J ⊊ I of max(dp[n - e_c][J], load_c(I \\ J))

(devices left unused are those before the first stage: ``dp[n][∅] = 0`` for every n).

Loads of ``I \\ J`` are differences of per-ideal sums (time, memory, unsupported
count). Communication needs the sets: an item (a node whose output reaches
another group) touches a set ``T`` of DP nodes, and it is charged to a device
holding ``S`` iff ``T`` meets ``S`` without lying inside it, i.e. iff
``0 < |T ∩ I| - |T ∩ J| < |T|``; ``|T ∩ I|`` is kept per ideal, and only the
items that ``I`` cuts need looking at per pair (see ``_comm``).

Speed. Ideals are numbered in the order of their cheapest possible work, so
the sub-ideals that can matter for ``I`` (work at most an upper bound ``UB`` from
a chain DP over one topological order) form an index window; the sub-ideals of
each ideal in its window are kept as a bitset (built level by level from those of
the ideals it covers). Ideals of one level (number of nodes) contain none of each
other, so a whole level is computed at once, in blocks of ideals: the candidate
pairs of a block come out of one dense block of bitset words, and everything
after is numpy over all the pairs of the block. Pairs that cannot reach the
minimum, whatever their communication, are dropped before it is computed.

Preprocessing that keeps the optimum: colour classes are contracted; an orphan
backward group (a colour class of backward nodes only) is given the position of
an artificial forward twin joined by mirrored backward edges, as the paper's tool
does, and groups that then lie on a cycle share a device; a group with no work,
no memory (or memory that can never bind) and a single neighbour is merged into
that neighbour (it can only lose by sitting elsewhere). Communication items that
touch the same DP nodes (in training, a forward node and its backward twin) are
always charged together, so they become one item with the summed cost.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..errors import DPNotApplicable, DPTimeLimit, DPTooLarge
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.preprocess import Contracted, contract
from ..data.topology import Device

#: Default memory budget for the DP's tables, in bytes.
DEFAULT_MEMORY_BUDGET = 3 * 2**30


@dataclass(frozen=True)
class DPGraph:
    """The instance as the DP sees it: ``N`` DP nodes (sets of groups) in a
    topological order of the order arcs, and ``K`` communication items."""

    groups: Contracted
    node_of_group: np.ndarray  # group -> DP node
    time: np.ndarray  # (N, C) total time; inf where unsupported
    unsupported: np.ndarray  # (N, C) 1 where some member is unsupported
    memory: np.ndarray  # (N,)
    preds: list[int]  # bitset of DP predecessors per DP node
    succs: list[list[int]]
    touch: list[np.ndarray]  # per item, the DP nodes it touches (>= 2; no two items the same)
    item_cost: np.ndarray  # (K, C)
    touch_size: np.ndarray  # (K,) number of DP nodes each item touches
    merged: int  # groups merged away by the trivial-node rule

    @property
    def num_nodes(self) -> int:
        return len(self.memory)


def _sum_into(labels: np.ndarray, size: int, cg: Contracted) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label: summed finite time (size, C), count of unsupported groups (size, C), memory."""
    C = cg.time.shape[1]
    time_ = np.zeros((size, C))
    np.add.at(time_, labels, np.where(np.isfinite(cg.time), cg.time, 0.0))
    unsupported = np.zeros((size, C), dtype=np.int64)
    np.add.at(unsupported, labels, (~cg.supported).astype(np.int64))
    memory = np.zeros(size)
    np.add.at(memory, labels, cg.memory)
    return time_, unsupported, memory


def _one_fewer(counts: tuple[int, ...], c: int) -> tuple[int, ...]:
    """The device-count vector with one device of class c less."""
    return tuple(n - (k == c) for k, n in enumerate(counts))


def build_dp_graph(instance: Instance) -> DPGraph:
    """Contract, attach orphans, fuse cycles, merge trivial groups. O(n + m) plus
    networkx's condensation."""
    cg = contract(instance)
    G = cg.num_groups
    g = nx.DiGraph()
    g.add_nodes_from(range(G))
    g.add_edges_from(zip(cg.order_src.tolist(), cg.order_dst.tolist()))
    scc = list(nx.strongly_connected_components(g))
    rep = np.empty(G, dtype=np.int64)
    for k, comp in enumerate(scc):
        rep[list(comp)] = k
    # trivial-node merging on the component graph
    a = instance.arrays
    n0 = len(scc)
    time0, unsup0, mem0 = _sum_into(rep, n0, cg)
    neighbours: list[set[int]] = [set() for _ in range(n0)]
    for s, d in itertools.chain(zip(rep[cg.node_group[a.src]].tolist(), rep[cg.node_group[a.dst]].tolist()),
                                ((int(rep[u]), int(rep[v])) for u, v in g.edges())):
        if s != d:
            neighbours[s].add(d)
            neighbours[d].add(s)
    capacities = [c.memory for c in instance.topology.classes if c.memory is not None]
    memory_never_binds = not capacities or cg.memory.sum() <= min(capacities)
    parent = list(range(n0))
    merged = 0
    trivial = (time0 == 0).all(axis=1) & (unsup0 == 0).all(axis=1) & ((mem0 == 0) | memory_never_binds)
    stack = [v for v in range(n0) if trivial[v] and len(neighbours[v]) == 1]
    alive = [True] * n0
    while stack:
        v = stack.pop()
        if not alive[v] or len(neighbours[v]) != 1:
            continue
        (m,) = neighbours[v]
        alive[v] = False
        parent[v] = m
        neighbours[m].discard(v)
        merged += 1
        if trivial[m] and len(neighbours[m]) == 1:
            stack.append(m)

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    final = np.array([root(x) for x in range(n0)], dtype=np.int64)
    # topological order of the DP nodes
    dg = nx.DiGraph()
    roots = sorted(set(final.tolist()))
    dg.add_nodes_from(roots)
    dg.add_edges_from((int(final[rep[u]]), int(final[rep[v]])) for u, v in g.edges() if final[rep[u]] != final[rep[v]])
    order = list(nx.lexicographical_topological_sort(dg))
    pos = {r: i for i, r in enumerate(order)}
    node_of_group = np.array([pos[int(final[rep[gr]])] for gr in range(G)], dtype=np.int64)
    N, C = len(order), cg.time.shape[1]
    t, unsupported, memory = _sum_into(node_of_group, N, cg)
    t[unsupported > 0] = np.inf
    preds = [0] * N
    succs: list[list[int]] = [[] for _ in range(N)]
    for u, v in dg.edges():
        preds[pos[v]] |= 1 << pos[u]
        succs[pos[u]].append(pos[v])
    touch, costs = [], []
    by_item: dict[int, set[int]] = {}
    for j in range(len(cg.succ_item)):
        k = int(cg.succ_item[j])
        by_item.setdefault(k, {int(node_of_group[cg.comm_group[k]])}).add(int(node_of_group[cg.succ_group[j]]))
    # items that touch the same DP nodes are always charged together (a forward node and
    # its backward twin, in training): one item with the summed cost
    item_of_touch: dict[tuple[int, ...], int] = {}
    for k, nodes in sorted(by_item.items()):
        if len(nodes) > 1 and cg.comm_cost[k].any():
            key = tuple(sorted(nodes))
            if key in item_of_touch:
                costs[item_of_touch[key]] = costs[item_of_touch[key]] + cg.comm_cost[k]
                continue
            item_of_touch[key] = len(touch)
            touch.append(np.array(key, dtype=np.int64))
            costs.append(cg.comm_cost[k])
    item_cost = np.array(costs, dtype=float).reshape(-1, C)
    touch_size = np.array([len(x) for x in touch], dtype=np.int32)
    return DPGraph(cg, node_of_group, t, unsupported, memory, preds, succs, touch, item_cost, touch_size, merged)


@dataclass
class Ideals:
    """All ideals of a DP graph, numbered by increasing cheapest work (then size).

    Per-class and per-slot tables are stored class-major / slot-major, so that the
    pair loads gather from contiguous 1-D arrays. Items are the communication
    items of the DP graph: ``K`` of them, plus a dummy item ``K`` (touching no
    node, costing nothing) that pads ``cut_items``.
    """

    bits: list[int]  # Python-int bitset per ideal
    time: np.ndarray  # (C, M) summed time (inf-free: unsupported tracked apart)
    unsupported: np.ndarray  # (C, M) number of nodes unsupported on each class
    memory: np.ndarray  # (M,)
    work: np.ndarray  # (M,) cheapest possible work: sum over nodes of min-class time
    level: np.ndarray  # (M,) number of DP nodes in the ideal
    count: np.ndarray  # (M, K + 1) |T_k ∩ I|; column K (the dummy item) is 0
    index: dict[int, int]
    cut_items: np.ndarray  # (W, M) the items each ideal cuts, ascending, padded with K
    cut_count: np.ndarray  # (W, M) |T_k ∩ I| of those items
    cut_item_cost: np.ndarray  # (C, W, M) their cost on each class (0 for the padding)
    cut_cost: np.ndarray  # (C, M) cost of all items an ideal cuts, on each class
    # the covering pairs: ideal cover_up[e] is ideal cover_down[e] plus one node;
    # sorted by the level of cover_up, then by cover_up
    cover_up: np.ndarray  # (E,)
    cover_down: np.ndarray  # (E,)
    full: int  # the ideal of all DP nodes

    @property
    def size(self) -> int:
        return len(self.bits)


def enumerate_ideals(dpg: DPGraph, max_ideals: int) -> Ideals:
    """Every ideal (downset) of the DP graph, by breadth-first growth; raises
    DPTooLarge past ``max_ideals``. O(M * (N/64 + out-degree)) for M ideals.

    Breadth-first growth meets the ideals level by level (level = number of DP
    nodes) and meets every covering pair ``J = I + v`` exactly once, from ``I``;
    the pairs are kept (they build the sub-ideal bitsets in ``solve_dp``). The
    per-ideal sums are filled one level at a time, each ideal from the parent that
    first reached it, so they are the same floats as a one-by-one fill.
    """
    N = dpg.num_nodes
    preds, succs = dpg.preds, dpg.succs
    start_avail = 0
    for v in range(N):
        if preds[v] == 0:
            start_avail |= 1 << v
    bits, parent, added, avail = [0], [-1], [-1], [start_avail]
    cover_up, cover_down = [], []
    index = {0: 0}
    index_get, up_append, down_append = index.get, cover_up.append, cover_down.append  # (hot loop)
    head = 0
    while head < len(bits):
        I, free = bits[head], avail[head]
        rest = free
        while rest:
            low = rest & -rest
            rest ^= low
            J = I | low
            k = index_get(J)
            if k is None:
                if len(bits) >= max_ideals:
                    raise DPTooLarge(
                        f"the DP needs more than {max_ideals:,} ideal{'s' if max_ideals != 1 else ''}, "
                        "beyond its memory budget (its table has a row per device count of every class); "
                        "use --method milp (or raise the budget)"
                    )
                v = low.bit_length() - 1
                nxt = free & ~low
                for w in succs[v]:
                    if preds[w] & ~J == 0:
                        nxt |= 1 << w
                k = len(bits)
                index[J] = k
                bits.append(J)
                parent.append(head)
                added.append(v)
                avail.append(nxt)
            up_append(k)
            down_append(head)
        head += 1
    M = len(bits)
    C = dpg.time.shape[1]
    K = len(dpg.touch)
    inc = np.zeros((N, K + 1), dtype=np.uint8)  # inc[v, k] = 1 iff item k touches node v
    for k, nodes in enumerate(dpg.touch):
        inc[nodes, k] = 1
    finite_time = np.where(np.isfinite(dpg.time), dpg.time, 0.0).T
    unsupported = dpg.unsupported.T
    min_time = np.where(dpg.unsupported > 0, np.inf, dpg.time).min(axis=1)
    min_time[~np.isfinite(min_time)] = 0.0
    time_ = np.zeros((C, M))
    unsup = np.zeros((C, M), dtype=np.int64)
    mem = np.zeros(M)
    work = np.zeros(M)
    count = np.zeros((M, K + 1), dtype=np.int32 if dpg.touch_size.max(initial=0) > 255 else np.uint8)
    # breadth-first order is level order: level s is one index range, its parents all in level s - 1
    sizes = np.array([b.bit_count() for b in bits])
    level_start = np.searchsorted(sizes, np.arange(N + 2))
    parent_, added_ = np.array(parent), np.array(added)
    for s in range(1, N + 1):
        r = slice(level_start[s], level_start[s + 1])
        p, v = parent_[r], added_[r]
        time_[:, r] = time_[:, p] + finite_time[:, v]
        unsup[:, r] = unsup[:, p] + unsupported[:, v]
        mem[r] = mem[p] + dpg.memory[v]
        work[r] = work[p] + min_time[v]
        count[r] = count[p] + inc[v]
    # renumber by (work, size) — a linear extension of inclusion
    perm = np.lexsort((sizes, work))
    new_of_old = np.empty(M, dtype=np.int64)
    new_of_old[perm] = np.arange(M)
    bits = [bits[i] for i in perm]
    index = {b: i for i, b in enumerate(bits)}
    time_, unsup, mem, work = time_[:, perm], unsup[:, perm], mem[perm], work[perm]
    count, sizes = count[perm], sizes[perm]
    up, down = new_of_old[cover_up], new_of_old[cover_down]
    order = np.lexsort((up, sizes[up]))
    # the items each ideal cuts (T meets it without lying inside), ascending, in slots padded with K
    cut_mask = (count[:, :K] > 0) & (count[:, :K] < dpg.touch_size[None, :])
    rows, cols = np.nonzero(cut_mask)
    per_row = cut_mask.sum(axis=1)
    cut_items = np.full((max(1, int(per_row.max(initial=0))), M), K, dtype=np.int64)
    cut_items[np.arange(len(rows)) - (np.cumsum(per_row) - per_row)[rows], rows] = cols
    cut_count = count[np.arange(M)[None, :], cut_items]
    item_cost = np.vstack([dpg.item_cost, np.zeros((1, C))])  # (K + 1, C)
    cut_item_cost = np.ascontiguousarray(np.moveaxis(item_cost[cut_items], 2, 0))
    cut_cost = np.array([np.bincount(rows, weights=dpg.item_cost[cols, c], minlength=M) for c in range(C)])
    return Ideals(bits, time_, unsup, mem, work, sizes, count, index, cut_items, cut_count, cut_item_cost,
                  cut_cost, up[order], down[order], index[(1 << N) - 1])


def _blocks(ids: list[int], lo: list[int], budget: int, rows: list[int] | None = None):
    """Split ideals ``ids`` (ascending, with window starts ``lo``) into runs ``[a, b)``
    whose bits ``lo[a] .. ids[b - 1]`` form one dense block of a sub-ideal bitset:
    a run stops when its span would pass twice the first window (plus a margin) or
    when (rows of the run) * span would pass ``budget``. ``rows[t]`` defaults to 1."""
    n, a = len(ids), 0
    while a < n:
        base = lo[a]
        most = 2 * (ids[a] - base) + 512
        used = rows[a] if rows else 1
        b = a + 1
        while b < n:
            span = ids[b] - base + 8
            more = used + (rows[b] if rows else 1)
            if span > most or more * span > budget:
                break
            used, b = more, b + 1
        yield a, b
        a = b


def _sub_ideal_bitsets(ideals: Ideals, lo: np.ndarray, budget: int) -> np.ndarray:
    """Bitsets of the sub-ideals of each ideal, in uint64 words: (M, ceil(M/64)).
    Seen as bytes (``.view(np.uint8)``), bit ``j`` of row ``i`` is bit ``7 - j % 8`` of
    byte ``j // 8``, as ``np.unpackbits`` reads it. Exact in the window
    ``lo[i] <= j <= i``; outside it a row holds some sub-ideals or none.

    Every proper sub-ideal of ``J`` lies in an ideal ``I`` that ``J`` covers, so
    ``sub[J] = {J} ∪ sub[I]`` over the covering pairs ``(J, I)``, one level at a
    time: the rows ``sub[I]`` are gathered and or-reduced per ``J`` over the block
    of words spanning the windows of the ``J`` at hand. The window of ``J`` lies in
    those of the ``I`` it covers (``I < J`` and ``lo[I] <= lo[J]``, work being
    sorted), so windows suffice.
    """
    M = ideals.size
    sub = np.zeros((M, (M + 63) // 64), dtype=np.uint64)
    everyone = np.arange(M)
    sub.view(np.uint8)[everyone, everyone >> 3] = (1 << (7 - (everyone & 7))).astype(np.uint8)
    up, down = ideals.cover_up, ideals.cover_down
    by_level = np.argsort(ideals.level, kind="stable")
    level_start = np.searchsorted(ideals.level[by_level], np.arange(int(ideals.level.max()) + 2))
    cover_start = np.searchsorted(ideals.level[up], np.arange(int(ideals.level.max()) + 2))
    for s in range(1, len(level_start) - 1):
        ids = by_level[level_start[s] : level_start[s + 1]]
        first = cover_start[s] + np.searchsorted(up[cover_start[s] : cover_start[s + 1]], ids)
        num = np.diff(np.append(first, cover_start[s + 1]))
        for a, b in _blocks(ids.tolist(), lo[ids].tolist(), budget, num.tolist()):
            w0, w1 = lo[ids[a]] >> 6, (ids[b - 1] >> 6) + 1
            rows = down[first[a] : first[a] + num[a:b].sum()]
            merged = np.bitwise_or.reduceat(sub[rows, w0:w1], first[a:b] - first[a], axis=0)
            sub[ids[a:b], w0:w1] |= merged
    return sub


@dataclass(frozen=True)
class DPResult:
    value: float
    stages: list[tuple[int, int, int]]  # (class, I, J) from last stage to first
    ideals: int
    pairs: int
    upper_bound: float
    seconds: float


def _subset(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The run lengths of the pairs at ``rows`` (ascending), of pairs in runs of ``lengths``."""
    owner = np.searchsorted(np.cumsum(lengths), rows, side="right")
    return np.bincount(owner, minlength=len(lengths))


def _feasible(
    ideals: Ideals, ids: np.ndarray, lengths: np.ndarray, j: np.ndarray, classes, limit: float = np.inf
) -> list[tuple[np.ndarray | None, np.ndarray, np.ndarray]]:
    """Pairs come in runs: ``lengths[k]`` pairs of ideal ``ids[k]``, then of ``ids[k + 1]``..., the
    p-th pair being (its ideal I, its sub-ideal ``J = j[p]``). Per class c, ``(rows, lengths,
    compute)``: the pairs (``rows``, None for all of them, and their run lengths) whose
    ``I \\ J`` may go on a device of class c (supported, fits in memory, compute within
    ``limit``), and that compute time. Values of I are spread over its run by ``np.repeat``."""
    result = []
    dm = None
    for c, dc in enumerate(classes):
        dt = np.repeat(ideals.time[c][ids], lengths) - ideals.time[c].take(j)
        ok = dt <= limit
        if ideals.unsupported[c, ideals.full]:  # some node is unsupported on c: I \ J must avoid those of I
            ok &= ideals.unsupported[c].take(j) == np.repeat(ideals.unsupported[c][ids], lengths)
        if dc.memory is not None and ideals.memory[ideals.full] > dc.memory * (1 + 1e-9):  # memory can bind
            if dm is None:
                dm = np.repeat(ideals.memory[ids], lengths) - ideals.memory.take(j)
            ok &= dm <= dc.memory * (1 + 1e-9)
        if ok.all():
            result.append((None, lengths, dt))
        else:
            rows = np.flatnonzero(ok)
            result.append((rows, _subset(rows, lengths), dt[rows]))
    return result


def _comm(
    ideals: Ideals, c: int, ids: np.ndarray, lengths: np.ndarray, j: np.ndarray, cut_sum: np.ndarray
) -> np.ndarray:
    """Communication time on class c of I minus its sub-ideal ``J = j[p]`` for pairs in runs
    (``lengths[k]`` pairs of ideal ``I = ids[k]``), given ``cut_sum = cut(I) + cut(J)`` (the
    cost on c of the items each cuts).

    An item k that I cuts has ``0 < |T∩I| < |T|``, and ``|T∩J| <= |T∩I|``, so of the
    items cut by both, those with ``|T∩J| == |T∩I|`` are counted twice in
    ``cut(I) + cut(J)`` and not charged, those with ``|T∩J| < |T∩I|`` once and charged:

        comm(I \\ J) = cut(I) + cut(J) - sum over k cut by I of c_k ([|T∩J| > 0] + [|T∩J| == |T∩I|])

    The weight is 0, 1 or 2, so each term is exact; the terms are added in item order.
    """
    count = ideals.count.reshape(-1)
    row_j = j * ideals.count.shape[1]  # where the row of J starts in count
    correction = None
    for w in range(len(ideals.cut_items)):  # slot w: the w-th item I cuts (or the dummy)
        cj = count.take(row_j + np.repeat(ideals.cut_items[w][ids], lengths))
        weight = (cj > 0).view(np.uint8) + (cj == np.repeat(ideals.cut_count[w][ids], lengths))
        term = weight * np.repeat(ideals.cut_item_cost[c, w][ids], lengths)
        correction = term if correction is None else correction + term
    return cut_sum - correction


def _pair_loads(
    dpg: DPGraph, ideals: Ideals, ids: np.ndarray, lengths: np.ndarray, j: np.ndarray, overlap: bool, classes,
    limit: float = np.inf,
) -> np.ndarray:
    """load[c, p] of putting I minus its sub-ideal j[p] on a device of class c, for pairs
    in runs (``lengths[k]`` pairs of ideal ``I = ids[k]``); inf where infeasible
    (unsupported node, memory) or where the compute alone exceeds ``limit``."""
    out = np.full((len(classes), len(j)), np.inf)
    for c, (rows, runs, dt) in enumerate(_feasible(ideals, ids, lengths, j, classes, limit)):
        if not len(dt):
            continue
        if classes[c].pays_communication and len(dpg.touch):
            jr = j if rows is None else j[rows]
            cut_sum = np.repeat(ideals.cut_cost[c][ids], runs) + ideals.cut_cost[c].take(jr)
            comm = _comm(ideals, c, ids, runs, jr, cut_sum)
            dt = np.maximum(dt, comm) if overlap else dt + comm
        out[c, slice(None) if rows is None else rows] = dt
    return out


def _chain_upper_bound(dpg: DPGraph, ideals: Ideals, overlap: bool, classes, counts) -> float:
    """Best max-load when stages are segments of one topological order (prefix ideals):
    a valid pipeline placement, so its value bounds the optimum from above."""
    N = dpg.num_nodes
    prefix = np.array([ideals.index[(1 << k) - 1] for k in range(N + 1)], dtype=np.int64)
    P = len(prefix)
    load = np.full((len(classes), P, P), np.inf)  # load[c, j, i]: segment prefix j .. prefix i
    hi, lo = np.nonzero(np.tri(P, P, -1, dtype=bool))  # every pair lo < hi, by hi: prefix[a] has a of them
    load[:, lo, hi] = _pair_loads(dpg, ideals, prefix, np.arange(P), prefix[lo], overlap, classes)
    dp = {tuple(0 for _ in counts): np.where(np.arange(P) == 0, 0.0, np.inf)}
    for total in range(1, sum(counts) + 1):
        for n in itertools.product(*(range(k + 1) for k in counts)):
            if sum(n) != total:
                continue
            cur = np.full(P, np.inf)
            for c in range(len(counts)):
                if n[c] == 0:
                    continue
                prev = dp[_one_fewer(n, c)]
                cur = np.minimum(cur, prev)
                cand = np.maximum(prev[:, None], load[c]).min(axis=0)
                cur = np.minimum(cur, cand)
            dp[n] = cur
    return float(dp[tuple(counts)][P - 1])


def _position_masks() -> tuple[np.ndarray, np.ndarray]:
    """``FROM[s]``: the uint64 word whose positions ``>= s`` are set, ``BELOW[e]``: those
    ``< e``, for s, e in 0..64. Position p of a word is bit ``7 - p % 8`` of its byte
    ``p // 8`` (the order of ``np.unpackbits``), the bytes in memory order."""
    positions = np.arange(64)
    bits = np.array([positions >= s for s in range(65)], dtype=np.uint8)  # (65, 64), as unpackbits lays them out
    words_from = np.packbits(bits, axis=1).view(np.uint64).reshape(-1)
    return words_from, ~words_from


_FROM, _BELOW = _position_masks()


def _candidates(
    sub: np.ndarray, ids: np.ndarray, lo: np.ndarray, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The sub-ideals ``j`` of each ideal ``ids[k]`` with ``lo[k] <= j < ids[k]`` and, if given,
    bit ``j`` set in the bitset ``allowed`` (uint64 words, as ``sub``): returns ``(lengths, j)``,
    ``lengths[k]`` of them for ``ids[k]``, then those of ``ids[k + 1]``..., each run ascending.

    ``ids`` ascending: one dense block of words covers all the windows. Its rows are
    padded to a power-of-two width so that a bit's position in the block gives its
    column by a mask; the words outside each window are cleared and the two edge
    words masked; then the nonzero words are found, their nonzero bytes, and only
    those are unpacked.
    """
    n = len(ids)
    w0, w1 = int(lo[0]) >> 6, (int(ids[-1]) >> 6) + 1
    width = 1 << (w1 - w0 - 1).bit_length()  # words per row
    block = np.zeros((n, width), dtype=np.uint64)
    block[:, : w1 - w0] = sub[ids, w0:w1]
    if allowed is not None:
        block[:, : w1 - w0] &= allowed[w0:w1]
    begin, end = lo - 64 * w0, ids - 64 * w0  # each window, as bit positions in its row
    empty = (begin >= end)[:, None]
    column = np.arange(width)
    block[(column < (begin >> 6)[:, None]) | (column > ((end - 1) >> 6)[:, None]) | empty] = 0
    live = np.flatnonzero(begin < end)
    begin, end = begin[live], end[live]
    block[live, begin >> 6] &= _FROM[begin & 63]
    block[live, (end - 1) >> 6] &= _BELOW[((end - 1) & 63) + 1]
    lengths = np.bitwise_count(block).sum(axis=1, dtype=np.int64)
    # (np.flatnonzero is many times faster on booleans than on integers)
    words = np.flatnonzero(block.reshape(-1) != 0)
    octets = block.reshape(-1)[words].view(np.uint8)
    nz = np.flatnonzero(octets != 0)
    bit = np.flatnonzero(np.unpackbits(octets[nz]).view(bool))  # bit 8 q + k: bit k (from the top) of byte nz[q]
    byte = nz[bit >> 3]
    position = (words[byte >> 3] * 64) + ((byte & 7) * 8) + (bit & 7)  # in the flattened block
    return lengths, (position & (64 * width - 1)) + 64 * w0


def _bitset(flags: np.ndarray) -> np.ndarray:
    """A boolean vector as a bitset in uint64 words, laid out as the rows of ``sub``."""
    packed = np.zeros(-(-len(flags) // 64) * 8, dtype=np.uint8)
    packed[: -(-len(flags) // 8)] = np.packbits(flags)
    return packed.view(np.uint64)


def _worth_exact_comm(dt, cut_sum, before, lengths, overlap, slack) -> np.ndarray | None:
    """Which pairs can still give the minimum, before their exact communication is
    computed: a boolean mask, or None for all of them. Pairs come in runs of one
    ideal (``lengths``).

    The communication of a pair lies in ``[0, cut(I) + cut(J)]``, so its value at a
    layer, ``max(dp[n - e_c, J], load)``, lies between ``max(dp, compute)`` and
    ``max(dp, load with comm = cut_sum)``. Let ``V`` be, per ideal and layer, the least
    upper end: the minimum is at most ``V``, and a pair whose lower end passes ``V``
    at every layer cannot reach it, so it is dropped. The minimum is unchanged.
    The computed communication may be negative by rounding, so it is the compute
    minus ``slack`` that is compared with ``V``.
    """
    high = np.maximum(dt, cut_sum) if overlap else dt + cut_sum
    low = dt - slack
    runs = lengths[lengths > 0]
    first = np.cumsum(runs) - runs
    keep = None
    for d in before:
        least = np.minimum.reduceat(np.maximum(d, high), first)
        least[least == np.inf] = -np.inf  # no finite value at this layer: nothing to keep for it
        ok = np.maximum(d, low) <= np.repeat(least, runs)
        keep = ok if keep is None else keep | ok
    if keep is None or keep.all():
        return None
    return keep


#: _worth_exact_comm is skipped for a class once it has looked at _PRUNE_TRIAL pairs
#: and kept more than the share _PRUNE_WORTH of them: it then costs more than it saves
#: (when communication, not compute, decides between the pairs). The result is the same.
_PRUNE_TRIAL = 1 << 17
_PRUNE_WORTH = 0.6

#: Size of one vectorised step, in bits of bitset gathered (rows times span): in the DP
#: divided by the number of layers (a step has at most that many pairs, each with a
#: value per layer); in the build of the sub-ideal bitsets as it is.
_BLOCK_BITS = 1 << 23
_SUB_BLOCK_BITS = 1 << 28


def _block_values(
    dpg: DPGraph, ideals: Ideals, dp: np.ndarray, block: np.ndarray, lengths: np.ndarray, j: np.ndarray,
    on: np.ndarray, steps, overlap: bool, limit: float, slack: np.ndarray, pruning: list[list[int]],
) -> np.ndarray:
    """``dp[:, block]``: for ideals ``block`` alive at the layers ``on``, with candidate
    sub-ideals ``j`` in runs of ``lengths`` (``_candidates``), the minimum over the run of
    each ideal of ``max(dp[n - e_c, J], load_c(I \\ J))`` at each alive layer n and class c
    (inf elsewhere). ``pruning`` is updated: per class, pairs looked at by
    ``_worth_exact_comm`` and pairs it kept."""
    classes = dpg.groups.instance.topology.classes
    best = np.full((len(on), len(block)), np.inf)
    feasible = _feasible(ideals, block, lengths, j, classes, limit)
    for c, ((to, frm), (rows, runs, dt)) in enumerate(zip(steps, feasible)):
        live = on[to]
        if not len(dt) or not live.any():
            continue
        targets, befores = to[live].tolist(), frm[live].tolist()
        jc = j if rows is None else j[rows]
        before = [dp[f].take(jc) for f in befores]  # dp[n - e_c, J] per alive layer n
        if classes[c].pays_communication and len(dpg.touch):
            cut_sum = np.repeat(ideals.cut_cost[c][block], runs) + ideals.cut_cost[c].take(jc)
            looked, kept = pruning[c]
            if looked < _PRUNE_TRIAL or kept <= _PRUNE_WORTH * looked:  # on trial, or it pays
                keep = _worth_exact_comm(dt, cut_sum, before, runs, overlap, slack[c])
                pruning[c][0] += len(jc)
                if keep is not None:
                    keep = np.flatnonzero(keep)
                    runs = _subset(keep, runs)
                    jc, dt, cut_sum = jc[keep], dt[keep], cut_sum[keep]
                    before = [d[keep] for d in before]
                pruning[c][1] += len(jc)
                if not len(jc):
                    continue
            comm = _comm(ideals, c, block, runs, jc, cut_sum)
            load = np.maximum(dt, comm) if overlap else dt + comm
        else:
            load = dt
        owners = np.flatnonzero(runs)  # the ideals with pairs left, and where their runs start
        first = np.cumsum(runs[owners]) - runs[owners]
        for target, d in zip(targets, before):
            least = np.minimum.reduceat(np.maximum(d, load), first)
            best[target, owners] = np.minimum(best[target, owners], least)
    return best


def solve_dp(
    dpg: DPGraph, ideals: Ideals, overlap: bool = False, upper_bound: float | None = None,
    time_limit: float | None = None,
) -> DPResult:
    """Run the DP; returns the optimum and the stages of an optimal placement.

    The table is ``dp[layer, I]``, a layer being a vector ``n`` of device counts;
    ``dp[n, ∅] = 0`` (devices may stay empty at the head of the pipeline, which
    covers every placement that leaves devices unused). The ideals of one level
    (number of DP nodes) contain none of each other, so a level is computed at
    once from the levels below, in blocks of ideals with the same alive layers:

    1. the candidates ``J`` of ``I``: its sub-ideals in the work window, kept only
       when ``dp[J]`` is within ``UB`` at a layer that precedes an alive layer
       (``_candidates``); they come in runs, one per ideal;
    2. per class ``c``: the pairs ``I \\ J`` may go on (``_feasible``), those that can
       still give the minimum (``_worth_exact_comm``) and their loads (``_comm``);
    3. for each alive layer ``n`` with ``n[c] > 0``, ``max(dp[n - e_c, J], load_c(I \\ J))``,
       reduced to its minimum over the run of each ideal (``np.minimum.reduceat``).

    An ideal is alive at a layer when the work left fits on the devices left and
    its own work on the devices used (within UB); elsewhere its entry stays inf.
    Only values are kept; the stages of the optimum are found again afterwards by
    re-evaluating the ideals on its path (``_trace_back``).

    ``time_limit`` (seconds, None: none) is checked between levels; past it the DP
    stops with :class:`DPTimeLimit`.

    Links that make costs depend on the partner device are refused
    (:class:`DPNotApplicable`): :func:`placement_ilp.dp.chain.solve_chain` solves
    those on chains, and :func:`placement_ilp.dp.run.run_dp` picks between the two.
    """
    if dpg.groups.instance.links_change_costs:
        raise DPNotApplicable("pairwise links make costs depend on the partner device: use dp.chain.solve_chain")
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    topo = dpg.groups.instance.topology
    classes = topo.classes
    counts = [c.count for c in classes]
    M = ideals.size
    full = ideals.full
    ub = _chain_upper_bound(dpg, ideals, overlap, classes, counts) if upper_bound is None else upper_bound
    limit = ub * (1 + 1e-9) + 1e-12 if np.isfinite(ub) else np.inf
    layers = sorted(itertools.product(*(range(k + 1) for k in counts)), key=sum)
    layer_id = {n: k for k, n in enumerate(layers)}
    L = len(layers)
    last = layer_id[tuple(counts)]
    # per class: the layers that can add one device of it, and the layer before
    steps = []
    for c in range(len(classes)):
        to = [ln for ln, n in enumerate(layers) if n[c] > 0]
        frm = [layer_id[_one_fewer(layers[ln], c)] for ln in to]
        steps.append((np.array(to, dtype=np.int64), np.array(frm, dtype=np.int64)))
    work = ideals.work
    window_lo = np.searchsorted(work, work - limit, side="left") if np.isfinite(limit) else np.zeros(M, np.int64)
    sub = _sub_ideal_bitsets(ideals, window_lo, _SUB_BLOCK_BITS)
    dp = np.full((L, M), np.inf)
    dp[:, 0] = 0.0
    total_work = ideals.work[-1]
    num_devices = np.array([sum(n) for n in layers])
    by_level = np.argsort(ideals.level, kind="stable")
    level_start = np.searchsorted(ideals.level[by_level], np.arange(dpg.num_nodes + 2))
    block_bits = max(1 << 12, _BLOCK_BITS // L)
    # a bound, far above the rounding errors, on how much a computed load may fall below
    # its compute time (the computed communication may be negative by a few ulps)
    slack = 1e-9 * (ideals.cut_cost.max(axis=1, initial=0.0) + ideals.time.max(axis=1, initial=0.0))
    pruning = [[0, 0] for _ in classes]  # per class: pairs looked at by _worth_exact_comm, pairs it kept
    pairs = 0
    for s in range(1, dpg.num_nodes + 1):
        if deadline is not None and time.perf_counter() > deadline:
            raise DPTimeLimit(f"the DP did not finish within its time limit of {time_limit:g} s")
        ids = by_level[level_start[s] : level_start[s + 1]]
        # layers at which each ideal can still be completed by the devices left
        if np.isfinite(limit):  # the work left fits on the devices left, and the ideal on the devices used
            w = work[ids][:, None]
            alive = (total_work - w <= (sum(counts) - num_devices) * limit) & (w <= num_devices * limit)
        else:
            alive = np.ones((len(ids), L), bool)
        alive[:, last] &= ids == full
        somewhere = alive.any(axis=1)
        ids, alive = ids[somewhere], alive[somewhere]
        if not len(ids):
            continue
        # runs of ideals with the same alive layers (work grows with the index, so few runs)
        cuts = np.flatnonzero((alive[1:] != alive[:-1]).any(axis=1)) + 1
        allowed_for: dict[bytes, np.ndarray] = {}
        for ra, rb in zip([0, *cuts.tolist()], [*cuts.tolist(), len(ids)]):
            run, on = ids[ra:rb], alive[ra]
            # the candidates must be within UB at a layer preceding an alive layer
            need = np.zeros(L, bool)
            for to, frm in steps:
                need[frm[on[to]]] = True
            key = need.tobytes()
            if key not in allowed_for:
                allowed_for[key] = _bitset((dp[need] <= limit).any(axis=0))
            allowed = allowed_for[key]
            lo = window_lo[run]
            for a, b in _blocks(run.tolist(), lo.tolist(), block_bits):
                block = run[a:b]
                lengths, j = _candidates(sub, block, lo[a:b], allowed)
                pairs += len(j)
                if not len(j):
                    continue
                dp[:, block] = _block_values(dpg, ideals, dp, block, lengths, j, on, steps, overlap, limit,
                                             slack, pruning)
    value = float(dp[last, full])
    stages = []
    if np.isfinite(value):
        stages = _trace_back(dpg, ideals, sub, dp, layers, last, window_lo, overlap, classes, limit)
    return DPResult(value, stages, M, pairs, ub, time.perf_counter() - start)


def _trace_back(
    dpg: DPGraph, ideals: Ideals, sub, dp: np.ndarray, layers, last: int, window_lo, overlap, classes, limit
) -> list[tuple[int, int, int]]:
    """The stages (class, I, J) of an optimal solution, last stage first: from the full
    ideal at the last layer, re-evaluate the pairs of the current ideal and step to the
    first best (class, sub-ideal), classes in order — the choice the DP made."""
    layer_id = {n: k for k, n in enumerate(layers)}
    stages = []
    ln, i = last, ideals.full
    while i != 0:
        ids = np.array([i], dtype=np.int64)
        lengths, js = _candidates(sub, ids, window_lo[ids])
        loads = _pair_loads(dpg, ideals, ids, lengths, js, overlap, classes, limit)
        best, step = np.inf, None
        for c in range(len(classes)):
            if layers[ln][c] == 0 or not len(js):
                continue
            frm = layer_id[_one_fewer(layers[ln], c)]
            cand = np.maximum(dp[frm].take(js), loads[c])
            t = int(cand.argmin())
            if cand[t] < best:
                best, step = cand[t], (c, frm, int(js[t]))
        if step is None:  # cannot happen for a finite dp value
            raise RuntimeError("dp: no stage reproduces the optimum")
        c, ln, j = step
        stages.append((c, i, j))
        i = j
    return stages


def decode(dpg: DPGraph, ideals: Ideals, result: DPResult) -> Placement:
    """The placement of an optimal DP solution: stages in pipeline order, devices of a
    class numbered in that order."""
    topo = dpg.groups.instance.topology
    names = topo.class_names
    rank = [0] * len(names)
    device_of_node = [None] * dpg.num_nodes
    for c, i, j in reversed(result.stages):
        members = ideals.bits[i] & ~ideals.bits[j]
        device = Device(names[c], rank[c])
        rank[c] += 1
        while members:
            low = members & -members
            device_of_node[low.bit_length() - 1] = device
            members ^= low
    return dpg.groups.placement([device_of_node[int(v)] for v in dpg.node_of_group])


def check_applicable(instance: Instance, contiguity: str, cpu_contiguity: bool, objective: str) -> None:
    """Raise DPNotApplicable naming why, when the DP does not solve this variant
    (pairwise links are checked by ``placement_ilp.dp.chain.check_links``)."""
    if contiguity != "pipeline":
        raise DPNotApplicable(
            f"the DP solves pipeline contiguity only, not {contiguity!r}; use --method milp"
        )
    if objective != "sum":
        raise DPNotApplicable("the DP does not solve the different-maxima objective; use --method milp")
    if not cpu_contiguity and any(c.kind == "cpu" for c in instance.topology.classes):
        raise DPNotApplicable(
            "the DP needs contiguity on CPUs too (without --accelerators-only); use --method milp"
        )


def max_ideals_for(dpg: DPGraph, budget_bytes: int) -> int:
    """How many ideals fit the budget: the sub-ideal bitsets take M*M/8 bytes, the
    per-ideal tables about M*(K*4 + C*16 + 24), the DP table M*layers*8 (13 bytes a
    layer are counted, for margin). The vectorised steps of solve_dp add a bounded
    amount (``_BLOCK_BITS``, ``_SUB_BLOCK_BITS``)."""
    K, C = len(dpg.touch), dpg.time.shape[1]
    layers = int(np.prod([c.count + 1 for c in dpg.groups.instance.topology.classes]))
    per = K * 4 + C * 16 + 24 + layers * 13 + dpg.num_nodes / 8
    # M^2/8 + per*M <= budget
    disc = per * per + budget_bytes / 2
    return max(1, int((-per + disc**0.5) * 4))
