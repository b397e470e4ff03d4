"""Combinatorial lower bounds on the max-load, valid at every contiguity level.

The MILP's LP relaxation spreads groups fractionally over identical devices, so it
sees the total work but not that work comes in pieces. :func:`pigeonhole_floor`
counts pieces instead: when more large groups must share a class's devices than
the devices can take one, two, ... at a time, some device holds j + 1 of them and
its compute time alone is their sum. docs/formulations.md, section 10, states the
argument; ``maxload-strong`` turns the bound into a row on the target at the none
and convex levels.
"""

from __future__ import annotations

import heapq

import numpy as np

from ..data.preprocess import Contracted
from ..milp.backends import solve_model
from ..milp.model import Model

__all__ = ["pigeonhole_floor", "work_bound"]

#: bisection steps; the floor returned is a refuted value, so every step is valid
_BISECTION_STEPS = 60


def pigeonhole_floor(groups: Contracted, upper: float | None = None) -> float:
    """A lower bound on the max-load (objective "sum", overlap or not) of every
    placement of ``groups.instance``, at any contiguity level.

    Problem: is a max-load of at most T possible? Group g may go on class c only if
    every member is supported there, its memory fits one device of c, and its time
    t[g, c] (forward + backward) is at most T. Fix a class m (the "main" class,
    n_m > 0 devices) and sort the groups that class m could ever take by t[g, m],
    largest first. Of the first p of them, the other classes can take at most r_p:
    for each other class c, the largest number of them, allowed on c, whose
    smallest times on c add up to at most n_c * T (a device of c holds at most T of
    compute). So at least p - r_p of them are on class m, and if p - r_p > j * n_m,
    some device of m holds j + 1 of them, whose times add up to at least the sum of
    the j + 1 smallest among the first p. If that sum exceeds T, or a group fits no
    class at all, or more of the first p must leave m than the others can take,
    then T is impossible. Loads include compute, so communication only adds to
    this (with overlap the load is at least the compute).

    A refuted T refutes every smaller T (the argument only gets easier), so the
    largest refuted T is found by bisection; the value returned is refuted, hence a
    valid bound. ``upper``: a known max-load (bisection range; default: the sum of
    every group's largest allowed time, which no argument refutes). Returns 0.0
    when nothing is refuted.

    Complexity: O(S * C^2 * G log G) for S = 60 bisection steps, G groups, C
    classes (a heap per class keeps the count of smallest times under a budget as
    groups are added).

    Example: on the paper's LayerGraphs/bert24_inference (24 layers of about 3.58
    on 6 accelerators, whose CPU is ten times slower), 25 groups of at least 3.5
    must share 6 accelerators, so one holds 5: the floor is 17.703 where the LP
    relaxation gives 15.15 and the optimum is 17.7147::

        pigeonhole_floor(contract(instance), upper=17.7147)  # 17.703...
    """
    inst = groups.instance
    classes = inst.topology.classes
    counts = np.array([c.count for c in classes])
    time = groups.time_fw + groups.time_bw  # (G, C), inf where unsupported
    memory_ok = np.array(
        [[c.memory is None or m <= c.memory * (1 + 1e-9) for c in classes] for m in groups.memory], dtype=bool
    ).reshape(time.shape)
    possible = groups.supported & memory_ok & np.isfinite(time) & (counts > 0)[None, :]
    if time.size == 0 or not possible.any(axis=1).all():
        return 0.0  # nothing to place, or the instance is infeasible: the MILP says so itself
    if upper is None or not np.isfinite(upper):
        upper = float(np.where(possible, time, 0.0).max(axis=1).sum())
    mains = []
    for m in np.flatnonzero(counts > 0):
        order = np.flatnonzero(possible[:, m])
        order = order[np.argsort(-time[order, m], kind="stable")]
        if len(order):
            a = time[order, m]
            mains.append((int(m), order, np.concatenate([[0.0], np.cumsum(a)])))

    def refuted(T: float) -> bool:
        allowed = possible & (time <= T)
        if not allowed.any(axis=1).all():
            return True
        for m, order, csum in mains:
            P = len(order)
            room = np.zeros(P + 1, dtype=np.int64)  # r_p for p = 0..P
            for c in np.flatnonzero(counts > 0):
                if c != m:
                    room[1:] += _counts_under_budget(time[order, c], allowed[order, c], counts[c] * T)
            forced = np.concatenate([[0], np.cumsum(~allowed[order, m])])  # must leave m
            if (forced > room).any():
                return True
            on_main = np.arange(P + 1) - room
            p = np.flatnonzero(on_main >= 1)
            if not len(p):
                continue
            j = (on_main[p] - 1) // counts[m]  # some device of m holds j + 1 of the first p
            if (csum[p] - csum[p - j - 1] > T + 1e-9 * max(1.0, T)).any():  # beyond rounding
                return True
        return False

    if not refuted(0.0):
        return 0.0
    lo, hi = 0.0, float(upper)
    if refuted(hi):
        return 0.0  # ``upper`` is not a max-load of this instance (another objective?)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if refuted(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _counts_under_budget(values: np.ndarray, allowed: np.ndarray, budget: float) -> np.ndarray:
    """For p = 1..len(values): the largest k such that the k smallest allowed
    values among the first p add up to at most ``budget``. O(P log P): a max-heap
    holds the k smallest; a new value joins it and, past the budget, the largest
    leaves (never to be needed again)."""
    out = np.zeros(len(values), dtype=np.int64)
    heap: list[float] = []
    total = 0.0
    for i, (v, ok) in enumerate(zip(values.tolist(), allowed.tolist())):
        if ok:
            heapq.heappush(heap, -v)
            total += v
            if total > budget * (1 + 1e-9) + 1e-12:  # generous: too many here only weakens the bound
                total += heapq.heappop(heap)  # the largest value leaves (stored negated)
        out[i] = len(heap)
    return out


def work_bound(groups: Contracted) -> float:
    """The least max-load when groups may be split at will and nothing is paid for
    communication: min T such that every group is spread over the classes it may
    run on, with class c carrying at most n_c * T of time. The LP relaxation of
    every max-load formulation reaches at least this value, so a floor below it
    cannot lift that LP.

    A linear program with G * C columns and G + C rows (HiGHS); O(its solve).
    Returns inf when some group can run on no class.

    Example: ``work_bound(contract(instance))`` is 33.02 on the paper's
    LayerGraphs/resnet50_inference (the root LP of the MILPs there).
    """
    counts = np.array([c.count for c in groups.instance.topology.classes], dtype=np.float64)
    time = groups.time_fw + groups.time_bw
    possible = groups.supported & np.isfinite(time) & (counts > 0)[None, :]
    G, C = time.shape
    if G == 0:
        return 0.0
    if not possible.any(axis=1).all():
        return float("inf")
    m = Model("work_bound")
    y = m.add_variables("y", (G, C), ub=possible.astype(np.float64))
    T = m.add_variables("T")
    m.add_constraints("spread", y.cols, 1.0, "==", 1.0)
    cols = np.concatenate([y.cols.T, np.full((C, 1), T.start)], axis=1)
    coefs = np.concatenate([np.where(possible, time, 0.0).T, -counts[:, None]], axis=1)
    m.add_constraints("capacity", cols, coefs, "<=", 0.0)
    m.set_objective(np.array([T.start]), [1.0])
    found = solve_model(m, "highs")
    return float(found.objective) if found.objective is not None else 0.0

