"""What every method returns (:class:`Result`), and the placement a MILP starts
from (:class:`Start`): the records of the solving layer, for both objectives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data.placement import Placement
from ..evaluation.latency import LatencyReport
from ..evaluation.maxload import Evaluation

__all__ = ["Result", "Start"]


@dataclass(frozen=True)
class Start:
    """A placement to start the MILP from: its evaluator value and where it came from.

    source: "dp", a baseline's name, a latency heuristic's ("interval", "greedy",
        "all-cpu") or "given". contiguity: the strictest contiguity level the
        placement meets ("unknown" when not scored for max-load).
    evaluation: its max-load :class:`~placement_ilp.evaluation.maxload.Evaluation`
        or :class:`~placement_ilp.evaluation.latency.LatencyReport`.
    subgraphs: for latency, the split (node -> (device, subgraph index)).
    seconds: the time spent finding it.
    """

    placement: Placement
    value: float
    source: str
    contiguity: str
    evaluation: Evaluation | LatencyReport | None = None
    subgraphs: dict | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Result:
    """What a method returns, whichever method and objective it is.

    status: "optimal", "time_limit" (stopped with a placement), "infeasible",
        "no_solution" (stopped without one), "gap_limit" (stopped at the user's gap,
        looser than the default), "interrupted" (the user stopped it; the best
        placement so far, if any) or, for the heuristics, "feasible" (a placement
        with no optimality claim).
    objective: the evaluator's value of ``placement`` (None without one): its
        max-load, or its latency when ``kind`` is "latency".
    bound: the best proven lower bound; gap: (objective - bound) / objective.
    build_seconds, solve_seconds: building the model (the DP: its graph and
        ideals) and solving it.
    method: the method's name (:mod:`placement_ilp.solving.methods`);
        formulation: the MILP's builder, None for the other methods.
    placement, evaluation: the placement and its evaluator report
        (:class:`~placement_ilp.evaluation.maxload.Evaluation`, or for latency a
        :class:`~placement_ilp.evaluation.latency.LatencyReport`).
    solver_objective: the solver's own value of the placement (it must agree).
    message: the method's note (why it stopped, why infeasible, its figures).
    stats: method-specific figures (the DP: dp_nodes, ideals, pairs, upper_bound;
        the latency MILP: upper_bound, max_subgraphs).
    kind: what ``objective`` measures, "maxload" or "latency".
    subgraphs: latency only: node -> (device, subgraph index), CPU nodes
        (device, None).
    start, start_value, start_seconds: the warm start's source, value and the
        time spent finding it (None, None, 0 without one).
    root_bound: the bound proven before the MILP and given to it
        (:class:`~placement_ilp.solving.root_bound.RootBound`), None without one.

    A plain record: O(1); ``to_dict`` O(nodes). Example:
    ``r = solve(inst, time_limit=60); r.status, r.objective, r.gap``.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    method: str
    formulation: str | None
    placement: Placement | None
    evaluation: Evaluation | LatencyReport | None
    solver_objective: float | None = None
    message: str = ""
    stats: dict | None = None
    kind: str = "maxload"
    subgraphs: dict | None = None
    start: str | None = None
    start_value: float | None = None
    start_seconds: float = 0.0
    root_bound: Any = None

    @property
    def has_placement(self) -> bool:
        return self.placement is not None

    # The names of the latency result of earlier releases, kept for one release.
    @property
    def latency(self) -> float | None:
        """Deprecated: ``objective`` of a latency result."""
        return self.objective

    @property
    def report(self) -> LatencyReport | None:
        """Deprecated: ``evaluation`` of a latency result."""
        return self.evaluation if self.kind == "latency" else None

    @property
    def warm_start(self) -> str | None:
        """Deprecated: ``start``."""
        return self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``placement`` maps device names to node ids; a latency result
        adds ``subgraphs``, every subgraph as {device, index, nodes}."""
        data = {
            "objective": self.objective,
            "status": self.status,
            "bound": self.bound,
            "gap": self.gap,
            "build_seconds": round(self.build_seconds, 6),
            "solve_seconds": round(self.solve_seconds, 6),
            "method": self.method,
            "formulation": self.formulation,
            "message": self.message,
            "placement": None
            if self.placement is None
            else {str(d): nodes for d, nodes in sorted(self.placement.by_device().items())},
        }
        if self.root_bound is not None:
            data["root_bound"] = self.root_bound.to_dict()
        if self.kind == "latency":
            report = self.evaluation
            data["subgraphs"] = None if report is None else [
                {"device": str(s.device), "index": s.index, "nodes": list(s.nodes)} for s in report.subgraphs]
        return data
