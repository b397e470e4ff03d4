"""Which evaluator scores a placement: the max-load one or the latency one.

Every placement a method returns is scored here, never by the method itself:
``objective`` "sum" or "different-maxima" goes to
:func:`~placement_ilp.evaluation.maxload.evaluate`, "latency" to
:func:`~placement_ilp.evaluation.latency.evaluate_latency` (or, with an explicit
split, :func:`~placement_ilp.evaluation.latency.evaluate_latency_with_subgraphs`).
"""

from __future__ import annotations

from ..data.instance import Instance
from ..data.placement import Placement
from ..evaluation.latency import LatencyReport, evaluate_latency, evaluate_latency_with_subgraphs
from ..evaluation.maxload import Evaluation, evaluate

__all__ = ["kind_of", "score"]


def kind_of(objective: str) -> str:
    """"latency" for the latency objective, "maxload" for the others. O(1).

    >>> kind_of("latency"), kind_of("sum")
    ('latency', 'maxload')
    """
    return "latency" if objective == "latency" else "maxload"


def score(
    instance: Instance,
    placement: Placement,
    *,
    objective: str = "sum",
    max_subgraphs: int = 1,
    subgraphs: dict | None = None,
    **maxload_options: bool,
) -> Evaluation | LatencyReport:
    """The evaluator's report of ``placement``; its ``objective_value`` is the value
    a result reports. ``maxload_options`` (overlap, cpu_contiguity) go to the
    max-load evaluator, ``max_subgraphs`` (q) and ``subgraphs`` (a split; None: the
    evaluator finds the fewest subgraphs) to the latency one. Cost: the
    evaluator's, O(n + m) for max-load.

    Example: ``score(inst, p).objective_value == evaluate(inst, p).objective_value``.
    """
    if objective == "latency":
        if subgraphs is not None:
            return evaluate_latency_with_subgraphs(instance, subgraphs, max_subgraphs=max_subgraphs)
        return evaluate_latency(instance, placement, max_subgraphs=max_subgraphs)
    return evaluate(instance, placement, objective=objective, **maxload_options)
