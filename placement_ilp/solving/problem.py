"""A formulation built for one instance, solved, decoded and checked by the evaluator.

``build(instance, ...)`` returns a :class:`Problem` whose ``model`` can be changed
(a constraint added, a bound moved) before :meth:`Problem.solve` runs it, for
formulation experiments. The builder is found through the registry of
:mod:`formulations`; its ``kind`` says which evaluator scores the decoded placement.
The reported objective is always the evaluator's value; the solver's own is kept
as ``solver_objective`` and must agree (else :class:`FormulationError`).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from formulations import get_builder

from ..data.checks import check_int, check_number
from ..data.instance import Instance, check_instance
from ..data.placement import Placement
from ..errors import FormulationError, InputError
from ..evaluation.latency import LatencyReport
from ..evaluation.maxload import Evaluation
from ..milp.backends import solve_model
from ..milp.result import OPTIMAL_GAP, Status, relative_gap
from ..stopping import Budget, check_time_limit
from .result import Result, Start
from .scoring import score

__all__ = ["LEVEL_ORDER", "Problem", "backend_options", "build", "cap_threads", "check_gap"]

#: The contiguity levels, strictest last: a placement meets every level below its own.
LEVEL_ORDER = {"pipeline": 2, "convex": 1, "none": 0}

#: How far the evaluator's value may lie from the solver's, relative: the latency
#: model's feasibility tolerances add up along chains of rows.
_AGREEMENT = {"maxload": 1e-6, "latency": 1e-5}


class Problem:
    """A formulation built for one instance; ``model`` may be changed before solving.

    Example::

        p = build(instance, "maxload", contiguity="convex")
        p.model.add_rows(...)          # an extra cut
        result = p.solve(time_limit=60)
    """

    def __init__(self, instance: Instance, formulation: Any = "maxload", **options: Any) -> None:
        self.instance = check_instance(instance)
        cls = get_builder(formulation)
        start = time.perf_counter()
        self.builder = cls(instance, **options)
        self.model = self.builder.build()
        self.build_seconds = time.perf_counter() - start
        self._built_shape = (self.model.num_rows, self.model.num_cols)
        self.formulation = getattr(cls, "name", str(formulation))
        self.options = dict(getattr(self.builder, "options", options))
        self.kind = getattr(cls, "kind", "maxload")
        #: a bound proven before the build and given to the model (solving.root_bound), or None
        self.root_bound = None

    def evaluate(self, placement: Placement, subgraphs: dict | None = None) -> Evaluation | LatencyReport:
        """The evaluator's report of ``placement`` (for latency, of the split
        ``subgraphs`` when given) under this problem's options."""
        if self.kind == "latency":
            return score(self.instance, placement, objective="latency", subgraphs=subgraphs,
                         max_subgraphs=self.options.get("max_subgraphs", 1))
        return score(self.instance, placement, objective=self.options.get("objective", "sum"),
                     overlap=self.options.get("overlap", False),
                     cpu_contiguity=self.options.get("cpu_contiguity", True))

    def decode(self, values: np.ndarray) -> tuple[Placement, dict | None]:
        """The placement a solution vector encodes, and for latency its split."""
        subgraphs = self.builder.decode_subgraphs(values) if self.kind == "latency" else None
        return self.builder.decode(values), subgraphs

    def encode(self, start: Placement | Start) -> np.ndarray | None:
        """A MIP start for ``start`` (for latency its split when it has one), or None
        when the formulation cannot hold it."""
        if isinstance(start, Start):
            if start.subgraphs is not None and self.kind == "latency":
                return self.builder.encode_subgraphs(start.subgraphs)
            start = start.placement
        return self.builder.encode(start)

    def solve(
        self,
        *,
        time_limit: float | None = None,
        gap: float = OPTIMAL_GAP,
        threads: int | None = None,
        backend: str = "highs",
        warm_start: Placement | Start | None = None,
        log: bool = False,
        log_file: str | None = None,
        progress: Any = None,
        budget: Budget | None = None,
    ) -> Result:
        """Solve the model, decode and evaluate. ``gap`` is the relative gap at which
        the solver may stop (the default: proven optimal; a looser one ends with
        status "gap_limit"); ``warm_start`` a placement (or :class:`Start`) to start
        from (ignored when the formulation cannot hold it); ``progress`` a callable
        given live :class:`~placement_ilp.milp.backends.highs.Progress` reports
        (HiGHS backend only); ``budget`` the run's clock (see
        :mod:`placement_ilp.stopping`). Stopped by the time limit or the user before
        the solver found a placement, it reports the warm start's. Threads beyond
        the machine's cores are capped (said in ``message``). Raises
        :class:`FormulationError` when the decoded placement is infeasible, breaks
        the contiguity asked for, scores worse than the solver's objective or (at
        proven optimality, on the model as built) better than it. Building is
        O(model size); solving is NP-hard.
        """
        time_limit = check_time_limit(time_limit)
        gap = check_gap(gap)
        threads, note = cap_threads(threads)
        budget = Budget(time_limit) if budget is None else budget
        options = backend_options(backend, budget, time_limit=time_limit, gap=gap, threads=threads, log=log,
                                  log_file=log_file, progress=progress)
        if warm_start is not None:
            vector = self.encode(warm_start)
            if vector is not None:
                options["mip_start"] = vector
        highs_options = getattr(self.builder, "highs_options", None)
        if highs_options and str(backend).lower() == "highs":
            options["highs_options"] = dict(highs_options)
        raw = solve_model(self.model, backend, **options)
        status = str(raw.status.value if isinstance(raw.status, Status) else raw.status)
        placement = evaluation = objective = subgraphs = None
        notes = [raw.message, note]
        if raw.has_solution:
            placement, subgraphs = self.decode(raw.values)
            evaluation = self.evaluate(placement, subgraphs)
            objective = evaluation.objective_value
            self._check(raw, evaluation)
        elif warm_start is not None and (raw.status == Status.INTERRUPTED or budget.should_stop()):
            # stopped before the solver took up the start: the start is the best so far
            start = warm_start if isinstance(warm_start, Start) else Start(warm_start, math.nan, "given", "unknown")
            found = self.evaluate(start.placement, start.subgraphs)
            if found.feasible:
                placement, subgraphs, evaluation = start.placement, start.subgraphs, found
                objective, status = found.objective_value, budget.stop_status()
                notes.append(f"the {start.source} start is the best placement found")
        stats = None
        if self.kind == "latency":
            stats = {"upper_bound": self.builder.upper_bound, "max_subgraphs": self.options.get("max_subgraphs", 1)}
        return Result(
            status=status,
            objective=objective,
            bound=raw.bound,
            gap=relative_gap(objective, raw.bound),
            build_seconds=self.build_seconds,
            solve_seconds=raw.solve_seconds,
            method="milp",
            formulation=self.formulation,
            placement=placement,
            evaluation=evaluation,
            solver_objective=raw.objective,
            message="; ".join(m for m in notes if m),
            stats=stats,
            kind=self.kind,
            subgraphs=subgraphs,
        )

    def _check(self, raw, evaluation: Evaluation | LatencyReport) -> None:
        """FormulationError when the decoded placement and the solver disagree."""
        if not evaluation.feasible:
            raise FormulationError(f"{self.formulation}: decoded placement breaks {evaluation.violations[0].message}")
        wanted = self.options.get("contiguity")
        if self.kind == "maxload" and wanted in LEVEL_ORDER:
            level = evaluation.contiguity.level
            if LEVEL_ORDER[level] < LEVEL_ORDER[wanted]:
                raise FormulationError(f"{self.formulation}: decoded placement is {level}, not {wanted}: "
                                       f"{evaluation.contiguity.witness}")
        word = "latency" if self.kind == "latency" else "max-load"
        value, solver = evaluation.objective_value, raw.objective
        if solver is None:
            return
        tolerance = _AGREEMENT.get(self.kind, 1e-6) * max(1.0, abs(solver))
        if value > solver + tolerance:
            raise FormulationError(
                f"{self.formulation}: the evaluator's {word} {value!r} exceeds the solver's objective {solver!r}")
        # A model the user changed may prove a larger value than the placement's; the model as built must not.
        unchanged = (self.model.num_rows, self.model.num_cols) == self._built_shape
        if unchanged and raw.status == Status.OPTIMAL and value < solver - tolerance:
            raise FormulationError(
                f"{self.formulation}: the evaluator's {word} {value!r} is below the solver's optimum {solver!r}")


def build(instance: Instance, formulation: Any = "maxload", **options: Any) -> Problem:
    """Build a formulation for ``instance`` and return the :class:`Problem`.

    ``formulation`` is a registered name or a Builder subclass; ``options`` go to
    the builder (for "maxload": contiguity, cpu_contiguity, objective, overlap; for
    "latency": max_subgraphs and the options of
    :class:`formulations.latency.LatencyMILP`). Cost: the builder's, O(model size).

    Example: ``build(inst, contiguity="none").model.num_rows``.
    """
    return Problem(instance, formulation, **options)


def backend_options(backend: str, budget: Budget, *, time_limit: float | None, gap: float, threads: int | None,
                    log: bool = False, log_file: str | None = None, progress: Any = None) -> dict[str, Any]:
    """The options of :func:`~placement_ilp.milp.backends.solve_model` for one solve:
    HiGHS gets the run's ``budget`` (it stops at its deadline and on an interrupt),
    another backend the time the budget has left. O(1).

    Example: ``solve_model(model, "highs", **backend_options("highs", Budget(60), time_limit=60, gap=1e-6,
    threads=1))``.
    """
    options: dict[str, Any] = {"time_limit": time_limit, "mip_rel_gap": gap, "threads": threads}
    if str(backend).lower() == "highs":
        options["budget"] = budget
    elif budget.remaining() is not None:
        options["time_limit"] = budget.remaining()
    if log:
        options["log_to_console"] = True
    if log_file is not None:
        options["log_file"] = log_file
    if progress is not None:
        options["progress"] = progress
    return options


def check_gap(value: Any, argument: str = "gap") -> float:
    """``value`` as a relative gap: a finite number >= 0; InputError naming
    ``argument`` otherwise. O(1). Example: ``check_gap(0.01) == 0.01``."""
    return check_number(value, argument, minimum=0.0, maximum=None)


def cap_threads(threads: Any, argument: str = "threads") -> tuple[int | None, str]:
    """``threads`` capped at the machine's cores, and a note when it was capped
    (more threads than cores only slow HiGHS down). None stays None (the solver's
    choice); anything but a whole number >= 1 is an InputError naming ``argument``.
    O(1). Example: ``cap_threads(100000)`` gives ``(os.cpu_count(), "threads ...")``.
    """
    if threads is None:
        return None, ""
    if isinstance(threads, float):  # 2.0 is fine in a JSON file, not as an argument
        raise InputError(f"{argument} must be a whole number >= 1, got {threads!r}")
    threads = check_int(threads, argument, minimum=1)
    cores = os.cpu_count() or 1
    if threads > cores:
        return cores, f"{argument} {threads} capped at {cores}, the machine's cores"
    return threads, ""
