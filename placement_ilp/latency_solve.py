"""Solving for latency: the latency MILP with its starts, and the DP split.

``solve_latency`` builds :class:`formulations.latency.LatencyMILP`, starts HiGHS
from the best of the latency heuristics (and the max-load DP's split), solves within
the run's :class:`~placement_ilp.stopping.Budget`, decodes the split and checks it
with the latency evaluator (:mod:`placement_ilp.latency`). It moved here from
``placement_ilp.latency``, which evaluates and holds the heuristics only (that module
still answers ``solve_latency``, ``dp_split`` and ``LatencyResult`` for one release).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from formulations.latency import LatencyMILP

from .backends import solve_model
from .errors import FormulationError, InputError
from .instance import Instance, check_instance
from .latency import (
    LatencyReport,
    _check_latency_instance,
    _json_number,
    evaluate_latency_with_subgraphs,
)
from .placement import Placement
from .result import SolveResult, Status, relative_gap
from .solve import AUTO_START_DP_BUDGET, backend_options, check_gap, solve_dp_method, with_reason
from .stopping import Budget, check_time_limit

__all__ = ["LatencyResult", "solve_latency", "dp_split", "LATENCY_WARM_STARTS", "AUTO_START_DP_SECONDS"]

#: what ``solve_latency(warm_start=...)`` accepts.
LATENCY_WARM_STARTS: tuple[str, ...] = ("auto", "heuristics", "none")

#: seconds the max-load DP may take when it only provides the latency MILP's start.
AUTO_START_DP_SECONDS = 30.0


def dp_split(instance: Instance, *, time_limit: float | None = None,
             memory_budget: int | None = None) -> Placement | None:
    """The paper's "DP split" latency baseline: the placement of the max-load ideal
    DP (pipeline contiguity) on this instance, to be scored for latency.

    Returns None, instead of raising, when the DP does not apply to the instance,
    needs more ideals than ``memory_budget`` (bytes; default: the budget of the
    automatic max-load warm start) allows, finds no feasible placement, or runs past
    ``time_limit`` seconds. Cost: the DP's, O(ideal pairs * device-count vectors).

    Example: ``p = dp_split(inst, time_limit=30)``; then
    ``evaluate_latency(inst, p).latency`` unless ``p is None``.
    """
    budget = AUTO_START_DP_BUDGET if memory_budget is None else memory_budget
    try:
        found = solve_dp_method(instance, memory_budget=budget, time_limit=time_limit)
    except InputError:
        return None
    return found.placement


@dataclass(frozen=True)
class LatencyResult:
    """What :func:`solve_latency` returns.

    status: "optimal", "time_limit" (stopped with a solution), "infeasible" or
        "no_solution". latency: the evaluator's latency of the decoded split (None
        without a solution); bound: the solver's lower bound; gap:
        (latency - bound) / latency. solver_objective: the MILP's own value (equal
        to ``latency`` up to tolerance). placement, subgraphs: the decoded placement
        and split (node -> (device, subgraph index), CPU nodes (device, None));
        report: :func:`evaluate_latency_with_subgraphs` of that split.
        warm_start: the name of the placement given as the MIP start ("interval",
        "greedy", "all-cpu", "dp", "given"; None: none).
        upper_bound: the latency bound the model was built with.
        start_seconds: time spent on the DP split for the start (before building).

    A plain record (O(1); ``to_dict`` O(V)). Example:
    ``r = solve_latency(inst, time_limit=60); r.status, r.latency, r.gap``.
    """

    status: str
    latency: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    max_subgraphs: int
    placement: Placement | None
    subgraphs: dict | None
    report: LatencyReport | None
    solver_objective: float | None
    warm_start: str | None
    upper_bound: float | None
    message: str = ""
    start_seconds: float = 0.0

    @property
    def has_placement(self) -> bool:
        return self.placement is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``placement`` maps device names to node ids, ``subgraphs`` lists
        every call as {device, index, nodes}."""
        return {
            "objective": "latency",
            "status": self.status,
            "latency": _json_number(self.latency) if self.latency is not None else None,
            "bound": self.bound,
            "gap": self.gap,
            "build_seconds": round(self.build_seconds, 6),
            "solve_seconds": round(self.solve_seconds, 6),
            "max_subgraphs": self.max_subgraphs,
            "solver_objective": self.solver_objective,
            "warm_start": self.warm_start,
            "start_seconds": round(self.start_seconds, 6),
            "upper_bound": self.upper_bound,
            "placement": None
            if self.placement is None
            else {str(d): nodes for d, nodes in sorted(self.placement.by_device().items())},
            "subgraphs": None
            if self.report is None
            else [{"device": str(s.device), "index": s.index, "nodes": list(s.nodes)} for s in self.report.subgraphs],
        }


def solve_latency(
    instance: Instance,
    *,
    max_subgraphs: int = 1,
    time_limit: float | None = None,
    gap: float = 1e-6,
    threads: int | None = None,
    backend: str = "highs",
    warm_start: bool | str = "auto",
    log: bool = False,
    log_file: str | None = None,
    progress: Any = None,
    budget: Any = None,
    **builder_options: Any,
) -> LatencyResult:
    """Minimise the latency of ``instance`` with the "latency" MILP and check the
    answer with :func:`evaluate_latency_with_subgraphs`.

    ``max_subgraphs`` is q. ``warm_start`` picks the MIP start: "auto" (default,
    also True) the best, scored for latency, of the interval, greedy and all-CPU
    heuristics, the placements in ``starts``, and the max-load DP's split when
    the DP finishes within ``AUTO_START_DP_SECONDS`` and its automatic memory
    budget; "heuristics" the same without the DP; "none" (also False) no start.
    The MILP's answer is then never worse than its start. ``progress`` a callable given live
    :class:`~placement_ilp.backends.highs.Progress` reports (HiGHS only); ``budget`` the run's
    :class:`~placement_ilp.stopping.Budget` (``time_limit`` covers the DP split, the build and the
    MILP). Ctrl-C, or the time running out before the solver has a split, ends with status
    "interrupted" or "time_limit" and the start's split. A ``gap`` looser than the default ends
    with status "gap_limit". Other keyword options go to
    :class:`formulations.latency.LatencyMILP`. Raises
    :class:`placement_ilp.errors.FormulationError` when the decoded split is
    infeasible, scores worse than the solver's objective, or (at proven
    optimality) better than it. Building is O(model size); solving is NP-hard.

    Example: ``solve_latency(inst, max_subgraphs=2, time_limit=60).latency``.
    """
    check_instance(instance)
    time_limit = check_time_limit(time_limit)
    gap = check_gap(gap)
    budget = Budget(time_limit) if budget is None else budget
    if len(instance.graph) == 0:
        empty = evaluate_latency_with_subgraphs(instance, {}, max_subgraphs=max_subgraphs)
        return LatencyResult("optimal", 0.0, 0.0, 0.0, 0.0, 0.0, max_subgraphs, Placement({}), {}, empty, 0.0,
                             None, None, "the graph has no nodes: its latency is 0")
    mode = {True: "auto", False: "none", None: "none"}.get(warm_start, warm_start)
    if mode not in LATENCY_WARM_STARTS:
        raise InputError(f"warm_start must be one of {', '.join(LATENCY_WARM_STARTS)}, got {warm_start!r}")
    dp_seconds = 0.0
    if mode == "auto":
        _check_latency_instance(instance)
        t_dp = time.perf_counter()
        left = budget.remaining()
        try:
            split = dp_split(instance, time_limit=AUTO_START_DP_SECONDS if left is None
                             else min(AUTO_START_DP_SECONDS, left / 2))
        except KeyboardInterrupt:
            if not budget.first_interrupt():
                raise
            split = None
        dp_seconds = time.perf_counter() - t_dp
        if split is not None:
            builder_options["starts"] = (*builder_options.get("starts", ()), ("dp", split))
    t0 = time.perf_counter()
    builder = LatencyMILP(instance, max_subgraphs=max_subgraphs, **builder_options)
    model = builder.build()
    build_seconds = time.perf_counter() - t0
    options = backend_options(backend, budget, time_limit=time_limit, gap=gap, threads=threads, log=log,
                              log_file=log_file, progress=progress)
    started = None
    if mode != "none" and builder.incumbent is not None:
        start = builder.encode_subgraphs(builder.incumbent[1])
        if start is not None:
            options["mip_start"] = start
            started = builder.incumbent[0]
    if budget.should_stop():
        raw = SolveResult(Status.INTERRUPTED if budget.interrupted else Status.NO_SOLUTION, None,
                          None, None, None, 0.0, str(backend), "stopped before the solver ran")
    else:
        try:
            raw = solve_model(model, backend, **options)
        except KeyboardInterrupt:
            if not budget.first_interrupt():
                raise
            raw = SolveResult(Status.INTERRUPTED, None, None, None, None, 0.0, str(backend),
                              "interrupted by the user")
    if not raw.has_solution and started is not None and budget.should_stop():
        # stopped before the solver took up the start: the start is the best split so far
        raw = SolveResult(Status(budget.stop_status()), None, None, raw.bound, None, raw.solve_seconds,
                          raw.solver, f"{raw.message}; the {started} start is the best split found".lstrip("; "))
        split = builder.incumbent[1]
        report = evaluate_latency_with_subgraphs(instance, split, max_subgraphs=max_subgraphs)
        return LatencyResult(
            status=raw.status.value, latency=report.latency, bound=raw.bound,
            gap=relative_gap(report.latency, raw.bound), build_seconds=build_seconds,
            solve_seconds=raw.solve_seconds, max_subgraphs=max_subgraphs,
            placement=Placement({v: d for v, (d, _) in split.items()}), subgraphs=split, report=report,
            solver_objective=None, warm_start=started, upper_bound=builder.upper_bound, message=raw.message,
            start_seconds=dp_seconds)
    placement = split = report = None
    latency = None
    if raw.has_solution:
        split = builder.decode_subgraphs(raw.values)
        placement = builder.decode(raw.values)
        report = evaluate_latency_with_subgraphs(instance, split, max_subgraphs=max_subgraphs)
        if not report.feasible:
            raise FormulationError(f"latency: decoded split breaks {report.violations[0].message}")
        latency = report.latency
        solver = raw.objective
        tol = 1e-5 * max(1.0, abs(solver or 0.0))  # feasibility tolerances add up along chains of rows
        if solver is not None and latency > solver + tol:
            raise FormulationError(
                f"latency: the evaluator's latency {latency!r} exceeds the solver's objective {solver!r}"
            )
        if raw.status == Status.OPTIMAL and solver is not None and latency < solver - tol:
            raise FormulationError(
                f"latency: the evaluator's latency {latency!r} is below the solver's optimum {solver!r}"
            )
    status = str(raw.status.value if isinstance(raw.status, Status) else raw.status)
    result = LatencyResult(
        status=status,
        latency=latency,
        bound=raw.bound,
        gap=relative_gap(latency, raw.bound),
        build_seconds=build_seconds,
        solve_seconds=raw.solve_seconds,
        max_subgraphs=max_subgraphs,
        placement=placement,
        subgraphs=split,
        report=report,
        solver_objective=raw.objective,
        warm_start=started,
        upper_bound=builder.upper_bound,
        message=raw.message,
        start_seconds=dp_seconds,
    )
    return with_reason(result, instance) if status == "infeasible" else result
