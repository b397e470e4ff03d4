"""Bounds computed before the MILP and handed to it as a row (``root_bound`` of
:func:`~placement_ilp.solving.run.solve`): the one place that picks, times and
records them, so a result can say how its proof was obtained."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..bounds.combinatorial import pigeonhole_floor, work_bound
from ..bounds.configuration import configuration_bound
from ..data.instance import Instance
from ..data.preprocess import contract
from ..errors import InputError
from ..stopping import Budget

__all__ = ["ROOT_BOUNDS", "RootBound", "find_root_bound"]

#: The bounds a MILP can be given at its root: "none", or "configuration" (the
#: set-partitioning LP of placement_ilp.bounds.configuration).
ROOT_BOUNDS = ("none", "configuration")

#: The share of the time left that the bound may take before the MILP starts.
BOUND_SHARE = 0.5


@dataclass(frozen=True)
class RootBound:
    """A bound proven before the MILP. method: "configuration"; value: every
    placement's objective is at least this (the larger of the LP's and the work and
    pigeonhole bounds it starts from); refuted: the value the LP refuted itself;
    upper: the start's value it tried to prove (None without a start); seconds;
    stopped: None, "time_limit" or "interrupted"; log: its lines."""

    method: str
    value: float
    refuted: float
    upper: float | None
    seconds: float
    stopped: str | None = None
    log: tuple[str, ...] = field(default=(), repr=False)

    def describe(self) -> str:
        """One line for a result's message."""
        start = f", start {self.upper:.6g}" if self.upper is not None else ", no start"
        stop = f", stopped by {self.stopped}" if self.stopped else ""
        return f"root bound: {self.method} LP {self.value:.6g} ({self.seconds:.1f} s{start}{stop})"

    def to_dict(self) -> dict:
        return {"method": self.method, "value": self.value, "refuted": self.refuted, "upper": self.upper,
                "seconds": round(self.seconds, 6), "stopped": self.stopped}


def check_root_bound(name: str) -> str:
    """``name`` if it is one of :data:`ROOT_BOUNDS`, else InputError. O(1)."""
    if name not in ROOT_BOUNDS:
        raise InputError(f"root_bound must be one of {', '.join(ROOT_BOUNDS)}, got {name!r}")
    return name


def find_root_bound(
    instance: Instance,
    name: str,
    *,
    contiguity: str,
    cpu_contiguity: bool,
    overlap: bool,
    objective: str,
    upper: float | None,
    gap: float,
    budget: Budget,
    log=None,
) -> RootBound | None:
    """The bound ``name`` (:data:`ROOT_BOUNDS`) of ``instance`` at ``contiguity``,
    None for "none" and when the combinatorial bounds find no placement at all
    (the MILP then proves the instance infeasible). ``upper``: a placement's value known to be feasible at the
    level (the start's); the bound first tries to prove it optimal within half of
    ``gap`` (so that the MILP, given the bound, stops at its root). It may take
    :data:`BOUND_SHARE` of the time ``budget`` has left. InputError for an objective
    other than "sum". Cost: :func:`~placement_ilp.bounds.configuration.configuration_bound`'s.

    Example: ``find_root_bound(inst, "configuration", contiguity="none", cpu_contiguity=True,
    overlap=False, objective="sum", upper=33.27, gap=1e-6, budget=Budget(600)).value``.
    """
    if check_root_bound(name) == "none":
        return None
    if objective != "sum":
        raise InputError(f"root_bound {name!r} needs the objective sum, not {objective!r}")
    groups = contract(instance)
    lower = max(work_bound(groups), pigeonhole_floor(groups, upper=upper))
    if not math.isfinite(lower):
        return None  # no placement at all: the MILP proves it infeasible, and says why
    left = budget.remaining()
    found = configuration_bound(
        groups, contiguity, cpu_contiguity=cpu_contiguity, overlap=overlap, lower=lower, upper=upper,
        tolerance=max(gap / 2, 1e-9), time_limit=None if left is None else BOUND_SHARE * left, budget=budget, log=log,
    )
    return RootBound("configuration", max(lower, found.value), found.value, upper, found.seconds, found.stopped,
                     found.log)
