"""Where a MILP starts: the warm start of the max-load MILP (:func:`find_start`) and
the placements the latency MILP adds to its own heuristics (:func:`latency_starts`).

Every start is scored by the evaluator before it is used; an infeasible one is
dropped (or refused, when the user gave it).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..baselines.local_search import local_search
from ..baselines.partition import partition
from ..baselines.pipedream import pipedream
from ..data.instance import Instance
from ..data.placement import Placement
from ..data.preprocess import contract
from ..errors import InputError
from ..evaluation.latency import check_latency_instance
from ..stopping import Budget, can_bound, run_bounded
from .direct import run_baseline, solve_dp_method
from .methods import method_names
from .result import Start
from .scoring import score

__all__ = [
    "AUTO_START_DP_BUDGET",
    "AUTO_START_DP_SECONDS",
    "HEURISTIC_SEARCH_SECONDS",
    "LATENCY_WARM_STARTS",
    "MAXLOAD_WARM_STARTS",
    "WARM_START_METHODS",
    "dp_split",
    "find_start",
    "heuristic_start",
    "latency_starts",
]

#: The DP's memory budget when it only provides an automatic warm start: it keeps
#: the start to seconds (about 64,000 ideals at most) before PipeDream takes over.
AUTO_START_DP_BUDGET = 2**29

#: Seconds the max-load DP may take when it only provides the latency MILP's start.
AUTO_START_DP_SECONDS = 30.0

#: The methods whose placement can start the max-load MILP (``warm_start=NAME``).
WARM_START_METHODS = method_names("maxload", starts_milp=True)

#: The modes of the latency MILP's start besides a placement or a method's name.
LATENCY_WARM_STARTS: tuple[str, ...] = ("auto", "heuristics", "none")

#: The modes of the max-load MILP's start besides a placement or a method's name.
MAXLOAD_WARM_STARTS: tuple[str, ...] = ("auto", "heuristics", "none")

#: Seconds the local search of the "heuristics" start may take at most (it also
#: takes at most a quarter of the time left).
HEURISTIC_SEARCH_SECONDS = 20.0


def find_start(
    instance: Instance,
    spec: Any = "auto",
    *,
    objective: str = "sum",
    overlap: bool = False,
    cpu_contiguity: bool = True,
    budget: Budget | None = None,
) -> Start | None:
    """A feasible placement to warm-start the max-load MILP, scored by the evaluator.

    ``spec``: "auto" (the DP's optimal pipeline placement when the DP applies and
    fits ``AUTO_START_DP_BUDGET``, else the "heuristics" start), "heuristics" (the
    best placement found without the DP: :func:`heuristic_start`), a method name
    from ``WARM_START_METHODS``, a :class:`Placement` ("given"), or None / "none"
    (no start). The DP's placement is pipeline-contiguous, so it
    is feasible at every level and its value is an upper bound for all three.
    Returns None when the method finds no feasible placement. With a time-limited
    ``budget``, "auto" runs in a child process given half of the time left
    (:func:`~placement_ilp.stopping.run_bounded`: the MILP gets the rest, and None
    comes back when the child runs out of time); another method's DP gets half of
    the time left, and no fallback starts once the time is up.
    Cost: that of the method (the DP: seconds on the paper's workloads).

    Example: ``find_start(inst).value >= solve(inst).objective``.
    """
    if spec is None or spec == "none":
        return None
    budget = Budget() if budget is None else budget
    left = budget.remaining()
    options = dict(objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    began = time.perf_counter()
    if spec == "auto" and left is not None and can_bound():
        # the heuristics behind the DP cannot watch the clock: half of the time left, in a child
        done, start = run_bounded(lambda: _find_start(instance, spec, budget=Budget(left / 2), **options),
                                  left / 2, budget)
        start = start if done else None
    else:
        start = _find_start(instance, spec, budget=budget, **options)
    if start is None:
        return None
    return Start(start.placement, start.value, start.source, start.contiguity, start.evaluation,
                 seconds=time.perf_counter() - began)


def _find_start(instance: Instance, spec: Any, *, objective: str, overlap: bool, cpu_contiguity: bool,
                budget: Budget) -> Start | None:
    """find_start's work, in this process."""
    left = budget.remaining()
    if isinstance(spec, Placement):
        placement, source = spec, "given"
    else:
        if spec not in MAXLOAD_WARM_STARTS and spec not in WARM_START_METHODS:
            raise InputError(f"unknown warm start {spec!r} (auto, heuristics, none, a placement file or one of "
                             f"{', '.join(WARM_START_METHODS)})")
        placement, source = None, spec
        if spec in ("auto", "dp"):
            try:
                memory = AUTO_START_DP_BUDGET if spec == "auto" else None
                placement = solve_dp_method(instance, overlap=overlap, memory_budget=memory,
                                            time_limit=None if left is None else left / 2).placement
                source = "dp"
            except InputError:
                if spec == "dp":
                    raise
        if spec in ("auto", "heuristics") and placement is None and not budget.should_stop():
            return heuristic_start(instance, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity,
                                   budget=budget)
        fallbacks = {"dp": ()}.get(spec, (spec,))
        for method in fallbacks:
            if placement is not None or budget.should_stop():
                break
            source = method
            try:
                placement = run_baseline(instance, method, objective=objective, overlap=overlap,
                                         cpu_contiguity=cpu_contiguity).placement
            except InputError:
                if spec != "auto":
                    raise
        if placement is None:
            return None
    found = score(instance, placement, objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    if not found.feasible:
        if source == "given":
            raise InputError(f"the warm start is infeasible: {found.violations[0].message}")
        return None
    return Start(placement, found.objective_value, source, found.contiguity.level, found)


def heuristic_start(instance: Instance, *, objective: str = "sum", overlap: bool = False,
                    cpu_contiguity: bool = True, budget: Budget | None = None) -> Start | None:
    """The best pipeline-contiguous placement found without the DP, scored by the evaluator.

    Problem: a good first incumbent for the max-load MILP where the ideal DP cannot
    run (device-pair links, graphs too wide for its ideals) or is not wanted. The
    candidates: PipeDream's split (its DP over one topological order), the local
    search at the pipeline level started from that split and from random pipelines
    (never worse than the split), and the partition baseline (which also runs with
    device-pair links; used only when the others find nothing). A candidate whose
    method refuses the instance is skipped. Every candidate is scored by the
    evaluator for ``objective`` / ``overlap``; the best feasible pipeline-contiguous
    one that the DP and the MILP can also represent
    (:meth:`~placement_ilp.data.preprocess.Contracted.follows_pipeline_order`) is
    returned, so the start is feasible at every contiguity level (else the
    partition's, whatever its level); None when there is none. Cost: PipeDream's
    tables plus the local search, at most ``HEURISTIC_SEARCH_SECONDS`` and a quarter
    of the time ``budget`` has left (measured on the paper's 16 throughput
    workloads: 0.1 to 4.9 s in all).

    Example: ``heuristic_start(inst).value >= solve(inst, method="dp").objective``.
    """
    budget = Budget() if budget is None else budget
    options = dict(objective=objective, overlap=overlap, cpu_contiguity=cpu_contiguity)
    began = time.perf_counter()
    best: Start | None = None
    groups = contract(instance)

    def consider(source: str, make, pipeline_only: bool = True) -> Placement | None:
        nonlocal best
        if budget.should_stop():
            return None
        try:
            placement = make()
        except InputError:
            return None
        found = score(instance, placement, **options)
        pipeline = found.contiguity.level == "pipeline" and groups.follows_pipeline_order(placement, cpu_contiguity)
        if not found.feasible or (pipeline_only and not pipeline):
            return None
        if best is None or found.objective_value < best.value:
            best = Start(placement, found.objective_value, source, found.contiguity.level, found)
        return placement

    split = consider("pipedream", lambda: pipedream(instance))
    left = budget.remaining()
    seconds = HEURISTIC_SEARCH_SECONDS if left is None else min(HEURISTIC_SEARCH_SECONDS, left / 4)
    consider("local-search", lambda: local_search(instance, contiguity="pipeline", start=split, restarts=5,
                                                  time_limit=seconds))
    if best is None:  # device-pair links (the other two refuse them): partition's, at any level
        consider("partition", lambda: partition(instance), pipeline_only=False)
    if best is None:
        return None
    return replace(best, seconds=time.perf_counter() - began)


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


def latency_starts(instance: Instance, spec: Any, budget: Budget) -> tuple[bool, tuple, float]:
    """What the latency MILP starts from: (whether to give it a start at all, the
    placements to add to its own interval, greedy and all-CPU heuristics as
    ``(name, placement)`` pairs, the seconds spent finding them).

    ``spec``: "auto" (also True) adds the max-load DP's split when the DP finishes
    within ``AUTO_START_DP_SECONDS`` (and half the time ``budget`` has left) and its
    automatic memory budget; "heuristics" adds nothing; "none" (also False, None)
    gives no start; a :class:`Placement` ("given") or a latency method's name
    ("dp", "greedy", "all-cpu") adds that placement. The MILP starts from the best
    of them, scored for latency. An interrupt during the DP is recorded in
    ``budget`` and ends the search. Cost: the DP's, at most the seconds above.

    Example: ``use, extra, seconds = latency_starts(inst, "auto", Budget(60))``.
    """
    if isinstance(spec, Placement):
        return True, (("given", spec),), 0.0
    mode = ("auto" if spec else "none") if isinstance(spec, bool) or spec is None else spec
    began = time.perf_counter()
    if mode in LATENCY_WARM_STARTS:
        if mode != "auto":
            return mode != "none", (), 0.0
        check_latency_instance(instance)  # before the DP runs for nothing
        left = budget.remaining()
        try:
            split = dp_split(instance, time_limit=AUTO_START_DP_SECONDS if left is None
                             else min(AUTO_START_DP_SECONDS, left / 2))
        except KeyboardInterrupt:
            if not budget.first_interrupt():
                raise
            split = None
        extra = () if split is None else (("dp", split),)
        return True, extra, time.perf_counter() - began
    methods = tuple(m for m in method_names("latency") if m != "milp")
    if mode not in methods:
        raise InputError(f"warm_start must be one of {', '.join(LATENCY_WARM_STARTS + methods)} "
                         f"or a placement, got {spec!r}")
    given = run_baseline(instance, mode, objective="latency").placement
    return True, (() if given is None else ((mode, given),)), time.perf_counter() - began
