"""Single-sample latency MILP (docs/model.md, "Latency (single-sample) objective").

The model is the one of :mod:`placement_ilp.evaluation.latency` (read its docstring): unlimited
CPUs, accelerators running at most ``q`` convex calls ("subgraphs") each, in a
fixed order, inference graphs only. Colour groups (``placement_ilp.preprocess``)
are placed, so a colour class sits in one call; CPU timing is per node.

Index sets: groups g, nodes i (graph positions), edges p -> i, accelerator
*slots* s = (device d, position j < q) of every non-CPU class, CPU classes r,
communication items k (a node u_k with a successor in another group) and pairs
(k, h) "item k has a successor in group h".

Variables
  x[g, s], xc[g, r]      binary: g is in call s / on CPUs of class r.
  cin[k, s], cout[k, s]  in [0, 1]: u_k's output enters / leaves call s.
  entry[(k, h), s]       in [0, 1]: u_k's output enters s towards group h (only
                         for items with several successor groups; otherwise cin).
  st[s], fin[s]          start and finish of call s (an empty call: fin = st).
  L[i]                   time node i is done (an upper bound; tight at the optimum).
  T                      the latency (objective: minimise T).
  z[i, s]                (option ``convexity``) the paper's convexity certificate.
  held_c[t, d]           (option ``symmetry="index"``) groups of rank <= t on device d.
  rho[i], sigma[s]       (only when zero-duration calls exist) ranks, see "Cycles".

Constraints
  assign      sum_s x[g, s] + sum_r xc[g, r] = 1
  memory      sum_{j, g} m(g) x[g, (d, j)] <= M_d          (per accelerator, scaled by M_d)
  comm_in     cin[k, s] >= x[h, s] - x[g_k, s]              (per pair (k, h))
  comm_out    cout[k, s] >= x[g_k, s] - x[h, s]             (where the cost is positive)
  entry       entry[(k, h), s] >= x[h, s] - x[g_k, s]
  duration    fin[s] = st[s] + sum_g t(g, cls s) x[g, s] + sum_k c(k, cls s) (cin + cout)
  order       st[(d, j+1)] >= fin[(d, j)]                    (calls of a device in order)
  start       st[s] >= L[u_k] - Mu_k (1 - cin[k, s])          (inputs ready)
  finish      L[i] >= fin[s] - Mf_i (1 - x[g_i, s])           (done when its call is)
  arc         L[i] >= L[p] + sum_r t_r(i) xc[g_i, r] + sum_s (t_s(i) + c_s(p)) entry_(p, g_i)[s]
              for every edge p -> i (entry = 0 inside a group): a CPU successor adds
              its time, a successor in another call its time and p's transfer.
  head        L[i] >= sum_modes A_m(i) [g_i in mode m]       (earliest finish, below)
  tail        T >= L[i] + sum_modes D_m(i) [g_i in mode m]    (least time after i)
  last_call   T >= fin[s]
  convexity   (option) z[i, s] >= x[g_i, s]; z[v, s] <= z[u, s];
              z[v, s] <= x[g_v, s] - x[g_u, s] + 1 per edge u -> v between groups
  symmetry    (option) a device's call j+1 is used only if call j is, and identical
              accelerators are ordered: "index" (default) device d+1 holds group g
              only if device d holds a group of lower topological rank; "start" by
              the start of their first call; "none".

Bounds and big-M values come from the instance, never a fixed constant.
UB (``upper_bound``) is the best latency of the interval, greedy and all-CPU
placements of :mod:`placement_ilp.evaluation.latency` that is feasible for q (or, if none is,
the sum over nodes of the largest time plus every communication charge a call
can make). A_m(i) (head) is the longest path to i where every node takes the time
of its mode and every change of mode pays the transfer it causes: a lower bound
on i's finish when i is in mode m (CPU class or accelerator class); D_m(i) (tail)
the same for what must still happen after i is done. The path bound
(:meth:`LatencyMILP._path_bound`) segments a few long paths optimally into CPU
nodes and memory-feasible calls and bounds T from below. Then
L[i] in [min_m A_m(i), UB - min_m D_m(i)], T in [max(path bound, max_i min_m
(A + D)), UB], Mf_i = UB - min_m A_m(i) and Mu_k = UB - min_m D_m(u_k).

Cycles. A call that waits for itself (not convex), or calls that wait for each
other, make the start/finish rows infeasible as soon as one of them lasts a
positive time; only calls of zero duration (every node 0 time, every crossing
output 0 cost) could close a cycle. If some group can take zero time on an
accelerator class, continuous ranks are added on the nodes that can take zero
time: rho[i] >= rho[p] + [i on a CPU class where it takes 0] (edges p -> i),
sigma[s] >= rho[u_k] - R (1 - cin[k, s]) when u_k's output costs 0 on s,
rho[i] >= sigma[s] + 1 - R (1 - x[g_i, s]) when i takes 0 on s, sigma[(d, j+1)]
>= sigma[(d, j)] + 1, with R = n + S + 1 (the longest chain of calls and CPU
nodes). A cycle would need a rank above itself. Hence convexity of every call is
implied and the paper's z rows are optional (off by default: they cost about
3 * E * S rows and made no consistent difference to HiGHS in our runs).
"""

from __future__ import annotations

import math

import numpy as np

from placement_ilp.errors import InputError
from placement_ilp.baselines.latency import all_on_cpu_cores, greedy_latency, interval_latency
from placement_ilp.data.placement import Placement
from placement_ilp.data.preprocess import contract
from placement_ilp.data.topology import Device
from placement_ilp.evaluation.latency import (
    check_latency_instance,
    evaluate_latency,
    evaluate_latency_with_subgraphs,
)
from placement_ilp.milp.model import Model

from formulations.base import Builder, register

SYMMETRY_MODES = ("index", "start", "none")
_UB_SLACK_REL = 1e-9  # room for rounding in the bound (the incumbent sits exactly at UB)
_UB_SLACK_ABS = 1e-9


@register("latency")
class LatencyMILP(Builder):
    """Latency MILP; see the module docstring.

    Options: ``max_subgraphs`` (q >= 1, default 1); ``convexity`` (add the paper's
    z rows; default False, implied by the time and rank rows); ``symmetry``
    ("index" (default, also True), "start" or "none"/False); ``path_cuts`` (head
    and tail rows with the path bounds A, D; default True, else only the nodes'
    own times); ``upper_bound`` (the latency of some feasible solution, used if
    smaller than the heuristics'); ``starts`` (placements, or (name, placement)
    pairs, that compete with the heuristics for the MIP start).

    Attributes after construction: ``upper_bound`` (UB), ``lower_bound`` (largest
    of the head/tail and path bounds), ``path_bound``, ``incumbent`` ((heuristic
    name, split) of the best feasible heuristic, or None; a MIP start via
    :meth:`encode_subgraphs`).

    Size: G*S + G*R binaries for G groups, S = q * (number of accelerators) slots
    and R CPU classes; O((n + E + K + J) * S) rows for n nodes, E edges, K items,
    J pairs. Building is vectorised; the bounds and heuristics before it cost
    O(n * C^2 + E * C^2) (head/tail), O(len^2 * S) per bounding path and
    O(B * (V + E) + B^2 * k) for the interval heuristic (B blocks, k accelerators).

    Example::

        b = LatencyMILP(instance, max_subgraphs=2)
        model = b.build()
        r = solve_model(model, time_limit=60, mip_start=b.encode_subgraphs(b.incumbent[1]))
        split = b.decode_subgraphs(r.values)   # node -> (device, call index)
        placement = b.decode(r.values)
    """

    kind = "latency"

    def __init__(
        self,
        instance,
        max_subgraphs: int = 1,
        convexity: bool = False,
        symmetry: bool | str = "index",
        path_cuts: bool = True,
        upper_bound: float | None = None,
        starts: tuple = (),
    ) -> None:
        self._given_starts = tuple(starts)
        check_latency_instance(instance)
        if isinstance(max_subgraphs, bool) or not isinstance(max_subgraphs, int) or max_subgraphs < 1:
            raise InputError(f"max_subgraphs must be a whole number >= 1, got {max_subgraphs!r}")
        if upper_bound is not None and not (isinstance(upper_bound, (int, float)) and upper_bound >= 0):
            raise InputError(f"upper_bound must be a number >= 0, got {upper_bound!r}")
        super().__init__(
            instance,
            max_subgraphs=max_subgraphs,
            convexity=convexity,
            symmetry=symmetry,
            path_cuts=path_cuts,
            upper_bound=upper_bound,
        )
        if symmetry is True:
            symmetry = "index"
        if symmetry in (False, None):
            symmetry = "none"
        if symmetry not in SYMMETRY_MODES:
            raise InputError(f"symmetry must be one of {', '.join(SYMMETRY_MODES)}, got {symmetry!r}")
        self.q = max_subgraphs
        self.convexity = bool(convexity)
        self.symmetry = symmetry
        self.path_cuts = bool(path_cuts)
        self.groups = contract(instance)
        self._index_sets()
        self._bounds(upper_bound)

    # ------------------------------------------------------------- index sets
    def _index_sets(self) -> None:
        inst, cg = self.instance, self.groups
        classes = inst.topology.classes
        a = inst.arrays
        self.n = len(a.ids)
        G, C = cg.supported.shape
        self.is_cpu = np.array([c.kind == "cpu" for c in classes], dtype=bool)
        self.cpu_classes = np.flatnonzero(self.is_cpu)
        slots = [
            (c, d, j) for c, dc in enumerate(classes) if not self.is_cpu[c] for d in range(dc.count) for j in range(self.q)
        ]
        self.slot_cls = np.array([s[0] for s in slots], dtype=np.int64)
        self.slot_dev = np.array([s[1] for s in slots], dtype=np.int64)
        self.slot_pos = np.array([s[2] for s in slots], dtype=np.int64)
        self.num_slots = S = len(slots)
        cap = np.array([np.inf if c.memory is None else c.memory for c in classes])
        fits = cg.memory[:, None] <= cap[None, :] * (1 + 1e-9)
        class_ok = cg.supported & (fits | self.is_cpu[None, :])
        count_ok = np.array([c.count > 0 or c.kind == "cpu" for c in classes])
        class_ok &= count_ok[None, :]
        self.class_ok = class_ok  # (G, C): group g may run on class c
        self.slot_ok = class_ok[:, self.slot_cls] if S else np.zeros((G, 0), dtype=bool)
        self.cpu_ok = class_ok[:, self.cpu_classes]
        bad = np.flatnonzero(~class_ok.any(axis=1))
        if len(bad):
            v = a.ids[cg.members[bad[0]][0]]
            raise InputError(
                f"node {v!r} (its colour class) fits no device: unsupported on every CPU class and "
                "unsupported on, or larger than, every accelerator"
            )
        # per node: time on each class where its group may run (inf elsewhere); comm only on accelerators
        ng = a.group
        self.node_time = np.where(class_ok[ng], a.time, np.inf)
        self.node_comm = np.where(self.is_cpu[None, :], 0.0, a.comm)
        self.group_time = np.where(class_ok, cg.time_fw, 0.0)
        self.item_cost = np.where(self.is_cpu[None, :], 0.0, cg.comm_cost)  # (K, C)

    # ---------------------------------------------------------------- bounds
    def _bounds(self, user_ub: float | None) -> None:
        """Heuristic incumbents, the upper bound UB, head/tail bounds per node and mode."""
        inst = self.instance
        a = inst.arrays
        n, C = self.node_time.shape
        g = inst.graph
        pos = {v: i for i, v in enumerate(a.ids)}
        topo = [pos[v] for v in g.topological_order()]
        preds = [[] for _ in range(n)]
        succs = [[] for _ in range(n)]
        for s_, d_ in zip(a.src.tolist(), a.dst.tolist()):
            preds[d_].append(s_)
            succs[s_].append(d_)
        t = self.node_time
        acc = ~self.is_cpu
        # trans[p][m', m]: extra time on an edge out of p when p is in mode m' and its successor in m
        same = np.eye(C, dtype=bool)
        A = np.zeros((n, C))
        for i in topo:
            if preds[i]:
                P = np.array(preds[i])
                cp = self.node_comm[P]  # (|P|, C)
                change = cp[:, :, None] * acc[None, :, None] + cp[:, None, :] * acc[None, None, :]
                trans = np.where(same[None], 0.0, change)
                via = (A[P][:, :, None] + trans).min(axis=1)  # (|P|, C): best mode of p for each mode of i
                A[i] = t[i] + via.max(axis=0)
            else:
                A[i] = t[i]
        D = np.zeros((n, C))
        for i in reversed(topo):
            if succs[i]:
                W = np.array(succs[i])
                ci = self.node_comm[i]  # entry cost into a call of class m'
                # option m' for successor w when i is in mode m
                base = t[W] + D[W]  # (|W|, C): w in a new call / on a CPU
                entry = np.where(acc, ci, 0.0)
                opt = base[:, None, :] + entry[None, None, :]  # (|W|, m, m')
                opt = np.broadcast_to(opt, (len(W), C, C)).copy()
                stay = np.where(np.isfinite(t[W]), D[W], np.inf)  # same call as i (accelerator mode m == m')
                for m in np.flatnonzero(acc):
                    opt[:, m, m] = np.minimum(opt[:, m, m], stay[:, m])
                for m in np.flatnonzero(~acc):
                    opt[:, m, m] = base[:, m]
                D[i] = opt.min(axis=2).max(axis=0)
        allowed = np.isfinite(t)
        self.head = np.where(allowed, A, np.inf)
        self.tail = np.where(allowed, D, np.inf)
        lo = np.where(allowed, A, np.inf).min(axis=1) if n else np.zeros(0)
        tail_min = np.where(allowed, D, np.inf).min(axis=1) if n else np.zeros(0)
        self.lower_bound = float(np.where(allowed, A + D, np.inf).min(axis=1).max()) if n else 0.0

        # incumbents: the greedy and all-CPU placements, checked by the evaluator
        cands = []
        for name, make in (("interval", interval_latency), ("greedy", greedy_latency), ("all-cpu", all_on_cpu_cores)):
            try:
                rep = evaluate_latency(inst, make(inst), max_subgraphs=self.q)
            except InputError:
                continue
            if rep.feasible:
                cands.append((rep.latency, name, rep.assignment()))
        for start in self._given_starts:  # the caller's placements (for example the DP's split)
            name, placement = start if isinstance(start, tuple) else ("given", start)
            rep = evaluate_latency(inst, placement, max_subgraphs=self.q)
            if rep.feasible:
                cands.append((rep.latency, name, rep.assignment()))
        cands.sort(key=lambda c: c[0])
        self.incumbent = (cands[0][1], cands[0][2]) if cands else None
        self.incumbent_latency = cands[0][0] if cands else None
        # generic bound: every node at its slowest allowed time, every call paying every charge
        tmax = np.where(allowed, t, 0.0).max(axis=1).sum() if n else 0.0
        cg = self.groups
        nsucc = np.bincount(cg.succ_item, minlength=len(cg.comm_node)) if len(cg.comm_node) else np.zeros(0)
        charges = np.minimum(self.num_slots, 1 + nsucc) if len(nsucc) else np.zeros(0)
        cmax = float((self.item_cost.max(axis=1, initial=0.0) * charges).sum()) if len(nsucc) else 0.0
        ub = tmax + cmax
        if cands:
            ub = min(ub, cands[0][0])
        if user_ub is not None:
            ub = min(ub, float(user_ub))
        self.path_bound = self._path_bound()
        self.lower_bound = max(self.lower_bound, self.path_bound)
        self.infeasible = math.isinf(self.lower_bound)
        if not self.infeasible:
            ub = max(ub, self.lower_bound)
        self.upper_bound = ub
        UB = ub * (1 + _UB_SLACK_REL) + _UB_SLACK_ABS
        self._UB = UB
        self.L_lb = np.minimum(lo, UB)
        self.L_ub = np.maximum(UB - tail_min, self.L_lb)
        self.T_lb = min(self.lower_bound, UB)

    def _paths(self) -> list[np.ndarray]:
        """A few long paths (node positions): the heaviest under CPU time, fastest
        time, accelerator time plus output cost, and memory. O(k (V + E))."""
        a = self.instance.arrays
        n = self.n
        if not n:
            return []
        t = self.node_time
        fin = np.isfinite(t)
        cpu = np.where(fin[:, self.cpu_classes], t[:, self.cpu_classes], np.inf).min(axis=1, initial=np.inf)
        acc = ~self.is_cpu
        fastest = np.where(fin, t, np.inf).min(axis=1)
        acc_t = np.where(fin[:, acc], t[:, acc], np.inf).min(axis=1, initial=np.inf)
        acc_c = self.node_comm[:, acc].max(axis=1, initial=0.0)
        weights = [cpu, fastest, acc_t + acc_c, a.memory]
        pos = {v: i for i, v in enumerate(a.ids)}
        topo = [pos[v] for v in self.instance.graph.topological_order()]
        preds = [[] for _ in range(n)]
        for s_, d_ in zip(a.src.tolist(), a.dst.tolist()):
            preds[d_].append(s_)
        paths = []
        for w in weights:
            w = np.where(np.isfinite(w), w, 0.0)
            best = np.zeros(n)
            arg = np.full(n, -1)
            for i in topo:
                if preds[i]:
                    p = max(preds[i], key=lambda u: best[u])
                    best[i], arg[i] = best[p] + w[i], p
                else:
                    best[i] = w[i]
            i = int(best.argmax())
            path = []
            while i >= 0:
                path.append(i)
                i = int(arg[i])
            paths.append(np.array(path[::-1], dtype=np.int64))
        return paths

    def _path_bound(self) -> float:
        """A lower bound on the latency from single paths: along a path, every CPU
        node adds its time and every stay on an accelerator class is a separate call
        (calls are convex) that adds its nodes' times, the path's input entering it
        and its output leaving it, holds at most one device's memory, and there are
        at most q * (accelerators) calls. The best segmentation of the path
        (dynamic program, O(len^2 * calls) with numpy) bounds the latency from below.
        ``inf`` when a path cannot be segmented at all (the instance is infeasible)."""
        classes = self.instance.topology.classes
        acc = [c for c in range(len(classes)) if not self.is_cpu[c] and classes[c].count > 0]
        calls = self.num_slots
        a = self.instance.arrays
        best = 0.0
        for path in self._paths():
            Lp = len(path)
            t = self.node_time[path]
            tc = t[:, self.cpu_classes]
            cpu = np.where(np.isfinite(tc), tc, np.inf).min(axis=1, initial=np.inf)
            mem = a.memory[path]
            pm = np.concatenate([[0.0], np.cumsum(mem)])
            f = np.full((Lp + 1, calls + 1), np.inf)
            f[0, 0] = 0.0
            prep = []
            for c in acc:
                tc = t[:, c]
                cap = np.inf if classes[c].memory is None else classes[c].memory * (1 + 1e-9)
                pa = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(tc), tc, 0.0))])
                bad = np.concatenate([[0], np.cumsum(~np.isfinite(tc))])
                prep.append((pa, bad, self.node_comm[path, c], cap))
            for b in range(Lp):
                f[b + 1] = f[b] + cpu[b]
                if not calls:
                    continue
                starts = np.arange(b + 1)
                for pa, bad, cost, cap in prep:
                    ok = (bad[b + 1] == bad[starts]) & (pm[b + 1] - pm[starts] <= cap)
                    s0 = starts[ok]
                    if not len(s0):
                        continue
                    seg = pa[b + 1] - pa[s0] + np.where(s0 > 0, cost[np.maximum(s0 - 1, 0)], 0.0)
                    seg = seg + (cost[b] if b < Lp - 1 else 0.0)
                    cand = (f[s0, :-1] + seg[:, None]).min(axis=0)
                    f[b + 1, 1:] = np.minimum(f[b + 1, 1:], cand)
            best = max(best, float(f[Lp].min()))
        return best

    # ------------------------------------------------------------------ build
    def build(self) -> Model:
        m = Model(f"latency_q{self.q}")
        self.model = m
        cg = self.groups
        G = cg.num_groups
        S = self.num_slots
        R = len(self.cpu_classes)
        n = self.n
        UB = self._UB
        a = self.instance.arrays

        self.x = m.add_variables("x", (G, S), ub=self.slot_ok.astype(float), binary=True)
        self.xc = m.add_variables("xc", (G, R), ub=self.cpu_ok.astype(float), binary=True)
        X = np.where(self.slot_ok, self.x.cols, -1)  # -1: impossible
        XC = np.where(self.cpu_ok, self.xc.cols, -1)
        self.X, self.XC = X, XC
        K = len(cg.comm_node)
        self.cin = m.add_variables("cin", (K, S), ub=1.0)
        self.cout = m.add_variables("cout", (K, S), ub=1.0)
        self.st = m.add_variables("st", S, lb=0.0, ub=UB)
        self.fin = m.add_variables("fin", S, lb=0.0, ub=UB)
        self.L = m.add_variables("L", n, lb=self.L_lb, ub=self.L_ub)
        self.T = m.add_variables("T", (), lb=self.T_lb, ub=UB)
        m.set_objective([self.T.start], [1.0])
        if self.infeasible:  # a path cannot be placed at all: say so to the solver
            m.add_constraints("path_bound", np.array([[self.T.start]]), 1.0, ">=", UB + 1.0)

        # assignment
        m.add_constraints("assign", np.concatenate([X, XC], axis=1), 1.0, "==", 1.0)
        self._memory(m, X)
        self._communication(m, X)
        self._times(m, X, XC)
        if self.convexity:
            self._convexity(m, X)
        if self.symmetry != "none":
            self._symmetry(m, X)
        self._ranks(m, X, XC)
        return m

    def _memory(self, m: Model, X: np.ndarray) -> None:
        cg = self.groups
        classes = self.instance.topology.classes
        rows, cols, coefs, caps = [], [], [], []
        r = 0
        for c, dc in enumerate(classes):
            if self.is_cpu[c] or dc.memory is None:
                continue
            for d in range(dc.count):
                slots = np.flatnonzero((self.slot_cls == c) & (self.slot_dev == d))
                sub = X[:, slots]
                gg, ss = np.nonzero(sub >= 0)
                if cg.memory[gg].sum() <= dc.memory:
                    continue  # cannot overflow
                rows.append(np.full(len(gg), r))
                cols.append(sub[gg, ss])
                scale = float(dc.memory) if dc.memory > 0 else 1.0  # rows in units of the capacity
                coefs.append(cg.memory[gg] / scale)
                caps.append(float(dc.memory) / scale)
                r += 1
        if r:
            m.add_rows(
                "memory", np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs), upper=np.array(caps)
            )

    def _communication(self, m: Model, X: np.ndarray) -> None:
        cg = self.groups
        S = self.num_slots
        J = len(cg.succ_item)
        self.edge_entry = None
        self.pair_entry = None
        if not (J and S):
            return
        k = np.repeat(cg.succ_item, S)
        h = np.repeat(cg.succ_group, S)
        s = np.tile(np.arange(S), J)
        gk = cg.comm_group[k]
        keep = X[h, s] >= 0  # the successor group can be in s
        cols = np.stack([self.cin.cols[k, s], X[h, s], X[gk, s]], axis=1)[keep]
        m.add_constraints("comm_in", cols, [[1.0, -1.0, 1.0]], ">=", 0.0)
        # entry[j, s] >= x[h_j, s] - x[g_kj, s]: pair j's output enters call s towards group h_j;
        # for an item with one successor group this is cin itself
        nsucc = np.bincount(cg.succ_item, minlength=len(cg.comm_node))
        multi = np.flatnonzero(nsucc[cg.succ_item] > 1)
        ent = np.where(self.slot_ok[cg.succ_group], self.cin.cols[cg.succ_item], -1)  # (J, S)
        if len(multi):
            self.entry = m.add_variables("entry", (len(multi), S), ub=1.0)
            jj = np.repeat(multi, S)
            ss = np.tile(np.arange(S), len(multi))
            ev = self.entry.cols.ravel()
            ok = X[cg.succ_group[jj], ss] >= 0
            rows = np.stack([ev, X[cg.succ_group[jj], ss], X[cg.comm_group[cg.succ_item[jj]], ss]], 1)[ok]
            m.add_constraints("entry", rows, [[1.0, -1.0, 1.0]], ">=", 0.0)
            ent[multi] = np.where(self.slot_ok[cg.succ_group[multi]], self.entry.cols, -1)
        self.pair_entry = ent
        # per graph edge between groups: its pair's entry columns
        a = self.instance.arrays
        pair_of = {(int(cg.comm_node[cg.succ_item[j]]), int(cg.succ_group[j])): j for j in range(J)}
        E = len(a.src)
        edge_entry = np.full((E, S), -1, dtype=np.int64)
        for e in range(E):
            j = pair_of.get((int(a.src[e]), int(a.group[a.dst[e]])))
            if j is not None:
                edge_entry[e] = ent[j]
        self.edge_entry = edge_entry
        cost = self.item_cost[k, self.slot_cls[s]]
        keep = (X[gk, s] >= 0) & (cost > 0)
        cols = np.stack([self.cout.cols[k, s], X[gk, s], X[h, s]], axis=1)[keep]
        m.add_constraints("comm_out", cols, [[1.0, -1.0, 1.0]], ">=", 0.0)
        # which (item, slot) pairs can have an input: used by the start rows
        can = np.zeros((len(cg.comm_node), S), dtype=bool)
        np.logical_or.at(can, (cg.succ_item[:, None], np.arange(S)[None, :]), X[cg.succ_group] >= 0)
        self.item_slot = can

    def _times(self, m: Model, X: np.ndarray, XC: np.ndarray) -> None:
        cg = self.groups
        a = self.instance.arrays
        S, n = self.num_slots, self.n
        K = len(cg.comm_node)
        UB = self._UB
        st, fin, L, T = self.st.cols, self.fin.cols, self.L.cols, self.T.start
        ng = a.group
        if S:
            # duration: fin - st - compute - comm = 0
            gg, ss = np.nonzero(X >= 0)
            tg = self.group_time[gg, self.slot_cls[ss]]
            kk, ks = np.meshgrid(np.arange(K), np.arange(S), indexing="ij")
            kk, ks = kk.ravel(), ks.ravel()
            ck = self.item_cost[kk, self.slot_cls[ks]] if K else np.zeros(0)
            pos = ck > 0
            rows = np.concatenate([np.arange(S), np.arange(S), ss, ks[pos], ks[pos]])
            cin, cout = self.cin.cols[kk[pos], ks[pos]], self.cout.cols[kk[pos], ks[pos]]
            cols = np.concatenate([fin, st, X[gg, ss], cin, cout])
            coefs = np.concatenate([np.ones(S), -np.ones(S), -tg, -ck[pos], -ck[pos]])
            m.add_rows("duration", rows, cols, coefs, lower=0.0, upper=0.0, num_rows=S)
            # order of the calls of one device
            nxt = np.flatnonzero(self.slot_pos[1:] > 0) + 1 if S > 1 else np.zeros(0, dtype=np.int64)
            if len(nxt):
                m.add_constraints("order", np.stack([st[nxt], fin[nxt - 1]], 1), [[1.0, -1.0]], ">=", 0.0)
            # finish: L[i] >= fin[s] - Mf (1 - x[g_i, s])
            ii, ss = np.nonzero(X[ng] >= 0)
            Mf = np.maximum(UB - self.L_lb[ii], 0.0)
            cols = np.stack([L[ii], fin[ss], X[ng[ii], ss]], 1)
            coefs = np.stack([np.ones(len(ii)), -np.ones(len(ii)), -Mf], 1)
            m.add_constraints("finish", cols, coefs, ">=", -Mf)
            # start: st[s] >= L[u] - Mu (1 - cin[k, s])
            if K:
                kk, ss = np.nonzero(self.item_slot)
                u = cg.comm_node[kk]
                Mu = self.L_ub[u]
                cols = np.stack([st[ss], L[u], self.cin.cols[kk, ss]], 1)
                coefs = np.stack([np.ones(len(kk)), -np.ones(len(kk)), -Mu], 1)
                m.add_constraints("start", cols, coefs, ">=", -Mu)
            m.add_constraints("last_call", np.stack([np.full(S, T), fin], 1), [[1.0, -1.0]], ">=", 0.0)
        # arcs p -> i: L[i] >= L[p] + sum_r t_r(i) xc[g_i, r]
        #   + sum_s (t_s(i) + c_s(p)) * [p's output enters i's call s]   (edges between groups)
        src, dst = a.src, a.dst
        if len(src):
            tc = self.node_time[dst][:, self.cpu_classes]
            xcols = XC[ng[dst]]
            E = len(src)
            cols = [L[dst][:, None], L[src][:, None], xcols]
            coefs = [np.ones((E, 1)), -np.ones((E, 1)), -np.where(xcols >= 0, tc, 0.0)]
            if S and self.edge_entry is not None:
                ent = self.edge_entry  # (E, S) column of "p's output enters call s towards i's group"; -1 none
                ts = self.node_time[dst][:, self.slot_cls]
                cs = self.node_comm[src][:, self.slot_cls]
                cols.append(ent)
                coefs.append(-np.where(ent >= 0, np.where(np.isfinite(ts), ts, 0.0) + cs, 0.0))
            m.add_constraints("arc", np.concatenate(cols, 1), np.concatenate(coefs, 1), ">=", 0.0)
        # head: L[i] >= sum_m A_m(i) [mode]
        head = self.head if self.path_cuts else self.node_time
        mode_cols = np.concatenate([X[ng], XC[ng]], 1)  # (n, S + R)
        mode_cls = np.concatenate([self.slot_cls, self.cpu_classes])
        hv = head[:, mode_cls]
        hv = np.where(mode_cols >= 0, hv, 0.0)
        m.add_constraints("head", np.concatenate([L[:, None], mode_cols], 1),
                          np.concatenate([np.ones((n, 1)), -hv], 1), ">=", 0.0)
        # tail: T >= L[i] + sum_m D_m(i) [mode]   (sinks only without path cuts)
        tv = np.where(mode_cols >= 0, self.tail[:, mode_cls], 0.0)
        rows_i = np.arange(n) if self.path_cuts else np.flatnonzero(np.bincount(src, minlength=n) == 0)
        if not self.path_cuts:
            tv = np.zeros_like(tv)
        cols = np.concatenate([np.full((n, 1), T), L[:, None], mode_cols], 1)[rows_i]
        coefs = np.concatenate([np.ones((n, 1)), -np.ones((n, 1)), -tv], 1)[rows_i]
        m.add_constraints("tail", cols, coefs, ">=", 0.0)

    def _convexity(self, m: Model, X: np.ndarray) -> None:
        """The paper's z rows per call, on the node graph (a colour class on CPUs is
        not a unit there, so the contracted graph would be too strict):
        z[i, s] >= x[g_i, s]; z[v, s] <= z[u, s]; z[v, s] <= x[g_v, s] - x[g_u, s] + 1."""
        a = self.instance.arrays
        G, S = X.shape
        if not S:
            return
        ng = a.group
        XN = X[ng]  # (n, S)
        self.z = m.add_variables("z", (self.n, S), ub=1.0)
        zc = self.z.cols
        m.add_constraints("convex_cover", np.stack([zc.ravel(), XN.ravel()], 1), [[1.0, -1.0]], ">=", 0.0)
        u, v = a.src, a.dst
        if len(u):
            m.add_constraints("convex_down", np.stack([zc[v].ravel(), zc[u].ravel()], 1), [[1.0, -1.0]], "<=", 0.0)
            cross = ng[u] != ng[v]
            u, v = u[cross], v[cross]
            m.add_constraints("convex_exit", np.stack([zc[v].ravel(), XN[v].ravel(), XN[u].ravel()], 1),
                              [[1.0, -1.0, 1.0]], "<=", 1.0)

    def _group_rank(self) -> np.ndarray:
        """rank[g]: position of group g in a topological order (by its earliest node)."""
        a = self.instance.arrays
        pos = {v: i for i, v in enumerate(a.ids)}
        first = np.full(self.groups.num_groups, np.iinfo(np.int64).max)
        for t, v in enumerate(self.instance.graph.topological_order()):
            g = a.group[pos[v]]
            first[g] = min(first[g], t)
        rank = np.empty_like(first)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        return rank

    def _symmetry(self, m: Model, X: np.ndarray) -> None:
        """Rows that keep one of many equivalent solutions: the calls of a device are
        used from position 0 on, and identical accelerators (one class) are ordered --
        by the earliest group (topological rank) they hold ("index"), or by the start
        of their first call ("start")."""
        G, S = X.shape
        if not S:
            return
        st = self.st.cols
        nxt = np.flatnonzero(self.slot_pos > 0)
        if len(nxt):  # call j+1 of a device is used only if call j is
            cols = np.concatenate([X[:, nxt - 1].T, X[:, nxt].T], 1)
            coefs = np.concatenate([np.full((len(nxt), G), float(G)), -np.ones((len(nxt), G))], 1)
            m.add_constraints("calls_in_order", cols, coefs, ">=", 0.0)
        if self.symmetry == "start":
            first = np.flatnonzero(self.slot_pos == 0)
            pairs = [(s1, s2) for s1, s2 in zip(first[:-1], first[1:]) if self.slot_cls[s1] == self.slot_cls[s2]]
            if pairs:  # identical accelerators sorted by the start of their first call
                p = np.array(pairs)
                m.add_constraints("devices_in_order", np.stack([st[p[:, 1]], st[p[:, 0]]], 1), [[1.0, -1.0]], ">=", 0.0)
            return
        # "index": device d+1 holds group g only if device d holds a group of lower rank.
        # held[t, d] = number of groups of rank <= t on device d (continuous, cumulative).
        rank = self._group_rank()
        by_rank = np.argsort(rank)
        q = self.q
        for c in np.unique(self.slot_cls):
            D = int(self.slot_dev[self.slot_cls == c].max()) + 1
            if D < 2:
                continue
            slots = np.stack([np.flatnonzero((self.slot_cls == c) & (self.slot_dev == d)) for d in range(D)])  # (D, q)
            Xd = X[by_rank][:, slots]  # (G, D, q) in rank order
            held = m.add_variables(f"held_{c}", (G, D), lb=0.0)
            h = held.cols
            prev = np.concatenate([np.full((1, D), -1), h[:-1]], 0)  # held[t-1] (none for t = 0)
            cols = np.concatenate([h[:, :, None], prev[:, :, None], Xd], 2).reshape(G * D, 2 + q)
            coefs = np.concatenate([np.ones((G * D, 1)), -np.ones((G * D, 1)), -np.ones((G * D, q))], 1)
            m.add_constraints(f"held_sum_{c}", cols, coefs, "==", 0.0)
            cols = np.concatenate([Xd[:, 1:, :], prev[:, :-1, None]], 2).reshape(G * (D - 1), q + 1)
            coefs = np.concatenate([np.ones((G * (D - 1), q)), -np.ones((G * (D - 1), 1))], 1)
            m.add_constraints(f"devices_in_order_{c}", cols, coefs, "<=", 0.0)

    def _ranks(self, m: Model, X: np.ndarray, XC: np.ndarray) -> None:
        """Rank rows that forbid cycles of zero-duration calls (module docstring)."""
        cg = self.groups
        a = self.instance.arrays
        S, n = self.num_slots, self.n
        self.rank_nodes = np.zeros(0, dtype=np.int64)
        if not S:
            return
        zero_group = (self.group_time[:, self.slot_cls] == 0) & (X >= 0)
        if not zero_group.any():
            return
        ng = a.group
        t = self.node_time
        H = np.flatnonzero((np.where(np.isfinite(t), t, np.inf) == 0).any(axis=1))
        if not len(H):
            return
        self.rank_nodes = H
        Rk = float(n + S + 1)
        self.rank_max = Rk
        where = np.full(n, -1, dtype=np.int64)
        where[H] = np.arange(len(H))
        rho = m.add_variables("rho", len(H), ub=Rk)
        sigma = m.add_variables("sigma", S, ub=Rk - 1)
        self.rho, self.sigma = rho, sigma
        # R1: edges inside H
        src, dst = a.src, a.dst
        e = np.flatnonzero((where[src] >= 0) & (where[dst] >= 0))
        if len(e):
            i, p = dst[e], src[e]
            xcols = XC[ng[i]]
            zero_cpu = (t[i][:, self.cpu_classes] == 0) & (xcols >= 0)
            cols = np.concatenate(
                [rho.cols[where[i]][:, None], rho.cols[where[p]][:, None], np.where(zero_cpu, xcols, -1)], 1
            )
            coefs = np.concatenate([np.ones((len(e), 1)), -np.ones((len(e), 1)), -np.ones(xcols.shape)], 1)
            m.add_constraints("rank_arc", cols, coefs, ">=", 0.0)
        # R2: members of a call
        ii, ss = np.nonzero((X[ng[H]] >= 0) & (t[H][:, self.slot_cls] == 0))
        if len(ii):
            i = H[ii]
            cols = np.stack([rho.cols[ii], sigma.cols[ss], X[ng[i], ss]], 1)
            m.add_constraints("rank_member", cols, [[1.0, -1.0, -Rk]], ">=", 1.0 - Rk)
        # R3: zero-cost inputs of a call
        K = len(cg.comm_node)
        if K and hasattr(self, "item_slot"):
            kk, ss = np.nonzero(self.item_slot & (self.item_cost[:, self.slot_cls] == 0))
            u = cg.comm_node[kk]
            keep = where[u] >= 0
            kk, ss, u = kk[keep], ss[keep], u[keep]
            if len(kk):
                cols = np.stack([sigma.cols[ss], rho.cols[where[u]], self.cin.cols[kk, ss]], 1)
                m.add_constraints("rank_input", cols, [[1.0, -1.0, -Rk]], ">=", -Rk)
        # R4: order of the calls of one device
        nxt = np.flatnonzero(self.slot_pos > 0)
        if len(nxt):
            pairs = np.stack([sigma.cols[nxt], sigma.cols[nxt - 1]], 1)
            m.add_constraints("rank_order", pairs, [[1.0, -1.0]], ">=", 1.0)

    # ----------------------------------------------------------------- decode
    def _choice(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per group: the chosen column index among [slots..., cpu classes...]."""
        values = np.asarray(values)
        cols = np.concatenate([self.X, self.XC], 1)
        chosen = np.where(cols >= 0, values[np.maximum(cols, 0)], -1.0)
        return chosen.argmax(axis=1), cols

    def _slot_device(self, s: int) -> Device:
        cls = self.instance.topology.classes[int(self.slot_cls[s])].name
        return Device(cls, int(self.slot_dev[s]))

    def decode_subgraphs(self, values: np.ndarray) -> dict:
        """node id -> (device, call index) for accelerator nodes, (Device(cpu class, 0),
        None) for CPU nodes; call indices are 0, 1, ... per device in order. O(n + G*S)."""
        pick, _ = self._choice(values)
        S = self.num_slots
        classes = self.instance.topology.classes
        used: dict[Device, set] = {}
        for g, p in enumerate(pick.tolist()):
            if p < S:
                used.setdefault(self._slot_device(p), set()).add(int(self.slot_pos[p]))
        rank = {d: {j: r for r, j in enumerate(sorted(js))} for d, js in used.items()}
        ids = self.instance.arrays.ids
        out = {}
        for g, p in enumerate(pick.tolist()):
            if p < S:
                d = self._slot_device(p)
                val = (d, rank[d][int(self.slot_pos[p])])
            else:
                val = (Device(classes[int(self.cpu_classes[p - S])].name, 0), None)
            for i in self.groups.members[g]:
                out[ids[i]] = val
        return {v: out[v] for v in ids}

    def decode(self, values: np.ndarray) -> Placement:
        """The placement (node -> device) of a solution; CPU nodes on index 0. O(n + G*S)."""
        return Placement({v: d for v, (d, _) in self.decode_subgraphs(values).items()})

    # ----------------------------------------------------------------- encode
    def encode(self, placement: Placement) -> np.ndarray | None:
        """A MIP start for ``placement``, split by the evaluator (fewest calls); None
        when infeasible for q, worse than the model's upper bound or not representable."""
        rep = evaluate_latency(self.instance, placement, max_subgraphs=self.q)
        if not rep.feasible:
            return None
        return self.encode_subgraphs(rep.assignment())

    def encode_subgraphs(self, assignment) -> np.ndarray | None:
        """A MIP start for an explicit split (node -> (device, call index), as
        :func:`placement_ilp.evaluation.latency.evaluate_latency_with_subgraphs` takes it), or
        None when it is infeasible, has more than q calls on a device, or scores
        above the model's upper bound. O(model size)."""
        if self.model is None:
            self.build()
        m = self.model
        inst, cg = self.instance, self.groups
        rep = evaluate_latency_with_subgraphs(inst, assignment, max_subgraphs=self.q)
        if not rep.feasible:
            return None
        a = inst.arrays
        ids = a.ids
        pos = {v: i for i, v in enumerate(ids)}
        names = inst.topology.class_names
        S = self.num_slots
        vals = np.zeros(m.num_cols)
        # devices of a class renumbered: used ones by the start of their first call, then unused
        by_dev: dict[Device, list] = {}
        for s in rep.subgraphs:
            by_dev.setdefault(s.device, []).append(s)
        slot_of: dict[tuple[Device, int], int] = {}
        rank = self._group_rank()
        g_of = {v: int(a.group[i]) for i, v in enumerate(ids)}
        st = np.zeros(S)
        fin = np.zeros(S)
        for c, dc in enumerate(inst.topology.classes):
            if self.is_cpu[c]:
                continue
            devs = [Device(dc.name, i) for i in range(dc.count)]
            if self.symmetry == "start":
                used = sorted((d for d in devs if d in by_dev), key=lambda d: (by_dev[d][0].start, d.index))
            elif self.symmetry == "index":
                def lowest(d):
                    return min(rank[g_of[v]] for call in by_dev[d] for v in call.nodes)

                used = sorted((d for d in devs if d in by_dev), key=lowest)
            else:
                used = [d for d in devs if d in by_dev]
            order = used + [d for d in devs if d not in by_dev]
            floor = 0.0
            for new, d in enumerate(order):
                base = np.flatnonzero((self.slot_cls == c) & (self.slot_dev == new))
                calls = by_dev.get(d, [])
                prev = floor
                for j, s in enumerate(base):
                    if j < len(calls):
                        slot_of[(d, calls[j].index)] = s
                        st[s], fin[s] = calls[j].start, calls[j].finish
                        prev = calls[j].finish
                        if j == 0:
                            floor = max(floor, calls[j].start)
                    else:
                        st[s] = fin[s] = prev
        vals[self.st.cols] = st
        vals[self.fin.cols] = fin
        slot_val = np.full(cg.num_groups, -1)
        cpu_val = np.full(cg.num_groups, -1)
        cpu_pos = {int(c): r for r, c in enumerate(self.cpu_classes)}
        full = rep.assignment()
        for g, members in enumerate(cg.members):
            d, j = full[ids[members[0]]]
            if self.is_cpu[names.index(d.cls)]:
                cpu_val[g] = cpu_pos[names.index(d.cls)]
            else:
                slot_val[g] = slot_of[(d, j)]
        Xv = np.zeros((cg.num_groups, S))
        for g in range(cg.num_groups):
            if slot_val[g] >= 0:
                if self.X[g, slot_val[g]] < 0:
                    return None
                vals[self.X[g, slot_val[g]]] = 1.0
                Xv[g, slot_val[g]] = 1.0
            else:
                if self.XC[g, cpu_val[g]] < 0:
                    return None
                vals[self.XC[g, cpu_val[g]]] = 1.0
        K = len(cg.comm_node)
        if K and S:
            gk = cg.comm_group[cg.succ_item]
            h = cg.succ_group
            cin = np.zeros((K, S))
            cout = np.zeros((K, S))
            np.maximum.at(cin, cg.succ_item, np.maximum(Xv[h] - Xv[gk], 0.0))
            np.maximum.at(cout, cg.succ_item, np.maximum(Xv[gk] - Xv[h], 0.0))
            vals[self.cin.cols] = cin
            vals[self.cout.cols] = cout
            if hasattr(self, "entry"):
                nsucc = np.bincount(cg.succ_item, minlength=K)
                multi = np.flatnonzero(nsucc[cg.succ_item] > 1)
                vals[self.entry.cols] = np.maximum(Xv[h[multi]] - Xv[gk[multi]], 0.0)
        finish = np.array([rep.node_finish[v] for v in ids])
        vals[self.L.cols] = finish
        vals[self.T.start] = rep.latency
        if self.convexity and S:
            vals[self.z.cols] = self._ancestor_cover(Xv)
        if self.symmetry == "index":
            by_rank = np.argsort(rank)
            for c in np.unique(self.slot_cls):
                name = f"held_{c}"
                if name in m.blocks:
                    D = m.blocks[name].shape[1]
                    on = np.stack([Xv[:, (self.slot_cls == c) & (self.slot_dev == d)].sum(axis=1) for d in range(D)], 1)
                    vals[m.blocks[name].cols] = np.cumsum(on[by_rank], axis=0)
        if len(self.rank_nodes):
            rho, sigma = self._rank_values(Xv, slot_val)
            vals[self.rho.cols] = rho[self.rank_nodes]
            vals[self.sigma.cols] = sigma
        return vals if m.max_violation(vals) <= 1e-6 else None

    def _ancestor_cover(self, Xv: np.ndarray) -> np.ndarray:
        """z[i, s] = 1 when node i is in call s or reaches a node in s."""
        a = self.instance.arrays
        preds = [[] for _ in range(self.n)]
        for u, v in zip(a.src.tolist(), a.dst.tolist()):
            preds[v].append(u)
        z = Xv[a.group].copy()
        for s in range(Xv.shape[1]):
            stack = list(np.flatnonzero(z[:, s] > 0.5))
            while stack:
                v = stack.pop()
                for u in preds[v]:
                    if z[u, s] < 1.0:
                        z[u, s] = 1.0
                        stack.append(u)
        return z

    def _rank_values(self, Xv: np.ndarray, slot_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ranks from the longest path in the graph of calls (all slots, empty ones
        too, chained per device) and CPU nodes: rho = rank of a node's vertex,
        sigma = rank of the call - 1."""
        a = self.instance.arrays
        n, S = self.n, self.num_slots
        vert = np.where(slot_val[a.group] >= 0, slot_val[a.group], S + np.arange(n))
        V = S + n
        succ = [[] for _ in range(V)]
        indeg = np.zeros(V, dtype=np.int64)
        for u, v in zip(vert[a.src].tolist(), vert[a.dst].tolist()):
            if u != v:
                succ[u].append(v)
                indeg[v] += 1
        for s in range(1, S):
            if self.slot_pos[s] > 0:
                succ[s - 1].append(s)
                indeg[s] += 1
        r = np.ones(V)
        stack = [x for x in range(V) if indeg[x] == 0]
        while stack:
            x = stack.pop()
            for y in succ[x]:
                r[y] = max(r[y], r[x] + 1)
                indeg[y] -= 1
                if indeg[y] == 0:
                    stack.append(y)
        return r[vert], r[:S] - 1
