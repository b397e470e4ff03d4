"""The configuration bound on the max-load: a set-partitioning LP solved by column
generation, whose columns are whole device sets with their true load.

Why: the compact MILPs' LP relaxation spreads every group over identical devices,
so no device has a boundary and communication costs nothing. Here a column is one
device's set of groups, charged its compute *and* boundary communication, so the LP
cannot hide communication by spreading.

The question asked at a target T: can the groups be split into at most n_c sets per
class c, each set fitting one device of c with load <= T (memory, support, and the
contiguity level's per-device condition: convex sets at convex and pipeline)? Its
LP relaxation (the *master*, phase one)::

    min sum_g s_g   s.t.  sum_{j: g in S_j} lam_j + s_g = 1   (every group g)
                          sum_{j of class c} lam_j <= n_c       (every class c)
                          lam, s >= 0

has optimum 0 whenever a placement of max-load <= T exists. Its dual gives, for any
vector y <= 1 and p_c >= max over admissible sets S of class c of y(S), the value
``sum_g y_g - sum_c n_c * max(p_c, 0)``, a lower bound on the master's optimum (the
Lagrangian bound). If it is positive, no placement reaches T: T is *refuted*, and so
is every smaller T. The pricing problem (the best set for class c under duals y) is
a single-device MILP solved by HiGHS; its dual bound is the p_c used, so a pricing
run stopped early still gives a valid bound. docs/formulations.md, section 11,
writes it out.

The bound returned is the largest refuted T found by bisection; it never exceeds the
optimum (tests/test_configuration.py checks it against exhaustive search).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import highspy
import networkx as nx
import numpy as np

from ..data.preprocess import Contracted
from ..data.topology import Device
from ..errors import InputError
from ..milp.backends.highs import new_highs, run_highs, run_watched, to_highs
from ..milp.model import Model
from ..stopping import Budget

__all__ = ["ConfigurationBound", "configuration_bound"]

#: relative width at which the bisection stops
DEFAULT_TOLERANCE = 1e-4
#: a Lagrangian bound above this refutes T (the master's optimum counts uncovered groups)
_REFUTE = 1e-6
#: a master optimum at or below this means the LP covers every group at T
_COVERED = 1e-9
#: rounds without a better Lagrangian bound before a target is left undecided
_STALL_ROUNDS = 60
#: the share of the time left that one target may take; the first, just below the
#: incumbent, is often the hardest, and lower ones still raise the bound
_FIRST_SHARE = 0.15
_TARGET_SHARE = 0.3
#: segment columns added per class and round of heuristic pricing
_SEGMENT_COLUMNS = 10
#: Wentges smoothing of the duals priced: y = a * best + (1 - a) * current
_SMOOTHING = 0.5


@dataclass(frozen=True)
class ConfigurationBound:
    """What :func:`configuration_bound` proved.

    value: every placement's max-load is above this (0.0 when nothing was refuted).
    open_at: the least target at which the LP covered every group (the bound cannot
        rise above it); ``inf`` when no target was left open.
    tested: (target, verdict) in the order tried; verdict "refuted", "open" or
        "undecided" (stopped by the clock or the stall rule).
    columns, pricing_runs: the columns generated and single-device MILPs solved.
    seconds: wall time. stopped: None, "time_limit" or "interrupted".
    """

    value: float
    open_at: float
    tested: tuple[tuple[float, str], ...]
    columns: int
    pricing_runs: int
    seconds: float
    stopped: str | None = None
    log: tuple[str, ...] = field(default=(), repr=False)


#: pricing runs whose dual bound and solutions may be used: solved, or stopped by a limit
_PRICED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit,
           highspy.HighsModelStatus.kInterrupt, highspy.HighsModelStatus.kSolutionLimit,
           highspy.HighsModelStatus.kIterationLimit)


class _Sets:
    """Loads of device sets: compute plus boundary communication on class c, with
    the cheapest rate each item can be charged at (links only lower it)."""

    def __init__(self, groups: Contracted, overlap: bool) -> None:
        inst = groups.instance
        classes = inst.topology.classes
        self.time = np.where(groups.supported, groups.time_fw + groups.time_bw, 0.0)
        self.rate = self._cheapest_rates(groups)
        self.pays = np.array([c.pays_communication for c in classes], dtype=bool)
        self.overlap = overlap
        self.pair_item = groups.succ_item
        self.pair_src = groups.comm_group[groups.succ_item]
        self.pair_dst = groups.succ_group
        self.num_items = len(groups.comm_node)

    @staticmethod
    def _cheapest_rates(groups: Contracted) -> np.ndarray:
        inst = groups.instance
        topo = inst.topology
        rate = groups.comm_cost.copy()
        for link in topo.links:
            if link.is_device_pair:
                ends = {Device.parse(link.a).cls, Device.parse(link.b).cls}
            else:
                ends = {link.a, link.b}
            for cls in ends:
                c = topo.class_names.index(cls)
                rate[:, c] = np.minimum(rate[:, c], inst.link_costs(link, cls)[groups.comm_node])
        return rate

    def load(self, mask: np.ndarray, c: int) -> float:
        """The load of the groups in ``mask`` on one device of class c. O(G + J)."""
        compute = float(self.time[mask, c].sum())
        comm = 0.0
        if self.pays[c] and len(self.pair_item):
            a, b = mask[self.pair_src], mask[self.pair_dst]
            charged = np.zeros(self.num_items, dtype=bool)
            charged[self.pair_item[a != b]] = True
            comm = float(self.rate[charged, c].sum())
        return max(compute, comm) if self.overlap else compute + comm


class _Segments:
    """Heuristic pricing: the segments of fixed topological orders (convex sets).

    A segment's load does not depend on the duals, so for each order and class the
    loads of all segments up to the longest whose compute fits are computed once
    (a band: start position by length) and kept while T does not grow; each round
    then only sums the duals along the band and takes, per start, the best segment
    that fits. Building a band: O(G * L * d) for L the longest fitting segment and d
    the pairs per group; a round: O(G * L) per class and order."""

    def __init__(self, groups: Contracted, sets: _Sets, orders: list[list[int]]) -> None:
        self.sets = sets
        self.memory = groups.memory
        self.orders = [np.asarray(o, dtype=np.int64) for o in orders]
        # group -> (the other group, the item) of every pair that touches it
        self.touching: list[list[tuple[int, int]]] = [[] for _ in range(groups.num_groups)]
        for k, u, v in zip(sets.pair_item.tolist(), sets.pair_src.tolist(), sets.pair_dst.tolist()):
            if u != v:
                self.touching[u].append((v, k))
                self.touching[v].append((u, k))
        self.bands: dict[tuple[int, int], tuple[float, np.ndarray, np.ndarray, np.ndarray]] = {}

    def _band(self, o: int, c: int, allowed: np.ndarray, T: float, memory: float | None):
        """(members, load, ok) of every segment of order o on class c: members[i, l]
        is the group at position i + l (or 0 past the end), load[i, l] the load of
        positions i..i+l, ok[i, l] whether that segment is allowed and fits memory and
        compute <= T."""
        cached = self.bands.get((o, c))
        if cached is not None and cached[0] >= T:
            return cached[1:]
        sets, order = self.sets, self.orders[o]
        G = len(order)
        time_c = sets.time[order, c]
        ok_pos = allowed[order]
        mem = self.memory[order]
        # the longest allowed run from each start whose compute and memory fit T
        lengths = np.zeros(G, dtype=np.int64)
        for i in range(G):
            j, compute, used = i, 0.0, 0.0
            while j < G and ok_pos[j]:
                compute += time_c[j]
                used += mem[j]
                if compute > T * (1 + 1e-9) or (memory is not None and used > memory * (1 + 1e-9)):
                    break
                j += 1
            lengths[i] = j - i
        L = max(int(lengths.max()), 1)
        pos = np.arange(G)[:, None] + np.arange(L)[None, :]
        ok = np.arange(L)[None, :] < lengths[:, None]
        members = order[np.minimum(pos, G - 1)]
        load = np.cumsum(np.where(ok, time_c[np.minimum(pos, G - 1)], 0.0), axis=1)
        if sets.pays[c] and len(sets.pair_item):
            comm = self._segment_comm(order, lengths, L, sets.rate[:, c])
            load = np.maximum(load, comm) if sets.overlap else load + comm
        self.bands[(o, c)] = (T, members, load, ok)
        return members, load, ok

    def _segment_comm(self, order: np.ndarray, lengths: np.ndarray, L: int, rate: np.ndarray) -> np.ndarray:
        """comm[i, l]: the boundary communication of positions i..i+l of ``order`` at
        ``rate`` (an item is charged once when any of its pairs crosses). Grown one
        group at a time: adding a group flips the pairs that touch it, and an item's
        charge changes only when its count of crossing pairs leaves or reaches 0.
        O(sum over starts of the degrees along the segment)."""
        G = len(order)
        touching = self.touching
        rate = rate.tolist()
        comm = np.zeros((G, L))
        order_list = order.tolist()
        for i in np.flatnonzero(lengths).tolist():
            inside = set()
            crossing: dict[int, int] = {}
            total = 0.0
            row = comm[i]
            for step in range(int(lengths[i])):
                g = order_list[i + step]
                for other, k in touching[g]:
                    # with g outside the pair crossed iff the other end was inside; now the reverse
                    change = -1 if other in inside else 1
                    before = crossing.get(k, 0)
                    crossing[k] = before + change
                    if before == 0:
                        total += rate[k]
                    elif before + change == 0:
                        total -= rate[k]
                inside.add(g)
                row[step] = max(total, 0.0)
        return comm

    def candidates(self, y: np.ndarray, mu: float, c: int, allowed: np.ndarray, T: float,
                   memory: float | None, most: int) -> list[tuple[float, np.ndarray]]:
        """Up to ``most`` segments S of class c with load <= T and y(S) - mu > 0,
        best first, as (y(S), mask)."""
        G = len(y)
        found: dict[bytes, tuple[float, np.ndarray]] = {}
        for o in range(len(self.orders)):
            members, load, ok = self._band(o, c, allowed, T, memory)
            values = np.where(ok & (load <= T * (1 + 1e-9)), np.cumsum(np.where(ok, y[members], 0.0), axis=1),
                              -np.inf)
            best = np.argmax(values, axis=1)
            gain = values[np.arange(G), best] - mu
            for i in np.argsort(-gain)[:most]:
                if not gain[i] > 1e-9:
                    break
                mask = np.zeros(G, dtype=bool)
                mask[members[i, : best[i] + 1]] = True
                found.setdefault(np.packbits(mask).tobytes(), (float(gain[i] + mu), mask))
        return sorted(found.values(), key=lambda t: -t[0])[:most]


class _Pricer:
    """The single-device MILP of one class: max y(S) over the sets S a device of the
    class may hold at target T. One HiGHS object, reused: a new T changes bounds,
    new duals change costs."""

    def __init__(self, groups: Contracted, sets: _Sets, c: int, allowed: np.ndarray, convex: bool) -> None:
        G = groups.num_groups
        self.c = c
        self.allowed = allowed
        dc = groups.instance.topology.classes[c]
        m = Model(f"pricing_{dc.name}")
        x = m.add_variables("x", G, ub=allowed.astype(np.float64), binary=True)
        self.x = x
        compute_cols, compute_coefs = x.cols, sets.time[:, c]
        comm_cols = comm_coefs = np.zeros(0)
        if sets.pays[c] and len(sets.pair_item):
            rate = sets.rate[:, c]
            useful = rate > 0
            e = m.add_variables("e", sets.num_items, ub=useful.astype(np.float64))
            k = sets.pair_item
            keep = useful[k] & (allowed[sets.pair_src] | allowed[sets.pair_dst])
            k, src, dst = k[keep], sets.pair_src[keep], sets.pair_dst[keep]
            for name, own, other in (("out", src, dst), ("in", dst, src)):
                cols = np.stack([e.cols[k], x.cols[own], x.cols[other]], axis=1)
                m.add_constraints(f"cross_{name}", cols, [[1.0, -1.0, 1.0]], ">=", 0.0)
            comm_cols, comm_coefs = e.cols[useful], rate[useful]
        if sets.overlap:
            self.load_rows = [
                m.add_constraints("compute", compute_cols[None, :], compute_coefs[None, :], "<=", 0.0),
                m.add_constraints("comm", np.append(comm_cols, -1)[None, :].astype(np.int64),
                                  np.append(comm_coefs, 0.0)[None, :], "<=", 0.0),
            ]
        else:
            cols = np.concatenate([compute_cols, comm_cols]).astype(np.int64)
            coefs = np.concatenate([compute_coefs, comm_coefs])
            self.load_rows = [m.add_constraints("load", cols[None, :], coefs[None, :], "<=", 0.0)]
        if dc.memory is not None:
            m.add_constraints("memory", x.cols[None, :], groups.memory[None, :], "<=", float(dc.memory))
        if convex and len(groups.fw_src):
            # o[v] = 1 when a forward path has left the set before reaching v
            o = m.add_variables("o", G, ub=1.0)
            u, v = groups.fw_src, groups.fw_dst
            m.add_constraints("leave", np.stack([o.cols[v], x.cols[u], x.cols[v]], 1), [[1.0, -1.0, 1.0]], ">=", 0.0)
            m.add_constraints("carry", np.stack([o.cols[v], o.cols[u]], 1), [[1.0, -1.0]], ">=", 0.0)
            m.add_constraints("no_return", np.stack([x.cols, o.cols], 1), [[1.0, 1.0]], "<=", 1.0)
        m.set_objective(x.cols, np.zeros(G), sense="max")
        self.h = to_highs(m)
        # presolve off: its inequality strengthening ignores the time limit (on
        # OperatorGraphs/bert_l-12_inference at none one pricing run spent more than ten
        # minutes there on a limit of seconds); without it the pricing keeps its limit and
        # was as fast or faster on the workloads measured (docs/formulations.md section 11)
        for name, value in (("threads", 1), ("mip_rel_gap", 0.0), ("mip_abs_gap", 1e-9), ("presolve", "off"),
                            ("mip_improving_solution_save", True)):
            self.h.setOptionValue(name, value)
        self.tight = None
        self.set_tight(False)
        self.time = sets.time[:, c]
        self.target = None

    def set_target(self, T: float) -> None:
        if self.target == T:
            return
        self.target = T
        ub = (self.allowed & (self.time <= T * (1 + 1e-12))).astype(np.float64)
        G = len(ub)
        self.h.changeColsBounds(G, np.arange(G, dtype=np.int32), np.zeros(G), ub)
        for rows in self.load_rows:
            for r in rows:
                self.h.changeRowBounds(r, -highspy.kHighsInf, float(T))

    def set_tight(self, tight: bool) -> None:
        """HiGHS' feasibility tolerances at 1e-9 (tight) or at its defaults. With the
        defaults a set may exceed T by the sum of many small violations (on
        LayerGraphs/bert24_training, 2e-5), so a target just below the optimum cannot
        be refuted; the tight ones cost about twice the time, so they are used only
        when a target needs them."""
        if self.tight == tight:
            return
        self.tight = tight
        self.h.setOptionValue("mip_feasibility_tolerance", 1e-9 if tight else 1e-6)
        self.h.setOptionValue("primal_feasibility_tolerance", 1e-9 if tight else 1e-7)

    def price(self, y: np.ndarray, seconds: float | None, budget: Budget) -> tuple[float, list[np.ndarray]]:
        """(an upper bound on max y(S), the sets found: the best first, then the
        improving ones HiGHS met on the way). ``budget``: the run's clock and the
        user's interrupt, watched while HiGHS runs (an interrupted or late run gives
        the trivial bound; a run that would not stop leaves this pricer unusable,
        which the caller sees as ``budget.should_stop()``)."""
        G = len(y)
        self.h.changeColsCost(G, np.arange(G, dtype=np.int32), np.asarray(y, dtype=np.float64))
        self.h.setOptionValue("time_limit", float(seconds) if seconds is not None else highspy.kHighsInf)
        self.h.clearSolver()
        stopped, finished = run_watched(self.h, 1, budget, minimise=False)
        if not finished or stopped is not None:
            return float(np.clip(y, 0, None)[self.allowed].sum()), []
        info = self.h.getInfo()
        status = self.h.getModelStatus()
        found = []
        if status in _PRICED and int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible):
            found.append(np.asarray(self.h.getSolution().col_value[:G]) > 0.5)
            found += [np.asarray(s.col_value[:G]) > 0.5 for s in self.h.getSavedMipSolutions()]
        # HiGHS' dual bound only from a run that branched (a refused or failed run
        # leaves numbers that mean nothing); else the trivial bound
        bound = float(info.mip_dual_bound) if status in _PRICED else math.inf
        if status == highspy.HighsModelStatus.kOptimal and math.isfinite(float(info.objective_function_value)):
            bound = max(bound, float(info.objective_function_value)) if math.isfinite(bound) else float(
                info.objective_function_value)
        if not math.isfinite(bound):
            bound = float(np.clip(y, 0, None)[self.allowed].sum())
        return bound, found


class _Master:
    """The phase-one master LP, columns added as they are found."""

    def __init__(self, G: int, counts: np.ndarray) -> None:
        self.G, self.C = G, len(counts)
        h = new_highs()
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        h.addRows(G, np.ones(G), np.ones(G), 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        h.addRows(self.C, np.full(self.C, -inf), counts.astype(np.float64), 0,
                  np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        # slack s_g, cost 1, in row g
        h.addCols(G, np.ones(G), np.zeros(G), np.full(G, inf), G,
                  np.arange(G, dtype=np.int32), np.arange(G, dtype=np.int32), np.ones(G))
        self.h = h
        self.column_class: list[int] = []
        self.column_load: list[float] = []
        self.keys: set[tuple[int, bytes]] = set()

    def add(self, mask: np.ndarray, c: int, load: float, T: float) -> bool:
        """Add the set as a column (once); True when it is new and fits T."""
        key = (c, np.packbits(mask).tobytes())
        if key in self.keys:
            return False
        self.keys.add(key)
        rows = np.append(np.flatnonzero(mask), self.G + c).astype(np.int32)
        upper = 1.0 if load <= T * (1 + 1e-9) else 0.0
        self.h.addCol(0.0, 0.0, upper, len(rows), rows, np.ones(len(rows)))
        self.column_class.append(c)
        self.column_load.append(load)
        return upper == 1.0  # a set over T (HiGHS' tolerance let it through) does not help at T

    def set_target(self, T: float) -> None:
        n = len(self.column_load)
        if not n:
            return
        upper = (np.array(self.column_load) <= T * (1 + 1e-9)).astype(np.float64)
        self.h.changeColsBounds(n, np.arange(self.G, self.G + n, dtype=np.int32), np.zeros(n), upper)

    def solve(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """(optimum, duals of the cover rows, duals of the class rows), or None when
        HiGHS did not solve the LP to optimality (then nothing may be concluded)."""
        run_highs(self.h, 1)
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        dual = np.asarray(sol.row_dual)
        return float(self.h.getInfo().objective_function_value), dual[: self.G], dual[self.G:]


def _orders(groups: Contracted) -> list[list[int]]:
    """Topological orders of the groups (forward arcs first, then every edge when
    they agree): the smallest-index-first one and a depth-first one, which keeps a
    branch together. Segments of either are convex sets."""
    G = groups.num_groups
    a = groups.instance.arrays
    gs, gd = groups.node_group[a.src], groups.node_group[a.dst]
    for arcs in (np.stack([gs, gd], 1)[gs != gd], np.stack([groups.fw_src, groups.fw_dst], 1)):
        d = nx.DiGraph()
        d.add_nodes_from(range(G))
        d.add_edges_from(map(tuple, arcs.tolist()))
        if nx.is_directed_acyclic_graph(d):
            return [list(nx.lexicographical_topological_sort(d)), list(reversed(list(nx.dfs_postorder_nodes(d))))]
    return [list(range(G))]


def configuration_bound(
    groups: Contracted,
    contiguity: str = "none",
    *,
    cpu_contiguity: bool = True,
    overlap: bool = False,
    lower: float = 0.0,
    upper: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    time_limit: float | None = None,
    budget: Budget | None = None,
    log: Callable[[str], None] | None = None,
) -> ConfigurationBound:
    """A lower bound on the max-load (objective "sum") of every placement of
    ``groups.instance`` at ``contiguity``: the largest target T that the
    configuration LP refutes (module docstring), found by bisection.

    ``upper``: a known max-load (an incumbent's value); the first target tried is
    ``upper * (1 - tolerance)``, which proves the incumbent optimal within the
    tolerance when refuted. ``lower``: a bound already known (for example
    :func:`~placement_ilp.bounds.pigeonhole_floor`); the bisection searches between
    the two. The result's value is only what this LP refuted itself: take the
    larger of it and ``lower``. ``time_limit``: this bound's own limit; ``budget``:
    the run's clock and the user's interrupt, when a caller keeps one (a target
    the clock stops is "undecided" and the value proven so far is returned).
    ``log``: called with one line per target and per 20 pricing rounds.

    At pipeline the columns are convex sets (a relaxation: pipeline implies every
    device's set is convex). Links: each item is charged at the cheapest rate it can
    have on the class (a relaxation too).

    Complexity: per target, rounds of one master LP and one single-device MILP per
    class (G binaries, J crossing rows, A arcs at convex); about log2(1/tolerance)
    targets.

    Example::

        b = configuration_bound(contract(instance), "none", upper=33.77)
        b.value   # every placement's max-load is above this
    """
    if contiguity not in ("pipeline", "convex", "none"):
        raise InputError(f"unknown contiguity {contiguity!r} (pipeline, convex or none)")
    own = Budget(time_limit)
    run = budget if budget is not None else own

    def should_stop() -> bool:
        return own.should_stop() or run.should_stop()

    def remaining() -> float | None:
        left = [t for t in (own.remaining(), run.remaining()) if t is not None]
        return min(left) if left else None
    start = time.perf_counter()
    lines: list[str] = []

    def say(text: str) -> None:
        lines.append(text)
        if log is not None:
            log(text)

    inst = groups.instance
    classes = inst.topology.classes
    G, C = groups.supported.shape
    counts = np.array([c.count for c in classes], dtype=np.int64)
    sets = _Sets(groups, overlap)
    fits = np.array([[c.memory is None or m <= c.memory * (1 + 1e-9) for c in classes] for m in groups.memory],
                    dtype=bool).reshape(G, C)
    allowed = groups.supported & fits & (counts > 0)[None, :]
    if G == 0:
        return ConfigurationBound(0.0, 0.0, (), 0, 0, time.perf_counter() - start)
    if upper is None or not math.isfinite(upper):
        upper = float(sum(sets.load(np.ones(G, bool) & allowed[:, c], c) for c in range(C))) or 1.0
    checked = np.array([cpu_contiguity or c.kind != "cpu" for c in classes], dtype=bool)
    convex_level = contiguity in ("convex", "pipeline")
    pricers = [_Pricer(groups, sets, c, allowed[:, c], convex_level and checked[c]) if counts[c] > 0 else None
               for c in range(C)]
    master = _Master(G, counts)
    orders = _orders(groups)
    order = orders[0]
    segments = _Segments(groups, sets, orders)
    state = {"runs": 0, "heuristic": 0}

    def seed(T: float) -> None:
        """Cheap columns at T: single groups, and for each class the longest
        segments of a topological order that fit (convex sets)."""
        for c in range(C):
            if counts[c] == 0:
                continue
            for g in np.flatnonzero(allowed[:, c]):
                mask = np.zeros(G, bool)
                mask[g] = True
                master.add(mask, c, sets.load(mask, c), T)
            i = 0
            while i < G:
                mask = np.zeros(G, bool)
                best = None
                memory = 0.0
                for j in range(i, G):
                    g = order[j]
                    if not allowed[g, c]:
                        break
                    memory += groups.memory[g]
                    if classes[c].memory is not None and memory > classes[c].memory * (1 + 1e-9):
                        break
                    mask[g] = True
                    load = sets.load(mask, c)
                    if load > T * (1 + 1e-9) and sets.time[mask, c].sum() > T:
                        break
                    if load <= T * (1 + 1e-9):
                        best = (mask.copy(), load, j)
                if best is None:
                    i += 1
                    continue
                master.add(best[0], c, best[1], T)
                i = best[2] + 1

    def decide(T: float, share: float) -> str:
        """"refuted", "open" or "undecided" for target T (undecided also when the
        target's ``share`` of the time left is spent)."""
        left = remaining()
        target_end = None if left is None else time.perf_counter() + share * left
        seed(T)
        master.set_target(T)
        for p in pricers:
            if p is not None:
                p.set_target(T)
        best_lb, best_y = -math.inf, None
        stall = 0
        a = _SMOOTHING
        rounds = 0
        for p in pricers:
            if p is not None:
                p.set_tight(False)
        while True:
            if should_stop() or (target_end is not None and time.perf_counter() > target_end):
                return "undecided"
            solved = master.solve()
            if solved is None:
                status = master.h.modelStatusToString(master.h.getModelStatus())
                say(f"  T={T:.6g}: HiGHS did not solve the master LP ({status}): undecided")
                return "undecided"
            value, y, mu = solved
            if value <= _COVERED:
                return "open"
            y = np.minimum(y, 1.0)
            mu = np.maximum(-mu, 0.0)  # duals of <= rows come out non-positive in a minimisation
            added = 0
            for c in range(C):  # cheap columns first: segments of the orders
                if counts[c] > 0:
                    for _, mask in segments.candidates(y, mu[c], c, allowed[:, c], T, classes[c].memory,
                                                       _SEGMENT_COLUMNS):
                        added += master.add(mask, c, sets.load(mask, c), T)
            if added:
                state["heuristic"] += 1
                continue
            y_price = y if best_y is None or a == 0 else a * best_y + (1 - a) * y
            bounds = np.zeros(C)
            for c, p in enumerate(pricers):
                if p is None:
                    continue
                seconds = remaining()
                if target_end is not None:
                    seconds = max(0.0, min(seconds, target_end - time.perf_counter()))
                bound, found = p.price(y_price, seconds, run)
                if should_stop():
                    return "undecided"
                state["runs"] += 1
                bounds[c] = max(bound, 0.0)
                for S in found:
                    if S.any() and float(y[S].sum()) - mu[c] > 1e-9:  # improves the master at its current duals
                        added += master.add(S, c, sets.load(S, c), T)
            lb = float(y_price.sum() - (counts * bounds).sum())
            rounds += 1
            if lb > best_lb + 1e-9:
                best_lb, best_y, stall = lb, y_price.copy(), 0
            else:
                stall += 1
            if rounds % 20 == 0:
                say(f"  T={T:.6g} round {rounds}: master {value:.6g}, Lagrangian bound {best_lb:.6g}, "
                    f"{len(master.column_load)} columns")
            if best_lb > _REFUTE:
                return "refuted"
            if not added:
                if a == 0:
                    # exact pricing at the master's own duals found nothing: the master is optimal
                    # (up to HiGHS' tolerances: with the loose ones, price once more with the tight)
                    if value > _REFUTE and not all(p is None or p.tight for p in pricers):
                        for p in pricers:
                            if p is not None:
                                p.set_tight(True)
                        continue
                    return "refuted" if value > _REFUTE and lb > _REFUTE else "undecided"
                a = 0.0  # mispriced: price at the current duals next
            else:
                a = _SMOOTHING
            if stall >= _STALL_ROUNDS:
                return "undecided"

    tested: list[tuple[float, str]] = []
    lo, hi = float(lower), float(upper)
    proven = 0.0
    open_at = math.inf
    stopped = None
    T = hi * (1 - tolerance)  # first: is the incumbent optimal within the tolerance?
    retried = False
    try:
        while True:
            verdict = decide(T, _FIRST_SHARE if not tested else _TARGET_SHARE)
            tested.append((T, verdict))
            say(f"target {T:.8g}: {verdict} ({len(master.column_load)} columns, {state['runs']} pricing runs, "
                f"{state['heuristic']} heuristic rounds, "
                f"{time.perf_counter() - start:.1f} s)")
            if verdict == "refuted":
                proven = max(proven, T)
                lo = max(lo, T)
            elif verdict == "open":
                open_at = min(open_at, T)
                hi = min(hi, T)
            elif should_stop():
                stopped = run.stop_status() if run.should_stop() else own.stop_status()
                break
            else:  # stalled: look lower
                hi = min(hi, T)
            if lo >= upper * (1 - tolerance):
                break
            if hi - lo <= tolerance * max(hi, 1e-12):
                # converged below a first target left undecided: the columns found since
                # often decide it now, proving the incumbent optimal (tried once)
                first, verdict = tested[0]
                if verdict != "undecided" or retried or should_stop():
                    break
                retried = True
                lo, hi, T = max(lo, first), upper, first
                continue
            T = 0.5 * (lo + hi)
    except KeyboardInterrupt:
        if not run.first_interrupt():
            raise
        stopped = "interrupted"
    return ConfigurationBound(
        value=proven, open_at=open_at, tested=tuple(tested), columns=len(master.column_load),
        pricing_runs=state["runs"], seconds=time.perf_counter() - start, stopped=stopped, log=tuple(lines),
    )
