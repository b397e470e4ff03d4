"""PuLP backend (CBC by default): a cross-check for the HiGHS path, not the fast one.

:func:`to_pulp` builds a ``pulp.LpProblem`` row by row in Python (O(nnz)
Python objects), so it suits small and medium models.  CBC ships with PuLP.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pulp

from ...errors import InputError
from ..model import Model
from ..result import OPTIMAL_GAP, SolveResult, Status, relative_gap

__all__ = ["to_pulp", "solve_pulp"]


def _bound(v: float):
    return float(v) if math.isfinite(v) else None


def to_pulp(model: Model):
    """Build a ``pulp.LpProblem`` equal to ``model``.

    Column ``j`` becomes ``prob.variablesDict()[model.col_names()[j]]`` (named
    like ``x_3_1``).  A row with both bounds finite and different becomes two
    constraints ``family_k__lo`` / ``family_k__hi``; an equality row one
    ``==`` constraint; a row with no finite bound is skipped.  Every column is
    in the objective (with cost 0 if it has none), so the solver sees all of them.
    O(nnz + num_rows + num_cols) Python work.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, binary=True)
    >>> _ = m.add_constraints("c", x.cols[None, :], 1.0, "<=", 1.0)
    >>> prob = to_pulp(m); [v.name for v in prob.variables()], prob.numConstraints()
    (['x_0', 'x_1'], 1)
    """
    return _build(model)[0]


def _build(model: Model):
    """``(problem, variables)`` where ``variables[j]`` is column ``j``'s LpVariable."""
    sense = pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize
    prob = pulp.LpProblem(model.name if model.name else "model", sense)
    lower, upper, integer = model.col_lower, model.col_upper, model.col_integer
    variables = [
        prob.add_variable(n, _bound(lower[j]), _bound(upper[j]),
                          pulp.LpInteger if integer[j] else pulp.LpContinuous)
        for j, n in enumerate(model.col_names())
    ]
    # Every column appears in the objective (zero costs included) so that PuLP
    # hands columns used nowhere else to the solver too.
    prob.setObjective(pulp.LpAffineExpression(
        list(zip(variables, model.objective.tolist())), constant=model.objective_offset))

    indptr, indices, data = model.to_csr()
    row_lo, row_up = model.row_lower, model.row_upper
    for i, name in enumerate(model.row_names()):
        lo, up = row_lo[i], row_up[i]
        has_lo, has_up = math.isfinite(lo), math.isfinite(up)
        if not (has_lo or has_up):
            continue
        a, b = indptr[i], indptr[i + 1]
        terms = [(variables[j], float(v)) for j, v in zip(indices[a:b].tolist(), data[a:b].tolist())]
        if has_lo and has_up and lo == up:
            prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, name, float(lo)))
            continue
        if has_lo:
            prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintGE,
                name + "__lo" if has_up else name, float(lo)))
        if has_up:
            prob.addConstraint(pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintLE,
                name + "__hi" if has_lo else name, float(up)))
    return prob, variables


def solve_pulp(model: Model, solver=None, time_limit: float | None = None,
               mip_rel_gap: float = 1e-6, threads: int | None = None, mip_start=None,
               log_to_console: bool = False) -> SolveResult:
    """Solve ``model`` through PuLP and return a :class:`SolveResult`.

    ``solver`` is any PuLP solver object; by default
    ``pulp.PULP_CBC_CMD(msg=log_to_console, timeLimit=time_limit,
    gapRel=mip_rel_gap, threads=threads, warmStart=mip_start is not None,
    options=["preprocess off"])``.  CBC's preprocessing is switched off
    because the bundled CBC sometimes reports a suboptimal point as optimal
    with it on (seen on a 6-column mixed-integer test model; cf. coin-or/Cbc
    issues #293 and #724); this backend is a cross-check, so it favours
    correctness over speed.
    When a solver object is given, ``time_limit``, ``mip_rel_gap`` and
    ``threads`` are NOT applied (configure the object yourself).
    ``mip_start`` (full column vector; NaN = unknown) is set as initial values.

    Status mapping from PuLP's ``sol_status``: optimal -> OPTIMAL; "solution
    found" (stopped early with an incumbent) -> TIME_LIMIT; "no solution
    exists" -> INFEASIBLE; anything else -> NO_SOLUTION.  CBC reports no dual
    bound through PuLP, so ``bound`` equals the objective when optimal and is
    ``None`` otherwise.  ``solve_seconds`` is the wall time of ``prob.solve``
    (including writing and reading CBC's files).  O(nnz) Python work + solve.

    >>> from placement_ilp.model import Model
    >>> m = Model(); x = m.add_variables("x", 2, binary=True)
    >>> _ = m.add_constraints("c", x.cols[None, :], [[3, 4]], "<=", 5)
    >>> m.set_objective(x.cols, [2, 3], sense="max")
    >>> r = solve_pulp(m); r.status.value, r.objective
    ('optimal', 3.0)
    """
    prob, variables = _build(model)
    if mip_start is not None:
        start = np.asarray(mip_start, dtype=np.float64).ravel()
        if start.shape != (model.num_cols,):
            raise InputError(
                f"mip_start has {start.size} entries, the model has {model.num_cols} columns")
        for v, s in zip(variables, start.tolist()):
            if not math.isnan(s):
                v.setInitialValue(s)
    default_cbc = solver is None
    if solver is None:
        solver = _bundled_cbc(msg=bool(log_to_console), timeLimit=time_limit, gapRel=mip_rel_gap,
                              threads=threads, warmStart=mip_start is not None, options=["preprocess off"])
    name = f"pulp:{type(solver).__name__}"
    t0 = time.perf_counter()
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as exc:
        if default_cbc and _infeasible_by_cbc_preprocessing(prob):
            return SolveResult(Status.INFEASIBLE, None, None, None, None, time.perf_counter() - t0, name,
                               "infeasible (CBC with preprocessing; without it CBC stopped with no answer)")
        return SolveResult(Status.NO_SOLUTION, None, None, None, None,
                           time.perf_counter() - t0, name, f"solver error: {exc}")
    seconds = time.perf_counter() - t0
    sol = prob.sol_status
    message = f"{pulp.LpStatus.get(prob.status, prob.status)} / " \
              f"{pulp.LpSolution.get(sol, sol)}"
    if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        status = Status.OPTIMAL if sol == pulp.LpSolutionOptimal else Status.TIME_LIMIT
        values = np.array([np.nan if v.varValue is None else v.varValue for v in variables],
                          dtype=np.float64)
        if np.isnan(values).any():
            return SolveResult(Status.NO_SOLUTION, None, None, None, None, seconds, name,
                               message + " (some variables have no value)")
        obj = pulp.value(prob.objective)
        objective = float(obj) if obj is not None else model.objective_value(values)
        bound = objective if status is Status.OPTIMAL else None
        if status is Status.OPTIMAL and model.is_mip and mip_rel_gap > OPTIMAL_GAP:
            # stopped at the user's looser gap; PuLP does not tell the bound
            status, bound = Status.GAP_LIMIT, None
            message += f" (stopped at the requested relative gap {mip_rel_gap:g})"
        return SolveResult(status, values, objective, bound, relative_gap(objective, bound),
                           seconds, name, message)
    infeasible = sol == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible
    status = Status.INFEASIBLE if infeasible else Status.NO_SOLUTION
    return SolveResult(status, None, None, None, None, seconds, name, message)


def _infeasible_by_cbc_preprocessing(prob) -> bool:
    """True when CBC with its default preprocessing proves ``prob`` infeasible.

    With preprocessing off, the bundled CBC finds some infeasible models infeasible
    while tightening bounds and then writes no solution file (or crashes), which
    PuLP reports as an error. Only the "infeasible" verdict of this second run is
    used: with preprocessing on, CBC has reported wrong optima (see solve_pulp).
    """
    try:
        prob.solve(_bundled_cbc(msg=False))
    except pulp.PulpSolverError:
        return False
    return prob.sol_status == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible


def _bundled_cbc(**options):
    """PuLP's bundled CBC with ``options``. PuLP 3.3 flags it for removal in 4.0
    (a DeprecationWarning); it is what this backend wants, so the warning is muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)
