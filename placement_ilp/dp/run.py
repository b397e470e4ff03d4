"""The exact DP as one call: which DP solves an instance, decided in one place.

The ideal DP (:mod:`placement_ilp.dp.ideal`) solves the pipeline level of the
max-load objective on any graph whose ideals fit in memory; when device-pair links
make a transfer's cost depend on the partner device, the chain DP
(:mod:`placement_ilp.dp.chain`) solves chains of groups instead. :func:`run_dp`
checks that one of them applies, enumerates the ideals within the memory budget,
runs the right one and decodes its placement. Scoring the placement with the
evaluator is the solving layer's job (:mod:`placement_ilp.solving`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..data.instance import Instance
from ..data.placement import Placement
from ..errors import DPTimeLimit
from . import chain, ideal

__all__ = ["DPAnswer", "run_dp"]


@dataclass(frozen=True)
class DPAnswer:
    """What :func:`run_dp` found.

    status: "optimal", "infeasible" (no placement at the pipeline level) or
        "no_solution" (the time limit ran out; ``message`` says where).
    placement, value: the optimal placement and the DP's own max-load of it (None
        unless optimal).
    build_seconds: the DP graph and the ideals; solve_seconds: the DP proper.
    stats: dp_nodes and ideals; when it ran, pairs (ideal pairs examined) and
        upper_bound (the chain bound that pruned them).
    message: the figures in words, or why it stopped.
    """

    status: str
    placement: Placement | None
    value: float | None
    build_seconds: float
    solve_seconds: float
    stats: dict
    message: str


def run_dp(
    instance: Instance,
    *,
    contiguity: str = "pipeline",
    cpu_contiguity: bool = True,
    objective: str = "sum",
    overlap: bool = False,
    memory_budget: int | None = None,
    time_limit: float | None = None,
) -> DPAnswer:
    """The minimum max-load of ``instance`` at the pipeline level, by the ideal DP or,
    with partner-dependent links, the chain DP.

    Raises :class:`~placement_ilp.errors.DPNotApplicable` for a variant neither
    solves (another contiguity level, the different-maxima objective, links off a
    chain) and :class:`~placement_ilp.errors.DPTooLarge` when the ideals exceed
    ``memory_budget`` bytes (default :data:`~placement_ilp.dp.ideal.DEFAULT_MEMORY_BUDGET`).
    Past ``time_limit`` seconds (None: none) it answers status "no_solution".
    Cost: O(ideal pairs * device-count vectors) time, O(ideals * nodes / 8) memory.

    Example: ``run_dp(inst).value`` is the pipeline optimum of ``inst``.
    """
    ideal.check_applicable(instance, contiguity, cpu_contiguity, objective)
    links = instance.links_change_costs
    if links:
        chain.check_links(instance)
    start = time.perf_counter()
    graph = ideal.build_dp_graph(instance)
    budget = ideal.DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    ideals = ideal.enumerate_ideals(graph, ideal.max_ideals_for(graph, budget))
    build_seconds = time.perf_counter() - start
    stats = {"dp_nodes": graph.num_nodes, "ideals": ideals.size}
    try:
        if time_limit is not None and build_seconds > time_limit:
            raise DPTimeLimit(f"the DP's preparation took longer than its time limit of {time_limit:g} s")
        if links:
            found = chain.solve_chain(graph, ideals, overlap)
        else:
            found = ideal.solve_dp(graph, ideals, overlap=overlap,
                                   time_limit=None if time_limit is None else time_limit - build_seconds)
    except DPTimeLimit as exc:
        return DPAnswer("no_solution", None, None, build_seconds, time.perf_counter() - start - build_seconds,
                        stats, str(exc))
    stats.update(pairs=found.pairs, upper_bound=found.upper_bound)
    details = f"{ideals.size} ideals, {found.pairs} pairs examined, upper bound {found.upper_bound:.6g}"
    if not np.isfinite(found.value):
        return DPAnswer("infeasible", None, None, build_seconds, found.seconds, stats, details)
    placement = ideal.decode(graph, ideals, found)
    return DPAnswer("optimal", placement, found.value, build_seconds, found.seconds, stats, details)
