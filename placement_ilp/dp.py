"""The dynamic program over ideals: exact pipeline-contiguous max-load.

Problem (MODEL.md): place the groups of an instance on the devices so that the
devices form a pipeline (the forward sets of devices 1..j are an ideal of the
forward graph for every j) and the largest load is smallest.

Method. A pipeline stage holds ``I \\ J`` for two ideals ``J ⊆ I``, so with
``dp[n][I]`` = the best max-load of covering ideal ``I`` with ``n[c]`` devices
of each class ``c``::

    dp[n][I] = min over c with n[c] > 0 of
               min( dp[n - e_c][I],                                   (device unused)
                    min over ideals J ⊊ I of max(dp[n - e_c][J], load_c(I \\ J)) )

Loads of ``I \\ J`` are differences of per-ideal sums (time, memory, unsupported
count). Communication needs the sets: an item (a node whose output reaches
another group) touches a set ``T`` of DP nodes, and it is charged to a device
holding ``S`` iff ``T`` meets ``S`` without lying inside it, i.e. iff
``0 < |T ∩ I| - |T ∩ J| < |T|``; ``|T ∩ I|`` is kept per ideal.

Speed. Ideals are numbered in the order of their cheapest possible work, so
the sub-ideals that can matter for ``I`` (work at most an upper bound ``UB`` from
a chain DP over one topological order) form an index window; the sub-ideals of
each ideal are kept as a bitset (built from those of ``I`` minus each maximal
element), and everything per ideal is vectorised over its window.

Preprocessing that keeps the optimum: colour classes are contracted; an orphan
backward group (a colour class of backward nodes only) is given the position of
an artificial forward twin joined by mirrored backward edges, as the paper's tool
does, and groups that then lie on a cycle share a device; a group with no work,
no memory (or memory that can never bind) and a single neighbour is merged into
that neighbour (it can only lose by sitting elsewhere).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .errors import InputError
from .instance import Instance
from .placement import Placement
from .preprocess import Contracted, contract
from .topology import Device

#: Default memory budget for the DP's tables, in bytes.
DEFAULT_MEMORY_BUDGET = 3 * 2**30


class DPNotApplicable(InputError):
    """The DP does not solve this variant (contiguity, objective, topology)."""


class DPTooLarge(InputError):
    """The ideals would not fit in the memory budget."""


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
    touch: list[np.ndarray]  # per item, the DP nodes it touches (>= 2)
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
    for k, nodes in sorted(by_item.items()):
        if len(nodes) > 1 and cg.comm_cost[k].any():
            touch.append(np.array(sorted(nodes), dtype=np.int64))
            costs.append(cg.comm_cost[k])
    item_cost = np.array(costs, dtype=float).reshape(-1, C)
    touch_size = np.array([len(x) for x in touch], dtype=np.int32)
    return DPGraph(cg, node_of_group, t, unsupported, memory, preds, succs, touch, item_cost, touch_size, merged)


@dataclass
class Ideals:
    """All ideals of a DP graph, numbered by increasing cheapest work."""

    bits: list[int]  # Python-int bitset per ideal
    time: np.ndarray  # (M, C) summed time (inf-free: unsupported tracked apart)
    unsupported: np.ndarray  # (M, C)
    memory: np.ndarray  # (M,)
    work: np.ndarray  # (M,) cheapest possible work: sum over nodes of min-class time
    count: np.ndarray  # (M, K) |T_k ∩ I|
    sub: np.ndarray  # (M, ceil(M/8)) uint8 packed bitset of sub-ideals (self included)
    index: dict[int, int]
    cut: list  # per ideal, the items it cuts (T meets it without lying inside)
    cut_cost: np.ndarray  # (M, C) cost of those items on each class

    @property
    def size(self) -> int:
        return len(self.bits)


def enumerate_ideals(dpg: DPGraph, max_ideals: int) -> Ideals:
    """Every ideal (downset) of the DP graph, by breadth-first growth; raises
    DPTooLarge past ``max_ideals``. O(M * (N/64 + out-degree)) for M ideals."""
    N = dpg.num_nodes
    preds, succs = dpg.preds, dpg.succs
    start_avail = 0
    for v in range(N):
        if preds[v] == 0:
            start_avail |= 1 << v
    bits, parent, added, avail, maximal = [0], [-1], [-1], [start_avail], [0]
    index = {0: 0}
    head = 0
    while head < len(bits):
        I, free = bits[head], avail[head]
        rest = free
        while rest:
            low = rest & -rest
            v = low.bit_length() - 1
            rest ^= low
            J = I | low
            if J in index:
                continue
            if len(bits) >= max_ideals:
                raise DPTooLarge(
                    f"the DP needs more than {max_ideals:,} ideals, beyond its memory budget; "
                    "use --method milp (or raise the budget)"
                )
            nxt = free & ~low
            for w in succs[v]:
                if preds[w] & ~J == 0:
                    nxt |= 1 << w
            index[J] = len(bits)
            bits.append(J)
            parent.append(head)
            added.append(v)
            avail.append(nxt)
            maximal.append((maximal[head] & ~preds[v]) | low)
        head += 1
    M = len(bits)
    C = dpg.time.shape[1]
    K = len(dpg.touch)
    inc = np.zeros((N, K), dtype=np.uint8)
    for k, nodes in enumerate(dpg.touch):
        inc[nodes, k] = 1
    finite_time = np.where(np.isfinite(dpg.time), dpg.time, 0.0)
    min_time = np.where(dpg.unsupported > 0, np.inf, dpg.time).min(axis=1)
    min_time[~np.isfinite(min_time)] = 0.0
    time_ = np.zeros((M, C))
    unsup = np.zeros((M, C), dtype=np.int64)
    mem = np.zeros(M)
    work = np.zeros(M)
    count = np.zeros((M, K), dtype=np.int32 if dpg.touch_size.max(initial=0) > 255 else np.uint8)
    for i in range(1, M):  # parents come first (breadth-first)
        p, v = parent[i], added[i]
        time_[i] = time_[p] + finite_time[v]
        unsup[i] = unsup[p] + dpg.unsupported[v]
        mem[i] = mem[p] + dpg.memory[v]
        work[i] = work[p] + min_time[v]
        count[i] = count[p] + inc[v]
    # renumber by (work, size) — a linear extension of inclusion
    sizes = np.array([b.bit_count() for b in bits])
    perm = np.lexsort((sizes, work))
    new_of_old = np.empty(M, dtype=np.int64)
    new_of_old[perm] = np.arange(M)
    bits = [bits[i] for i in perm]
    maximal = [maximal[i] for i in perm]
    index = {b: i for i, b in enumerate(bits)}
    time_, unsup, mem, work, count = time_[perm], unsup[perm], mem[perm], work[perm], count[perm]
    # sub-ideal bitsets: sub[I] = {I} ∪ sub[I - m] over maximal elements m of I
    width = (M + 7) // 8
    sub = np.zeros((M, width), dtype=np.uint8)
    for i, I in enumerate(bits):
        row = sub[i]
        row[i >> 3] |= np.uint8(1 << (7 - (i & 7)))
        rest = maximal[i]
        while rest:
            low = rest & -rest
            rest ^= low
            np.bitwise_or(row, sub[index[I ^ low]], out=row)
    cut_mask = (count > 0) & (count < dpg.touch_size[None, :])
    cut = [np.flatnonzero(row) for row in cut_mask]
    cut_cost = cut_mask.astype(np.float64) @ dpg.item_cost if K else np.zeros((M, C))
    return Ideals(bits, time_, unsup, mem, work, count, sub, index, cut, cut_cost)


@dataclass(frozen=True)
class DPResult:
    value: float
    stages: list[tuple[int, int, int]]  # (class, I, J) from last stage to first
    ideals: int
    pairs: int
    upper_bound: float
    seconds: float


def _pair_loads(
    dpg: DPGraph, ideals: Ideals, i: int, js: np.ndarray, overlap: bool, classes, limit: float = np.inf
) -> np.ndarray:
    """load[c, t] of putting ideal i minus ideal js[t] on a device of class c; inf where
    infeasible (unsupported node, memory) or where the compute alone exceeds ``limit``."""
    C = len(classes)
    out = np.full((C, len(js)), np.inf)
    dt = ideals.time[i][None, :] - ideals.time[js]  # (len, C)
    dm = None
    for c, dc in enumerate(classes):
        ok = dt[:, c] <= limit
        if ideals.unsupported[i, c]:  # some node of I is unsupported on c: I \ J must avoid it
            ok &= ideals.unsupported[js, c] == ideals.unsupported[i, c]
        if dc.memory is not None and ideals.memory[i] > dc.memory * (1 + 1e-9):
            if dm is None:
                dm = ideals.memory[i] - ideals.memory[js]
            ok &= dm <= dc.memory * (1 + 1e-9)
        if not dc.pays_communication or not len(dpg.touch):
            out[c, ok] = dt[ok, c]
            continue
        rows = np.flatnonzero(ok)
        if not len(rows):
            continue
        # comm(I \ J) = cut(I) + cut(J) - sum over items cut by both of c_k * (2 - [|T∩I| > |T∩J|])
        cut_i = ideals.cut[i]
        jr = js[rows]
        comm = ideals.cut_cost[i, c] + ideals.cut_cost[jr, c]
        if len(cut_i):
            ci = ideals.count[i, cut_i]
            cj = ideals.count[jr[:, None], cut_i[None, :]]  # only the needed entries
            both = (cj > 0) & (cj < dpg.touch_size[cut_i][None, :])
            weight = np.where(both, 2.0 - (ci[None, :] > cj), 0.0)
            comm = comm - weight @ dpg.item_cost[cut_i, c]
        out[c, rows] = np.maximum(dt[rows, c], comm) if overlap else dt[rows, c] + comm
    return out


def _chain_upper_bound(dpg: DPGraph, ideals: Ideals, overlap: bool, classes, counts) -> float:
    """Best max-load when stages are segments of one topological order (prefix ideals):
    a valid pipeline placement, so its value bounds the optimum from above."""
    N = dpg.num_nodes
    prefix = [ideals.index[(1 << k) - 1] for k in range(N + 1)]
    P = len(prefix)
    load = np.full((len(classes), P, P), np.inf)  # load[c, j, i]: segment prefix j .. prefix i
    for a in range(1, P):
        js = np.array(prefix[:a], dtype=np.int64)
        load[:, :a, a] = _pair_loads(dpg, ideals, prefix[a], js, overlap, classes)
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


def solve_dp(
    dpg: DPGraph, ideals: Ideals, overlap: bool = False, upper_bound: float | None = None
) -> DPResult:
    """Run the DP; returns the optimum and the stages of an optimal placement."""
    start = time.perf_counter()
    topo = dpg.groups.instance.topology
    classes = topo.classes
    counts = [c.count for c in classes]
    C = len(classes)
    M = ideals.size
    full = ideals.index[(1 << dpg.num_nodes) - 1]
    ub = _chain_upper_bound(dpg, ideals, overlap, classes, counts) if upper_bound is None else upper_bound
    limit = ub * (1 + 1e-9) + 1e-12 if np.isfinite(ub) else np.inf
    layers = sorted(itertools.product(*(range(k + 1) for k in counts)), key=sum)
    layer_id = {n: k for k, n in enumerate(layers)}
    L = len(layers)
    dp = np.full((L, M), np.inf)
    dp[:, 0] = 0.0
    back_class = np.full((L, M), -1, dtype=np.int8)
    back_j = np.full((L, M), -1, dtype=np.int32)
    last = layer_id[tuple(counts)]
    # per class: the layers that can add one device of it, and the layer before
    steps = []
    for c in range(C):
        to = [ln for ln, n in enumerate(layers) if n[c] > 0]
        frm = [layer_id[_one_fewer(layers[ln], c)] for ln in to]
        steps.append((np.array(to, dtype=np.int64), np.array(frm, dtype=np.int64)))
    total_work = ideals.work[-1]
    num_devices = np.array([sum(n) for n in layers])
    pairs = 0
    work = ideals.work
    rows_for: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    for i in range(1, M):
        # layers at which ideal i can still be completed by the devices left
        if np.isfinite(limit):  # the work left fits on the devices left, and ideal i on the devices used
            alive = (total_work - work[i] <= (sum(counts) - num_devices) * limit) & (work[i] <= num_devices * limit)
        else:
            alive = np.ones(L, bool)
        alive[last] &= i == full
        if not alive.any():
            continue
        lo = int(np.searchsorted(work, work[i] - limit, side="left")) if np.isfinite(limit) else 0
        if lo < i:
            b0 = lo >> 3
            bitsrow = np.unpackbits(ideals.sub[i, b0 : (i >> 3) + 1])
            js = np.flatnonzero(bitsrow) + (b0 << 3)
            js = js[(js >= lo) & (js < i)]
        else:
            js = np.zeros(0, dtype=np.int64)
        # the layers that can precede an alive layer, and their rows of dp at the candidates
        key = alive.tobytes()
        if key not in rows_for:  # few distinct masks: cache the rows they need
            needed = np.unique(np.concatenate([frm[alive[to]] for to, frm in steps]))
            row_of = np.full(L, -1, dtype=np.int64)
            row_of[needed] = np.arange(len(needed))
            rows_for[key] = (needed, row_of)
        needed, row_of = rows_for[key]
        prev_dp = dp[np.ix_(needed, js)] if len(js) else None
        if len(js):
            usable = (prev_dp <= limit).any(axis=0)
            js, prev_dp = js[usable], prev_dp[:, usable]
        pairs += len(js)
        loads = _pair_loads(dpg, ideals, i, js, overlap, classes, limit) if len(js) else None
        best = np.full(L, np.inf)
        best_c = np.full(L, -1, dtype=np.int64)
        best_j = np.full(L, -1, dtype=np.int64)
        for c, (to, frm) in enumerate(steps):
            keep = alive[to]
            to, frm = to[keep], frm[keep]
            if not len(to):
                continue
            value = dp[frm, i]  # device of class c unused
            choice = np.full(len(to), i, dtype=np.int64)
            if loads is not None and len(js):
                cand = np.maximum(prev_dp[row_of[frm]], loads[c][None, :])
                t = cand.argmin(axis=1)
                better = cand[np.arange(len(to)), t] < value
                value = np.where(better, cand[np.arange(len(to)), t], value)
                choice = np.where(better, js[t], choice)
            upd = value < best[to]
            best[to[upd]] = value[upd]
            best_c[to[upd]] = c
            best_j[to[upd]] = choice[upd]
        dp[:, i] = best
        back_class[:, i] = best_c
        back_j[:, i] = best_j
    value = float(dp[last, full])
    stages = []
    if np.isfinite(value):
        ln, i = last, full
        while i != 0:
            c, j = int(back_class[ln, i]), int(back_j[ln, i])
            if j != i:
                stages.append((c, i, j))
            ln = layer_id[_one_fewer(layers[ln], c)]
            i = j
    return DPResult(value, stages, M, pairs, ub, time.perf_counter() - start)


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
    """Raise DPNotApplicable naming why, when the DP does not solve this variant."""
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
    per-ideal counts M*(K*4 + C*16 + 24), the DP tables M*layers*13."""
    K, C = len(dpg.touch), dpg.time.shape[1]
    layers = int(np.prod([c.count + 1 for c in dpg.groups.instance.topology.classes]))
    per = K * 4 + C * 16 + 24 + layers * 13 + dpg.num_nodes / 8
    # M^2/8 + per*M <= budget
    disc = per * per + budget_bytes / 2
    return max(1, int((-per + disc**0.5) * 4))
