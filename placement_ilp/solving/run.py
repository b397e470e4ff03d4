"""The one solve path: instance -> start -> build -> solve -> decode -> evaluate.

``solve(instance, ...)`` runs any method (:mod:`placement_ilp.solving.methods`) for
any objective -- the max-load objectives ("sum", "different-maxima") and
"latency" -- and returns one :class:`~placement_ilp.solving.result.Result`. The MILP
goes through :func:`prepare` (the warm start and the build) and
:meth:`~placement_ilp.solving.problem.Problem.solve`; the DP and the heuristics
through :mod:`placement_ilp.solving.direct`. Whatever the method, the reported
objective is the evaluator's value of the placement, the time limit covers the
whole run, and an interrupt returns the best placement so far.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import replace
from typing import Any

from formulations import MaxLoad, StrongMaxLoad, get_builder

from ..data.checks import check_int
from ..data.instance import Instance, check_instance
from ..data.placement import Placement
from ..data.preprocess import contract
from ..errors import FormulationError, InputError
from ..evaluation.feasibility import explain_infeasible
from ..milp.backends import write_model
from ..milp.result import OPTIMAL_GAP, relative_gap
from ..stopping import Budget, check_time_limit
from .direct import run_baseline, solve_dp_method
from .methods import method_names
from .problem import LEVEL_ORDER, Problem, check_gap
from .result import Result, Start
from .root_bound import RootBound, check_root_bound, find_root_bound
from .scoring import kind_of, score
from .starts import find_start, latency_starts

__all__ = ["prepare", "solve", "solve_latency", "trim_idle_devices", "with_reason", "with_root_bound", "with_start"]

#: The formulation each kind of objective is solved with unless one is named.
DEFAULT_FORMULATION = {"maxload": "maxload-strong", "latency": "latency"}


def solve(
    instance: Instance,
    *,
    method: str = "milp",
    formulation: Any = None,
    objective: str = "sum",
    contiguous: bool | None = None,
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    overlap: bool = False,
    max_subgraphs: int = 1,
    time_limit: float | None = None,
    gap: float = OPTIMAL_GAP,
    threads: int | None = None,
    backend: str = "highs",
    warm_start: Any = "auto",
    log: bool = False,
    log_file: str | None = None,
    memory_budget: int | None = None,
    baseline_options: dict | None = None,
    builder_options: dict | None = None,
    progress: Any = None,
    export: str | os.PathLike | None = None,
    budget: Budget | None = None,
    root_bound: str = "none",
) -> Result:
    """Minimise ``objective`` on ``instance`` with ``method`` and return a :class:`Result`.

    ``objective``: "sum" (a device's forward plus backward load), "different-maxima"
    or "latency" (one sample through the graph; ``max_subgraphs`` subgraphs per
    accelerator). ``method``: "milp" (``formulation``, by default "maxload-strong" or
    "latency", solved by HiGHS, or by CBC with ``backend="cbc"``), "dp" (the exact
    ideal DP, pipeline contiguity; for latency its placement, scored), or a
    heuristic: "pipedream", "local-search", "partition", "one-accelerator",
    "expert" (``baseline_options={"path": FILE}``) for max-load, "greedy" and
    "all-cpu" for latency. ``contiguous=True`` is short for
    ``contiguity="pipeline"``, ``False`` for ``"none"``. ``warm_start``: for
    max-load see :func:`~placement_ilp.solving.starts.find_start`, for latency
    :func:`~placement_ilp.solving.starts.latency_starts`. ``builder_options`` go
    to the formulation. ``time_limit`` covers the whole run (warm start, DP, build,
    MILP); Ctrl-C (KeyboardInterrupt) stops it with status "interrupted" and the
    best placement so far. ``progress``: a callable given live MILP reports;
    ``export``: also write the MILP as a .lp/.mps file; ``budget``: the run's clock
    when the caller keeps one (:class:`~placement_ilp.stopping.Budget`);
    ``root_bound``: "configuration" proves a bound before the MILP
    (:mod:`placement_ilp.solving.root_bound`; max-load "sum" with
    "maxload-strong") and gives it to the model as a row. Every
    placement is scored by the evaluator; an empty graph has objective 0. For
    max-load, devices beyond one per colocation group are left out
    (:func:`trim_idle_devices`; exact). Cost: building is O(size of the model);
    solving is NP-hard in general.

    Example: ``solve(load_instance("instances/default.json"), time_limit=60).objective``.
    """
    check_instance(instance)
    time_limit = check_time_limit(time_limit)
    gap = check_gap(gap)
    root_bound = check_root_bound(root_bound)
    budget = Budget(time_limit) if budget is None else budget
    kind = kind_of(objective)
    if kind == "latency":
        max_subgraphs = check_int(max_subgraphs, "max_subgraphs", minimum=1)
    if contiguous is not None:
        contiguity = "pipeline" if contiguous else "none"
    methods = method_names(kind)
    if method not in methods:
        raise InputError(f"unknown method {method!r} for the {objective} objective (one of {', '.join(methods)})")
    if len(instance.graph) == 0:
        return _empty_graph_result(instance, method, objective, overlap, cpu_contiguity, max_subgraphs)
    if kind == "maxload":
        instance = trim_idle_devices(instance, warm_start if isinstance(warm_start, Placement) else None)
    level = dict(contiguity=contiguity, cpu_contiguity=cpu_contiguity, objective=objective, overlap=overlap)
    if method == "dp" and kind == "maxload":
        run = lambda: solve_dp_method(instance, memory_budget=memory_budget,  # noqa: E731
                                      time_limit=budget.remaining(), **level)
    elif method != "milp":
        run = lambda: run_baseline(instance, method, options=baseline_options, objective=objective,  # noqa: E731
                                   overlap=overlap, cpu_contiguity=cpu_contiguity, max_subgraphs=max_subgraphs)
    else:
        run = lambda: _solve_milp(  # noqa: E731
            instance, formulation or DEFAULT_FORMULATION[kind], budget, warm_start=warm_start, export=export,
            level=level, max_subgraphs=max_subgraphs, builder_options=builder_options, root_bound=root_bound,
            time_limit=time_limit,
            gap=gap, threads=threads, backend=backend, log=log, log_file=log_file, progress=progress)
    try:
        result = run()
    except KeyboardInterrupt:
        if not budget.first_interrupt():  # a second interrupt: the user wants out
            raise
        return _stopped_result("interrupted", method, None, None, budget, kind=kind)
    if result.status == "infeasible":
        result = with_reason(result, instance, contiguity if kind == "maxload" else "none", cpu_contiguity)
    return result


#: The keywords of :func:`solve_latency` that go to :func:`solve`; the rest go to the builder.
_RUN_OPTIONS = ("max_subgraphs", "time_limit", "gap", "threads", "backend", "warm_start", "log", "log_file",
                "progress", "budget")


def solve_latency(instance: Instance, **options: Any) -> Result:
    """The latency MILP: ``solve(instance, objective="latency", method="milp", ...)``,
    with the options of :class:`formulations.latency.LatencyMILP` (convexity,
    symmetry, path_cuts, upper_bound, starts) as keywords beside solve()'s
    (max_subgraphs, time_limit, gap, threads, backend, warm_start, log, log_file,
    progress, budget). Kept for the callers of earlier releases; the result's
    ``latency``, ``report`` and ``warm_start`` are ``objective``, ``evaluation``
    and ``start``. Cost: solve()'s.

    Example: ``solve_latency(inst, max_subgraphs=2, time_limit=60).objective``.
    """
    run = {name: options.pop(name) for name in _RUN_OPTIONS if name in options}
    return solve(instance, objective="latency", method="milp", builder_options=options, **run)


def prepare(
    instance: Instance,
    formulation: Any = "maxload-strong",
    *,
    warm_start: Any = "auto",
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    objective: str = "sum",
    overlap: bool = False,
    max_subgraphs: int = 1,
    builder_options: dict | None = None,
    budget: Budget | None = None,
    root_bound: str = "none",
    gap: float = OPTIMAL_GAP,
    log: bool = False,
    threads: int | None = None,
) -> tuple[Problem, Start | None]:
    """Find the warm start and build the formulation.

    A max-load formulation gets the level options (``contiguity``,
    ``cpu_contiguity``, ``objective``, ``overlap``) and a start from
    :func:`~placement_ilp.solving.starts.find_start`; the strong one also gets the
    start's value as its ``upper_bound`` when the start meets the requested
    contiguity level (a file's placement may not). A latency formulation gets
    ``max_subgraphs`` and the placements of
    :func:`~placement_ilp.solving.starts.latency_starts`, and starts from the best
    of those and its own heuristics; with ``max_subgraphs`` >= 2 and the "auto"
    start, also from the answer of the same MILP with one call per accelerator
    (:func:`_single_call_start`, on ``threads``), so that allowing more calls never
    answers worse than allowing one. Other formulations get ``builder_options``
    only, and a start only when ``warm_start`` is a Placement. ``root_bound``
    ("configuration"): a bound proven before the build
    (:func:`~placement_ilp.solving.root_bound.find_root_bound`, trying to prove the
    start optimal within ``gap``; its lines on standard error with ``log``), given
    to "maxload-strong" as its ``lower_bound`` and kept as the problem's
    ``root_bound``. InputError when the
    formulation does not minimise ``objective``, or cannot take the root bound.
    Cost: the start's, the bound's and the build's.

    Example: ``problem, start = prepare(inst); problem.solve(warm_start=start)``.
    """
    cls = get_builder(formulation)
    kind = getattr(cls, "kind", "maxload")
    if kind != kind_of(objective):
        raise InputError(f"formulation {cls.name!r} minimises {kind}, not the {objective} objective")
    options: dict[str, Any] = dict(builder_options or {})
    start = None
    budget = Budget() if budget is None else budget
    if issubclass(cls, MaxLoad):
        options.update(contiguity=contiguity, cpu_contiguity=cpu_contiguity, objective=objective, overlap=overlap)
        start = find_start(instance, warm_start, objective=objective, overlap=overlap,
                           cpu_contiguity=cpu_contiguity, budget=budget)
        if (issubclass(cls, StrongMaxLoad) and start is not None
                and LEVEL_ORDER[start.contiguity] >= LEVEL_ORDER.get(contiguity, 0)
                and (contiguity != "pipeline"
                     or contract(instance).follows_pipeline_order(start.placement, cpu_contiguity))):
            # the value bounds the model's optimum only if the model can hold the placement: at
            # the pipeline level the model also orders backward-only groups, which the evaluator
            # leaves free (Contracted.follows_pipeline_order)
            options["upper_bound"] = start.value
        if check_root_bound(root_bound) != "none":
            if not issubclass(cls, StrongMaxLoad):
                raise InputError(f"root_bound {root_bound!r} needs the formulation maxload-strong, not {cls.name!r}")
            found = find_root_bound(instance, root_bound, contiguity=contiguity, cpu_contiguity=cpu_contiguity,
                                    overlap=overlap, objective=objective, upper=options.get("upper_bound"),
                                    gap=gap, budget=budget, log=_to_stderr if log else None)
            if found is not None:
                options["lower_bound"] = found.value
            problem = Problem(instance, cls, **options)
            problem.root_bound = found
            return problem, start
    elif kind == "latency":
        if check_root_bound(root_bound) != "none":
            raise InputError(f"root_bound {root_bound!r} is for the max-load objective sum, not latency")
        use, extra, seconds = latency_starts(instance, warm_start, budget)
        if max_subgraphs > 1 and warm_start in ("auto", True):
            began = time.perf_counter()
            extra = (*extra, *_single_call_start(instance, cls, options, extra, budget, threads))
            seconds += time.perf_counter() - began
        options["starts"] = (*options.get("starts", ()), *extra)
        problem = Problem(instance, cls, max_subgraphs=max_subgraphs, **options)
        incumbent = problem.builder.incumbent
        if use and incumbent is not None:
            source, split = incumbent
            placement = Placement({v: d for v, (d, _) in split.items()})
            report = problem.evaluate(placement, split)
            start = Start(placement, report.objective_value, source, "unknown", report, split, seconds)
        return problem, start
    elif isinstance(warm_start, Placement):
        start = Start(warm_start, math.nan, "given", "unknown")
    return Problem(instance, cls, **options), start


#: The share of the time left that a latency run with q >= 2 calls per accelerator
#: gives the q = 1 MILP for its start (without a time limit: ``SINGLE_CALL_SECONDS``).
SINGLE_CALL_SHARE = 1 / 3
SINGLE_CALL_SECONDS = 60.0


def _single_call_start(instance: Instance, cls: Any, options: dict, extra: tuple, budget: Budget,
                       threads: int | None) -> tuple:
    """The latency MILP with one call per accelerator (q = 1), started from ``extra``
    and run for ``SINGLE_CALL_SHARE`` of the time left: its placement, as a
    ``("q=1 milp", placement)`` start for a run with q >= 2 (a split into one call
    per accelerator is one with at most q, of the same latency). () when the time is
    up or it finds nothing. An interrupt is recorded in ``budget`` (the caller then
    answers with the best start). Cost: that share of the time.
    """
    left = budget.remaining()
    if budget.should_stop():
        return ()
    single = Problem(instance, cls, max_subgraphs=1, **{**options, "starts": (*options.get("starts", ()), *extra)})
    seconds = SINGLE_CALL_SECONDS if left is None else SINGLE_CALL_SHARE * left
    start = None
    if single.builder.incumbent is not None:
        source, split = single.builder.incumbent
        placement = Placement({v: d for v, (d, _) in split.items()})
        start = Start(placement, math.nan, source, "unknown", None, split)
    result = single.solve(warm_start=start, time_limit=seconds, threads=threads, budget=budget)
    return () if result.placement is None else (("q=1 milp", result.placement),)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def with_reason(result: Result, instance: Instance, contiguity: str = "none", cpu_contiguity: bool = True) -> Result:
    """An infeasible ``result`` with the first node or memory limit that makes the
    instance infeasible, when
    :func:`~placement_ilp.evaluation.feasibility.explain_infeasible` finds one.
    O(n * classes + m). Example: ``with_reason(result, inst).message``."""
    reason = explain_infeasible(instance, contiguity=contiguity if contiguity in LEVEL_ORDER else "none",
                                cpu_contiguity=cpu_contiguity)
    if reason is None:
        return result
    return replace(result, message="; ".join(m for m in (reason, result.message) if m))


def with_start(result: Result, start: Start | None) -> Result:
    """``result`` with the warm start's source, value and time. O(1)."""
    if start is None:
        return result
    return replace(result, start=start.source, start_value=start.value, start_seconds=start.seconds)


def with_root_bound(result: Result, root: RootBound | None) -> Result:
    """``result`` with the root bound it was given: its record, its line in the
    message, and ``bound`` at least its value (HiGHS may stop before its own bound
    reaches the row's). FormulationError when the bound lies above the evaluator's
    value of the result's placement: the bound would be wrong. O(1)."""
    if root is None:
        return result
    objective = result.objective
    if objective is not None and root.value > objective * (1 + 1e-6) + 1e-9:
        raise FormulationError(f"the {root.method} bound {root.value!r} exceeds the evaluator's value {objective!r} "
                               "of a placement")
    bound = root.value if result.bound is None else max(result.bound, root.value)
    if objective is not None:
        bound = min(bound, objective)
    return replace(result, root_bound=root, bound=bound, gap=relative_gap(objective, bound),
                   message="; ".join(m for m in (root.describe(), result.message) if m))


def trim_idle_devices(instance: Instance, keep: Placement | None = None) -> Instance:
    """``instance`` with at most as many devices per class as it has colocation groups.

    With G groups at most G devices are busy, and the devices of a class are
    interchangeable, so the rest are idle in some optimal placement: dropping them
    changes no optimum, and a placement of the trimmed instance is one of the
    original (device indices stay). Devices named by device-pair links, and those
    ``keep`` uses, are kept. It turns 4,000 accelerators for 24 nodes into 24.
    O(groups + devices named); returns ``instance`` itself when nothing is dropped.

    Example: ``trim_idle_devices(inst).topology.num_devices <= inst.topology.num_devices``.
    """
    groups = len(instance.graph.colour_groups())
    needed: dict[str, int] = {}
    used = [] if keep is None else list(keep.assignment.values())
    for d in (*instance.topology.named_devices, *used):
        needed[d.cls] = max(needed.get(d.cls, 0), d.index + 1)
    classes = tuple(replace(c, count=max(min(c.count, groups), needed.get(c.name, 0)))
                    for c in instance.topology.classes)
    if all(a.count == b.count for a, b in zip(classes, instance.topology.classes)):
        return instance
    return Instance(instance.graph, replace(instance.topology, classes=classes), instance.name)


def _solve_milp(instance: Instance, formulation: Any, budget: Budget, *, warm_start: Any, export: Any,
                level: dict, max_subgraphs: int, builder_options: dict | None, root_bound: str,
                **options: Any) -> Result:
    """solve()'s MILP path: the warm start, the build, the export, the solve; an
    interrupt keeps the warm start when the solver has nothing better."""
    start = None
    kind = kind_of(level["objective"])
    try:
        problem, start = prepare(instance, formulation, warm_start=warm_start, budget=budget,
                                 max_subgraphs=max_subgraphs, builder_options=builder_options,
                                 root_bound=root_bound, gap=options["gap"], log=options.get("log", False),
                                 threads=options.get("threads"), **level)
        if export is not None:
            write_model(problem.model, export)
        if budget.should_stop():
            result = _stopped_result(budget.stop_status(), "milp", problem.formulation, start, budget,
                                     problem.build_seconds, kind)
        else:
            result = problem.solve(warm_start=start, budget=budget, **options)
        result = with_root_bound(result, problem.root_bound)
    except KeyboardInterrupt:
        if not budget.first_interrupt():
            raise
        result = _stopped_result("interrupted", "milp", None, start, budget, kind=kind)
    return with_start(result, start)


def _stopped_result(status: str, method: str, formulation: str | None, start: Start | None, budget: Budget,
                    build_seconds: float = 0.0, kind: str = "maxload") -> Result:
    """The result of a run stopped (``status`` "interrupted" or "time_limit") before
    the solver had anything: the warm start's placement when there is one."""
    if start is None:
        return Result("interrupted" if status == "interrupted" else "no_solution", None, None, None, build_seconds,
                      budget.elapsed() - build_seconds, method, formulation, None, None, None,
                      "interrupted by the user" if status == "interrupted" else "stopped by the time limit",
                      kind=kind)
    return Result(status, start.value, None, None, build_seconds, budget.elapsed() - build_seconds, method,
                  formulation, start.placement, start.evaluation, None,
                  f"stopped before the solver ran; the {start.source} start is the best placement found",
                  kind=kind, subgraphs=start.subgraphs)


def _empty_graph_result(instance: Instance, method: str, objective: str, overlap: bool, cpu_contiguity: bool,
                        max_subgraphs: int) -> Result:
    """An instance without nodes: the empty placement, objective 0, proven."""
    placement = Placement({})
    kind = kind_of(objective)
    evaluation = score(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity,
                       max_subgraphs=max_subgraphs, subgraphs={} if kind == "latency" else None)
    message = "the graph has no nodes: " + ("its latency is 0" if kind == "latency" else "every device is idle")
    return Result("optimal", 0.0, 0.0, 0.0, 0.0, 0.0, method, None, placement, evaluation, 0.0, message,
                  kind=kind, subgraphs={} if kind == "latency" else None)
