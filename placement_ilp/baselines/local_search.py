"""Local search over colour-group placements (the paper's local-search baseline).

From a random feasible start, the search repeatedly improves the placement with

- **moves**: one colour group to another device, and
- **swaps**: two groups on different devices exchange devices, where at least one
  of them sits on a bottleneck device (a device whose load is the max-load; a swap
  between two other devices cannot lower the max-load, so only the tie-break could
  gain and those swaps are skipped to keep a sweep near O(G * G / D)),

accepting a change when it improves the pair (max-load, sum of loads) in
lexicographic order (sum of loads breaks ties, so the search can progress on
plateaus of the max-load). Support and memory hold at every step. The search is a
sequence of sweeps: a move sweep visits every group once in random order and
applies its best improving move; when a whole move sweep improves nothing, a swap
sweep applies the first improving swap found, then move sweeps resume. It stops at
a local optimum (neither sweep improves) or after ``max_moves`` accepted changes;
the best placement over ``restarts`` random starts is returned.

Loads are updated incrementally: a change touches the loads of the two devices
involved only, and for every communication item (a node with a successor in another
group) the search keeps how many of its successor groups sit on each device, so the
change in a device's communication is read off in O(1) per item adjacent to the
moved group. A move costs O(deg(g)), a swap O(deg(g) + deg(h)).

With ``contiguity="pipeline"`` the starts are random pipeline placements (random
topological order of PipeDream's positions, random cut points, random device per
segment) and only changes that keep the placement pipeline-contiguous are
accepted; the test counts, for every pair of devices, the ordering arcs of the
contracted graph between them (its forward arcs, and for a group of backward nodes
only the mirror images of its backward edges, as the ideal DP and the MILP order a
pipeline) and checks that the device digraph stays acyclic. That is the rule of
:func:`placement_ilp.evaluation.contiguity.contiguity_level` with CPUs constrained,
except that the evaluator leaves backward-only groups free: the search keeps to
what the exact methods can represent, so its placement can start them.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np

from ..errors import InputError
from ..data.instance import Instance
from ..data.placement import Placement
from .pipedream import linear_order, pipedream_with_value
from .simple import GroupView, fallback_assignment, fits, group_loads, group_view, refuse_large_tables

CONTIGUITY = ("none", "pipeline")
_REL = 1e-10  # relative improvement threshold (float noise of incremental loads)


class _State:
    """A group assignment with incrementally maintained loads, memory and arc counts."""

    def __init__(self, view: GroupView, dev: np.ndarray, pipeline: bool) -> None:
        cg = view.cg
        G, D = view.num_groups, view.num_devices
        self.G, self.D = G, D
        self.t = view.group_time_on_devices().tolist()
        self.mem = view.memory.tolist()
        self.cap = view.capacity.tolist()
        self.item_group = cg.comm_group.tolist()
        self.icost = (cg.comm_cost[:, view.dev_class] if len(cg.comm_node) else np.zeros((0, D))).tolist()
        K = len(cg.comm_node)
        self.own_items: list[list[int]] = [[] for _ in range(G)]
        for k, g in enumerate(self.item_group):
            self.own_items[g].append(k)
        self.in_items: list[list[int]] = [[] for _ in range(G)]
        self.succ: list[list[int]] = [[] for _ in range(K)]
        for k, g in zip(cg.succ_item.tolist(), cg.succ_group.tolist()):
            self.in_items[g].append(k)
            self.succ[k].append(g)
        self.nsucc = [len(s) for s in self.succ]
        self.dev = [int(d) for d in dev]
        self.cnt = [[0] * D for _ in range(K)]
        for k in range(K):
            row = self.cnt[k]
            for g in self.succ[k]:
                row[self.dev[g]] += 1
        self.load = group_loads(view, np.asarray(self.dev)).tolist()
        self.used = [0.0] * D
        for g in range(G):
            self.used[self.dev[g]] += self.mem[g]
        self.pipeline = pipeline
        if pipeline:
            fw_out: list[list[int]] = [[] for _ in range(G)]
            fw_in: list[list[int]] = [[] for _ in range(G)]
            # the arcs that order a pipeline in the DP and the MILP: forward arcs, and the
            # mirrored backward arcs of backward-only groups
            for s, t in zip(cg.order_src.tolist(), cg.order_dst.tolist()):
                fw_out[s].append(t)
                fw_in[t].append(s)
            self.fw_out, self.fw_in = fw_out, fw_in
            self.arcs = [[0] * D for _ in range(D)]
            for s, t in zip(cg.order_src.tolist(), cg.order_dst.tolist()):
                ds, dt = self.dev[s], self.dev[t]
                if ds != dt:
                    self.arcs[ds][dt] += 1

    # -- incremental evaluation ------------------------------------------------
    def delta(self, g: int, b: int) -> tuple[float, float]:
        """Change of the loads of dev[g] and b if g moved to b."""
        a = self.dev[g]
        t = self.t[g]
        da = -t[a]
        db = t[b]
        cnt, icost, nsucc = self.cnt, self.icost, self.nsucc
        for k in self.own_items[g]:
            ck = cnt[k]
            ns = nsucc[k]
            cost = icost[k]
            if ns - ck[a] > 0:
                da -= cost[a]
            if ck[b] > 0:
                db -= cost[b]
            if ck[a] > 0:
                da += cost[a]
            if ns - ck[b] > 0:
                db += cost[b]
        dev, ig = self.dev, self.item_group
        for k in self.in_items[g]:
            own = dev[ig[k]]
            ck = cnt[k]
            cost = icost[k]
            if own == a:
                if nsucc[k] == ck[a]:
                    da += cost[a]
            elif ck[a] == 1:
                da -= cost[a]
            if own == b:
                if nsucc[k] - ck[b] == 1:
                    db -= cost[b]
            elif ck[b] == 0:
                db += cost[b]
        return da, db

    def apply(self, g: int, b: int, da: float, db: float) -> None:
        """Move g to b, given its load deltas."""
        a = self.dev[g]
        self.load[a] += da
        self.load[b] += db
        self.used[a] -= self.mem[g]
        self.used[b] += self.mem[g]
        cnt = self.cnt
        for k in self.in_items[g]:
            cnt[k][a] -= 1
            cnt[k][b] += 1
        if self.pipeline:
            arcs, dev = self.arcs, self.dev
            for t in self.fw_out[g]:
                dt = dev[t]
                if dt != a:
                    arcs[a][dt] -= 1
                if dt != b:
                    arcs[b][dt] += 1
            for s in self.fw_in[g]:
                ds = dev[s]
                if ds != a:
                    arcs[ds][a] -= 1
                if ds != b:
                    arcs[ds][b] += 1
        self.dev[g] = b

    def move(self, g: int, b: int) -> None:
        da, db = self.delta(g, b)
        self.apply(g, b, da, db)

    def acyclic(self) -> bool:
        """The device digraph of ordering arcs is acyclic (pipeline contiguity)."""
        D, arcs = self.D, self.arcs
        indeg = [0] * D
        for x in range(D):
            row = arcs[x]
            for y in range(D):
                if row[y] > 0:
                    indeg[y] += 1
        ready = [x for x in range(D) if indeg[x] == 0]
        seen = 0
        while ready:
            x = ready.pop()
            seen += 1
            row = arcs[x]
            for y in range(D):
                if row[y] > 0:
                    indeg[y] -= 1
                    if indeg[y] == 0:
                        ready.append(y)
        return seen == D

    def other_max(self, a: int, b: int) -> float:
        m = 0.0
        for d, x in enumerate(self.load):
            if d != a and d != b and x > m:
                m = x
        return m


def _better(nmax: float, nsum: float, cmax: float, csum: float) -> bool:
    if nmax < cmax - _REL * cmax:
        return True
    return nmax <= cmax and nsum < csum - _REL * max(csum, 1e-300)


def _random_start(view: GroupView, rng: random.Random) -> np.ndarray | None:
    """Each group (random order) on a random device that supports it and has room."""
    G, D = view.num_groups, view.num_devices
    gt = view.group_time_on_devices()
    used = np.zeros(D)
    dev = np.zeros(G, dtype=np.int64)
    order = list(range(G))
    rng.shuffle(order)
    for g in order:
        cands = [d for d in range(D) if math.isfinite(gt[g, d]) and fits(used[d], view.memory[g], view.capacity[d])]
        if not cands:
            return None
        d = rng.choice(cands)
        dev[g] = d
        used[d] += view.memory[g]
    return dev


def _random_pipeline_start(view: GroupView, rng: random.Random, tries: int = 20) -> np.ndarray | None:
    """A random segmentation of a random topological order, random device per segment."""
    D = view.num_devices
    gt = view.group_time_on_devices()
    for _ in range(tries):
        positions, pos = linear_order(view, rng)
        P = len(positions)
        cuts = sorted(rng.randint(0, P) for _ in range(D - 1))
        bounds = [0] + cuts + [P]
        perm = list(range(D))
        rng.shuffle(perm)
        dev = np.zeros(view.num_groups, dtype=np.int64)
        ok = True
        for s in range(D):
            d = perm[s]
            groups = [g for p in range(bounds[s], bounds[s + 1]) for g in positions[p]]
            if not groups:
                continue
            if not np.isfinite(gt[groups, d]).all() or not fits(0.0, float(view.memory[groups].sum()), view.capacity[d]):
                ok = False
                break
            dev[groups] = d
        if ok:
            return dev
    return None


def _search(
    view: GroupView,
    dev0: np.ndarray,
    rng: random.Random,
    pipeline: bool,
    max_moves: int,
    deadline: float | None,
) -> np.ndarray:
    st = _State(view, dev0, pipeline)
    G, D = st.G, st.D
    t, mem, cap, used, load = st.t, st.mem, st.cap, st.used, st.load
    moves = 0
    while moves < max_moves:
        if deadline is not None and time.perf_counter() > deadline:
            break
        improved = False
        # Move sweep.
        order = list(range(G))
        rng.shuffle(order)
        targets = list(range(D))
        for g in order:
            if moves >= max_moves:
                break
            a = st.dev[g]
            cmax = max(load)
            csum = sum(load)
            cands = []
            rng.shuffle(targets)
            for b in targets:
                if b == a or t[g][b] == math.inf or not fits(used[b], mem[g], cap[b]):
                    continue
                da, db = st.delta(g, b)
                nmax = max(st.other_max(a, b), load[a] + da, load[b] + db)
                nsum = csum + da + db
                if _better(nmax, nsum, cmax, csum):
                    cands.append((nmax, nsum, b, da, db))
            if not cands:
                continue
            cands.sort(key=lambda c: (c[0], c[1]))
            for nmax, nsum, b, da, db in cands:
                if pipeline:
                    la, lb, ua, ub = load[a], load[b], used[a], used[b]
                    st.apply(g, b, da, db)
                    if not st.acyclic():
                        st.move(g, a)
                        load[a], load[b], used[a], used[b] = la, lb, ua, ub
                        continue
                else:
                    st.apply(g, b, da, db)
                moves += 1
                improved = True
                break
        if improved:
            continue
        # Swap sweep: first improving swap with a group on a bottleneck device.
        cmax = max(load)
        csum = sum(load)
        if cmax <= 0:
            break
        bottleneck = [d for d in range(D) if load[d] >= cmax - _REL * cmax]
        first = [g for g in range(G) if st.dev[g] in bottleneck]
        rng.shuffle(first)
        others = list(range(G))
        rng.shuffle(others)
        done = False
        for g in first:
            a = st.dev[g]
            tg = t[g]
            for h in others:
                b = st.dev[h]
                if b == a or tg[b] == math.inf or t[h][a] == math.inf:
                    continue
                if not fits(used[a] - mem[g], mem[h], cap[a]) or not fits(used[b] - mem[h], mem[g], cap[b]):
                    continue
                la, lb = load[a], load[b]
                ua, ub = used[a], used[b]
                st.move(g, b)
                dh_b, dh_a = st.delta(h, a)
                na, nb = load[a] + dh_a, load[b] + dh_b
                nmax = max(st.other_max(a, b), na, nb)
                nsum = csum - la - lb + na + nb
                keep = _better(nmax, nsum, cmax, csum)
                if keep:
                    st.apply(h, a, dh_b, dh_a)
                    if pipeline and not st.acyclic():
                        keep = False
                        st.move(h, b)
                if not keep:
                    st.move(g, a)
                    load[a], load[b] = la, lb
                    used[a], used[b] = ua, ub
                    continue
                moves += 1
                done = True
                break
            if done:
                break
        if not done:
            break
    return np.asarray(st.dev, dtype=np.int64)


def _group_devices(view: GroupView, placement: Placement) -> np.ndarray:
    """The device index of each group under ``placement``; InputError when a group's
    node is unplaced or its device is not in the topology or does not support it."""
    index = {d: i for i, d in enumerate(view.devices)}
    times = view.group_time_on_devices()
    dev = np.zeros(view.num_groups, dtype=np.int64)
    ids = view.cg.instance.arrays.ids
    for g, members in enumerate(view.cg.members):
        device = placement.assignment.get(ids[members[0]])
        if device not in index or not math.isfinite(times[g, index[device]]):
            raise InputError(f"local-search: the start puts group {g} on {device}, which is not a device for it")
        dev[g] = index[device]
    return dev


def local_search(
    instance: Instance,
    *,
    restarts: int = 5,
    seed: int = 0,
    max_moves: int = 100_000,
    contiguity: str = "none",
    time_limit: float | None = None,
    start: Placement | None = None,
) -> Placement:
    """Local search with moves and swaps of colour groups (module docstring).

    Problem: minimise the max-load (the evaluator's "sum" objective; ties broken by
    the sum of device loads) over placements of colour groups that respect support
    and memory, non-contiguous (``contiguity="none"``, like the paper's local search)
    or pipeline-contiguous (``contiguity="pipeline"``). Heuristic: the result is a
    local optimum of the move/swap neighbourhood, the best of ``restarts`` random
    starts (seeded by ``seed``: same arguments, same placement).

    max_moves: accepted changes per restart at most. time_limit: seconds for all
    restarts (checked between sweeps; the best placement so far is returned).
    start: a feasible placement the first restart improves instead of a random one
    (with ``contiguity="pipeline"`` it must be pipeline-contiguous; the result is
    then never worse than it). InputError when it misses a node or breaks support.
    A start that cannot be drawn at random (tight memory) is replaced by
    :func:`feasible_assignment`'s (pipeline: by PipeDream's placement; if PipeDream
    finds no feasible segmentation either, that restart searches without contiguity).
    InputError when no placement respects support and memory, for a bad option, or
    when its tables would exceed the baselines' memory budget
    (:data:`placement_ilp.baselines.simple.MEMORY_BUDGET`).

    Complexity per sweep: O(D * sum deg) for moves, O(B * (sum deg)) for a swap sweep
    with B groups on bottleneck devices. Measured: about 0.3-0.5 s per restart on the
    paper's largest graph (BERT-12 training, 456 groups, 7 devices), about 1.5 s per
    restart on LayerGraphs/inceptionv3 (326 groups).

    Example::

        >>> p = local_search(inst, restarts=3, seed=1)
        >>> evaluate(inst, p).feasible
        True
    """
    instance.refuse_links("local-search")  # its incremental loads know one rate per class
    if contiguity not in CONTIGUITY:
        raise InputError(f"local-search: contiguity must be one of {', '.join(CONTIGUITY)}, got {contiguity!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise InputError(f"local-search: restarts must be a whole number >= 1, got {restarts!r}")
    if isinstance(max_moves, bool) or not isinstance(max_moves, int) or max_moves < 0:
        raise InputError(f"local-search: max_moves must be a whole number >= 0, got {max_moves!r}")
    view = group_view(instance)
    if view.num_groups == 0:
        return Placement({})
    G, D, K = view.num_groups, view.num_devices, len(view.cg.comm_node)
    # _State's Python lists: times (a float object and a pointer per group and
    # device), successor counts per item and device, forward arcs per device pair
    refuse_large_tables("local-search", 32 * G * D + 8 * K * D + 8 * D * D,
                        f"{G} colour groups and {K} communicating nodes x {D} devices")
    pipeline = contiguity == "pipeline"
    rng = random.Random(seed)
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    best = None
    best_key = None
    fallback = None
    fallback_pipeline = True
    given = None if start is None else _group_devices(view, start)
    for r in range(restarts):
        if r > 0 and deadline is not None and time.perf_counter() > deadline:
            break
        if r == 0 and given is not None:
            start = given
        else:
            start = _random_pipeline_start(view, rng) if pipeline else _random_start(view, rng)
        if start is None:
            if fallback is None:
                if pipeline:
                    placement, value = pipedream_with_value(instance)
                    index = {d: i for i, d in enumerate(view.devices)}
                    fallback = np.array([index[d] for d in view.cg.group_devices(placement)], dtype=np.int64)
                    fallback_pipeline = math.isfinite(value)
                else:
                    fallback = fallback_assignment(view, "local-search")
            start = fallback
        dev = _search(view, start, rng, pipeline and (start is not fallback or fallback_pipeline), max_moves, deadline)
        loads = group_loads(view, dev)
        key = (float(loads.max()), float(loads.sum()))
        if best_key is None or key < best_key:
            best, best_key = dev, key
    return view.placement(best)
