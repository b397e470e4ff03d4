"""The methods that give a placement without a MILP: the DP and the heuristics, each
scored by the evaluator into the same :class:`~placement_ilp.solving.result.Result`
as the MILP's."""

from __future__ import annotations

import time
from typing import Any

from ..baselines import BASELINES, LATENCY_BASELINES
from ..data.instance import Instance
from ..errors import FormulationError, InputError
from ..evaluation.feasibility import explain_infeasible
from ..milp.result import relative_gap
from ..dp import run_dp
from .result import Result
from .scoring import kind_of, score

__all__ = ["run_baseline", "solve_dp_method"]


def solve_dp_method(instance: Instance, **options: Any) -> Result:
    """The exact DP (:func:`~placement_ilp.dp.run_dp`, which takes ``options``:
    contiguity, cpu_contiguity, objective, overlap, memory_budget, time_limit) as a
    method: the same Result as the MILP (bound = optimum, gap 0), its placement
    checked by the evaluator.

    Raises DPNotApplicable (an InputError) for variants it does not solve and
    DPTooLarge when the ideals exceed the memory budget; FormulationError when the
    evaluator disagrees with the DP. Past ``time_limit`` seconds (None: no limit) it
    returns status "no_solution" and says so in ``message``. Cost: the DP's.

    Example: ``solve_dp_method(inst).objective`` is the pipeline optimum.
    """
    answer = run_dp(instance, **options)
    if answer.placement is None:
        return Result(answer.status, None, None, None, answer.build_seconds, answer.solve_seconds, "dp", None, None,
                      None, None, answer.message, answer.stats)
    evaluation = score(instance, answer.placement, objective=options.get("objective", "sum"),
                       overlap=options.get("overlap", False), cpu_contiguity=options.get("cpu_contiguity", True))
    value = evaluation.objective_value
    if (not evaluation.feasible or evaluation.contiguity.level != "pipeline"
            or abs(value - answer.value) > 1e-6 * max(1.0, abs(answer.value))):
        raise FormulationError(
            f"dp: the evaluator disagrees with the DP (evaluator {value!r}, DP {answer.value!r}, "
            f"feasible {evaluation.feasible}, contiguity {evaluation.contiguity.level})"
        )
    return Result("optimal", value, answer.value, relative_gap(value, answer.value), answer.build_seconds,
                  answer.solve_seconds, "dp", None, answer.placement, evaluation, answer.value, answer.message,
                  answer.stats)


def run_baseline(instance: Instance, method: str, *, options: dict | None = None, **scoring: Any) -> Result:
    """Run a heuristic and score its placement: status "feasible", or "infeasible"
    (with the evaluator's reason) when its placement is not feasible.

    For the max-load objectives ``method`` is a baseline of the paper
    (:data:`~placement_ilp.baselines.BASELINES`; ``options`` go to it, e.g. the
    expert's ``path``); for ``objective="latency"`` a latency heuristic
    (:data:`~placement_ilp.baselines.LATENCY_BASELINES`) or "dp" (the max-load DP's
    placement, scored for latency). ``scoring`` goes to
    :func:`~placement_ilp.solving.scoring.score` (objective, overlap,
    cpu_contiguity, max_subgraphs). Cost: the heuristic's plus the evaluator's.

    Example: ``run_baseline(inst, "pipedream").objective``.
    """
    options = options or {}
    kind = kind_of(scoring.get("objective", "sum"))
    if method == "expert" and "path" not in options:
        raise InputError("the expert method needs a split file (--split FILE)")
    start = time.perf_counter()
    try:
        if kind == "latency":
            placement = solve_dp_method(instance).placement if method == "dp" else LATENCY_BASELINES[method](instance)
        else:
            placement = BASELINES[method](instance, **options)
    except InputError as exc:
        # everything does not fit on one accelerator, or the instance has no placement at
        # all: a result, not an input error
        if kind == "latency" or (method != "one-accelerator" and explain_infeasible(instance) is None):
            raise
        return Result("infeasible", None, None, None, 0.0, time.perf_counter() - start, method, None, None, None,
                      None, str(exc))
    evaluation = None if placement is None else score(instance, placement, **scoring)
    seconds = time.perf_counter() - start
    feasible = evaluation is not None and evaluation.feasible
    message = "" if feasible or evaluation is None else evaluation.violations[0].message
    return Result("feasible" if feasible else "infeasible", evaluation.objective_value if feasible else None, None,
                  None, 0.0, seconds, method, None, placement if feasible else None, evaluation, None, message,
                  kind=kind)
