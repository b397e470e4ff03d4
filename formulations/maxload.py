"""Max-load (throughput) MILPs at the three contiguity levels of docs/model.md.

All three place colour groups (see ``placement_ilp.preprocess``) on *slots* and
share one load model; docs/formulations.md gives the mathematics with the same
names as the code.

- ``contiguity="none"``: one slot per device; assignment, memory, communication, loads.
- ``contiguity="convex"``: the paper's IP: the above plus ``z`` variables that keep each
  checked device's forward set convex.
- ``contiguity="pipeline"``: ordered stages. Stage ``s`` takes one device class
  (``w[s, c]``); ``y[g, t]`` says "group g is on positions 0..t" and must be an
  ideal of the forward graph for every t. Devices of unchecked classes (CPUs when
  ``cpu_contiguity=False``) keep fixed slots, and their groups take a position
  between two stages (``q``) so that paths through them still order the stages.

Links between pairs of classes or devices (``Topology.links``): each communication
column is charged at the cheapest rate its item can have on that slot, and
``excess`` columns add the rest, exactly for integer placements (``_link_excess``).
Device-pair links need ``none`` or ``convex``: pipeline stages know their class, not
which device they are.

Options: ``cpu_contiguity`` (contiguity constrains CPUs too; default True),
``objective`` ("sum": a device's forward plus backward load; "different-maxima":
max forward load + max backward load), ``overlap`` (a device's load is the larger
of its compute and its communication, instead of their sum).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from placement_ilp.errors import InputError
from placement_ilp.milp.model import Model
from placement_ilp.data.placement import Placement
from placement_ilp.data.preprocess import contract
from placement_ilp.data.topology import Device

from formulations.base import Builder, register

CONTIGUITY_LEVELS = ("pipeline", "convex", "none")


@dataclass(frozen=True)
class LoadTerms:
    """One load family without its target column: row ``rows[i]`` (a slot) has
    ``coefs[i] * column cols[i]``; the family reads ``sum <= target`` per slot."""

    name: str
    target: object  # the VarBlock of the target (T, TF or TB)
    rows: np.ndarray
    cols: np.ndarray
    coefs: np.ndarray

OBJECTIVES = ("sum", "different-maxima")


@register("maxload")
class MaxLoad(Builder):
    """Max-load MILP; see the module docstring. Build: O(G*S*C + J*S*C + A*S) rows
    for G groups, S slots, C classes, J (item, successor group) pairs and A forward arcs;
    links add at most 2*J*P*Q excess rows (P pairs, Q distinct link rates of a pair).
    InputError at pipeline when a device-pair link changes a cost.

    Example::

        b = MaxLoad(instance, contiguity="pipeline")
        model = b.build()
        placement = b.decode(solution_values)
    """

    def __init__(
        self,
        instance,
        contiguity: str = "pipeline",
        cpu_contiguity: bool = True,
        objective: str = "sum",
        overlap: bool = False,
    ) -> None:
        if contiguity not in CONTIGUITY_LEVELS:
            raise InputError(f"unknown contiguity {contiguity!r} (pipeline, convex or none)")
        if objective not in OBJECTIVES:
            raise InputError(f"unknown objective {objective!r} (sum or different-maxima)")
        super().__init__(
            instance, contiguity=contiguity, cpu_contiguity=cpu_contiguity, objective=objective, overlap=overlap
        )
        self.contiguity = contiguity
        self.cpu_contiguity = bool(cpu_contiguity)
        self.objective = objective
        self.overlap = bool(overlap)
        if contiguity == "pipeline" and instance.device_links_change_costs:
            raise InputError(
                "device-pair links need contiguity none or convex; use class-pair links (one class per server) "
                "for pipeline and the DP"
            )
        self.groups = contract(instance)
        classes = instance.topology.classes
        self.checked = np.array([self.cpu_contiguity or c.kind != "cpu" for c in classes], dtype=bool)
        self.pays = np.array([c.pays_communication for c in classes], dtype=bool)
        self.counts = np.array([c.count for c in classes], dtype=np.int64)

    # ------------------------------------------------------------------ build
    def build(self) -> Model:
        m = Model(f"maxload_{self.contiguity}")
        self.model = m
        self._slots(m)
        self._assignment(m)
        self._memory(m)
        self._communication(m)
        self._loads(m)
        if self.contiguity == "convex":
            self._convex(m)
        elif self.contiguity == "pipeline":
            self._pipeline(m)
        return m

    def _slots(self, m: Model) -> None:
        """Create the assignment variables and ``self.X[g, s, c]``: the column of
        "group g on slot s as class c" (-1 where impossible)."""
        cg = self.groups
        G, C = cg.supported.shape
        classes = self.instance.topology.classes
        if self.contiguity == "pipeline":
            S = int(self.counts[self.checked].sum())
            allowed = cg.supported & self.checked[None, :]
            stage = m.add_variables("x", (G, S, C), ub=np.broadcast_to(allowed[:, None, :], (G, S, C)), binary=True)
            w_ub = np.broadcast_to(self.checked & (self.counts > 0), (S, C))
            self.w = m.add_variables("w", (S, C), ub=w_ub, binary=True)
            fixed = [Device(c.name, i) for k, c in enumerate(classes) if not self.checked[k] for i in range(c.count)]
            self.num_stages = S
        else:
            stage = None
            fixed = self.instance.topology.devices()
            self.num_stages = 0
        fixed_cls = np.array([self.instance.topology.class_names.index(d.cls) for d in fixed], dtype=np.int64)
        F = len(fixed)
        xf = m.add_variables("xf" if stage is not None else "x", (G, F), ub=cg.supported[:, fixed_cls], binary=True)
        S = self.num_stages
        X = np.full((G, S + F, C), -1, dtype=np.int64)
        if stage is not None:
            X[:, :S, :] = np.where(allowed[:, None, :], stage.cols, -1)
        for f in range(F):
            c = fixed_cls[f]
            X[:, S + f, c] = np.where(cg.supported[:, c], xf.cols[:, f], -1)
        self.X = X
        self.fixed_devices = fixed
        self.slot_class = np.concatenate([np.full(S, -1, dtype=np.int64), fixed_cls])

    def _assignment(self, m: Model) -> None:
        G = self.X.shape[0]
        m.add_constraints("assign", self.X.reshape(G, -1), 1.0, "==", 1.0)

    def _memory(self, m: Model) -> None:
        cg = self.groups
        G, T, C = self.X.shape
        S = self.num_stages
        for c, dc in enumerate(self.instance.topology.classes):
            if dc.memory is None:
                continue
            slots = np.flatnonzero((self.slot_class == c) | (self.slot_class == -1))
            if not len(slots):
                continue
            cols = np.concatenate([self.X[:, slots, c].T, np.full((len(slots), 1), -1)], axis=1)
            coefs = np.concatenate([np.broadcast_to(cg.memory, (len(slots), G)), np.zeros((len(slots), 1))], axis=1)
            rhs = np.full(len(slots), float(dc.memory))
            is_stage = slots < S
            if is_stage.any():  # stage: memory <= M * w[s, c]
                cols[is_stage, -1] = self.w.cols[slots[is_stage], c]
                coefs[is_stage, -1] = -float(dc.memory)
                rhs[is_stage] = 0.0
            m.add_constraints(f"memory_{dc.name}", cols, coefs, "<=", rhs)

    def _communication(self, m: Model) -> None:
        """comm[k, p] >= 1 when item k's output crosses the boundary of slot-class
        pair p = (s, c): out of it (its group there, a successor group not) or into it."""
        cg = self.groups
        G, T, C = self.X.shape
        pairs = [
            (s, c)
            for s in range(T)
            for c in range(C)
            if self.pays[c] and self.slot_class[s] in (-1, c) and (self.X[:, s, c] >= 0).any()
        ]
        self.comm_pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        K, P = len(cg.comm_node), len(pairs)
        self.comm = m.add_variables("comm", (K, P), ub=1.0)
        # what comm[k, p] costs in the load rows: the class's own rate, or with links the
        # cheapest rate item k can be charged at on pair p (the rest is in ``excess``)
        self.comm_coef = cg.comm_cost[:, self.comm_pairs[:, 1]]
        self.excess = None
        self.class_of = None
        self.excess_rows: list[tuple[range, np.ndarray]] = []
        J = len(cg.succ_item)
        if not (J and P):
            return
        ps, pc = self.comm_pairs[:, 0], self.comm_pairs[:, 1]
        item = np.repeat(cg.succ_item, P)
        gu = cg.comm_group[item]
        h = np.repeat(cg.succ_group, P)
        s = np.tile(ps, J)
        c = np.tile(pc, J)
        comm = self.comm.cols[item, np.tile(np.arange(P), J)]
        for name, own, other in (("comm_out", gu, h), ("comm_in", h, gu)):
            pos = self.X[own, s, c]
            keep = pos >= 0
            cols = np.concatenate(
                [comm[keep, None], pos[keep, None], self.X[other[keep], s[keep], :]], axis=1
            )
            coefs = np.concatenate([np.ones((keep.sum(), 1)), -np.ones((keep.sum(), 1)), np.ones((keep.sum(), C))], 1)
            m.add_constraints(name, cols, coefs, ">=", 0.0)
        if self.instance.topology.links:
            self._link_excess(m)

    def _link_excess(self, m: Model) -> None:
        """Pairwise links: ``excess[k, p]`` >= what item k costs on pair p = (s, c)
        beyond ``comm_coef[k, p]``, the cheapest rate it can be charged at there.

        A *partner option* o is where the other end of a transfer may be: at none and
        convex another device (slot s2 != s, with its class), at pipeline a class c2
        (stages know only their class; "the other group is on class c2 but not on
        slot s" is ``cls[g, c2] - X[g, s, c2]``, with ``cls[g, c2] = sum_s X[g, s, c2]``,
        block ``class_of``). For each distinct positive v = cost(k, p, o) -
        comm_coef[k, p] (one per link that gives it) and successor group h of k:

            out: excess[k, p] >= v * (X[g_k, s, c] + sum_{o: cost(o) >= cost} [h at o] - 1)
            in:  excess[k, p] >= v * (X[h, s, c] + sum_{o: cost(o) >= cost} [g_k at o] - 1)

        The partner sum is written through its complement (``1 - sum_c2 X[., s, c2] -
        sum over the cheaper options``, by ``assign``) when that has fewer terms. For
        an integer placement the largest right-hand side is the extra cost of the
        slowest link the output takes (out) or of the link from the sender (in), and
        at most 0 when the item is not charged on p (docs/formulations.md section 2).
        """
        cg = self.groups
        inst = self.instance
        topo = inst.topology
        names = topo.class_names
        G, T, C = self.X.shape
        K, P = len(cg.comm_node), len(self.comm_pairs)
        by_class = self.contiguity == "pipeline"
        if by_class:  # options: classes; cls[g, c2] = sum_s X[g, s, c2]
            opt_c = np.flatnonzero((self.X >= 0).any(axis=(0, 1)))
            O = len(opt_c)
            self.class_of = m.add_variables("class_of", (G, O), ub=1.0)
            self.class_of_classes = opt_c
            member = self.X[:, :, opt_c].transpose(0, 2, 1).reshape(G * O, T)  # (g, c2) -> slots
            m.add_constraints("class_of_sum", np.concatenate([self.class_of.cols.reshape(-1, 1), member], 1),
                              [[1.0] + [-1.0] * T], "==", 0.0)
            opt_col = self.class_of.cols  # (G, O): the first term of "other at option o"
            reach = np.zeros((G, O), dtype=bool)
            reach[:] = (self.X[:, :, opt_c] >= 0).any(axis=1)
        else:  # options: (slot, class) of the other devices
            opt_s, opt_c = np.nonzero((self.X >= 0).any(axis=0))
            O = len(opt_s)
            opt_col = self.X[:, opt_s, opt_c]  # (G, O)
            reach = opt_col >= 0
        # the options item k can meet a partner on: where its group or a successor group may sit
        item_can = reach[cg.comm_group].copy()
        np.logical_or.at(item_can, cg.succ_item, reach[cg.succ_group])
        links: list = []  # the distinct links met (None: the class's own rate)
        vectors: dict[tuple[int, int], np.ndarray] = {}

        def cost_of(key: int, c: int) -> np.ndarray:  # per item, what class c pays over links[key]
            if (key, c) not in vectors:
                vectors[key, c] = inst.link_costs(links[key], names[c])[cg.comm_node]
            return vectors[key, c]

        ub = np.zeros((K, P))
        parts: dict[str, list] = {"out": [], "in": []}  # per family: (item, pair, cols, coefs, rhs) chunks
        for p, (s, c) in enumerate(self.comm_pairs.tolist()):
            if by_class:  # a partner of the same class needs a second device of it
                valid = (opt_c != c) | (self.counts[opt_c] >= 2)
            else:
                valid = opt_s != s
            keys = np.full(O, -1)
            for o in np.flatnonzero(valid):
                if by_class:
                    link = topo.class_link(names[c], names[int(opt_c[o])])
                else:
                    link = topo.link_between(self.fixed_devices[s], self.fixed_devices[int(opt_s[o])])
                if link not in links:
                    links.append(link)
                keys[o] = links.index(link)
            distinct = sorted(set(keys[valid].tolist()))
            if not distinct:
                continue
            cost = np.stack([cost_of(q, c) for q in distinct], axis=1)  # (K, Q)
            column = np.searchsorted(distinct, np.where(valid, keys, distinct[0]))  # option -> its key's column
            can = np.stack([(item_can & (keys == q)[None, :]).any(axis=1) for q in distinct], axis=1)
            least = np.where(can, cost, np.inf).min(axis=1)
            least = np.where(np.isfinite(least), least, cg.comm_cost[:, c])  # no partner: never charged
            self.comm_coef[:, p] = least
            for qi in range(len(distinct)):
                v = cost[:, qi] - least
                repeat = (can[:, :qi] & (cost[:, :qi] == cost[:, qi : qi + 1])).any(axis=1)
                active = can[:, qi] & (v > 0) & ~repeat
                if not active.any():
                    continue
                ub[:, p] = np.maximum(ub[:, p], np.where(active, v, 0.0))
                js = np.flatnonzero(active[cg.succ_item])
                k, h = cg.succ_item[js], cg.succ_group[js]
                vk = v[k][:, None]
                # per row: the options at least as costly as this link, and the cheaper ones
                costly = valid[None, :] & (cost[k][:, column] >= cost[k, qi][:, None])
                cheap = valid[None, :] & ~costly
                for family, own, other in (("out", cg.comm_group[k], h), ("in", h, cg.comm_group[k])):
                    own_x = self.X[own, s, c]
                    here = self.X[other, s, :]  # (rows, C): the other group on slot s
                    first = np.where(reach[other], opt_col[other], -1)  # (rows, O)
                    n_costly = (costly & reach[other]).sum(axis=1)
                    n_cheap = (cheap & reach[other]).sum(axis=1)
                    keep = (own_x >= 0) & (n_costly > 0)
                    use = ((n_cheap + (here >= 0).sum(axis=1) < n_costly) if not by_class
                           else (n_cheap < n_costly))[:, None]
                    if by_class:
                        # direct: -v own - v sum_costly (cls - X_s) >= -v; complement (the options
                        # left out are never a partner in an integer placement):
                        # -v own + v sum_{not cheap} X_s + v sum_cheap cls >= 0
                        second = here[:, opt_c]  # X[other, s, c2] for each option
                        cols = np.concatenate([
                            own_x[:, None],
                            np.where(use, np.where(cheap, first, -1), np.where(costly, first, -1)),
                            np.where(np.where(use, ~cheap, costly), second, -1),
                        ], 1)
                        coefs = np.concatenate([
                            -np.broadcast_to(vk, own_x[:, None].shape),
                            np.where(use, vk, -vk) * np.ones(first.shape),
                            np.broadcast_to(vk, second.shape),
                        ], 1)
                    else:
                        # direct: -v own - v sum_costly X_o >= -v;
                        # complement: -v own + v sum_c2 X_s + v sum_cheap X_o >= 0
                        cols = np.concatenate([
                            own_x[:, None],
                            np.where(use, here, -1),
                            np.where(use, np.where(cheap, first, -1), np.where(costly, first, -1)),
                        ], 1)
                        coefs = np.concatenate([
                            -np.broadcast_to(vk, own_x[:, None].shape),
                            np.broadcast_to(vk, here.shape),
                            np.where(use, vk, -vk) * np.ones(first.shape),
                        ], 1)
                    rhs = np.where(use[:, 0], 0.0, -v[k])
                    parts[family].append((k[keep], np.full(keep.sum(), p), cols[keep], coefs[keep], rhs[keep]))
        self.excess = m.add_variables("excess", (K, P), ub=ub)
        self.excess_ub = ub
        for family in ("out", "in"):
            chunks = parts[family]
            if not chunks:
                continue
            k = np.concatenate([ch[0] for ch in chunks])
            pp = np.concatenate([ch[1] for ch in chunks])
            width = max(ch[2].shape[1] for ch in chunks)
            cols = np.concatenate([np.pad(ch[2], ((0, 0), (0, width - ch[2].shape[1])), constant_values=-1)
                                   for ch in chunks])
            coefs = np.concatenate([np.pad(ch[3], ((0, 0), (0, width - ch[3].shape[1]))) for ch in chunks])
            rhs = np.concatenate([ch[4] for ch in chunks])
            e = self.excess.cols[k, pp]
            cols = np.concatenate([e[:, None], cols], 1)
            coefs = np.concatenate([np.ones((len(e), 1)), coefs], 1)
            rows = m.add_constraints(f"excess_{family}", cols, coefs, ">=", rhs)
            self.excess_rows.append((rows, e))

    def _loads(self, m: Model) -> None:
        cg = self.groups
        G, T, C = self.X.shape
        if self.objective == "sum":
            targets = [("", m.add_variables("T", (), lb=0.0), cg.time_fw + cg.time_bw, np.ones(len(cg.comm_node), bool))]
            m.set_objective([targets[0][1].start], [1.0])
        else:
            tf = m.add_variables("TF", (), lb=0.0)
            tb = m.add_variables("TB", (), lb=0.0)
            targets = [("_fw", tf, cg.time_fw, ~cg.comm_backward), ("_bw", tb, cg.time_bw, cg.comm_backward)]
            m.set_objective([tf.start, tb.start], [1.0, 1.0])
        self.load_families = []
        self.load_terms: list[LoadTerms] = []
        parts = (("compute", True, False), ("comm", False, True)) if self.overlap else (("", True, True),)
        for suffix, target, time, item_mask in targets:
            for part, with_compute, with_comm in parts:
                rows, cols, coefs = [], [], []
                if with_compute:
                    g, s, c = np.nonzero(self.X >= 0)
                    t = time[g, c]
                    keep = t > 0
                    rows.append(s[keep])
                    cols.append(self.X[g[keep], s[keep], c[keep]])
                    coefs.append(t[keep])
                if with_comm and len(self.comm_pairs):
                    k = np.flatnonzero(item_mask)
                    P = len(self.comm_pairs)
                    kk = np.repeat(k, P)
                    pp = np.tile(np.arange(P), len(k))
                    cost = self.comm_coef[kk, pp]
                    keep = cost > 0
                    rows.append(self.comm_pairs[pp[keep], 0])
                    cols.append(self.comm.cols[kk[keep], pp[keep]])
                    coefs.append(cost[keep])
                    if self.excess is not None:  # pairwise links: the excess over comm_coef
                        keep = self.excess_ub[kk, pp] > 0
                        rows.append(self.comm_pairs[pp[keep], 0])
                        cols.append(self.excess.cols[kk[keep], pp[keep]])
                        coefs.append(np.ones(keep.sum()))
                rows.append(np.arange(T))
                cols.append(np.full(T, target.start))
                coefs.append(-np.ones(T))
                name = "load" + suffix + ("_" + part if part else "")
                rows, cols, coefs = np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs)
                fam = m.add_rows(name, rows, cols, coefs, upper=0.0, num_rows=T)
                self.load_families.append((fam, target))
                # the load terms without the target, for builders that derive rows from them
                terms = cols != target.start
                self.load_terms.append(LoadTerms(name, target, rows[terms], cols[terms], coefs[terms]))

    def _convex(self, m: Model) -> None:
        """The paper's z constraints on every checked device d, for forward arcs (u, v):
        z[g,d] >= x[g,d]; z[v,d] <= z[u,d]; z[v,d] <= x[v,d] - x[u,d] + 1."""
        cg = self.groups
        G, D, C = self.X.shape
        slots = np.flatnonzero(self.checked[self.slot_class])
        self.z = m.add_variables("z", (G, len(slots)), ub=1.0)
        x = self.X[:, slots, :].max(axis=2)  # one class per fixed slot; -1 where impossible
        fwd = np.flatnonzero(cg.has_forward)
        zc = self.z.cols
        m.add_constraints(
            "convex_cover",
            np.stack([zc[fwd].ravel(), x[fwd].ravel()], 1),
            [[1.0, -1.0]],
            ">=",
            0.0,
        )
        u, v = cg.fw_src, cg.fw_dst
        m.add_constraints("convex_down", np.stack([zc[v].ravel(), zc[u].ravel()], 1), [[1.0, -1.0]], "<=", 0.0)
        m.add_constraints(
            "convex_exit",
            np.stack([zc[v].ravel(), x[v].ravel(), x[u].ravel()], 1),
            [[1.0, -1.0, 1.0]],
            "<=",
            1.0,
        )

    def _pipeline(self, m: Model) -> None:
        cg = self.groups
        G, T, C = self.X.shape
        S, F = self.num_stages, T - self.num_stages
        w = self.w.cols
        # a stage takes at most one class; a class at most its count of stages; used stages first
        m.add_constraints("stage_class", w, 1.0, "<=", 1.0)
        m.add_constraints("class_count", w.T, 1.0, "<=", self.counts.astype(float))
        if S > 1:
            m.add_constraints(
                "stages_in_order", np.concatenate([w[:-1], w[1:]], 1), [[1.0] * C + [-1.0] * C], ">=", 0.0
            )
        g, s, c = np.nonzero(self.X[:, :S, :] >= 0)
        m.add_constraints("stage_of_class", np.stack([self.X[g, s, c], w[s, c]], 1), [[1.0, -1.0]], "<=", 0.0)
        # positions: stages only, or stages interleaved with places for unchecked devices
        if F == 0:
            content = [self.X[:, t, :] for t in range(S)]
        else:
            self.q = m.add_variables("q", (G, S + 1), binary=True)
            free = self.X[:, S:, :].max(axis=2)  # (G, F)
            m.add_constraints(
                "place_of_unchecked",
                np.concatenate([self.q.cols, free], 1),
                [[1.0] * (S + 1) + [-1.0] * F],
                "==",
                0.0,
            )
            content = []
            for t in range(S):
                content += [self.q.cols[:, t : t + 1], self.X[:, t, :]]
            content.append(self.q.cols[:, S : S + 1])
        P = len(content)
        self.num_positions = P
        self.y = m.add_variables("y", (G, P), ub=1.0)
        y = self.y.cols
        width = max(c.shape[1] for c in content)
        for t, cols in enumerate(content):
            pad = np.full((G, width - cols.shape[1]), -1)
            prev = y[:, t - 1 : t] if t > 0 else np.full((G, 1), -1)
            m.add_constraints(
                f"prefix_{t}",
                np.concatenate([y[:, t : t + 1], prev, cols, pad], 1),
                [[1.0, -1.0] + [-1.0] * width],
                "==",
                0.0,
            )
        if P > 1 and len(cg.order_src):
            u, v = cg.order_src, cg.order_dst
            m.add_constraints(
                "ideal", np.stack([y[v, : P - 1].ravel(), y[u, : P - 1].ravel()], 1), [[1.0, -1.0]], "<=", 0.0
            )

    # ----------------------------------------------------------------- decode
    def decode(self, values: np.ndarray) -> Placement:
        values = np.asarray(values)
        X = self.X
        G, T, C = X.shape
        chosen = np.where(X >= 0, values[np.maximum(X, 0)], 0.0)
        flat = chosen.reshape(G, -1).argmax(axis=1)
        slot, cls = np.divmod(flat, C)
        names = self.instance.topology.class_names
        stage_device: dict[int, Device] = {}
        rank = {c: 0 for c in range(C)}
        for s in sorted(set(int(x) for x in slot if x < self.num_stages)):
            c = int(cls[slot == s][0])
            stage_device[s] = Device(names[c], rank[c])
            rank[c] += 1
        devices = [
            stage_device[int(s)] if s < self.num_stages else self.fixed_devices[int(s) - self.num_stages]
            for s in slot
        ]
        return self.groups.placement(devices)

    # ----------------------------------------------------------------- encode
    def encode(self, placement: Placement) -> np.ndarray | None:
        """Column values for ``placement``, or None when the formulation cannot hold
        it (a colour class split, a class of device it may not use, or a placement
        that is not contiguous at this formulation's level)."""
        if self.model is None:
            self.build()
        m = self.model
        cg = self.groups
        G, T, C = self.X.shape
        S = self.num_stages
        names = self.instance.topology.class_names
        devs = cg.group_devices(placement)
        for gi, members in enumerate(cg.members):
            ids = self.instance.arrays.ids
            if any(placement.device_of(ids[i]) != devs[gi] for i in members):
                return None
        vals = np.zeros(m.num_cols)
        slot_of: dict[Device, int] = {d: S + f for f, d in enumerate(self.fixed_devices)}
        if self.contiguity == "pipeline":
            order = self._stage_order(devs)
            if order is None or len(order) > S:
                return None
            for s, d in enumerate(order):
                slot_of[d] = s
                vals[self.w.cols[s, names.index(d.cls)]] = 1.0
        on = np.zeros((G, T))
        for gi, d in enumerate(devs):
            s, c = slot_of.get(d, -1), names.index(d.cls)
            if s < 0 or self.X[gi, s, c] < 0:
                return None
            vals[self.X[gi, s, c]] = 1.0
            on[gi, s] = 1.0
        Xv = np.where(self.X >= 0, vals[np.maximum(self.X, 0)], 0.0)
        if len(self.comm_pairs) and len(cg.succ_item):
            ps, pc = self.comm_pairs[:, 0], self.comm_pairs[:, 1]
            gu = cg.comm_group[cg.succ_item][:, None]
            h = cg.succ_group[:, None]
            crossing = np.maximum(Xv[gu, ps, pc] - on[h, ps], Xv[h, ps, pc] - on[gu, ps])
            comm = np.zeros((len(cg.comm_node), len(ps)))
            np.maximum.at(comm, cg.succ_item, np.maximum(crossing, 0.0))
            vals[self.comm.cols] = comm
        if self.class_of is not None:
            vals[self.class_of.cols] = Xv[:, :, self.class_of_classes].sum(axis=1)
        if self.excess_rows:  # each excess at the largest right-hand side of its rows
            activity = m.row_activity(vals)
            for rows, e in self.excess_rows:
                need = m.row_lower[rows.start : rows.stop] - activity[rows.start : rows.stop]
                np.maximum.at(vals, e, np.maximum(need, 0.0))
        if self.contiguity == "convex":
            cover = self._ancestor_cover(on[:, np.flatnonzero(self.checked[self.slot_class])])
            if cover is None:
                return None
            vals[self.z.cols] = cover
        if self.contiguity == "pipeline":
            content, places = self._positions(devs, slot_of, on)
            vals[self.y.cols] = np.cumsum(content, axis=1)
            if places is not None:
                vals[self.q.cols] = places
        self._encode_extra(vals, on)
        for fam, target in self.load_families:
            vals[target.start] = 0.0
        activity = m.row_activity(vals)  # each load row's value with every target at 0
        for fam, target in self.load_families:
            vals[target.start] = max(vals[target.start], activity[fam.start : fam.stop].max(initial=0.0))
        return vals if m.max_violation(vals) <= 1e-6 else None

    def _encode_extra(self, vals: np.ndarray, on: np.ndarray) -> None:
        """Hook for subclasses: fill the columns they add, given ``on[g, slot]``."""

    def _ancestor_cover(self, on: np.ndarray) -> np.ndarray | None:
        """z[g, d] = 1 when g is on d or a forward ancestor of a group on d (None when
        the contracted forward graph has a cycle)."""
        cg = self.groups
        g = nx.DiGraph()
        g.add_nodes_from(range(cg.num_groups))
        g.add_edges_from(zip(cg.fw_src.tolist(), cg.fw_dst.tolist()))
        z = on.copy()
        try:
            order = list(nx.topological_sort(g))
        except nx.NetworkXUnfeasible:  # contracted colour classes form a cycle
            return None
        for v in reversed(order):
            for w in g.successors(v):
                z[v] = np.maximum(z[v], z[w])
        return z

    def _stage_order(self, devs: list[Device]) -> list[Device] | None:
        """Checked devices in an order that every forward arc respects (paths through
        unchecked devices included), or None if there is none."""
        cg = self.groups
        names = self.instance.topology.class_names
        checked = [self.checked[names.index(d.cls)] for d in devs]
        node = [devs[g] if checked[g] else ("group", g) for g in range(cg.num_groups)]
        h = nx.DiGraph()
        h.add_nodes_from(devs[g] for g in range(cg.num_groups) if checked[g])
        for u, v in zip(cg.order_src.tolist(), cg.order_dst.tolist()):
            if node[u] != node[v]:
                h.add_edge(node[u], node[v])
        try:
            order = list(nx.topological_sort(h))
        except nx.NetworkXUnfeasible:
            return None
        self._h_order = order
        return [d for d in order if isinstance(d, Device)]

    def _positions(self, devs, slot_of, on) -> tuple[np.ndarray, np.ndarray | None]:
        """Per group, a 0/1 row over positions marking where it sits, and the values
        of ``q`` (None when there are no unchecked devices). Uses the order found by
        :meth:`_stage_order`: a group on an unchecked device sits just after the
        last stage that precedes it there."""
        G, S = len(devs), self.num_stages
        if self.num_positions == S:
            return on[:, :S], None
        position, seen = {}, 0
        for item in self._h_order:
            if isinstance(item, Device):
                seen = slot_of[item] + 1
            else:
                position[item[1]] = seen
        content = np.zeros((G, self.num_positions))
        places = np.zeros((G, S + 1))
        for g, d in enumerate(devs):
            s = slot_of[d]
            if s < S:
                content[g, 2 * s + 1] = 1.0
            else:
                j = position.get(g, 0)
                content[g, 2 * j] = 1.0
                places[g, j] = 1.0
        return content, places
