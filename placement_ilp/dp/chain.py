"""The pipeline DP for links whose rate depends on the partner, on chains.

Problem. With class-pair links (``Topology.links``), what a device pays for an
output depends on the device at the other end (docs/formats.md, "Links between
classes and devices"). The ideal DP of ``dp.py`` keeps, per state, an ideal and
the number of devices used of each class: it does not know which device sent a
stage's inputs, so it cannot price them. It refuses such instances
(:func:`check_links`), except in the case solved here.

When the contracted graph, as the DP sees it (``dp.build_dp_graph``: colour
classes contracted, orphans attached, trivial groups merged), is a *chain* (the
DP nodes 0..N-1 have a unique topological order, and every output that leaves a
DP node reaches only the next or the previous one), the stages of a pipeline
placement are intervals ``[i, k)`` of that order and only consecutive stages
exchange data. The cost of a stage is then known from its class and the classes
of the stages before and after it:

    load(i, k; a, b, c) = time_b[i, k) + in_b(i; a) + out_b(k; c)

for the stage ``[i, k)`` of class b between a stage of class a and one of class
c, where ``in_b(i; a)`` (and ``out``) sums, over the outputs that cross boundary i
in either direction, what a device of class b pays towards one of class a: the
class-pair link {b, a}, or b's own link. Two consecutive stages are two different
devices, so a stage of class b next to another stage of class b uses the link
{b, b}. With ``overlap`` the load is the larger of compute and communication.

Recurrence over states ``(i, n, a, b)``: the stages cover ``[0, i)`` with ``n[c]``
devices of each class c, the last of them of class a (none when i = 0), and the
stage that starts at i has class b (none when i = N)::

    V[0, 0, none, b] = 0
    V[k, n + e_b, b, c] = min over i < k, a of max(V[i, n, a, b], load(i, k; a, b, c))

The optimum is the least ``V[N, n, a, none]`` over ``n <= counts``. It is exact:
every pipeline placement of a chain is a sequence of intervals on distinct
devices, and its max-load is the max of these stage loads. Cost: O(N^2 * L * C^3)
for N DP nodes, C classes and L = prod(count_c + 1) device-count vectors, all
numpy over the stage end k.

Example::

    graph = build_dp_graph(instance)                 # instance: a chain with class-pair links
    result = solve_chain(graph, enumerate_ideals(graph, 10**6))
    placement = decode(graph, ideals, result)        # dp.decode reads the stages as usual
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import DPNotApplicable
from .ideal import DPGraph, DPResult, Ideals, build_dp_graph
from ..data.instance import Instance


@dataclass(frozen=True)
class Chain:
    """A DP graph that is a chain, with what the chain DP needs.

    time[i, c]: time of DP node i on class c (``inf`` where unsupported).
    memory[i]: memory of DP node i.
    boundary[b, c, c2]: what a device of class c pays for the outputs that cross
        boundary b (between DP nodes b - 1 and b, in either direction) when the
        device on the other side has class c2; boundary 0 and N carry nothing.
    """

    time: np.ndarray
    memory: np.ndarray
    boundary: np.ndarray

    @property
    def num_nodes(self) -> int:
        return len(self.memory)


def chain_of(dpg: DPGraph) -> Chain | None:
    """The chain view of ``dpg``, or None when it is not a chain: some DP node is
    not an order predecessor of the next one (the topological order is not
    unique), or some output that costs something reaches DP nodes other than its
    own and one neighbour in that order. O(K * C^2 + N) for K outputs that cross
    groups and C classes.

    Example: ``chain_of(build_dp_graph(inst)) is None`` for a graph with a skip edge.
    """
    cg = dpg.groups
    instance = cg.instance
    topo = instance.topology
    names = topo.class_names
    N, C = dpg.num_nodes, len(names)
    if any(not (dpg.preds[i + 1] >> i) & 1 for i in range(N - 1)):
        return None
    # cost[k, c, c2]: what a device of class c pays for item k towards a device of class c2
    cost = np.zeros((len(cg.comm_node), C, C))
    for c in range(C):
        for c2 in range(C):
            cost[:, c, c2] = instance.link_costs(topo.class_link(names[c], names[c2]), names[c])[cg.comm_node]
    touched: dict[int, set[int]] = {}
    for k, h in zip(cg.succ_item.tolist(), cg.succ_group.tolist()):
        touched.setdefault(k, {int(dpg.node_of_group[cg.comm_group[k]])}).add(int(dpg.node_of_group[h]))
    boundary = np.zeros((N + 1, C, C))
    for k, nodes in touched.items():
        if len(nodes) == 1 or not cost[k].any():
            continue  # never crosses a device boundary, or costs nothing anywhere
        low, high = min(nodes), max(nodes)
        if len(nodes) != 2 or high != low + 1:
            return None
        boundary[high] += cost[k]
    return Chain(dpg.time, dpg.memory, boundary)


def check_links(instance: Instance) -> None:
    """Raise DPNotApplicable when the DP cannot honour the links of ``instance``:
    device-pair links that change costs (the DP knows classes, not devices), or
    class-pair links that change costs on a graph that is not a chain (see the
    module docstring). Nothing when the links change no cost. O(n + m).

    Example: ``check_links(two_servers())`` passes (a chain of residual blocks).
    """
    if not instance.links_change_costs:
        return
    if instance.device_links_change_costs:
        raise DPNotApplicable(
            "the DP cannot honour device-pair links (it knows device classes, not devices); "
            "use --method milp with --contiguity none or convex"
        )
    if chain_of(build_dp_graph(instance)) is None:
        raise DPNotApplicable(
            "the DP cannot honour links whose rate depends on the partner device: its state (an ideal and "
            "device counts) does not know which device sent a stage's inputs, and this graph is not a chain "
            "of groups whose order would tell; use --method milp"
        )


def solve_chain(dpg: DPGraph, ideals: Ideals, overlap: bool = False) -> DPResult:
    """The optimal pipeline placement of a chain with class-pair links, as a
    :class:`DPResult` whose stages ``(class, I, J)`` name prefix ideals of ``ideals``
    (so ``dp.decode`` turns it into a placement). Raises DPNotApplicable when
    ``dpg`` is not a chain. Cost: see the module docstring.

    Example: ``solve_chain(g, enumerate_ideals(g, 10**6)).value``.
    """
    start = time.perf_counter()
    chain = chain_of(dpg)
    if chain is None:
        raise DPNotApplicable("the chain DP needs a chain of groups (see placement_ilp/dp/chain.py)")
    classes = dpg.groups.instance.topology.classes
    counts = [c.count for c in classes]
    N, C = chain.num_nodes, len(classes)
    prefix_ideal = [ideals.index[(1 << i) - 1] for i in range(N + 1)]
    if N == 0:
        return DPResult(0.0, [], ideals.size, 0, 0.0, time.perf_counter() - start)
    # device-count vectors n, numbered in mixed radix: index(n + e_c) = index(n) + stride[c]
    dims = [k + 1 for k in counts]
    stride = np.cumprod([1] + dims[:-1]).astype(np.int64)
    L = int(np.prod(dims))
    count_of = np.stack(np.unravel_index(np.arange(L), dims, order="F"), axis=1)  # (L, C): n of each index
    # prefix sums of time (finite part and unsupported count) and memory
    finite = np.where(np.isfinite(chain.time), chain.time, 0.0)
    time_sum = np.vstack([np.zeros(C), np.cumsum(finite, axis=0)])
    bad_sum = np.vstack([np.zeros(C, dtype=np.int64), np.cumsum(~np.isfinite(chain.time), axis=0)])
    mem_sum = np.concatenate([[0.0], np.cumsum(chain.memory)])
    NONE = C  # "no stage": before the first stage (a) or after the last (b, c)
    value = np.full((N + 1, L, C + 1, C + 1), np.inf)
    parent_i = np.full((N + 1, L, C + 1, C + 1), -1, dtype=np.int64)
    parent_a = np.full((N + 1, L, C + 1, C + 1), -1, dtype=np.int64)
    value[0, 0, NONE, :C] = 0.0
    pays = [c.pays_communication for c in classes]
    pairs = 0
    for i in range(N):
        ends = np.arange(i + 1, N + 1)  # the stage [i, k) for each k in ends
        for b in range(C):
            compute = time_sum[ends, b] - time_sum[i, b]
            ok = bad_sum[ends, b] == bad_sum[i, b]
            if classes[b].memory is not None:
                ok &= mem_sum[ends] - mem_sum[i] <= classes[b].memory * (1 + 1e-9)
            if not ok.any():
                continue
            # out[k, c]: what the stage pays at its end towards the next stage's class (none at N)
            out = np.zeros((len(ends), C + 1))
            if pays[b]:
                out[:, :C] = chain.boundary[ends, b, :]
            nxt = np.zeros((len(ends), C + 1), dtype=bool)  # which next classes are possible
            nxt[ends < N, :C] = True
            nxt[ends == N, NONE] = True
            for a in range(C + 1):
                entry = 0.0 if a == NONE or not pays[b] else chain.boundary[i, b, a]
                comm = entry + out
                load = np.maximum(compute[:, None], comm) if overlap else compute[:, None] + comm
                load = np.where(ok[:, None] & nxt, load, np.inf)
                for layer in range(L):
                    here = value[i, layer, a, b]
                    if here == np.inf or count_of[layer, b] >= counts[b]:
                        continue
                    pairs += len(ends)
                    cand = np.maximum(here, load)  # (len(ends), C + 1)
                    to = layer + stride[b]
                    best = value[ends, to, b, :]
                    better = cand < best
                    value[ends, to, b, :] = np.where(better, cand, best)
                    parent_i[ends, to, b, :] = np.where(better, i, parent_i[ends, to, b, :])
                    parent_a[ends, to, b, :] = np.where(better, a, parent_a[ends, to, b, :])
    final = value[N, :, :, NONE]  # (L, C + 1)
    layer, last = np.unravel_index(int(np.argmin(final)), final.shape)
    best_value = float(final[layer, last])
    stages = []
    if np.isfinite(best_value):
        k, b, c = N, int(last), NONE
        layer = int(layer)
        while k > 0:
            i, a = int(parent_i[k, layer, b, c]), int(parent_a[k, layer, b, c])
            stages.append((b, prefix_ideal[k], prefix_ideal[i]))
            k, layer, b, c = i, layer - int(stride[b]), a, b
    return DPResult(best_value, stages, ideals.size, pairs, best_value, time.perf_counter() - start)
