"""The strong max-load MILP: ``MaxLoad`` plus valid rows that lift its LP bound
and cut symmetric copies of solutions. Registered as "maxload-strong".

The placements it admits, and their values, are those of ``MaxLoad`` at the same
contiguity level; the extra rows only remove fractional points, copies of a
solution that differ by a renaming of identical devices or stages, and (when an
``upper_bound`` is given) solutions worse than a placement already known.
docs/formulations.md, section 10, states each row and why it is valid:

- ``class_capacity`` (pipeline): the class-c part of all stage loads is at most
  ``n_c`` times the target, because at most ``n_c`` stages take class c.
- ``stage_capacity`` (pipeline, with ``upper_bound`` U): the class-c part of stage
  s is at most ``U * w[s, c]``; this ties the class choice to the stage's load.
- ``target_cap`` (pipeline, with U): the target is at most U.

At none and convex the model is ``MaxLoad``'s (plus the ordering rows when asked):
there ``target_cap`` and a floor on the target made HiGHS slower. The floor
(target >= the largest group's cheapest time, and >= the cheapest total work over
the devices) is left out everywhere: with ``class_capacity`` it led HiGHS 1.16 to a
wrong optimum (docs/formulations.md section 10).
- ``pigeonhole_floor`` (none and convex, objective sum): the target is at least
  ``placement_ilp.bounds.combinatorial.pigeonhole_floor`` (some device must hold j + 1 of the
  large groups), when that is above the LP's work bound (``bounds.work_bound``).
- ``proven_bound`` (every level, objective sum, with ``lower_bound`` L): the target
  is at least L, a bound proven outside the model (the configuration bound of
  ``placement_ilp.bounds.configuration``, which ``solve(..., root_bound=
  "configuration")`` computes); docs/formulations.md section 11.
- ``first_count`` / ``order_devices`` (none and convex, ``symmetry=True``):
  identical devices of a class open in the order of the first group they hold,
  groups taken largest work first.
"""

from __future__ import annotations

import numpy as np

from placement_ilp.bounds.combinatorial import pigeonhole_floor, work_bound
from placement_ilp.errors import InputError
from placement_ilp.milp.model import Model
from placement_ilp.data.placement import Placement

from formulations.base import register
from formulations.maxload import MaxLoad


@register("maxload-strong")
class StrongMaxLoad(MaxLoad):
    """``MaxLoad`` with valid inequalities, a known upper bound and symmetry breaking.

    upper_bound: the value of a feasible placement (for example the DP's or a
        heuristic's); enables ``stage_capacity`` and ``target_cap``. ``solve``
        computes one itself when a warm start is given or found.
    lower_bound: a value every placement at this level is proven to reach (for
        example the configuration bound); adds ``proven_bound``, target >= it.
        Objective "sum" only. A wrong one shows: the evaluator's value of the
        solver's placement falls below the solver's optimum (FormulationError).
    symmetry: add the device-ordering rows in none and convex (off by default:
        HiGHS finds the symmetry of identical devices itself, and on the paper's
        workloads the rows did not help; docs/formulations.md section 10).

    Build: MaxLoad's rows plus O(S*C) stage rows (O(G*S*C) entries) in pipeline,
    or O(G*D) ordering rows and columns in none/convex (D devices).

    Example::

        b = StrongMaxLoad(instance, contiguity="pipeline", upper_bound=33.8)
        model = b.build()
    """

    def __init__(self, instance, contiguity: str = "pipeline", *, upper_bound: float | None = None,
                 lower_bound: float | None = None, symmetry: bool = False, **options) -> None:
        super().__init__(instance, contiguity, **options)  # options: cpu_contiguity, objective, overlap
        for name, value in (("upper_bound", upper_bound), ("lower_bound", lower_bound)):
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
        if lower_bound is not None and self.objective != "sum":
            raise InputError(f"lower_bound needs the objective sum, not {self.objective!r}")
        self.upper_bound = None if upper_bound is None else float(upper_bound)
        self.lower_bound = None if lower_bound is None else float(lower_bound)
        self.symmetry = bool(symmetry)
        self.floor: float | None = None  # the pigeonhole floor, when its row is added
        self.options.update(upper_bound=self.upper_bound, lower_bound=self.lower_bound, symmetry=self.symmetry)

    def build(self) -> Model:
        m = super().build()
        m.name = f"maxload_strong_{self.contiguity}"
        if self.contiguity == "pipeline":
            # At none and convex these rows slowed HiGHS down (docs/formulations.md
            # section 10), so there the model is MaxLoad's, plus the optional ordering.
            if self.num_stages:
                self.col_class = self._column_classes(m)
                self._class_capacity(m)
                # HiGHS 1.16 restarts (presolve again after root reductions) returned
                # wrong optima on small models with class_capacity (docs/formulations.md
                # section 10); without restarts the answers are right
                self.highs_options["mip_allow_restart"] = False
                if self.upper_bound is not None:
                    self._stage_capacity(m)
            if self.upper_bound is not None:
                self._target_cap(m)
        else:
            self._pigeonhole_floor(m)
            if self.symmetry:
                self._order_devices(m)
        if self.lower_bound is not None and self.lower_bound > 0 and self.load_terms:
            target = self.load_terms[0].target.start
            m.add_rows("proven_bound", np.zeros(1, dtype=np.int64), np.array([target]), np.ones(1),
                       lower=self.lower_bound * (1 - 1e-9), num_rows=1)
        return m

    # -------------------------------------------------------------- helpers
    def _column_classes(self, m: Model) -> np.ndarray:
        """The device class each assignment or comm column belongs to (-1: other)."""
        col_class = np.full(m.num_cols, -1, dtype=np.int64)
        g, s, c = np.nonzero(self.X >= 0)
        col_class[self.X[g, s, c]] = c
        if len(self.comm_pairs):
            col_class[self.comm.cols] = self.comm_pairs[:, 1][None, :]
            if self.excess is not None:  # pairwise links: the excess over the cheapest rate
                col_class[self.excess.cols] = self.comm_pairs[:, 1][None, :]
        return col_class

    # ----------------------------------------------------------------- rows
    def _class_parts(self, slots_only: bool):
        """For each load family and class c: the family's class-c entries (rows are slots)."""
        for terms in self.load_terms:
            cls = self.col_class[terms.cols]
            for c in range(len(self.counts)):
                keep = cls == c
                if slots_only:
                    keep &= terms.rows < self.num_stages
                if keep.any():
                    yield terms, c, terms.rows[keep], terms.cols[keep], terms.coefs[keep]

    def _class_capacity(self, m: Model) -> None:
        """sum over slots of the class-c part of a load family <= n_c * target."""
        for terms, c, rows, cols, coefs in self._class_parts(slots_only=False):
            cc = np.append(cols, terms.target.start)
            cf = np.append(coefs, -float(self.counts[c]))
            m.add_rows(f"class_capacity_{terms.name}_{c}", np.zeros(len(cc), dtype=np.int64), cc, cf,
                       upper=0.0, num_rows=1)

    def _stage_capacity(self, m: Model) -> None:
        """class-c part of stage s's load family <= U * w[s, c] (U: the upper bound)."""
        S = self.num_stages
        U = self.upper_bound * (1 + 1e-9) + 1e-12
        for terms, c, rows, cols, coefs in self._class_parts(slots_only=True):
            r = np.concatenate([rows, np.arange(S)])
            cc = np.concatenate([cols, self.w.cols[:, c]])
            cf = np.concatenate([coefs, np.full(S, -U)])
            m.add_rows(f"stage_capacity_{terms.name}_{c}", r, cc, cf, upper=0.0, num_rows=S)

    def _target_cap(self, m: Model) -> None:
        """target <= U; under different-maxima TF + TB <= U."""
        U = self.upper_bound * (1 + 1e-9) + 1e-12
        cols = sorted({terms.target.start for terms in self.load_terms})
        m.add_rows("target_cap", np.zeros(len(cols), dtype=np.int64), cols, np.ones(len(cols)), upper=U,
                   num_rows=1)

    def _pigeonhole_floor(self, m: Model) -> None:
        """T >= F, the pigeonhole floor of ``placement_ilp.bounds`` (objective sum).

        Added only when F is above ``work_bound``, a value the LP relaxation always
        reaches; below it the row could not lift the LP and the model stays MaxLoad's."""
        if self.objective != "sum":
            return
        cg = self.groups
        floor = pigeonhole_floor(cg, upper=self.upper_bound)
        if not floor > work_bound(cg) * (1 + 1e-9):
            return
        self.floor = floor
        target = self.load_terms[0].target.start
        m.add_rows("pigeonhole_floor", np.zeros(1, dtype=np.int64), np.array([target]), np.ones(1),
                   lower=floor * (1 - 1e-9), num_rows=1)

    def _order_devices(self, m: Model) -> None:
        """Identical devices open in order (none and convex).

        For the devices d_0 .. d_{n-1} of a class and the groups g_0, g_1, ... that
        may run on it, largest work first, ``first[i, j]`` counts the groups among
        g_0..g_i on d_j; a group may go on d_j only if an earlier group is on
        d_{j-1}. Every placement has exactly one renaming of its devices that meets
        this (sort the used devices by their first group), so no value is lost.

        Devices named in a device-pair link are not interchangeable with the others
        of their class (renaming them changes transfer costs): they are left out, and
        only the unnamed devices of a class are ordered.
        """
        self.order_blocks = []
        named = self.instance.topology.named_devices
        for c in range(len(self.counts)):
            slots = np.array([s for s in np.flatnonzero(self.slot_class == c).tolist()
                              if self.fixed_devices[s - self.num_stages] not in named], dtype=np.int64)
            n = len(slots)
            if n < 2:
                continue
            x = self.X[:, slots, c]  # (G, n)
            groups = np.flatnonzero((x >= 0).all(axis=1))
            if len(groups) < 2:
                continue
            # largest work first: the big groups fix the device order, as in bin packing
            work = (self.groups.time_fw + self.groups.time_bw)[groups, c]
            groups = groups[np.argsort(-work, kind="stable")]
            x = x[groups]
            L = len(groups)
            cnt = m.add_variables(f"first_{c}", (L, n - 1), ub=float(L))
            self.order_blocks.append((slots, groups, cnt))
            # cnt[i, j] = cnt[i-1, j] + x[g_i, d_j]
            i, j = np.nonzero(np.ones((L, n - 1), dtype=bool))
            prev = np.where(i > 0, cnt.cols[np.maximum(i - 1, 0), j], -1)
            cols = np.stack([cnt.cols[i, j], prev, x[i, j]], 1)
            m.add_constraints(f"first_count_{c}", cols, [[1.0, -1.0, -1.0]], "==", 0.0)
            # x[g_i, d_j] <= cnt[i-1, j-1] for j >= 1 (x[g_0, d_j] = 0)
            i, j = np.nonzero(np.ones((L, n - 1), dtype=bool))
            j = j + 1
            before = np.where(i > 0, cnt.cols[np.maximum(i - 1, 0), j - 1], -1)
            m.add_constraints(f"order_devices_{c}", np.stack([x[i, j], before], 1), [[1.0, -1.0]], "<=", 0.0)

    # ----------------------------------------------------------------- encode
    def encode(self, placement: Placement) -> np.ndarray | None:
        """As ``MaxLoad.encode``, after renaming identical devices into the order
        that ``order_devices`` asks for (when symmetry breaking is on)."""
        if self.symmetry and self.contiguity != "pipeline":
            placement = self._canonical(placement)
        return super().encode(placement)

    def _canonical(self, placement: Placement) -> Placement:
        """Rename the devices of each ordered block (the unnamed devices of a class)
        so that they open in the order of their first group (in the order
        ``order_devices`` uses); devices outside the blocks keep their names.
        O(G + D log D)."""
        if self.model is None:
            self.build()
        devs = self.groups.group_devices(placement)
        rename = {}
        for slots, groups, _ in self.order_blocks:
            block = [self.fixed_devices[s - self.num_stages] for s in slots.tolist()]
            members = set(block)
            first: dict = {}
            for rank, g in enumerate(groups):
                if devs[g] in members:
                    first.setdefault(devs[g], rank)
            used = sorted(first, key=first.get)
            rename.update({d: block[i] for i, d in enumerate(used)})
        return Placement({v: rename.get(d, d) for v, d in placement.assignment.items()})

    def _encode_extra(self, vals: np.ndarray, on: np.ndarray) -> None:
        for slots, groups, cnt in getattr(self, "order_blocks", []):
            occupancy = on[np.ix_(groups, slots[:-1])]
            vals[cnt.cols] = np.cumsum(occupancy, axis=0)


@register("maxload-symmetric")
class SymmetricMaxLoad(StrongMaxLoad):
    """``StrongMaxLoad`` with the device-ordering rows on (none and convex).

    Example: ``solve(instance, formulation="maxload-symmetric", contiguity="none")``.
    """

    def __init__(self, instance, **options) -> None:
        options.setdefault("symmetry", True)
        super().__init__(instance, **options)
